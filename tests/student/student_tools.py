"""What the student's commands' tests share: paths, running a command, reading its output."""

from __future__ import annotations

from pathlib import Path

import nbformat

from helpers.instructor.samples import solved_notebook
from helpers.student.__main__ import main

from project import PROJECT, RELEASE

NAMES = sorted(path.name for path in RELEASE.glob("*.ipynb"))
LOSS_TESTS = ["test_compute_loss_softmax", "test_compute_loss_saturated",
              "test_compute_loss_one_row"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in folder.iterdir()}


def line_of_test(output: str, grade_id: str) -> str:
    """The line of a check's report about the test ``grade_id``."""
    (line,) = [line for line in output.splitlines() if line.split()[1:2] == [grade_id]]
    return line


def lines_about(output: str, name: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(name)]


def edit_cell(path: Path, grade_id: str, source: str) -> None:
    notebook = nbformat.read(path, as_version=4)
    (cell,) = [
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    ]
    cell.source = source
    nbformat.write(notebook, path)


def answered(folder: Path, name: str) -> Path:
    """The release notebook ``name`` in ``folder`` with every stub replaced by its solution."""
    notebook = solved_notebook(Path(name).stem, PROJECT)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / name)
    return folder / name
