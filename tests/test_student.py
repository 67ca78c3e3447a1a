"""The student's workflow: fill the working folder, check the notebooks, submit a zip."""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import parse_utc

from helpers import student
from helpers.student import FAIL, HIDDEN, PASS, StudentError, grade_test_cell, main

ROOT = Path(__file__).resolve().parents[1]
RELEASE = ROOT / "release" / "backprop"
SOURCE = ROOT / "source" / "backprop"
NAMES = sorted(path.name for path in RELEASE.glob("*.ipynb"))
LOSS_TESTS = ["test_compute_loss_values", "test_compute_loss_saturated_and_binary"]


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


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in folder.iterdir()}


def lines_about(output: str, name: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(name)]


def edit_cell(path: Path, grade_id: str, source: str) -> None:
    notebook = nbformat.read(path, as_version=4)
    (cell,) = [
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    ]
    cell.source = source
    nbformat.write(notebook, path)


def solutions_of(path: Path) -> dict[str, str]:
    """The answer cells of a source notebook, by grade_id, without nbgrader's markers."""
    solutions = {}
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            lines = cell.source.splitlines()
            solutions[meta["grade_id"]] = "\n".join(
                line
                for line in lines
                if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
            )
    return solutions


def answered(folder: Path, name: str) -> Path:
    """The release notebook ``name`` in ``folder`` with every stub replaced by its solution."""
    notebook = nbformat.read(RELEASE / name, as_version=4)
    solutions = solutions_of(SOURCE / name)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = solutions[meta["grade_id"]]
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / name)
    return folder / name


# ------------------------------------------------------------------------------ fill
def test_fill_copies_every_release_notebook_into_an_empty_folder(tmp_path, release, capsys):
    folder = tmp_path / "notebooks"
    code, out, _ = run(capsys, "fill", "--release", str(release), "--into", str(folder))
    assert code == 0
    assert sorted(path.name for path in folder.iterdir()) == NAMES  # no temporary file left
    for name in NAMES:
        mine, released = (nbformat.read(p / name, as_version=4) for p in (folder, RELEASE))
        assert mine.cells == released.cells
        # the kernel's language details, which JupyterLab would otherwise write on opening
        assert mine.metadata.pop("language_info") == student.kernel_language_info()
        released.metadata.pop("language_info")
        assert mine.metadata == released.metadata
        assert "copied" in lines_about(out, name)[0]


def test_fill_is_idempotent(filled, release, capsys):
    before = snapshot(filled)
    code, out, _ = run(capsys, "fill", "--release", str(release), "--into", str(filled))
    assert code == 0
    assert snapshot(filled) == before
    assert [lines_about(out, name)[0].split()[1:] for name in NAMES] == [["up", "to", "date"]] * 7
    assert "left alone" not in out


def test_fill_never_overwrites_a_changed_notebook_and_reports_it(filled, release, capsys):
    edit_cell(filled / "03_layer_backward.ipynb", "layer_backward", "def layer_backward(): pass")
    (filled / "05_update_parameters.ipynb").unlink()
    before = snapshot(filled)
    code, out, _ = run(capsys, "fill", "--release", str(release), "--into", str(filled))
    assert code == 0
    assert (filled / "03_layer_backward.ipynb").read_bytes() == before["03_layer_backward.ipynb"][0]
    # work in progress on an unchanged release is nothing to warn about
    assert lines_about(out, "03_layer_backward.ipynb")[0].split()[1:] == ["in", "progress"]
    assert "make update" not in out
    # a deleted notebook comes back, the others stay as they were
    assert "copied" in lines_about(out, "05_update_parameters.ipynb")[0]
    assert "up to date" in lines_about(out, "01_loss.ipynb")[0]


def test_fill_reports_a_newer_release_and_keeps_the_students_copy(filled, release, capsys):
    edit_cell(filled / "01_loss.ipynb", "compute_loss", "def compute_loss(HL, Y):\n    return 0.0")
    edit_cell(
        release / "01_loss.ipynb", "test_compute_loss_values", "assert compute_loss(1, 1) == 0"
    )
    mine = (filled / "01_loss.ipynb").read_bytes()
    code, out, _ = run(capsys, "fill", "--release", str(release), "--into", str(filled))
    assert code == 0
    assert (filled / "01_loss.ipynb").read_bytes() == mine
    line = lines_about(out, "01_loss.ipynb")[0]
    assert "older: the release has new instructions or tests" in line
    assert "newer than your 01_loss.ipynb; they were left alone" in out
    assert "make update" in out


