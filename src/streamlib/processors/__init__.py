"""Built-in processors, named as in the seed.

Each is a small module on the public processor API, doing the real job with a
well-kept library: libsoxr (resampling), libsndfile (files), pedalboard (reverb),
PortAudio through sounddevice (devices).
"""

from ._channels import AudioChannelConverterConfig, AudioChannelConverterProcessor, ChannelConversionMode
from ._chord import ChordGeneratorConfig, ChordGeneratorProcessor
from ._devices import AudioCaptureConfig, AudioCaptureProcessor, AudioOutputConfig, AudioOutputProcessor
from ._mixer import AudioMixerConfig, AudioMixerProcessor
from ._rechunker import BufferRechunkerConfig, BufferRechunkerProcessor
from ._resampler import AudioResamplerConfig, AudioResamplerProcessor, ResamplingQuality
from ._reverb import ReverbConfig, ReverbProcessor
from ._wav import WavFileSinkConfig, WavFileSinkProcessor, WavFileSourceConfig, WavFileSourceProcessor

__all__ = [
    "AudioCaptureConfig",
    "AudioCaptureProcessor",
    "AudioChannelConverterConfig",
    "AudioChannelConverterProcessor",
    "AudioMixerConfig",
    "AudioMixerProcessor",
    "AudioOutputConfig",
    "AudioOutputProcessor",
    "AudioResamplerConfig",
    "AudioResamplerProcessor",
    "BufferRechunkerConfig",
    "BufferRechunkerProcessor",
    "ChannelConversionMode",
    "ChordGeneratorConfig",
    "ChordGeneratorProcessor",
    "ResamplingQuality",
    "ReverbConfig",
    "ReverbProcessor",
    "WavFileSinkConfig",
    "WavFileSinkProcessor",
    "WavFileSourceConfig",
    "WavFileSourceProcessor",
]
