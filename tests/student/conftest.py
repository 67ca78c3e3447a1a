"""Fixtures of the student's commands' tests: a copy of the release, a filled working folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers.student.__main__ import main

from student_tools import RELEASE


@pytest.fixture
def release(tmp_path) -> Path:
    """A copy of the release, free to be changed as a newer release would be."""
    folder = tmp_path / "release" / "backprop"
    shutil.copytree(RELEASE, folder)
    return folder


@pytest.fixture
def filled(tmp_path, release) -> Path:
    """A student's working folder as fill first makes it."""
    folder = tmp_path / "notebooks"
    assert main(["fill", "--release", str(release), "--into", str(folder)]) == 0
    return folder