# ------------------------------------------------------------------------------ update
def newer_release(release: Path, name: str, grade_id: str = "test_compute_loss_values") -> str:
    """Change a test of the release, as a newer release would; return the new test's source."""
    source = "assert compute_loss(np.full((10, 1), 0.1), np.eye(10)[:, [0]]) > 0\n"
    edit_cell(release / name, grade_id, source)
    return source


def cell_sources(path: Path) -> dict[str, str]:
    cells = nbformat.read(path, as_version=4).cells
    return {
        c.metadata.get("nbgrader", {}).get("grade_id", f"#{i}"): c.source
        for i, c in enumerate(cells)
    }


def test_update_replaces_a_notebook_the_student_never_edited(filled, release, capsys):
    new_test = newer_release(release, "01_loss.ipynb")
    before = snapshot(filled)
    code, out, _ = run(capsys, "update", "--release", str(release), "--into", str(filled))
    assert code == 0
    assert "updated: you had not edited it" in lines_about(out, "01_loss.ipynb")[0]
    assert cell_sources(filled / "01_loss.ipynb") == cell_sources(release / "01_loss.ipynb")
    assert cell_sources(filled / "01_loss.ipynb")["test_compute_loss_values"] == new_test
    assert not (filled / "backup").exists()
    # the other notebooks were up to date: not even rewritten
    for name in NAMES[1:]:
        assert (filled / name).stat().st_mtime_ns == before[name][1]
        assert "up to date" in lines_about(out, name)[0]


def test_update_keeps_the_students_answers_and_backs_up_their_file(filled, release, capsys):
    path = filled / "01_loss.ipynb"
    answer = "def compute_loss(HL, Y):\n    return 42.0"
    edit_cell(path, "compute_loss", answer)
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("print('my own experiment')"))
    nbformat.write(notebook, path)
    mine = path.read_bytes()
    new_test = newer_release(release, "01_loss.ipynb")
    now = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)
    assert student.update(release, filled, now=now)[0].status == "updated"
    sources = cell_sources(path)
    assert sources["compute_loss"] == answer
    assert sources["test_compute_loss_values"] == new_test
    assert "print('my own experiment')" not in sources.values()
    backup = filled / "backup" / "01_loss.20261124T093000Z.ipynb"
    assert backup.read_bytes() == mine  # nothing of the student's is lost
    code, out, _ = run(capsys, "update", "--release", str(release), "--into", str(filled))
    assert code == 0 and "in progress" in lines_about(out, "01_loss.ipynb")[0]
    assert len(list((filled / "backup").iterdir())) == 1  # nothing new, no second backup


def test_update_names_what_only_the_backup_holds(filled, release, capsys):
    path = filled / "02_activation_backward.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(3, nbformat.v4.new_markdown_cell("my notes"))
    nbformat.write(notebook, path)
    newer_release(release, "02_activation_backward.ipynb", "test_sigmoid_backward")
    code, out, _ = run(capsys, "update", "--release", str(release), "--into", str(filled))
    assert code == 0
    line = lines_about(out, "02_activation_backward.ipynb")[0]
    assert "your answers kept" in line and "1 cell(s) you added or edited" in line
    assert "my notes" not in cell_sources(path).values()


def test_update_leaves_an_unreadable_copy_alone(filled, release, capsys):
    (filled / "01_loss.ipynb").write_text("{ not json")
    newer_release(release, "01_loss.ipynb")
    code, out, _ = run(capsys, "update", "--release", str(release), "--into", str(filled))
    assert code == 0
    assert (filled / "01_loss.ipynb").read_text() == "{ not json"
    assert "unreadable" in lines_about(out, "01_loss.ipynb")[0]


