"""Helpers for the browser test: free ports, child processes that are waited for and stopped, constants."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.paths import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_S = 90.0
API_KEY = "e2e-secret-key"
SCRIPT_DOC = (
    "Script injection test\n\n"
    "This security note quotes hostile markup: <script>alert(1)</script> and <img src=x onerror=alert(1)> "
    "must appear as plain text, like *these stars* and [this link](javascript:alert(1)).\n"
)


@dataclass(frozen=True)
class Servers:
    """Where the started API and page answer."""

    api_url: str
    page_url: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The test environment without inherited SEEDSEARCH_* settings, offline, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDSEARCH_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1", **extra)
    return env


class Process:
    """A child process in its own process group, with its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        self._log_file = self.log.open("wb")
        self.popen = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self, chars: int = 4000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]

    def wait_until_answers(self, url: str, ok: tuple[int, ...] = (200,)) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.popen.returncode} before answering:\n{self.output()}")
            try:
                status = httpx.get(url, timeout=2.0).status_code
                if status in ok:
                    return
                last = f"status {status}"
            except httpx.TransportError as err:
                last = type(err).__name__
            time.sleep(0.3)
        pytest.fail(f"{self.name} did not answer {url} within {START_TIMEOUT_S:.0f} s ({last}):\n{self.output()}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        self._log_file.close()
