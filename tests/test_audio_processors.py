"""The built-in audio processors, each against an independent reference."""

from __future__ import annotations

import os
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
import pedalboard
import pytest
import soundfile
import soxr

from streamlib import AudioFrame, ConfigError, Frame, ProcessorError, StreamRuntime
from streamlib.graph import Processor
from streamlib.processors import (
    AudioChannelConverterProcessor,
    AudioMixerProcessor,
    AudioResamplerProcessor,
    BufferRechunkerProcessor,
    ChannelConversionMode,
    ChordGeneratorProcessor,
    ResamplingQuality,
    ReverbProcessor,
    WavFileSinkProcessor,
    WavFileSourceProcessor,
)
from streamlib.testing import CollectingSink, FakeClock, ScriptedSource, instance

from .audio_helpers import SIGNALS, ArraySource, joined, run_chain, snr_db

RNG = np.random.default_rng(1234)


def noise(n: int, channels: int = 1) -> np.ndarray:
    return (RNG.standard_normal((n, channels)) * 0.2).astype(np.float32)


# --- resampler ------------------------------------------------------------------------


@pytest.mark.parametrize("quality", list(ResamplingQuality))
def test_streamed_resampling_equals_one_shot_soxr(quality: ResamplingQuality) -> None:
    t = np.arange(24000 * 2) / 24000
    signal = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32)[
        :, None
    ]
    frames = run_chain(
        signal,
        [
            (
                AudioResamplerProcessor,
                {"source_sample_rate": 24000, "target_sample_rate": 48000, "quality": quality},
            )
        ],
        sample_rate=24000,
        block_sizes=(480,),
    )
    streamed = joined(frames)
    reference = soxr.resample(signal, 24000, 48000, quality=quality.value)
    assert streamed.shape == reference.shape == (96000, 1)
    assert snr_db(reference, streamed) > 60
    assert all(f.sample_rate == 48000 for f in frames)