# ------------------------------------------------------------------------------ lab
def test_lab_serves_the_folder_with_the_students_settings(tmp_path, monkeypatch):
    monkeypatch.setattr(student.os, "geteuid", lambda: 0)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "/elsewhere")
    argv, environment, cwd = student.lab_command(RELEASE, tmp_path, ["--port", "8890"])
    assert (cwd / "nbgrader_config.py").is_file()  # where the Validate button looks
    assert argv[1:3] == ["-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in argv
    assert "--allow-root" in argv
    if student.sys.platform.startswith("linux"):
        assert "--no-browser" in argv
    assert argv[-2:] == ["--port", "8890"]
    paths = environment["JUPYTER_CONFIG_PATH"].split(student.os.pathsep)
    assert paths == [str(student.LAB_CONFIG), "/elsewhere"]


def test_lab_as_an_ordinary_user_with_a_display_adds_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(student.os, "geteuid", lambda: 1000)
    monkeypatch.setenv("DISPLAY", ":0")
    argv, _, _ = student.lab_command(RELEASE, tmp_path)
    assert "--allow-root" not in argv and "--no-browser" not in argv


def test_the_students_lab_settings_switch_off_every_instructor_page():
    server = json.loads((student.LAB_CONFIG / "jupyter_server_config.json").read_text())
    extensions = server["ServerApp"]["jpserver_extensions"]
    installed = json.loads(
        (Path(sys.prefix) / "etc/jupyter/jupyter_server_config.d/nbgrader.json").read_text()
    )["ServerApp"]["jpserver_extensions"]
    # every nbgrader server extension the environment enables is named, validation alone on
    assert set(extensions) == set(installed)
    assert [name for name, on in extensions.items() if on] == [
        "nbgrader.server_extensions.validate_assignment"
    ]
    page = json.loads((student.LAB_CONFIG / "labconfig" / "page_config.json").read_text())
    off = {name for name, disabled in page["disabledExtensions"].items() if disabled}
    assert {f"@jupyter/nbgrader:{p}" for p in (
        "formgrader", "menu", "assignment-list", "course-list", "create-assignment"
    )} <= off
    assert "@jupyter/nbgrader:validate-assignment" not in off


def test_running_or_opening_a_notebook_is_no_change(filled, release, capsys):
    path = filled / "01_loss.ipynb"
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        cell.execution_count = number + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
        cell.metadata["execution"] = {"iopub.status.idle": "2026-11-23T20:00:00Z"}
    notebook.metadata["language_info"] = {"name": "python", "version": "3.11.2"}
    nbformat.write(notebook, path)
    ran = path.read_bytes()
    code, out, _ = run(capsys, "fill", "--release", str(release), "--into", str(filled))
    assert code == 0
    assert "up to date" in lines_about(out, "01_loss.ipynb")[0]
    assert path.read_bytes() == ran


def test_fill_reports_an_unreadable_copy_without_touching_it(filled, release, capsys):
    (filled / "02_activation_backward.ipynb").write_text("{ not json")
    code, out, _ = run(capsys, "fill", "--release", str(release), "--into", str(filled))
    assert code == 0
    assert (filled / "02_activation_backward.ipynb").read_text() == "{ not json"
    assert "is not valid JSON" in lines_about(out, "02_activation_backward.ipynb")[0]


def test_fill_without_a_release_says_where_it_looked(tmp_path, capsys):
    code, _, err = run(capsys, "fill", "--release", str(tmp_path / "nowhere"), "--into", "x")
    assert code == 1
    assert "no release notebooks in" in err and "nowhere" in err


# ------------------------------------------------------------------------------ check
@pytest.mark.slow
def test_check_on_the_untouched_release_fails_with_not_implemented(filled, capsys):
    before = snapshot(filled)
    code, out, _ = run(capsys, "check", "01_loss", "--folder", str(filled))
    assert code == 1
    for test in LOSS_TESTS:
        (line,) = [line for line in out.splitlines() if test in line]
        assert f"{FAIL}  NotImplementedError" in line
    (hidden,) = [line for line in out.splitlines() if "test_compute_loss_hidden" in line]
    assert HIDDEN in hidden and PASS not in hidden
    assert "0 of 2 tests passed (0 of 4 points)" in out
    assert snapshot(filled) == before  # the student's files are not touched


@pytest.mark.slow
def test_check_passes_a_notebook_with_correct_answers(tmp_path, capsys):
    path = answered(tmp_path / "done", "01_loss.ipynb")
    before = path.read_bytes()
    code, out, _ = run(capsys, "check", "01_loss.ipynb", "--folder", str(path.parent))
    assert code == 0, out
    for test in LOSS_TESTS:
        (line,) = [line for line in out.splitlines() if test in line]
        assert line.split()[-1] == PASS
    assert "2 of 2 tests passed (4 of 4 points)" in out
    assert path.read_bytes() == before


@pytest.mark.slow
def test_check_fails_a_test_that_runs_too_long_and_goes_on(tmp_path, capsys):
    path = answered(tmp_path / "slow", "01_loss.ipynb")
    slow = "def compute_loss(HL, Y):\n    import time\n    time.sleep(30)\n    return 0.0"
    edit_cell(path, "compute_loss", slow)
    code, out, _ = run(capsys, "check", "01_loss", "--folder", str(path.parent), "--timeout", "1")
    assert code == 1
    for test in LOSS_TESTS:  # the second test still ran, after the first was stopped
        (line,) = [line for line in out.splitlines() if test in line]
        assert "FAIL  CellTimeoutError: the cell did not finish within 1 s" in line


def test_check_names_an_unknown_notebook_and_a_missing_folder(filled, tmp_path, capsys):
    code, _, err = run(capsys, "check", "08_extra", "--folder", str(filled))
    assert code == 1
    assert "'08_extra' is not a notebook of the assignment" in err
    assert "01_loss, 02_activation_backward" in err
    code, _, err = run(capsys, "check", "--folder", str(tmp_path / "missing"))
    assert code == 1
    assert "there is no folder" in err and "fill" in err


def test_check_runs_the_assignments_notebooks_only(filled, release, capsys, monkeypatch):
    shutil.copy(filled / "01_loss.ipynb", filled / "Untitled.ipynb")
    (filled / "03_layer_backward.ipynb").unlink()
    ran = []
    monkeypatch.setattr(
        student, "check_notebook", lambda path, timeout: ran.append(path.name) or
        student.NotebookCheck(path.stem, problem=None if path.exists() else "missing")
    )
    code, out, _ = run(capsys, "check", "--folder", str(filled), "--release", str(release))
    assert ran == NAMES  # Untitled.ipynb is not run; a missing notebook is reported
    assert code == 1 and "03_layer_backward  (notebook)" in out


def test_check_reports_a_missing_notebook(filled, capsys):
    (filled / "03_layer_backward.ipynb").unlink()
    result = student.check_notebook(filled / "03_layer_backward.ipynb")
    assert not result.passed
    assert result.problem == f"03_layer_backward.ipynb is not in {filled}: `make lab` restores it"


def test_check_reports_a_notebook_it_cannot_read(filled, capsys):
    (filled / "01_loss.ipynb").write_text("[]")
    code, out, _ = run(capsys, "check", "01_loss", "--folder", str(filled))
    assert code == 1
    assert "01_loss.ipynb is JSON but not a notebook" in out
    assert "could not be read or run through" in out


def graded_cell(source="assert True", outputs=(), execution_count=1):
    cell = nbformat.v4.new_code_cell(source, outputs=list(outputs))
    cell.execution_count = execution_count
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 3}
    return cell


