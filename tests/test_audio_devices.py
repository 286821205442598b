"""The real audio device processors on a real (dummy-driver) JACK server: the output
is pulled at the device's rate, the capture records what another JACK client plays,
and bad devices or a missing PortAudio fail at ``start()`` with a clear message."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from streamlib import AudioFrame, ProcessorError, StreamRuntime
from streamlib.processors._devices import AudioCaptureProcessor, AudioOutputProcessor
from streamlib.testing import CollectingSink, PassThrough, ScriptedSource, instance

from .jack import PERIOD, SAMPLE_RATE, JackServer, jack_server, tone_client

DEVICE_RATE = SAMPLE_RATE / PERIOD  # 93.75 blocks per second


@pytest.fixture
def jack() -> Iterator[JackServer]:
    with jack_server() as server:
        yield server


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll real state until ``predicate()`` holds (bounded)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the device"
        time.sleep(0.01)


def test_output_is_pulled_at_the_device_rate(jack: JackServer) -> None:
    """live source -> pass-through -> JACK output: the device consumes ~94 blocks/s."""
    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource, live=True, num_frames=None, channels=2, block_size=512)
        mid = rt.add_processor(PassThrough)
        out = rt.add_processor(AudioOutputProcessor, device_id=jack.device)
        rt.connect(src.output_port("out"), mid.input_port("in"))
        rt.connect(mid.output_port("out"), out.input_port("audio"))
        rt.start()

        def played() -> int:
            return int(rt.stats()["processors"][out.id]["blocks_played"])

        wait_until(lambda: played() >= 20)  # warm-up: the stream is open and running
        t0, b0 = time.monotonic(), played()
        time.sleep(3.0)  # the measurement window
        t1, b1 = time.monotonic(), played()
        assert not rt.errors
    rate = (b1 - b0) / (t1 - t0)
    sink = rt.stats()["processors"][out.id]
    print(f"\nblocks/s {rate:.2f}; sink stats {sink}")
    assert 85 <= rate <= 103, f"device consumed {rate:.1f} blocks/s, expected ~{DEVICE_RATE}"
    assert isinstance(sink["underruns"], int)
    assert "JACK" in sink["device"]
    assert sink["frames_in"] >= b1 - sink["underruns"] - 3  # the device played the graph's frames
    assert sink["state"] == "stopped"


def test_output_plays_out_a_finite_stream_and_ends(jack: JackServer) -> None:
    """End of stream (300-sample frames, 512-sample device blocks): run() returns once
    the device played what it held, and the sink ends cleanly."""
    with StreamRuntime() as rt:
        src = rt.add_processor(ScriptedSource, live=True, num_frames=60, channels=2, block_size=300)
        out = rt.add_processor(AudioOutputProcessor, device_id=jack.device)
        rt.connect(src.output_port("out"), out.input_port("audio"))
        rt.start()
        started = time.monotonic()
        assert rt.run(timeout=20)
        elapsed = time.monotonic() - started
        assert not rt.errors
    final = rt.stats()
    stats = final["processors"][out.id]
    print(f"\nrun() returned after {elapsed:.3f} s; sink stats {stats}; {final['connections']}")
    assert stats["state"] == "stopped"
    assert stats["frames_in"] + sum(c["dropped"] for c in final["connections"].values()) == 60
    # every frame read was played: n x 300 samples fill n x 300 / 512 device blocks (more
    # when silence filled underruns); the live queue may drop a few while the stream opens
    assert stats["blocks_played"] >= stats["frames_in"] * 300 / PERIOD
    assert stats["frames_in"] >= 50
    assert elapsed >= stats["frames_in"] * 300 / SAMPLE_RATE


def test_capture_records_a_tone_played_by_another_jack_client(jack: JackServer) -> None:
    """A second JACK client plays 1 kHz; it is routed to our capture port, and the
    captured frames hold the tone, stamped on the runtime clock block by block."""
    with tone_client(jack, frequency=1000.0, amplitude=0.5) as tone_ports, StreamRuntime() as rt:
        mic = rt.add_processor(AudioCaptureProcessor, device_id="system", channels=1, buffer_size=512)
        sink = rt.add_processor(CollectingSink)
        rt.connect(mic.output_port("audio"), sink.input_port("in"))
        rt.start()
        collected = instance(rt, sink)
        assert collected.wait_for(5)  # the stream is running
        capture_port = f"{jack.client}:in_0"
        jack.wait_for_ports(lambda ports: capture_port in ports)
        jack.connect(tone_ports[0], capture_port)
        connected_at = len(collected.sequences)
        assert collected.wait_for(connected_at + 100)  # ~1.07 s of audio after the connection
        stats = rt.stats()["processors"][mic.id]
        sink_stats = rt.stats()["processors"][sink.id]
        assert not rt.errors
    frames: list[AudioFrame] = collected.frames[connected_at + 3 :]  # skip the connection's block
    audio = np.concatenate([f.samples[:, 0] for f in frames])
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    freqs = np.fft.rfftfreq(len(audio), 1 / SAMPLE_RATE)
    peak = int(np.argmax(spectrum))
    away = np.abs(freqs - freqs[peak]) > 50
    ratio_db = 20 * np.log10(spectrum[peak] / np.max(spectrum[away]))
    rms = float(np.sqrt(np.mean(audio**2)))
    print(f"\npeak {freqs[peak]:.2f} Hz, {ratio_db:.1f} dB above the rest, rms {rms:.3f}; stats {stats}")
    print(f"sink {sink_stats}")
    assert abs(freqs[peak] - 1000.0) < 3.0
    assert ratio_db > 40
    assert 0.3 < rms < 0.4  # a 0.5-amplitude sine
    # one frame per device block, consecutive, stamped 512 samples apart on the runtime clock
    assert all(f.num_frames == 512 and f.sample_rate == SAMPLE_RATE for f in frames)
    sequences = [f.sequence for f in collected.frames]
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))
    steps = np.diff([f.timestamp_ns for f in collected.frames]) / 1e6
    assert abs(float(np.median(steps)) - 512 / 48) < 0.5
    assert stats["overruns"] == 0
    assert "JACK" in stats["device"]
    # stamped on the runtime clock: the last sample was captured just before the sink read it
    assert 0 <= sink_stats["latency_ms_p50"] < 20


def test_output_cuts_frames_into_device_blocks_exactly_loopback(jack: JackServer) -> None:
    """Our output's port is routed (in JACK) into our capture: 300-sample frames, each
    holding its sequence number, come back in order as runs of exactly 300 samples
    through 512-sample device blocks, up to the last frame (played out at the end).
    A frame may be missing only if the live queue dropped it (counted)."""
    frames = 150
    with StreamRuntime() as rt:
        mic = rt.add_processor(AudioCaptureProcessor, device_id=jack.device)
        sink = rt.add_processor(CollectingSink)
        rt.connect(mic.output_port("audio"), sink.input_port("in"))
        src = rt.add_processor(ScriptedSource, live=True, num_frames=frames, channels=2, block_size=300)
        out = rt.add_processor(AudioOutputProcessor, device_id=jack.device)
        link = rt.connect(src.output_port("out"), out.input_port("audio"))
        collected = instance(rt, sink)
        rt.start()
        output_port, capture_port = f"{jack.client}:out_0", f"{jack.client}:in_0"
        jack.wait_for_ports(lambda ports: output_port in ports and capture_port in ports)
        jack.connect(output_port, capture_port)

        def heard_the_end() -> bool:  # the last frame's value, then a block of silence
            blocks = [f.samples[:, 0] for f in list(collected.frames)]
            last = [i for i, block in enumerate(blocks) if (block == frames - 1).any()]
            return bool(last) and any(not block.any() for block in blocks[last[-1] + 1 :])

        wait_until(heard_the_end)
        output = rt.stats()["processors"][out.id]
        dropped = rt.stats()["connections"][link]["dropped"]
        assert output["state"] == "ended"
        assert not rt.errors
    audio = np.concatenate([f.samples[:, 0] for f in collected.frames])
    heard = audio[audio != 0]  # silence before the connection and after the end
    change = np.flatnonzero(np.diff(heard)) + 1
    runs = np.diff(np.concatenate([[0], change, [len(heard)]]))
    values = heard[np.concatenate([[0], change])]
    missing = int(values[-1] - values[0]) + 1 - len(values)
    print(f"\nloopback: {len(runs)} runs, values {values[0]:.0f}..{values[-1]:.0f}, {missing} missing")
    print(f"{dropped} dropped by the queue; output stats {output}")
    assert len(runs) > frames // 2  # most of the stream came back
    assert np.all(np.diff(values) >= 1)  # in order, each once
    assert missing <= dropped  # nothing lost but what the live queue dropped (and counted)
    assert np.all(runs[1:] == 300)  # each frame whole (the first may be cut by the connection)
    assert values[-1] == frames - 1  # the last frame was played out before the stream stopped
    assert isinstance(output["underruns"], int)


class _TurnsMono(ScriptedSource):
    """A live stereo source whose frames turn mono from frame 20 on."""

    def make_frame(self, seq: int, timestamp_ns: int) -> AudioFrame:
        if seq < 20:
            frame = super().make_frame(seq, timestamp_ns)
            assert isinstance(frame, AudioFrame)
            return frame
        return AudioFrame(np.zeros((512, 1), np.float32), SAMPLE_RATE, timestamp_ns, seq)


def test_a_frame_of_another_format_fails_the_output(jack: JackServer) -> None:
    """The device callback sees the bad frame; the error reaches run() through process()."""
    with StreamRuntime() as rt:
        src = rt.add_processor(_TurnsMono, live=True, num_frames=None, channels=2)
        out = rt.add_processor(AudioOutputProcessor, device_id=jack.device)
        rt.connect(src.output_port("out"), out.input_port("audio"))
        rt.start()
        with pytest.raises(ProcessorError) as raised:
            rt.run(timeout=10)
    assert raised.value.processor_id == out.id
    assert "1 channel(s)" in str(raised.value) and "2 channel(s)" in str(raised.value)
    assert "AudioChannelConverterProcessor" in str(raised.value)


@pytest.mark.parametrize("processor", [AudioCaptureProcessor, AudioOutputProcessor])
@pytest.mark.parametrize("device_id", ["no-such-device-xyz", 4242])
def test_unknown_device_fails_start_naming_processor_and_device(
    processor: type[AudioCaptureProcessor | AudioOutputProcessor], device_id: int | str
) -> None:
    pytest.importorskip("sounddevice", exc_type=ImportError)
    rt = StreamRuntime()
    handle = rt.add_processor(processor, device_id=device_id)
    if processor is AudioCaptureProcessor:
        rt.connect(handle.output_port("audio"), rt.add_processor(CollectingSink).input_port("in"))
    else:
        src = rt.add_processor(ScriptedSource, num_frames=1)
        rt.connect(src.output_port("out"), handle.input_port("audio"))
    with pytest.raises(ProcessorError) as raised:
        rt.start()
    message = str(raised.value)
    assert raised.value.processor_id == handle.id
    assert handle.id in message and processor.__name__ in message
    assert repr(device_id) in message
    rt.stop()


_MISSING = {
    # PortAudio's shared library is not installed: sounddevice's import raises OSError
    "library": "import ctypes.util; ctypes.util.find_library = lambda name: None",
    # the sounddevice package is not installed
    "package": "import sys; sys.modules['sounddevice'] = None",
}

_START = """
from streamlib import ProcessorError, StreamRuntime
from streamlib.processors._devices import {cls}
from streamlib.testing import CollectingSink, ScriptedSource
rt = StreamRuntime()
device = rt.add_processor({cls})
plan = str(rt.plan)  # plans compute without PortAudio
if "{cls}" == "AudioCaptureProcessor":
    rt.connect(device.output_port("audio"), rt.add_processor(CollectingSink).input_port("in"))
