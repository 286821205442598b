"""``streamlib demo``: the seed's flagship graph on whatever this machine has.

microphone -> resampler (24 -> 48 kHz) -> channel converter (mono -> stereo) ->
rechunker (512) -> reverb -> speaker. Without an input device a live chord
generator stands in for the microphone; without an output device the speaker's
audio goes to a WAV file. It prints the plan as built, progress while it runs, and a
summary of what it measured.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .processors import (
    AudioCaptureProcessor,
    AudioChannelConverterProcessor,
    AudioOutputProcessor,
    AudioResamplerProcessor,
    BufferRechunkerProcessor,
    ChannelConversionMode,
    ChordGeneratorProcessor,
    ReverbProcessor,
    WavFileSinkProcessor,
)
from .runtime import StreamRuntime

MIC_RATE = 24000
OUT_RATE = 48000


@dataclass
class Devices:
    input_rate: int | None
    """The microphone's rate, or None when there is no usable input device."""
    output: bool
    note: str


def find_devices() -> Devices:
    """What PortAudio offers here (nothing, without PortAudio or a sound card)."""
    try:
        import sounddevice as sd
    except (OSError, ImportError) as exc:  # no PortAudio library
        return Devices(None, False, f"no audio devices (PortAudio is not available: {exc})")
    try:
        has_input = any(d["max_input_channels"] > 0 for d in sd.query_devices())
        has_output = any(d["max_output_channels"] > 0 for d in sd.query_devices())
    except Exception as exc:
        return Devices(None, False, f"no audio devices ({exc})")
    rate = None
    if has_input:
        try:
            sd.check_input_settings(samplerate=MIC_RATE, channels=1, dtype="float32")
            rate = MIC_RATE
        except Exception:  # the device runs at its own rate: resample from that
            rate = int(sd.query_devices(kind="input")["default_samplerate"])
    parts = [
        f"input at {rate} Hz" if rate else "no input device",
        "output" if has_output else "no output device",
    ]
    return Devices(rate, has_output, ", ".join(parts))


def build(rt: StreamRuntime, devices: Devices, seconds: float, wav_path: Path) -> tuple[Any, Any, str]:
    """Adds the graph; returns (source handle, sink handle, a description)."""
    if devices.input_rate is not None:
        rate = devices.input_rate
        mic = rt.add_processor(AudioCaptureProcessor, sample_rate=rate, channels=1, buffer_size=rate // 100)
        what = f"microphone ({rate} Hz mono, 10 ms blocks)"
    else:
        rate = MIC_RATE
        mic = rt.add_processor(
            ChordGeneratorProcessor,
            sample_rate=rate,
            channels=1,
            buffer_size=rate // 100,
            live=True,
            duration_s=seconds,
        )
        what = f"no microphone: a live chord generator stands in ({rate} Hz mono, 10 ms blocks)"
    resampler = rt.add_processor(
        AudioResamplerProcessor, source_sample_rate=rate, target_sample_rate=OUT_RATE
    )
    converter = rt.add_processor(AudioChannelConverterProcessor, mode=ChannelConversionMode.DUPLICATE)
    rechunker = rt.add_processor(BufferRechunkerProcessor, target_buffer_size=512)
    reverb = rt.add_processor(ReverbProcessor)
    if devices.output:
        speaker = rt.add_processor(AudioOutputProcessor)
        what += "; the speaker is the default output device"
    else:
        speaker = rt.add_processor(WavFileSinkProcessor, path=wav_path)
        what += f"; no speaker: its audio is written to {wav_path}"
    rt.connect(mic.output_port("audio"), resampler.input_port("audio_in"))
    rt.connect(resampler.output_port("audio_out"), converter.input_port("audio_in"))
    rt.connect(converter.output_port("audio_out"), rechunker.input_port("audio_in"))
    rt.connect(rechunker.output_port("audio_out"), reverb.input_port("audio_in"))
    rt.connect(reverb.output_port("audio_out"), speaker.input_port("audio"))
    return mic, speaker, what


def run_demo(seconds: float, wav_path: Path, out: TextIO, *, use_devices: bool = True) -> int:
    devices = find_devices() if use_devices else Devices(None, False, "devices not used (--no-devices)")
    print(f"streamlib demo: {devices.note}", file=out)
    with StreamRuntime() as rt:
        mic, speaker, what = build(rt, devices, seconds, wav_path)
        print(what, file=out)
        print(file=out)
        print(rt.plan, file=out)
        print(file=out)
        rt.start()
        t0 = time.monotonic()
        # a chord generator ends after `seconds` and the graph drains; a microphone
        # runs until stopped
        limit = seconds + (10.0 if devices.input_rate is None else 0.0)
        finished = False
        while not finished:
            elapsed = time.monotonic() - t0
            if elapsed >= limit:
                break
            finished = rt.run(timeout=min(1.0, limit - elapsed))
            _progress(rt.stats(), speaker.id, time.monotonic() - t0, out)
        rt.stop()
        stats = rt.stats()
        errors = rt.errors
    _summary(stats, mic.id, speaker.id, time.monotonic() - t0, out)
    for error in errors:
        print(f"error: {error}", file=out)
    return 1 if errors else 0


def _progress(stats: dict[str, Any], sink_id: str, elapsed: float, out: TextIO) -> None:
    sink = stats["processors"][sink_id]
    dropped = sum(c["dropped"] for c in stats["connections"].values())
    latency = f", latency p50 {sink['latency_ms_p50']:.1f} ms" if "latency_ms_p50" in sink else ""
    print(
        f"  {elapsed:5.1f} s: {sink['frames_in']} frames at the speaker, {dropped} dropped{latency}", file=out
    )


def _summary(stats: dict[str, Any], mic_id: str, sink_id: str, elapsed: float, out: TextIO) -> None:
    source, sink = stats["processors"][mic_id], stats["processors"][sink_id]
    dropped = sum(c["dropped"] for c in stats["connections"].values())
    print(file=out)
    print(f"summary after {elapsed:.1f} s:", file=out)
    print(f"  frames: {source['frames_out']} captured, {sink['frames_in']} reached the speaker", file=out)
    print(f"  dropped: {dropped}; underruns: {sink.get('underruns', 0)}", file=out)
    if "latency_ms_p50" in sink:
        print(
            "  end-to-end latency (capture timestamp to speaker): "
            f"p50 {sink['latency_ms_p50']:.2f} ms, p99 {sink['latency_ms_p99']:.2f} ms, "
            f"max {sink['latency_ms_max']:.2f} ms",
            file=out,
        )
    if "path" in sink:
        print(f"  wrote {sink.get('samples_written', 0)} samples to {sink['path']}", file=out)
    threads = ", ".join(f"{t['name']} {t['priority']} ({t['applied']})" for t in stats["threads"])
    if threads:
        print(f"  threads: {threads}", file=out)