def test_a_test_cell_is_judged_as_nbgrader_grades_it():
    ok = {"status": "ok"}
    assert grade_test_cell(graded_cell(), ok, None).status == PASS
    error = nbformat.v4.new_output(
        "error",
        ename="AssertionError",
        evalue="dW: 3 of 4 entries differ\nhint\nmore\ncut",
        traceback=[],
    )
    failed = grade_test_cell(graded_cell(outputs=[error]), {"status": "error"}, None)
    assert (failed.status, failed.message) == (
        FAIL,
        "AssertionError: dW: 3 of 4 entries differ\nhint\nmore",
    )
    stderr = nbformat.v4.new_output("stream", name="stderr", text="RuntimeWarning: overflow\n")
    noisy = grade_test_cell(graded_cell(outputs=[stderr]), ok, None)
    assert noisy.status == FAIL and "standard error" in noisy.message
    never_ran = grade_test_cell(graded_cell(execution_count=None), None, "DeadKernelError: died")
    assert never_ran.status == FAIL and "did not run (DeadKernelError: died)" in never_ran.message
    hidden = grade_test_cell(graded_cell("# hidden tests run at grading\n"), ok, None)
    assert (hidden.status, hidden.points) == (HIDDEN, 3.0)


# ------------------------------------------------------------------------------ submit
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
        student.submit(filled, release, bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_submit_files_under_the_login_name_by_default(filled, release, tmp_path, monkeypatch):
    monkeypatch.setattr(student.getpass, "getuser", lambda: "grace")
    path = student.submit(filled, release, out=tmp_path)
    assert path.name.startswith("grace_backprop_")
    with zipfile.ZipFile(path) as archive:
        assert "grace/backprop/timestamp.txt" in archive.namelist()


def test_submit_never_overwrites_an_existing_zip(filled, release, tmp_path):
    now = datetime(2026, 11, 23, 20, 1, 2, 123456, tzinfo=timezone.utc)
    path = student.submit(filled, release, "ada", tmp_path, now=now)
    assert path.name == "ada_backprop_20261123T200102.123456Z.zip"
    first = path.read_bytes()
    edit_cell(filled / "01_loss.ipynb", "compute_loss", "changed = True")
    with pytest.raises(StudentError, match="exists already"):
        student.submit(filled, release, "ada", tmp_path, now=now)
    assert path.read_bytes() == first
    later = student.submit(filled, release, "ada", tmp_path, now=now + timedelta(microseconds=1))
    assert later != path and sorted(p.name for p in tmp_path.glob("*.zip")) == sorted(
        [path.name, later.name]
    )
