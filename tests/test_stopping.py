"""Stopping is tidy: `seedsearch serve` stops on SIGINT or SIGTERM even while it loads the model (also when
started in the background by a script, which hands it SIGINT ignored), and `make run` stops its two servers
without a crash."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[1]


def catches(pid: int, signum: int) -> bool:
    """Whether process `pid` has a handler installed for `signum` (SigCgt in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signum - 1)))
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads handlers from /proc (Linux)")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_serve_stops_when_signalled_during_start_up(fake_index: Path, signum: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from seedsearch.cli import app; app()", "serve", "--index", str(fake_index),
         "--port", "9"],
        cwd=REPO, env=env, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as `cmd &` in a script does
    )
    deadline = time.monotonic() + 30
    while not catches(process.pid, signum) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "serve exited before it could be interrupted"
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert "interrupted" in err and "Traceback" not in err and "seedsearch API on" not in err


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_make_run_stops_both_servers_without_a_crash(tmp_path: Path, signum: int) -> None:
    fake_bin, index, pids = tmp_path / "bin", tmp_path / "index", tmp_path / "pids"
    fake_bin.mkdir()
    index.mkdir()
    (index / "current").touch()
    seedsearch = fake_bin / "seedsearch"  # stands in for `serve` and `ui`: records its pid, then waits
    seedsearch.write_text(f"#!/bin/bash\necho $$ >> {pids}\nexec sleep 60\n")
    seedsearch.chmod(0o755)
    make = subprocess.Popen(
        ["make", "-o", f"{index}/current", "run", f"BIN={fake_bin}", f"INDEX={index}"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 20
    while (not pids.exists() or len(pids.read_text().split()) < 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    recipe_shell = psutil.Process(make.pid).children()[0]
    recipe_shell.send_signal(signum)
    out, _ = make.communicate(timeout=30)
    assert "Segmentation fault" not in out and make.returncode == 0, out
    for pid in pids.read_text().split():
        assert not psutil.pid_exists(int(pid)) or psutil.Process(int(pid)).status() == psutil.STATUS_ZOMBIE
