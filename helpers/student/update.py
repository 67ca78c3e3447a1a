"""``update``: take a newer release without losing work. A notebook the student never edited
is replaced; in one they worked in, their answer cells are kept and everything else comes from
the release, after a copy of their file is saved in ``<folder>/backup/``.

Interface:
    update(release, into, now=None) -> [FillResult]
"""

from __future__ import annotations

import argparse
import copy
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbgrader import utils as nbgrader_utils

from helpers.student.fill import BACKUP, FillResult, fill_one, report_fill
from helpers.student.notebooks import (
    content_of,
    make_folder,
    nbgrader_metadata,
    parse_notebook,
    read_notebook,
    release_notebooks,
    replace_file,
    student_copy,
    write_new_file,
)

BACKUP_TIME_FORMAT = "%Y%m%dT%H%M%SZ"


def update(release: Path, into: Path, now: datetime | None = None) -> list[FillResult]:
    """Bring ``into`` up to the release: missing notebooks are copied, older ones replaced by
    the release with the student's answer cells kept (after a backup of the student's file)."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    results = []
    for released in release_notebooks(release):
        result = fill_one(released, into / released.name)
        if result.status == "older":
            result = update_one(released, into / released.name, now)
        results.append(result)
    return results


def update_one(released: Path, mine: Path, now: datetime) -> FillResult:
    data = mine.read_bytes()  # the bytes judged are the bytes backed up
    my_notebook, release_notebook = parse_notebook(data), read_notebook(released)
    if not edited_by_student(my_notebook, release_notebook):
        replace_file(mine, student_copy(release_notebook))
        return FillResult(mine.name, "updated", "you had not edited it")
    merged, dropped = with_answers_of(my_notebook, release_notebook)
    backup = mine.parent / BACKUP / f"{mine.stem}.{now.strftime(BACKUP_TIME_FORMAT)}.ipynb"
    make_folder(backup.parent)
    write_new_file(backup, data)
    replace_file(mine, student_copy(merged))
    detail = f"your answers kept, your old file saved as {backup}"
    if dropped:
        detail += f" (it alone holds {dropped})"
    return FillResult(mine.name, "updated", detail)


def edited_by_student(mine, release) -> bool:
    """Whether the student changed a cell nbgrader handed out (its checksum, taken when the
    release was made, no longer matches) or holds a cell the release does not (added, or
    edited outside nbgrader's cells)."""
    released = set(content_of(release))
    for cell in mine.cells:
        checksum = nbgrader_metadata(cell).get("checksum")
        if checksum is not None:
            if checksum != nbgrader_utils.compute_checksum(cell):
                return True
        elif (cell.cell_type, cell.source) not in released:
            return True
    return False


def with_answers_of(mine, release) -> tuple[nbformat.NotebookNode, str]:
    """The release notebook with the student's answer cells in place of its own, and a word on
    what of the student's notebook is not in it (added cells, answers the release dropped)."""
    answers = {
        meta["grade_id"]: cell
        for cell in mine.cells
        if (meta := nbgrader_metadata(cell)).get("solution") and meta.get("grade_id")
    }
    merged = copy.deepcopy(release)
    for index, cell in enumerate(merged.cells):
        grade_id = nbgrader_metadata(cell).get("grade_id")
        if nbgrader_metadata(cell).get("solution") and grade_id in answers:
            merged.cells[index] = copy.deepcopy(answers.pop(grade_id))
    released = set(content_of(release))
    added = [
        cell
        for cell in mine.cells
        if not nbgrader_metadata(cell) and (cell.cell_type, cell.source) not in released
    ]
    left = [f"answer {grade_id}" for grade_id in answers]
    if added:
        left.append(f"{len(added)} cell(s) you added or edited outside the answer cells")
    return merged, ", ".join(left)


def run_update(args: argparse.Namespace) -> int:
    report_fill(update(args.release, args.into), args.release, args.into)
    return 0
