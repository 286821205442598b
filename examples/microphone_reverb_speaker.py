"""Microphone -> resampler -> channel converter -> rechunker -> reverb -> speaker.

The seed's flagship example (examples/microphone-reverb-speaker), in Python. The
runtime fuses the resampler, the channel converter and the rechunker into the
microphone's real-time thread, gives the reverb its own thread and the speaker a
real-time one: 6 processors on 3 threads, with zero configuration.

    python examples/microphone_reverb_speaker.py          # Ctrl+C to stop
"""

import logging

from streamlib import StreamRuntime
from streamlib.processors import (
    AudioCaptureConfig,
    AudioCaptureProcessor,
    AudioChannelConverterConfig,
    AudioChannelConverterProcessor,
    AudioOutputConfig,
    AudioOutputProcessor,
    AudioResamplerConfig,
    AudioResamplerProcessor,
    BufferRechunkerConfig,
    BufferRechunkerProcessor,
    ChannelConversionMode,
    ResamplingQuality,
    ReverbConfig,
    ReverbProcessor,
)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(message)s")
    runtime = StreamRuntime()

    # Build pipeline
    mic = runtime.add_processor_with_config(
        AudioCaptureProcessor,
        AudioCaptureConfig(device_id=None, sample_rate=24000, channels=1, buffer_size=480),
    )
    resampler = runtime.add_processor_with_config(
        AudioResamplerProcessor,
        AudioResamplerConfig(
            source_sample_rate=24000,
            target_sample_rate=48000,
            quality=ResamplingQuality.HIGH,
        ),
    )
    channel_converter = runtime.add_processor_with_config(
        AudioChannelConverterProcessor,
        AudioChannelConverterConfig(mode=ChannelConversionMode.DUPLICATE),  # Mono -> Stereo
    )
    rechunker = runtime.add_processor_with_config(
        BufferRechunkerProcessor,
        BufferRechunkerConfig(target_buffer_size=512),
    )
    reverb = runtime.add_processor_with_config(
        ReverbProcessor,
        ReverbConfig(room_size=0.5, wet_level=0.33),
    )
    speaker = runtime.add_processor_with_config(
        AudioOutputProcessor,
        AudioOutputConfig(device_id=None),
    )

    # Connect pipeline
    runtime.connect(mic.output_port("audio"), resampler.input_port("audio_in"))
    runtime.connect(resampler.output_port("audio_out"), channel_converter.input_port("audio_in"))
    runtime.connect(channel_converter.output_port("audio_out"), rechunker.input_port("audio_in"))
    runtime.connect(rechunker.output_port("audio_out"), reverb.input_port("audio_in"))
    runtime.connect(reverb.output_port("audio_out"), speaker.input_port("audio"))

    runtime.start()  # logs "Graph optimization complete:" with the plan
    runtime.run()  # until Ctrl+C
    runtime.stop()


if __name__ == "__main__":
    main()
