"""Start the Streamlit page as a child process that never outlives its parent.

``seedsearch ui`` runs ``streamlit run`` in a child. Stopped with SIGTERM (systemd, ``docker stop``, ``kill``),
a parent that only waited died alone and left the child serving the port. Here the parent forwards SIGTERM,
SIGINT and SIGHUP to the child and waits for it, and on Linux the child also asks the kernel for SIGTERM when
its parent dies, whatever kills the parent (SIGKILL included).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType

PAGE = Path(__file__).resolve().parent / "app.py"
_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1


def streamlit_command(page: Path, port: int, host: str) -> list[str]:
    """The ``streamlit run`` command line of the page: headless, no usage statistics, a minimal toolbar."""
    return [
        sys.executable, "-m", "streamlit", "run", str(page), "--server.port", str(port),
        "--server.address", host, "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
    ]


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A pre-exec hook: SIGTERM to the child when its parent dies (Linux), or at once if it already has."""

    def hook() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):  # not Linux: signal forwarding still stops the child
            return
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return hook


def run_child(command: list[str], env: Mapping[str, str] | None = None) -> int:
    """Run ``command`` until it exits; SIGTERM, SIGINT and SIGHUP to this process stop it too.

    Returns:
        The child's exit status, 128 + N when signal N ended it (the shell's convention).
    """
    child = subprocess.Popen(command, env=env, preexec_fn=_die_with_parent(os.getpid()))  # noqa: PLW1509

    def forward(signum: int, frame: FrameType | None) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    # A signal this process was started ignoring (`nohup`, a background job) stays ignored, as a shell would have it.
    wanted = [signum for signum in _FORWARDED if signal.getsignal(signum) is not signal.SIG_IGN]
    previous = {signum: signal.signal(signum, forward) for signum in wanted}
    try:
        while True:
            try:
                status = child.wait()
                return 128 - status if status < 0 else status
            except KeyboardInterrupt:  # only if a handler was replaced meanwhile; keep waiting for the child
                forward(signal.SIGINT, None)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_page(port: int, host: str, api_url: str) -> int:
    """Serve the search page on ``host:port``, talking to the API at ``api_url``; returns Streamlit's status."""
    env = {**os.environ, "SEEDSEARCH_API_URL": api_url}
    return run_child(streamlit_command(PAGE, port, host), env)
