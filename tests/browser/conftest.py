"""A student's JupyterLab in a real browser: Debian's Chromium driven by Playwright.

The lab is the one ``make lab`` starts (``python -m helpers.student lab``), on 127.0.0.1 with a
random token, serving a folder laid out for the tests:

    <lab>/                the release as ``fill`` gives it to a new student
    <lab>/solved/         every notebook with the solutions written in
    <lab>/unfinished/     the same, but notebook 6 as released (its stub not written)

Screenshots go to ``out/browser/`` for people to look at.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers.instructor.samples import build, load_catalogue
from helpers.student.notebooks import RELEASE, read_notebook, student_copy

from project import PROJECT

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "out" / "browser"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Chromium as root in a container: no sandbox; no traffic to the outside world.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Every cell in the page, not only those in view: the tests look at all of them.
NOTEBOOK_SETTINGS = '{"windowingMode": "none"}'


def chromium_executable() -> str:
    for candidate in (os.environ.get("BACKPROP_CHROMIUM"), *CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail(
        "no Chromium found: run `bash .ci/install-chromium` (make test does) or set "
        "BACKPROP_CHROMIUM"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def student_folder(folder: Path, sample_name: str, *, released: tuple[str, ...] = ()) -> None:
    """A sample submission as the student's copies (``fill`` writes them so), with the
    notebooks named in ``released`` as they come in the release."""
    sample = {s.name: s for s in load_catalogue()}[sample_name]
    build(sample, folder, PROJECT)
    for path in folder.glob("*.ipynb"):
        origin = RELEASE / path.name if path.name in released else path
        path.write_bytes(student_copy(read_notebook(ROOT / origin)))


class Lab:
    """The running JupyterLab: its address, token, folder and log."""

    def __init__(self, folder: Path, port: int, token: str, log: Path):
        self.folder, self.port, self.token, self.log = folder, port, token, log
        self.base = f"http://127.0.0.1:{port}"

    def url(self, path: str) -> str:
        # reset: a fresh workspace, without the notebooks an earlier test left open
        return f"{self.base}/lab/tree/{path}?reset&token={self.token}"

    def request(self, method: str, path: str, data: bytes | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def shut_down_kernels(self) -> None:
        """Stop every kernel, so that two cores are not shared by idle notebooks."""
        _, body = self.request("GET", "/api/sessions")
        for session in json.loads(body or b"[]"):
            self.request("DELETE", f"/api/sessions/{session['id']}")


def wait_until_up(lab: Lab, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with {process.returncode}:\n{lab.log.read_text()}")
        try:
            if lab.request("GET", "/api/status")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {seconds:g} s:\n{lab.log.read_text()}")


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Lab:
    """The student's JupyterLab, started as ``make lab`` starts it, stopped at the end."""
    work = tmp_path_factory.mktemp("lab")
    folder = work / "notebooks"
    student_folder(folder / "solved", "solved")
    student_folder(folder / "unfinished", "solved", released=("06_model.ipynb",))
    gradebook = ROOT / "gradebook.db"
    gradebook_before = gradebook.stat().st_mtime_ns if gradebook.exists() else None
    port, token = free_port(), secrets.token_hex(16)
    log = work / "lab.log"
    environment = {
        **os.environ,
        # the course's kernel, and settings of this lab only (not the machine's user's)
        "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter"),
        "JUPYTER_CONFIG_DIR": str(work / "config"),
        "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(work / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(work / "workspaces"),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "helpers.student", "lab",
        "--release", str(ROOT / RELEASE), "--into", str(folder), "--",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}", "--no-browser",
    ]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=work, env=environment, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    lab = Lab(folder, port, token, log)
    try:
        wait_until_up(lab, process)
        status, _ = lab.request(
            "PUT",
            "/lab/api/settings/@jupyterlab/notebook-extension:tracker",
            json.dumps({"raw": NOTEBOOK_SETTINGS}).encode(),
        )
        assert status == 204, status
        yield lab
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # Opening the lab never creates (or touches) a gradebook.
    assert not list(folder.rglob("gradebook.db")), "the student's lab created a gradebook"
    after = gradebook.stat().st_mtime_ns if gradebook.exists() else None
    assert after == gradebook_before, "the student's lab created or changed gradebook.db"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, lab):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    lab.shut_down_kernels()
    assert not errors, f"the page raised JavaScript errors: {errors}"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return SCREENSHOTS

