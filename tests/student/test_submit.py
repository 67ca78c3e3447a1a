"""``submit``: a zip in nbgrader's layout, or nothing and a reason."""

from __future__ import annotations

import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from nbgrader.utils import parse_utc

from helpers.student import submit
from helpers.student.notebooks import StudentError

from student_tools import (
    NAMES,
    RELEASE,
    edit_cell,
    run,
)


def submit_args(filled: Path, release: Path, out: Path, *extra: str) -> list[str]:
    return ["submit", "--folder", str(filled), "--release", str(release), "--out", str(out), *extra]


def test_submit_writes_nbgraders_layout_with_the_folders_notebooks(
    filled, release, tmp_path, capsys
):
    edit_cell(filled / "01_loss.ipynb", "compute_loss", "def compute_loss(HL, Y):\n    return 1.0")
    (filled / "Untitled.ipynb").write_bytes((RELEASE / "01_loss.ipynb").read_bytes())
    out = tmp_path / "out"
    start = datetime.now(timezone.utc).replace(tzinfo=None)
    code, printed, _ = run(capsys, *submit_args(filled, release, out, "--student", "ada.l-2"))
    assert code == 0
    (path,) = out.iterdir()
    assert printed.splitlines()[-1] == str(path)
    assert "not included, not part of the assignment: Untitled.ipynb" in printed
    assert path.name.startswith("ada.l-2_backprop_") and path.suffix == ".zip"
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(
            [f"ada.l-2/backprop/{name}" for name in NAMES] + ["ada.l-2/backprop/timestamp.txt"]
        )
        for name in NAMES:
            assert archive.read(f"ada.l-2/backprop/{name}") == (filled / name).read_bytes()
        stamp = archive.read("ada.l-2/backprop/timestamp.txt").decode()
    assert stamp.endswith(" UTC")
    when = parse_utc(stamp)  # as nbgrader reads it
    assert when == datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f %Z")
    assert start <= when <= datetime.now(timezone.utc).replace(tzinfo=None)
    assert when.strftime("%Y%m%dT%H%M%S.%fZ") in path.name


def test_submit_refuses_a_corrupt_notebook_and_writes_nothing(filled, release, tmp_path, capsys):
    text = (filled / "04_L_layer_backward.ipynb").read_text()
    (filled / "04_L_layer_backward.ipynb").write_text(text[: len(text) // 2])
    out = tmp_path / "out"
    code, printed, err = run(capsys, *submit_args(filled, release, out, "--student", "ada"))
    assert code == 1
    assert "04_L_layer_backward.ipynb is not valid JSON" in err and "nothing was written" in err
    assert not out.exists() and printed == ""


def test_submit_refuses_an_invalid_notebook(filled, release, tmp_path, capsys):
    (filled / "06_model.ipynb").write_text('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}')
    code, _, err = run(capsys, *submit_args(filled, release, tmp_path / "out", "--student", "ada"))
    assert code == 1
    assert "06_model.ipynb is not a valid notebook" in err and "cells" in err
    assert not (tmp_path / "out").exists()


def test_submit_refuses_a_missing_notebook_and_writes_nothing(filled, release, tmp_path, capsys):
    (filled / "07_predict.ipynb").unlink()
    code, _, err = run(capsys, *submit_args(filled, release, tmp_path / "out", "--student", "ada"))
    assert code == 1
    assert "lacks 07_predict.ipynb" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("bad", ["", "..", "a/b", "ada lovelace", "élève"])
def test_submit_refuses_a_student_id_that_is_no_safe_file_name(filled, release, tmp_path, bad):
    with pytest.raises(StudentError, match="may hold only letters, digits"):
        submit.submit(filled, release, bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_submit_files_under_the_login_name_by_default(filled, release, tmp_path, monkeypatch):
    monkeypatch.setattr(submit.getpass, "getuser", lambda: "grace")
    path = submit.submit(filled, release, out=tmp_path)
    assert path.name.startswith("grace_backprop_")
    with zipfile.ZipFile(path) as archive:
        assert "grace/backprop/timestamp.txt" in archive.namelist()


def test_submit_never_overwrites_an_existing_zip(filled, release, tmp_path):
    now = datetime(2026, 11, 23, 20, 1, 2, 123456, tzinfo=timezone.utc)
    path = submit.submit(filled, release, "ada", tmp_path, now=now)
    assert path.name == "ada_backprop_20261123T200102.123456Z.zip"
    first = path.read_bytes()
    edit_cell(filled / "01_loss.ipynb", "compute_loss", "changed = True")
    with pytest.raises(StudentError, match="exists already"):
        submit.submit(filled, release, "ada", tmp_path, now=now)
    assert path.read_bytes() == first
    later = submit.submit(filled, release, "ada", tmp_path, now=now + timedelta(microseconds=1))
    assert later != path and sorted(p.name for p in tmp_path.glob("*.zip")) == sorted(
        [path.name, later.name]
    )