else:
    rt.connect(rt.add_processor(ScriptedSource).output_port("out"), device.input_port("audio"))
try:
    rt.start()
except ProcessorError as exc:
    print(exc)
else:
    print("started")
rt.stop()
"""


@pytest.mark.parametrize("missing", sorted(_MISSING))
@pytest.mark.parametrize("cls", ["AudioCaptureProcessor", "AudioOutputProcessor"])
def test_missing_portaudio_fails_start_saying_what_to_install(missing: str, cls: str) -> None:
    script = _MISSING[missing] + "\n" + _START.format(cls=cls)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert message.startswith(f"processor_0 ({cls}): audio devices need"), message  # one prefix
    assert "apt-get install libportaudio2" in message
    if missing == "package":
        assert "pip install sounddevice" in message


def test_chord_converter_reverb_play_at_the_device_clock(jack: JackServer) -> None:
    """The acceptance chain with the real processors: chord -> channel converter ->
    reverb -> JACK output consumes ~94 blocks/s (the device's clock) with no errors."""
    from streamlib.processors import AudioChannelConverterProcessor, ChordGeneratorProcessor, ReverbProcessor

    with StreamRuntime() as rt:
        chord = rt.add_processor(ChordGeneratorProcessor, live=True, channels=1, buffer_size=512)
        converter = rt.add_processor(AudioChannelConverterProcessor)
        reverb = rt.add_processor(ReverbProcessor)
        out = rt.add_processor(AudioOutputProcessor, device_id=jack.device)
        rt.connect(chord.output_port("audio"), converter.input_port("audio_in"))
        rt.connect(converter.output_port("audio_out"), reverb.input_port("audio_in"))
        rt.connect(reverb.output_port("audio_out"), out.input_port("audio"))
        rt.start()

        def played() -> int:
            return int(rt.stats()["processors"][out.id]["blocks_played"])

        wait_until(lambda: played() >= 20)
        t0, b0 = time.monotonic(), played()
        time.sleep(3.0)  # the measurement window
        t1, b1 = time.monotonic(), played()
        assert not rt.errors
        stats = rt.stats()["processors"][out.id]
    rate = (b1 - b0) / (t1 - t0)
    print(f"\nchord -> converter -> reverb -> JACK: {rate:.2f} blocks/s, {stats}")
    assert 85 <= rate <= 103


def test_a_tone_from_another_client_is_captured_into_a_wav_file(jack: JackServer, tmp_path: Any) -> None:
    """capture -> WAV: the file holds the tone another JACK client played into us."""
    import soundfile

    from streamlib.processors import WavFileSinkProcessor

    path = tmp_path / "captured.wav"
    with tone_client(jack, frequency=440.0, amplitude=0.5) as tone_ports, StreamRuntime() as rt:
        mic = rt.add_processor(AudioCaptureProcessor, device_id="system", channels=1, buffer_size=512)
        wav = rt.add_processor(WavFileSinkProcessor, path=path)
        rt.connect(mic.output_port("audio"), wav.input_port("audio"))
        rt.start()
        wait_until(lambda: rt.stats()["processors"][wav.id]["samples_written"] > 0)
        capture_port = f"{jack.client}:in_0"
        jack.wait_for_ports(lambda ports: capture_port in ports)
        jack.connect(tone_ports[0], capture_port)
        written = rt.stats()["processors"][wav.id]["samples_written"]
        wait_until(lambda: rt.stats()["processors"][wav.id]["samples_written"] >= written + 48000)
        assert not rt.errors
    audio, rate = soundfile.read(str(path), dtype="float32")  # finalized by stop()
    assert rate == SAMPLE_RATE
    tail = audio[-48000:]
    spectrum = np.abs(np.fft.rfft(tail * np.hanning(len(tail))))
    peak_hz = np.fft.rfftfreq(len(tail), 1 / SAMPLE_RATE)[int(np.argmax(spectrum))]
    print(f"\nWAV: {len(audio)} samples, peak {peak_hz:.1f} Hz")
    assert abs(peak_hz - 440.0) < 3.0
    assert 0.3 < float(np.sqrt(np.mean(tail**2))) < 0.4
