"""``fill``: the student's working folder gets each release notebook it lacks; nothing is
ever overwritten, and the others are reported (up to date, in progress, older).

Interface:
    fill(release, into) -> [FillResult]
    fill_one(released, mine) -> FillResult
    report_fill(results, release, into)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from helpers.student.notebooks import (
    NotebookProblem,
    StudentError,
    content_of,
    locked_cells,
    make_folder,
    read_notebook,
    release_notebooks,
    student_copy,
    write_new_file,
)

BACKUP = "backup"  # where update keeps the student's old files, inside the working folder


@dataclass(frozen=True)
class FillResult:
    """What fill did with one release notebook."""

    name: str
    # "copied", "up to date", "in progress" (yours; the release did not change), "older"
    # (the release changed since you copied it), "unreadable"; for update also "updated"
    status: str
    detail: str = ""


def fill(release: Path, into: Path) -> list[FillResult]:
    """Copy into ``into`` each notebook of ``release`` it lacks; never touch one it has."""
    notebooks = release_notebooks(release)
    make_folder(into)
    return [fill_one(notebook, into / notebook.name) for notebook in notebooks]


def fill_one(released: Path, mine: Path) -> FillResult:
    if not mine.exists():
        try:
            write_new_file(mine, student_copy(read_notebook(released)))
            return FillResult(released.name, "copied")
        except FileExistsError:  # created meanwhile: it is the student's now
            pass
    return compare_with_release(released, mine)


def compare_with_release(released: Path, mine: Path) -> FillResult:
    try:
        my_notebook = read_notebook(mine)
    except NotebookProblem as problem:
        return FillResult(mine.name, "unreadable", f"your copy {problem}")
    try:
        release_notebook = read_notebook(released)
    except NotebookProblem as problem:
        raise StudentError(f"{released} {problem}") from None
    if content_of(my_notebook) == content_of(release_notebook):
        return FillResult(mine.name, "up to date")
    if locked_cells(my_notebook) != locked_cells(release_notebook):
        return FillResult(mine.name, "older", "the release has new instructions or tests")
    return FillResult(mine.name, "in progress")


def report_fill(results: Sequence[FillResult], release: Path, into: Path) -> None:
    width = max(len(result.name) for result in results)
    for result in results:
        status = f"copied to {into}" if result.status == "copied" else result.status
        detail = f": {result.detail}" if result.detail else ""
        print(f"{result.name:<{width}}  {status}{detail}")
    older = [result.name for result in results if result.status == "older"]
    if older:
        print(
            f"\nThe release in {release} is newer than your {', '.join(older)}; they were left "
            "alone.\nTo take it, run `make update` (python -m helpers.student update): your "
            f"answer cells are kept, and a copy of each file you worked in goes to {into / BACKUP}."
        )


def run_fill(args: argparse.Namespace) -> int:
    results = fill(args.release, args.into)
    report_fill(results, args.release, args.into)
    return 0
