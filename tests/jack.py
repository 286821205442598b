"""A private, clocked JACK server for tests that use real audio devices.

``jack_server()`` starts ``jackd --no-realtime -n <unique name> -d dummy -r 48000 -p 512``
(the dummy driver runs a real clock: one 512-sample period every 10.67 ms, about
94 callbacks per second, with no sound card). Its unique name keeps it apart from
any other jackd on the machine. It is ready when ``jack_lsp -s <name>`` lists the
server's ``system:playback_1`` port (bounded polling, no fixed sleeps).

PortAudio picks its JACK server from ``JACK_DEFAULT_SERVER`` when it initializes, and
``sounddevice`` initializes PortAudio when first imported: so the context manager
sets the variable and then terminates and re-initializes PortAudio in this process
(``sounddevice._terminate()`` / ``_initialize()``), which re-scans the devices. On
exit it terminates PortAudio (closing its JACK client), kills the server, restores
the environment and re-initializes PortAudio as it was.

Tests are skipped (with the reason) when ``jackd`` or ``sounddevice``/PortAudio is
not installed.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

SAMPLE_RATE = 48000
PERIOD = 512
_READY_TIMEOUT_S = 15.0
_POLL_S = 0.02

__all__ = ["PERIOD", "SAMPLE_RATE", "JackServer", "jack_server", "tone_client"]


@dataclass
class JackServer:
    """A running private JACK server.

    Attributes:
        name: the server name (``jackd -n``; ``JACK_DEFAULT_SERVER`` for clients).
        device: PortAudio's index of the server's ``system`` device in this process.
        client: the JACK client name of this process's PortAudio.
        env: environment for child processes that must use this server.
    """

    name: str
    process: subprocess.Popen[bytes]
    device: int
    client: str
    env: dict[str, str]

    def ports(self) -> list[str]:
        """The server's ports (``client:port``), as ``jack_lsp`` lists them."""
        result = subprocess.run(
            ["jack_lsp", "-s", self.name], capture_output=True, text=True, env=self.env, timeout=10
        )
        return result.stdout.split() if result.returncode == 0 else []

    def connect(self, source: str, sink: str) -> None:
        subprocess.run(["jack_connect", "-s", self.name, source, sink], check=True, env=self.env, timeout=10)

    def wait_for_ports(self, predicate: Callable[[list[str]], bool], timeout: float = 10.0) -> list[str]:
        """Poll the port list until ``predicate`` holds; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            ports = self.ports()
            if predicate(ports):
                return ports
            if time.monotonic() > deadline:
                pytest.fail(f"JACK server {self.name}: ports never matched; last seen: {ports}")
            time.sleep(_POLL_S)


def _reinitialize_portaudio(sd: Any) -> None:
    """Terminate PortAudio completely (its init is reference-counted), then initialize
    it again, so it re-reads ``JACK_DEFAULT_SERVER`` and re-scans the devices."""
    while sd._initialized:
        sd._terminate()
    sd._initialize()


def _portaudio_jack_client(sd: Any) -> str:
    """The JACK client name PortAudio registered in this process."""
    lib = ctypes.CDLL(sd._libname)
    name = ctypes.c_char_p()
    if lib.PaJack_GetClientName(ctypes.byref(name)) != 0 or not name.value:
        pytest.fail("PortAudio has no JACK client (PaJack_GetClientName failed)")
    return name.value.decode()


def _jack_device(sd: Any, server: str) -> int:
    for index, info in enumerate(sd.query_devices()):
        api = sd.query_hostapis(info["hostapi"])["name"]
        if "JACK" in api and info["max_input_channels"] > 0 and info["max_output_channels"] > 0:
            return index
    apis = [(api["name"], api["devices"]) for api in sd.query_hostapis()]
    pytest.fail(
        f"PortAudio sees no JACK device although server {server!r} is up (host APIs: {apis}); "
        "is libportaudio2 built with JACK support?"
    )


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def jack_server() -> Iterator[JackServer]:
    """Run a private JACK server (and point this process's PortAudio at it)."""
    jackd = shutil.which("jackd")
    if jackd is None or shutil.which("jack_lsp") is None or shutil.which("jack_connect") is None:
        pytest.skip("JACK is not installed (needs jackd, jack_lsp, jack_connect: apt-get install jackd2)")
    try:
        sd = importlib.import_module("sounddevice")
    except (ImportError, OSError) as exc:
        pytest.skip(f"sounddevice/PortAudio unavailable: {exc}")
    name = f"streamlib-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    saved = {key: os.environ.get(key) for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    env = {**os.environ, "JACK_DEFAULT_SERVER": name, "JACK_NO_START_SERVER": "1"}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [jackd, "--no-realtime", "-n", name, "-d", "dummy", "-r", str(SAMPLE_RATE), "-p", str(PERIOD)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        try:
            server = JackServer(name, process, device=-1, client="", env=env)
            deadline = time.monotonic() + _READY_TIMEOUT_S
            while "system:playback_1" not in server.ports():
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace")
                    pytest.fail(f"jackd -n {name} did not come up (exit code {process.poll()}):\n{output}")
                time.sleep(_POLL_S)
            os.environ.update(JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1")
            try:
                _reinitialize_portaudio(sd)
                server.device = _jack_device(sd, name)
                server.client = _portaudio_jack_client(sd)
                yield server
            finally:
                while sd._initialized:  # closes PortAudio's JACK client before the server goes
                    sd._terminate()
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
                sd._initialize()
        finally:
            _stop(process)


_TONE_SCRIPT = r"""
import ctypes, ctypes.util, sys
import numpy as np

client, frequency, amplitude = sys.argv[1].encode(), float(sys.argv[2]), float(sys.argv[3])
portaudio = ctypes.CDLL(ctypes.util.find_library("portaudio"))
portaudio.PaJack_SetClientName(ctypes.c_char_p(client))  # before sounddevice initializes PortAudio

import sounddevice as sd

device = next(
    i for i, d in enumerate(sd.query_devices())
    if "JACK" in sd.query_hostapis(d["hostapi"])["name"] and d["max_output_channels"] > 0
)
position = 0

def callback(outdata, frames, time, status):
    global position
    n = np.arange(position, position + frames)
    outdata[:, 0] = amplitude * np.sin(2 * np.pi * frequency * n / 48000)
    position += frames

with sd.OutputStream(device=device, samplerate=48000, channels=1, dtype="float32", callback=callback):
    print("ready", flush=True)
    sys.stdin.read()  # play until the test closes stdin
"""


@contextlib.contextmanager
def tone_client(
    server: JackServer, frequency: float, amplitude: float = 0.5, client: str = "streamlib-tone"
) -> Iterator[list[str]]:
    """A second JACK client (a child process) playing a sine tone; yields its output
    ports. It stops when the block exits."""
    process = subprocess.Popen(
        [sys.executable, "-c", _TONE_SCRIPT, client, str(frequency), str(amplitude)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=server.env,
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    try:
        ready, _, _ = select.select([process.stdout], [], [], _READY_TIMEOUT_S)
        line = process.stdout.readline() if ready else b""
        if line.strip() != b"ready":
            _stop(process)
            pytest.fail(
                f"tone client did not start: {line!r} {process.stderr.read().decode(errors='replace')}"
            )
        prefix = f"{client}:"
        ports = server.wait_for_ports(lambda ports: any(p.startswith(prefix) for p in ports))
        yield [p for p in ports if p.startswith(prefix)]
    finally:
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _stop(process)
        process.stdout.close()
        process.stderr.close()
