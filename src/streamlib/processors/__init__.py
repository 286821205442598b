"""Built-in processors, named as in the seed.

Each is a small module on the public processor API, doing the real job with a
well-kept library: libsoxr (resampling), libsndfile (files), pedalboard (reverb),
PortAudio through sounddevice (audio devices), OpenCV (resize, color, camera), PyAV
with libx264 (MP4), SDL2 through pygame (the display window).
"""

from ._camera import CameraConfig, CameraProcessor
from ._channels import AudioChannelConverterConfig, AudioChannelConverterProcessor, ChannelConversionMode
from ._chord import ChordGeneratorConfig, ChordGeneratorProcessor
from ._devices import AudioCaptureConfig, AudioCaptureProcessor, AudioOutputConfig, AudioOutputProcessor
from ._display import DisplayConfig, DisplayProcessor
from ._mixer import AudioMixerConfig, AudioMixerProcessor
from ._mp4 import MP4WriterConfig, MP4WriterProcessor
from ._opencv import ColorConvertConfig, ColorConvertProcessor, ResizeConfig, ResizeProcessor
from ._pattern import TestPatternConfig, TestPatternProcessor
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
    "CameraConfig",
    "CameraProcessor",
    "ChannelConversionMode",
    "ChordGeneratorConfig",
    "ChordGeneratorProcessor",
    "ColorConvertConfig",
    "ColorConvertProcessor",
    "DisplayConfig",
    "DisplayProcessor",
    "MP4WriterConfig",
    "MP4WriterProcessor",
    "ResizeConfig",
    "ResizeProcessor",
    "ResamplingQuality",
    "ReverbConfig",
    "ReverbProcessor",
    "TestPatternConfig",
    "TestPatternProcessor",
    "WavFileSinkConfig",
    "WavFileSinkProcessor",
    "WavFileSourceConfig",
    "WavFileSourceProcessor",
]
