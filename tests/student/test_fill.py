"""``fill``: the working folder gets what it lacks, and nothing is ever overwritten."""

from __future__ import annotations

import nbformat

from helpers.student import notebooks

from student_tools import (
    NAMES,
    RELEASE,
    edit_cell,
    lines_about,
    run,
    snapshot,
)


def test_fill_copies_every_release_notebook_into_an_empty_folder(tmp_path, release, capsys):
    folder = tmp_path / "notebooks"
    code, out, _ = run(capsys, "fill", "--release", str(release), "--into", str(folder))
    assert code == 0
    assert sorted(path.name for path in folder.iterdir()) == NAMES  # no temporary file left
    for name in NAMES:
        mine, released = (nbformat.read(p / name, as_version=4) for p in (folder, RELEASE))
        assert mine.cells == released.cells
        # the kernel's language details, which JupyterLab would otherwise write on opening
        assert mine.metadata.pop("language_info") == notebooks.kernel_language_info()
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
        release / "01_loss.ipynb", "test_compute_loss_softmax", "assert compute_loss(1, 1) == 0"
    )
    mine = (filled / "01_loss.ipynb").read_bytes()
    code, out, _ = run(capsys, "fill", "--release", str(release), "--into", str(filled))
    assert code == 0
    assert (filled / "01_loss.ipynb").read_bytes() == mine
    line = lines_about(out, "01_loss.ipynb")[0]
    assert "older: the release has new instructions or tests" in line
    assert "newer than your 01_loss.ipynb; they were left alone" in out
    assert "make update" in out


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
