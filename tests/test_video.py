"""The built-in video processors: test pattern, resize, color conversion, MP4, camera
errors, and a real display window under Xvfb."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest

from streamlib import ProcessorError, StreamRuntime, ThreadingStrategy, ThreadPriority
from streamlib.processors import (
    CameraProcessor,
    ColorConvertProcessor,
    DisplayProcessor,
    MP4WriterProcessor,
    ResizeProcessor,
    TestPatternProcessor,
)
from streamlib.testing import CollectingSink, PassThrough, Worker, instance

from .xvfb import close_window, xvfb

ROOT = Path(__file__).resolve().parent.parent


def _shift(a: np.ndarray, b: np.ndarray) -> int:
    """Horizontal shift (pixels) that best maps row ``a`` onto row ``b``."""
    a = a.astype(np.float64) - a.mean()
    b = b.astype(np.float64) - b.mean()
    scores = [float(np.dot(np.roll(a, s), b)) for s in range(len(a))]
    shift = int(np.argmax(scores))
    return shift if shift <= len(a) // 2 else shift - len(a)


def test_pattern_resize_convert_mp4_decodes_to_90_frames_that_move(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    with StreamRuntime() as rt:
        src = rt.add_processor(TestPatternProcessor, width=1280, height=720, num_frames=90, live=False)
        resize = rt.add_processor(ResizeProcessor, width=640, height=360)
        convert = rt.add_processor(ColorConvertProcessor, pixel_format="bgr24")
        mp4 = rt.add_processor(MP4WriterProcessor, path=path)
        rt.connect(src.output_port("video"), resize.input_port("video_in"))
        rt.connect(resize.output_port("video_out"), convert.input_port("video_in"))
        rt.connect(convert.output_port("video_out"), mp4.input_port("video"))
        plan = rt.plan
        assert plan.thread_count == 2  # resize and convert run on the source's thread
        assert plan.processors[resize.id].fused_into == src.id
        assert plan.processors[convert.id].fused_into == src.id
        rt.start()
        assert rt.run(timeout=60)
        assert rt.errors == []
    container = av.open(str(path))
    stream = container.streams.video[0]
    frames = [f.to_ndarray(format="bgr24") for f in container.decode(stream)]
    container.close()
    assert len(frames) == 90
    assert all(f.shape == (360, 640, 3) for f in frames)
    row = 300  # below the moving square: only the bars, moving 8 px a frame at 1280 wide
    shifts = [_shift(frames[i][row, :, 1], frames[i + 1][row, :, 1]) for i in range(0, 89, 11)]
    assert all(s == 4 for s in shifts), shifts  # 8 px at 1280 is 4 px at 640: it moves, in order
    assert not np.array_equal(frames[0], frames[1])


def test_mp4_times_come_from_the_frames_and_the_file_is_finalized_on_stop(tmp_path: Path) -> None:
    path = tmp_path / "stopped.mp4"
    rt = StreamRuntime()
    src = rt.add_processor(TestPatternProcessor, width=320, height=240, fps=25, num_frames=None, live=False)
    mp4 = rt.add_processor(MP4WriterProcessor, path=path, fps=25)
    rt.connect(src.output_port("video"), mp4.input_port("video"))
    rt.start()
    deadline = time.monotonic() + 30
    while rt.stats()["processors"][mp4.id]["frames_written"] < 50 and time.monotonic() < deadline:
        threading.Event().wait(0.01)
    rt.stop()  # mid-stream: the file must still be complete
    assert rt.errors == []
    container = av.open(str(path))
    times = [float(f.time) for f in container.decode(container.streams.video[0])]
    container.close()
    assert len(times) >= 50
    assert times[:5] == pytest.approx([0.0, 0.04, 0.08, 0.12, 0.16], abs=1e-3)  # 25 fps from the stamps


@pytest.mark.parametrize("source_format", ["rgb24", "bgr24", "rgba", "gray"])
@pytest.mark.parametrize("target", ["rgb24", "bgr24", "rgba", "gray"])
def test_color_conversion_matches_opencv(source_format: str, target: str) -> None:
    with StreamRuntime() as rt:
        src = rt.add_processor(
            TestPatternProcessor, width=64, height=48, num_frames=3, live=False, pixel_format=source_format
        )
        convert = rt.add_processor(ColorConvertProcessor, pixel_format=target)
        sink = rt.add_processor(CollectingSink, frame_kind="video")
        rt.connect(src.output_port("video"), convert.input_port("video_in"))
        rt.connect(convert.output_port("video_out"), sink.input_port("in"))
        rt.start()
        assert rt.run(timeout=30)
        frames = instance(rt, sink).frames
    channels = {"rgb24": 3, "bgr24": 3, "rgba": 4, "gray": 1}
    assert all(f.pixel_format == target and f.pixels.shape == (48, 64, channels[target]) for f in frames)
    if source_format == target:
        return
    # the same conversion done directly with OpenCV, from the source's first frame
    with StreamRuntime() as rt:
        src = rt.add_processor(
            TestPatternProcessor, width=64, height=48, num_frames=1, live=False, pixel_format=source_format
        )
        sink = rt.add_processor(CollectingSink, frame_kind="video")
        rt.connect(src.output_port("video"), sink.input_port("in"))
        rt.start()
        assert rt.run(timeout=30)
        original = instance(rt, sink).frames[0].pixels
    names = {"rgb24": "RGB", "bgr24": "BGR", "rgba": "RGBA", "gray": "GRAY"}
    code = getattr(cv2, f"COLOR_{names[source_format]}2{names[target]}")
    expected = cv2.cvtColor(original, code)
    assert np.array_equal(frames[0].pixels.reshape(expected.shape), expected)


def test_resize_matches_opencv_and_keeps_time() -> None:
    with StreamRuntime() as rt:
        src = rt.add_processor(TestPatternProcessor, width=320, height=240, num_frames=5, live=False)
        resize = rt.add_processor(ResizeProcessor, width=160, height=90)
        sink = rt.add_processor(CollectingSink, frame_kind="video")
        raw = rt.add_processor(CollectingSink, frame_kind="video")
        rt.connect(src.output_port("video"), resize.input_port("video_in"))
        rt.connect(src.output_port("video"), raw.input_port("in"))
        rt.connect(resize.output_port("video_out"), sink.input_port("in"))
        rt.start()
        assert rt.run(timeout=30)
        small, big = instance(rt, sink).frames, instance(rt, raw).frames
    for s, b in zip(small, big, strict=True):
        assert np.array_equal(s.pixels, cv2.resize(b.pixels, (160, 90), interpolation=cv2.INTER_AREA))
        assert (s.timestamp_ns, s.sequence) == (b.timestamp_ns, b.sequence)


@pytest.mark.parametrize("optimize", [True, False])
def test_video_frames_are_never_copied_by_the_runtime(optimize: bool) -> None:
    with StreamRuntime(optimize=optimize) as rt:
        src = rt.add_processor(TestPatternProcessor, width=64, height=48, num_frames=20, live=False)
        fused = rt.add_processor(PassThrough, frame_kind="video")
        queued = rt.add_processor(Worker, frame_kind="video")
        sink = rt.add_processor(CollectingSink, frame_kind="video")
        tap = rt.add_processor(CollectingSink, frame_kind="video")
        rt.connect(src.output_port("video"), tap.input_port("in"))  # what the source wrote
        rt.connect(src.output_port("video"), fused.input_port("in"))
        rt.connect(fused.output_port("out"), queued.input_port("in"))
        rt.connect(queued.output_port("out"), sink.input_port("in"))
        rt.start()
        assert rt.run(timeout=30)
        written, received = instance(rt, tap).frames, instance(rt, sink).frames
    assert len(received) == 20
    for a, b in zip(written, received, strict=True):
        assert a is b
        assert a.pixels.__array_interface__["data"][0] == b.pixels.__array_interface__["data"][0]


def test_a_missing_camera_is_a_processor_error_naming_the_device_not_a_hang() -> None:
    t0 = time.monotonic()
    with StreamRuntime() as rt:
        cam = rt.add_processor(CameraProcessor, device_id="/dev/video97")
        sink = rt.add_processor(CollectingSink, frame_kind="video")
        rt.connect(cam.output_port("video"), sink.input_port("in"))
        with pytest.raises(ProcessorError) as info:
            rt.start()
    assert info.value.processor_id == cam.id and "/dev/video97" in str(info.value)
    assert time.monotonic() - t0 < 5


def test_camera_display_example_has_the_seeds_plan() -> None:
    spec = importlib.util.spec_from_file_location("camera_display", ROOT / "examples" / "camera_display.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for test_pattern in (True, False):
        rt = StreamRuntime()
        module.build(rt, test_pattern)
        plan = rt.plan
        assert plan.thread_count == 2
        for p in plan.processors.values():
            assert (p.threading, p.priority) == (ThreadingStrategy.DEDICATED, ThreadPriority.REAL_TIME)
        (connection,) = plan.connections.values()
        assert (connection.capacity, connection.connection_type.name) == (3, "REAL_TIME_TO_REAL_TIME")
        rt.stop()


def test_a_display_without_a_screen_is_a_processor_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
    with StreamRuntime() as rt:
        src = rt.add_processor(TestPatternProcessor, width=64, height=48, num_frames=1)
        display = rt.add_processor(DisplayProcessor, width=64, height=48)
        rt.connect(src.output_port("video"), display.input_port("video"))
        with pytest.raises(ProcessorError, match="no display") as info:
            rt.start()
    assert info.value.processor_id == display.id


def _screenshot(display: str, width: int, height: int) -> np.ndarray:
    from PIL import ImageGrab

    return np.asarray(ImageGrab.grab(xdisplay=display).convert("RGB"))[:height, :width]


def _shown_now(rt: StreamRuntime, handle: Any, display: str, size: tuple[int, int]) -> tuple[np.ndarray, Any]:
    """A screenshot of the window and the frame it was showing then (the frame count
    did not change while the screenshot was taken)."""
    shown = instance(rt, handle)
    for _ in range(200):
        before, frame = shown.frames_shown, shown.last_shown
        shot = _screenshot(display, *size)
        if shown.frames_shown == before:
            return shot, frame
    raise AssertionError("the window kept changing under every screenshot")


@pytest.mark.skipif(sys.platform != "linux", reason="Xvfb")
def test_live_pattern_in_a_real_window_under_xvfb() -> None:
    width, height = 640, 360
    with xvfb() as display, StreamRuntime() as rt:
        src = rt.add_processor(TestPatternProcessor, width=width, height=height, fps=30, live=True)
        window = rt.add_processor(DisplayProcessor, width=width, height=height, title="streamlib-test")
        rt.connect(src.output_port("video"), window.input_port("video"))
        rt.start()
        shown = instance(rt, window)
        deadline = time.monotonic() + 30
        while shown.frames_shown < 30 and time.monotonic() < deadline:
            threading.Event().wait(0.02)
        assert shown.frames_shown >= 30
        first, frame = _shown_now(rt, window, display, (width, height))
        expected = frame.pixels  # rgb24, shown 1:1
        assert float(np.abs(first.astype(int) - expected.astype(int)).mean()) < 4.0
        threading.Event().wait(0.5)
        second, _ = _shown_now(rt, window, display, (width, height))
        assert float(np.abs(first.astype(int) - second.astype(int)).mean()) > 10.0  # it moves
        # the user closes the window: the display ends, and so does its source
        close_window(display, "streamlib-test")
        assert rt.run(timeout=10)
        assert shown.closed
        assert rt.errors == []
        assert rt.stats()["processors"][src.id]["state"] == "ended"


@pytest.mark.skipif(sys.platform != "linux", reason="Xvfb")
def test_frames_are_scaled_to_the_window() -> None:
    with xvfb() as display, StreamRuntime() as rt:
        src = rt.add_processor(
            TestPatternProcessor, width=640, height=360, fps=30, live=True, pixel_format="bgr24"
        )
        window = rt.add_processor(DisplayProcessor, width=320, height=180, title="scaled")
        rt.connect(src.output_port("video"), window.input_port("video"))
        rt.start()
        shown = instance(rt, window)
        deadline = time.monotonic() + 30
        while shown.frames_shown < 5 and time.monotonic() < deadline:
            threading.Event().wait(0.02)
        shot, frame = _shown_now(rt, window, display, (320, 180))
        expected = cv2.resize(frame.pixels[:, :, ::-1], (320, 180), interpolation=cv2.INTER_AREA)
        assert float(np.abs(shot.astype(int) - expected.astype(int)).mean()) < 12.0
    assert os.environ.get("DISPLAY") != display
