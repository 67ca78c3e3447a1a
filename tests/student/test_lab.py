"""``lab``: JupyterLab for students (the browser tests open it for real)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from helpers.student import lab

from student_tools import (
    RELEASE,
)


def test_lab_serves_the_folder_with_the_students_settings(tmp_path, monkeypatch):
    monkeypatch.setattr(lab.os, "geteuid", lambda: 0)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "/elsewhere")
    argv, environment, cwd = lab.lab_command(RELEASE, tmp_path, ["--port", "8890"])
    assert (cwd / "nbgrader_config.py").is_file()  # where the Validate button looks
    assert argv[1:3] == ["-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in argv
    assert "--allow-root" in argv
    if lab.sys.platform.startswith("linux"):
        assert "--no-browser" in argv
    assert argv[-2:] == ["--port", "8890"]
    paths = environment["JUPYTER_CONFIG_PATH"].split(lab.os.pathsep)
    assert paths == [str(lab.LAB_CONFIG), "/elsewhere"]


def test_lab_as_an_ordinary_user_with_a_display_adds_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(lab.os, "geteuid", lambda: 1000)
    monkeypatch.setenv("DISPLAY", ":0")
    argv, _, _ = lab.lab_command(RELEASE, tmp_path)
    assert "--allow-root" not in argv and "--no-browser" not in argv


def test_the_students_lab_settings_switch_off_every_instructor_page():
    server = json.loads((lab.LAB_CONFIG / "jupyter_server_config.json").read_text())
    extensions = server["ServerApp"]["jpserver_extensions"]
    installed = json.loads(
        (Path(sys.prefix) / "etc/jupyter/jupyter_server_config.d/nbgrader.json").read_text()
    )["ServerApp"]["jpserver_extensions"]
    # every nbgrader server extension the environment enables is named, validation alone on
    assert set(extensions) == set(installed)
    assert [name for name, on in extensions.items() if on] == [
        "nbgrader.server_extensions.validate_assignment"
    ]
    page = json.loads((lab.LAB_CONFIG / "labconfig" / "page_config.json").read_text())
    off = {name for name, disabled in page["disabledExtensions"].items() if disabled}
    assert {f"@jupyter/nbgrader:{p}" for p in (
        "formgrader", "menu", "assignment-list", "course-list", "create-assignment"
    )} <= off
    assert "@jupyter/nbgrader:validate-assignment" not in off
