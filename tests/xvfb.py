"""A private X server for display tests: Xvfb, started and stopped by the test."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def xvfb(width: int = 1280, height: int = 800) -> Iterator[str]:
    """Start Xvfb on a free display number (it reports the number itself once it is
    ready: ``-displayfd``), point DISPLAY at it, and stop it afterwards."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb; ./scripts/test installs it as root)")
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as ready:
            number = ready.readline().strip()  # blocks until the server is ready (or dies)
        if not number:
            raise RuntimeError(f"Xvfb did not start (exit code {process.poll()})")
        display = f":{number}"
        saved = {k: os.environ.get(k) for k in ("DISPLAY", "SDL_VIDEO_WINDOW_POS", "SDL_VIDEODRIVER")}
        os.environ.update({"DISPLAY": display, "SDL_VIDEO_WINDOW_POS": "0,0", "SDL_VIDEODRIVER": "x11"})
        try:
            yield display
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    finally:
        process.terminate()
        process.wait(10)


def close_window(display: str, title: str) -> None:
    """Ask the window titled ``title`` to close, as a window manager does when the
    user clicks its close button (WM_DELETE_WINDOW)."""
    from Xlib import X, protocol
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        net_name = d.intern_atom("_NET_WM_NAME")

        def name_of(window: object) -> str | None:
            prop = window.get_full_property(net_name, 0)  # type: ignore[attr-defined]
            return prop.value.decode() if prop else window.get_wm_name()  # type: ignore[attr-defined,no-any-return]

        def find(window: object) -> object | None:
            for child in window.query_tree().children:  # type: ignore[attr-defined]
                if name_of(child) == title:
                    return child
                found = find(child)
                if found is not None:
                    return found
            return None

        window = find(d.screen().root)
        if window is None:
            raise RuntimeError(f"no window titled {title!r} on {display}")
        protocols, delete = d.intern_atom("WM_PROTOCOLS"), d.intern_atom("WM_DELETE_WINDOW")
        event = protocol.event.ClientMessage(
            window=window, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])
        )
        window.send_event(event)  # type: ignore[attr-defined]
        d.flush()
    finally:
        d.close()