def test_resampler_stamps_frames_with_the_capture_time_of_their_first_sample() -> None:
    signal = noise(24000 * 1)
    frames = run_chain(
        signal,
        [(AudioResamplerProcessor, {"source_sample_rate": 24000, "target_sample_rate": 48000})],
        sample_rate=24000,
        block_sizes=(480,),
    )
    position = 0
    for frame in frames:
        # output sample j was captured at input time j / 48000 s
        assert frame.timestamp_ns == (position // 2) * 1_000_000_000 // 24000
        position += frame.num_frames
    assert [f.sequence for f in frames] == list(range(len(frames)))


def test_resampler_rejects_frames_at_the_wrong_rate() -> None:
    with pytest.raises(ProcessorError) as info:
        run_chain(noise(4800), [(AudioResamplerProcessor, {"source_sample_rate": 24000})], sample_rate=44100)
    assert "44100" in str(info.value) and "24000" in str(info.value)
    assert info.value.processor_type == "AudioResamplerProcessor"


@pytest.mark.parametrize("field", ["source_sample_rate", "target_sample_rate"])
@pytest.mark.parametrize("value", [0, -48000, 10_000_000])
def test_resampler_rejects_rates_it_cannot_handle(field: str, value: int) -> None:
    with pytest.raises(ConfigError, match=f"AudioResamplerConfig.{field}") as info:
        StreamRuntime().add_processor(AudioResamplerProcessor, **{field: value})
    assert str(value) in str(info.value)


# --- rechunker --------------------------------------------------------------------------


@pytest.mark.parametrize("target", [512, 480, 1, 1000])
def test_rechunking_is_bit_exact_and_conserves_length(target: int) -> None:
    signal = noise(10_007, channels=2)
    frames = run_chain(
        signal, [(BufferRechunkerProcessor, {"target_buffer_size": target})], block_sizes=(100, 733, 7, 512)
    )
    sizes = [f.num_frames for f in frames]
    assert all(s == target for s in sizes[:-1])
    assert 0 < sizes[-1] <= target  # the remainder, flushed at end of stream
    assert sum(sizes) == len(signal)
    assert np.array_equal(joined(frames), signal)
    # each block is stamped with the capture time of its first sample
    starts = np.cumsum([0, *sizes[:-1]])
    exact = [int(s) * 1_000_000_000 // 48000 for s in starts]
    # from the input frames' integer stamps: exact to the nanosecond's rounding
    assert all(abs(f.timestamp_ns - t) <= 1 for f, t in zip(frames, exact, strict=True))


def test_rechunked_blocks_are_stamped_from_the_frame_holding_their_first_sample_across_gaps() -> None:
    """Frames dropped upstream leave gaps in the stamps: each block is stamped with the
    capture time of its first sample, read from the input frame that holds it."""
    signal = noise(10_007, channels=2)
    sizes = (100, 733, 7, 512)
    gap = 5_000_000
    frames = run_chain(
        signal,
        [(BufferRechunkerProcessor, {"target_buffer_size": 480})],
        block_sizes=sizes,
        gap_every=3,
        gap_ns=gap,
    )
    assert np.array_equal(joined(frames), signal)
    starts, stamps, position, k = [], [], 0, 0  # the input frames, as the source stamped them
    while position < len(signal):
        starts.append(position)
        stamps.append(position * 1_000_000_000 // 48000 + k // 3 * gap)
        position += sizes[k % len(sizes)]
        k += 1
    first = 0
    for frame in frames:
        i = int(np.searchsorted(starts, first, side="right")) - 1
        assert frame.timestamp_ns == stamps[i] + (first - starts[i]) * 1_000_000_000 // 48000
        first += frame.num_frames


class _FormatChange(ScriptedSource):
    """Scripted audio frames at 48 kHz; the third one is stereo, the others mono."""

    def make_frame(self, seq: int, timestamp_ns: int) -> Frame:
        return AudioFrame(noise(1000, 2 if seq == 2 else 1), 48000, timestamp_ns, seq)


@pytest.mark.parametrize(
    ("processor", "fields"),
    [
        (BufferRechunkerProcessor, {"target_buffer_size": 480}),
        (AudioResamplerProcessor, {"source_sample_rate": 48000, "target_sample_rate": 24000}),
    ],
)
def test_a_stream_whose_channels_change_midway_is_an_error_naming_the_frame(
    processor: type[Processor], fields: dict[str, object]
) -> None:
    with StreamRuntime() as rt:
        src = rt.add_processor(_FormatChange, num_frames=3)
        middle = rt.add_processor(processor, **fields)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("out"), middle.input_port("audio_in"))
        rt.connect(middle.output_port("audio_out"), sink.input_port("in"))
        rt.start()
        with pytest.raises(ProcessorError) as info:
            rt.run(timeout=30)
        assert rt.errors == [info.value]
    assert info.value.processor_type == processor.__name__
    assert "frame 2" in str(info.value) and "2 channels" in str(info.value)


# --- channel converter -------------------------------------------------------------------


def test_duplicate_mono_to_stereo_is_exact() -> None:
    signal = noise(4096)
    frames = run_chain(signal, [(AudioChannelConverterProcessor, {"mode": ChannelConversionMode.DUPLICATE})])
    out = joined(frames)
    assert out.shape == (4096, 2)
    assert np.array_equal(out[:, 0], signal[:, 0]) and np.array_equal(out[:, 1], signal[:, 0])


def test_downmix_is_the_exact_mean() -> None:
    signal = noise(4096, channels=2)
    frames = run_chain(signal, [(AudioChannelConverterProcessor, {"mode": ChannelConversionMode.DOWNMIX})])
    out = joined(frames)
    assert out.shape == (4096, 1)
    assert np.array_equal(out[:, 0], signal.mean(axis=1, dtype=np.float32))


def test_duplicate_of_stereo_is_a_processor_error_naming_the_channels() -> None:
    with pytest.raises(ProcessorError, match="2 channels"):
        run_chain(noise(1024, channels=2), [(AudioChannelConverterProcessor, {})])


# --- reverb ------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 2])
def test_streamed_reverb_equals_one_shot(channels: int) -> None:
    signal = noise(48000, channels)
    settings = {"room_size": 0.8, "damping": 0.3, "wet_level": 0.5, "dry_level": 0.5, "width": 1.0}
    frames = run_chain(signal, [(ReverbProcessor, settings)], block_sizes=(512, 480, 2, 1, 1000))
    streamed = joined(frames)
    reference = pedalboard.Reverb(**settings).process(signal, 48000)
    assert streamed.shape == reference.shape
    np.testing.assert_allclose(streamed, reference, atol=1e-6)
    assert not np.allclose(streamed, signal)  # it did add reverb


# --- mixer ---------------------------------------------------------------------------------


def _mix(signals: list[np.ndarray], blocks: list[tuple[int, ...]], gains: tuple[float, ...] | None, **kw):
    keys = []
    try:
        with StreamRuntime() as rt:
            mixer = rt.add_processor(
                AudioMixerProcessor, num_inputs=kw.get("num_inputs", len(signals)), gains=gains
            )
            for i, (signal, sizes) in enumerate(zip(signals, blocks, strict=True)):
                key = f"mix{i}{id(signal)}"
                SIGNALS[key] = signal
                keys.append(key)
                src = rt.add_processor(ArraySource, signal=key, block_sizes=sizes)
                rt.connect(src.output_port("audio"), mixer.input_port(f"input_{i}"))
            sink = rt.add_processor(CollectingSink)
            rt.connect(mixer.output_port("audio_out"), sink.input_port("in"))
            rt.start()
            assert rt.run(timeout=30)
            return joined(instance(rt, sink).frames)
    finally:
        for key in keys:
            SIGNALS.pop(key, None)


def test_mixer_sums_with_gains_aligned_by_sample_count() -> None:
    a, b = noise(5000), noise(5000)
    out = _mix([a, b], [(512,), (100, 333)], gains=(0.5, 2.0))
    np.testing.assert_allclose(out, 0.5 * a + 2.0 * b, atol=1e-6)


def test_mixer_treats_an_ended_input_as_silence() -> None:
    long, short = noise(6000), noise(1000)
    out = _mix([long, short], [(512,), (256,)], gains=None)
    expected = long.copy()
    expected[:1000] += short
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_mixer_does_not_wait_for_an_unconnected_input() -> None:
    a = noise(3000, channels=2)
    out = _mix([a], [(512,)], gains=None, num_inputs=3)
    np.testing.assert_allclose(out, a, atol=0)


def test_mixer_spreads_mono_over_stereo() -> None:
    mono, stereo = noise(2048), noise(2048, channels=2)
    out = _mix([mono, stereo], [(512,), (512,)], gains=None)
    np.testing.assert_allclose(out, stereo + mono, atol=1e-6)


def test_mixer_config_is_validated() -> None:
    with pytest.raises(ConfigError, match=r"AudioMixerConfig\.gains"):
        StreamRuntime().add_processor(AudioMixerProcessor, num_inputs=3, gains=(1.0, 1.0))
    with pytest.raises(ConfigError, match=r"AudioMixerConfig\.num_inputs"):
        StreamRuntime().add_processor(AudioMixerProcessor, num_inputs=0)
    handle = StreamRuntime().add_processor(AudioMixerProcessor, num_inputs=4)
    assert handle.input_port("input_3").port == "input_3"


# --- WAV files ---------------------------------------------------------------------------


def _write_then_read(tmp_path: Path, signal: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    path = tmp_path / "round.wav"
    key = f"wav{id(signal)}"
    SIGNALS[key] = signal
    try:
        with StreamRuntime() as rt:
            src = rt.add_processor(ArraySource, signal=key, sample_rate=rate, block_sizes=(333,))
            sink = rt.add_processor(WavFileSinkProcessor, path=path)
            rt.connect(src.output_port("audio"), sink.input_port("audio"))
            rt.start()
            assert rt.run(timeout=30)
    finally:
        del SIGNALS[key]
    assert soundfile.info(str(path)).subtype == "FLOAT"
    with StreamRuntime() as rt:
        src = rt.add_processor(WavFileSourceProcessor, path=path, buffer_size=1000)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("audio"), sink.input_port("in"))
        rt.start()
        assert rt.run(timeout=30)
        frames = instance(rt, sink).frames
    return joined(frames), frames[0].sample_rate


@pytest.mark.parametrize(("rate", "channels"), [(48000, 2), (22050, 1), (96000, 6)])
def test_wav_round_trip_is_exact(tmp_path: Path, rate: int, channels: int) -> None:
    signal = noise(12_345, channels)
    back, back_rate = _write_then_read(tmp_path, signal, rate)
    assert back_rate == rate
    assert np.array_equal(back, signal)


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "PCM_U8", "FLOAT", "DOUBLE"])
def test_wav_source_reads_common_subtypes(tmp_path: Path, subtype: str) -> None:
    path = tmp_path / f"in_{subtype}.wav"
    signal = noise(4000, 2)
    soundfile.write(str(path), signal, 44100, subtype=subtype)
    reference, _ = soundfile.read(str(path), dtype="float32", always_2d=True)
    with StreamRuntime() as rt:
        src = rt.add_processor(WavFileSourceProcessor, path=path, buffer_size=512)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("audio"), sink.input_port("in"))
        rt.start()
        assert rt.run(timeout=30)
        frames = instance(rt, sink).frames
    assert np.array_equal(joined(frames), reference)
    assert [f.num_frames for f in frames] == [512] * 7 + [4000 - 7 * 512]
    assert frames[1].timestamp_ns == 512 * 1_000_000_000 // 44100


