"""Real processes for the browser test: an index built by the CLI, the API, the page, and Chromium.

Everything runs on ports the OS hands out; the processes are stopped (and their logs shown on failure) at the
end of the module. Without ``/usr/bin/chromium`` or the ``playwright`` package the tests skip and say why.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    API_KEY,
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO,
    SCRIPT_DOC,
    Process,
    Servers,
    clean_env,
    free_port,
)


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is missing: pip install playwright")
    return CHROMIUM


@pytest.fixture(scope="module")
def servers(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Build an index of the seed article and a hostile document with the CLI, then serve API and page."""
    root = tmp_path_factory.mktemp("e2e")
    source = root / "source"
    source.mkdir()
    for seed in (REPO / "seeds").glob("*.txt"):
        shutil.copy(seed, source / seed.name)
    (source / "script-test.md").write_text(SCRIPT_DOC, encoding="utf-8")
    index = root / "index"
    build = subprocess.run(
        [sys.executable, "-m", "seedsearch.cli", "build", "--source", str(source), "--index", str(index), "--quiet"],
        cwd=REPO,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, f"seedsearch build failed:\n{build.stdout}\n{build.stderr}"

    api_port, page_port = free_port(), free_port()
    api_url, page_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{page_port}"
    env = clean_env(SEEDSEARCH_API_KEY=API_KEY, SEEDSEARCH_API_URL=api_url)
    api = Process(
        "api",
        [sys.executable, "-m", "seedsearch.cli", "serve", "--index", str(index), "--port", str(api_port)],
        env,
        root,
    )
    page = Process(
        "page",
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "ui" / "app.py"),
            "--server.port",
            str(page_port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            "--client.toolbarMode",
            "minimal",
        ],  # fmt: skip
        env,
        root,
    )
    try:
        api.wait_until_answers(f"{api_url}/health")
        page.wait_until_answers(f"{page_url}/_stcore/health")
        yield Servers(api_url=api_url, page_url=page_url)
    finally:
        page.stop()
        api.stop()


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def dialogs() -> list[str]:
    """Messages of every alert/confirm/prompt the page opened (there must be none)."""
    return []
