"""`seedsearch ui` never leaves its Streamlit child behind: SIGTERM, SIGINT or even SIGKILL to the parent stops it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]
PARENT = """
import sys
from ui.launch import run_child
sys.exit(run_child([sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(120)"]))
"""


def default_signals() -> None:
    """The launcher as a terminal starts it, whatever the test runner ignores (nohup ignores SIGHUP)."""
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def start(code: str, *args: str, ignore: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def prepare() -> None:
        default_signals()
        for signum in ignore:
            signal.signal(signum, signal.SIG_IGN)

    return subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=REPO, env=env, stdout=subprocess.PIPE, preexec_fn=prepare  # noqa: PLW1509
    )


def only_child(parent: subprocess.Popen[bytes], within_s: float = 30) -> psutil.Process:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        children = psutil.Process(parent.pid).children()
        if children:
            return children[0]
        time.sleep(0.1)
    raise AssertionError("the child never started")


def gone(process: psutil.Process, within_s: float = 15) -> bool:
    try:
        process.wait(timeout=within_s)
    except psutil.TimeoutExpired:
        process.kill()
        return False
    return True


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_stopping_signal_to_the_parent_stops_the_child(signum: int) -> None:
    parent = start(PARENT)
    child = only_child(parent)
    assert parent.stdout is not None and parent.stdout.readline() == b"ready\n"
    parent.send_signal(signum)
    assert gone(child)
    assert parent.wait(timeout=15) == 128 + signum


HUP_FRAGILE_PARENT = PARENT.replace(
    "import time;", "import signal, time; signal.signal(signal.SIGHUP, signal.SIG_DFL);"
)


def test_a_signal_the_parent_was_started_ignoring_stays_ignored() -> None:
    parent = start(HUP_FRAGILE_PARENT, ignore=(signal.SIGHUP,))
    child = only_child(parent)
    assert parent.stdout is not None and parent.stdout.readline() == b"ready\n"
    parent.send_signal(signal.SIGHUP)
    with pytest.raises(subprocess.TimeoutExpired):
        parent.wait(timeout=1)
    assert child.is_running()
    parent.send_signal(signal.SIGTERM)
    assert gone(child)


def test_the_child_dies_with_a_killed_parent() -> None:
    parent = start(PARENT)
    child = only_child(parent)
    assert parent.stdout is not None and parent.stdout.readline() == b"ready\n"
    parent.kill()
    parent.wait(timeout=15)
    assert gone(child)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_seedsearch_ui_stopped_with_sigterm_leaves_no_streamlit_running() -> None:
    port = free_port()
    cli = "from seedsearch.cli import app; app()"
    parent = start(cli, "ui", "--port", str(port), "--api-url", "http://127.0.0.1:9")
    streamlit = only_child(parent)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the page listens, so the port really was taken
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        pytest.fail("streamlit did not open its port within 60 s")
    parent.terminate()
    parent.wait(timeout=30)
    assert gone(streamlit, within_s=30)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