def test_missing_audio_file_is_a_processor_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.wav"
    with StreamRuntime() as rt:
        src = rt.add_processor(WavFileSourceProcessor, path=path)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("audio"), sink.input_port("in"))
        with pytest.raises(ProcessorError) as info:
            rt.start()
    assert info.value.processor_id == src.id and str(path) in str(info.value)


def test_unreadable_audio_file_is_a_processor_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "not-audio.wav"
    path.write_text("this is not a WAV file")
    with StreamRuntime() as rt:
        src = rt.add_processor(WavFileSourceProcessor, path=path)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("audio"), sink.input_port("in"))
        with pytest.raises(ProcessorError, match=r"not-audio\.wav"):
            rt.start()


def test_wav_sink_in_a_missing_directory_fails_at_start(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "out.wav"
    with StreamRuntime() as rt:
        src = rt.add_processor(ChordGeneratorProcessor, live=False, duration_s=0.1)
        sink = rt.add_processor(WavFileSinkProcessor, path=path)
        rt.connect(src.output_port("audio"), sink.input_port("audio"))
        with pytest.raises(ProcessorError) as info:
            rt.start()
    assert info.value.processor_id == sink.id and str(tmp_path / "missing") in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_wav_sink_without_permission_fails_at_start(tmp_path: Path) -> None:  # pragma: no cover
    tmp_path.chmod(0o500)
    with StreamRuntime() as rt:
        src = rt.add_processor(ChordGeneratorProcessor, live=False, duration_s=0.1)
        sink = rt.add_processor(WavFileSinkProcessor, path=tmp_path / "x.wav")
        rt.connect(src.output_port("audio"), sink.input_port("audio"))
        with pytest.raises(ProcessorError, match="permission"):
            rt.start()


class _CountingWavSink(WavFileSinkProcessor):
    arrived = threading.Semaphore(0)

    def process(self) -> None:
        super().process()
        _CountingWavSink.arrived.release()


def test_wav_sink_is_finalized_when_stopped_mid_stream(tmp_path: Path) -> None:
    path = tmp_path / "partial.wav"
    clock = FakeClock()
    with StreamRuntime(clock=clock) as rt:
        src = rt.add_processor(ChordGeneratorProcessor, live=True, buffer_size=480)
        sink = rt.add_processor(_CountingWavSink, path=path)
        rt.connect(src.output_port("audio"), sink.input_port("audio"))
        rt.start()
        for _ in range(10):
            clock.advance(10_000_000)
            assert _CountingWavSink.arrived.acquire(timeout=10)
    data, rate = soundfile.read(str(path), always_2d=True)  # a valid file, header finalized
    assert rate == 48000
    assert len(data) == 4800


# --- chord generator ---------------------------------------------------------------------


def test_chord_holds_its_notes_and_lasts_exactly_duration() -> None:
    with StreamRuntime() as rt:
        src = rt.add_processor(ChordGeneratorProcessor, live=False, duration_s=1.0, buffer_size=500)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("audio"), sink.input_port("in"))
        rt.start()
        assert rt.run(timeout=30)
        out = joined(instance(rt, sink).frames)[:, 0]
    assert len(out) == 48000
    spectrum = np.abs(np.fft.rfft(out))
    peaks = sorted(np.argsort(spectrum)[-3:])  # 1 Hz bins over one second
    assert peaks == [262, 330, 392]  # 261.63, 329.63, 392.0 Hz
    assert np.max(np.abs(out)) <= 0.2 + 1e-6


