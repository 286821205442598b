"""Camera -> display, the seed's simplest pipeline (examples/camera-display).

The runtime gives both ends a dedicated real-time thread and a 3-frame queue
between them (real-time to real-time), with zero configuration.

    python examples/camera_display.py                   # the first camera
    python examples/camera_display.py --test-pattern    # no camera: a moving test pattern

Close the window (or press Ctrl+C) to stop.
"""

import argparse
import logging

from streamlib import StreamRuntime
from streamlib.processors import (
    CameraConfig,
    CameraProcessor,
    DisplayConfig,
    DisplayProcessor,
    TestPatternConfig,
    TestPatternProcessor,
)


def build(runtime: StreamRuntime, test_pattern: bool) -> None:
    if test_pattern:
        camera = runtime.add_processor_with_config(
            TestPatternProcessor, TestPatternConfig(width=1280, height=720, fps=30, live=True)
        )
    else:
        camera = runtime.add_processor_with_config(CameraProcessor, CameraConfig(device_id=None))

    display = runtime.add_processor_with_config(
        DisplayProcessor,
        DisplayConfig(width=1280, height=720, title="Camera Display"),
    )

    runtime.connect(camera.output_port("video"), display.input_port("video"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--test-pattern", action="store_true", help="a moving test pattern instead of a camera"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(message)s")

    runtime = StreamRuntime()
    build(runtime, args.test_pattern)
    runtime.start()  # logs "Graph optimization complete:" with the plan
    runtime.run()  # until the window is closed, or Ctrl+C
    runtime.stop()


if __name__ == "__main__":
    main()
