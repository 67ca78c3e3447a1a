"""``update``: a newer release arrives without losing the student's work."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import nbformat

from helpers.student import update

from student_tools import (
    NAMES,
    edit_cell,
    lines_about,
    run,
    snapshot,
)


def newer_release(release: Path, name: str, grade_id: str = "test_compute_loss_softmax") -> str:
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
    assert cell_sources(filled / "01_loss.ipynb")["test_compute_loss_softmax"] == new_test
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
    assert update.update(release, filled, now=now)[0].status == "updated"
    sources = cell_sources(path)
    assert sources["compute_loss"] == answer
    assert sources["test_compute_loss_softmax"] == new_test
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