def test_chord_is_the_exact_sum_of_its_sines_over_many_blocks() -> None:
    # phases are exact accumulators: no drift after hundreds of blocks, and the
    # short last block is the same waveform
    with StreamRuntime() as rt:
        src = rt.add_processor(
            ChordGeneratorProcessor, live=False, duration_s=3.01, buffer_size=500, channels=2
        )
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("audio"), sink.input_port("in"))
        rt.start()
        assert rt.run(timeout=30)
        out = joined(instance(rt, sink).frames)
    t = np.arange(len(out)) / 48000
    exact = sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0)) * (0.2 / 3)
    assert len(out) == 144480 and out.dtype == np.float32
    assert np.max(np.abs(out - exact[:, None])) < 1e-6


def test_live_chord_is_paced_by_the_clock_with_exact_deadlines() -> None:
    clock = FakeClock()
    with StreamRuntime(clock=clock) as rt:
        src = rt.add_processor(ChordGeneratorProcessor, live=True, buffer_size=512)
        sink = rt.add_processor(CollectingSink)
        rt.connect(src.output_port("audio"), sink.input_port("in"))
        rt.start()
        period = Fraction(512 * 10**9, 48000)
        for n in range(1, 31):
            clock.set(int(n * period) + 1)
            assert instance(rt, sink).wait_for(n)
        frames = instance(rt, sink).frames
        # stamped from exact rational deadlines: no drift, however long it runs
        assert [f.timestamp_ns for f in frames] == [int(k * period) for k in range(30)]
        assert rt.plan.processors[src.id].priority.name == "REAL_TIME"


def test_chord_config_is_validated() -> None:
    rt = StreamRuntime()
    with pytest.raises(ConfigError, match="frequencies"):
        rt.add_processor(ChordGeneratorProcessor, frequencies=(30000.0,))
    with pytest.raises(ConfigError, match="amplitude"):
        rt.add_processor(ChordGeneratorProcessor, amplitude=2.0)
    with pytest.raises(ConfigError, match="sample_rate"):
        rt.add_processor(ChordGeneratorProcessor, sample_rate=0)
