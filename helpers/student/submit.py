"""``submit``: check that every notebook of the assignment is there and valid, then write a zip
in nbgrader's submission layout.

Interface:
    submit(folder, release, student=None, out=None, now=None) -> Path
    student_id(given) -> str
"""

from __future__ import annotations

import argparse
import getpass
import io
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from helpers.student.notebooks import (
    ASSIGNMENT,
    NotebookProblem,
    StudentError,
    make_folder,
    parse_notebook,
    release_notebooks,
    write_new_file,
)

# nbgrader's own format for timestamp.txt, read back by its parse_utc
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
ZIP_TIME_FORMAT = "%Y%m%dT%H%M%S.%fZ"
STUDENT_ID = re.compile(r"[A-Za-z0-9_.-]+")


def student_id(given: str | None) -> str:
    """The id the submission is filed under: the login name unless one is given."""
    if given is None:
        try:
            given = getpass.getuser()
        except Exception:  # no login name in some containers: OSError or KeyError
            raise StudentError("cannot tell your login name: pass --student YOUR_ID") from None
    # it becomes a folder and file name: no separators, no "." or ".."
    if not STUDENT_ID.fullmatch(given) or not given.strip("."):
        raise StudentError(
            f"student id {given!r} may hold only letters, digits, '_', '.' and '-' "
            "(and not dots alone): pass --student YOUR_ID"
        )
    return given


def submission_contents(folder: Path, expected: Sequence[str]) -> dict[str, bytes]:
    """The bytes of every expected notebook, once each is known to be present and valid."""
    if not folder.is_dir():
        raise StudentError(f"there is no folder {folder} to submit")
    missing = [name for name in expected if not (folder / name).is_file()]
    if missing:
        raise StudentError(
            f"not submitted: {folder} lacks {', '.join(missing)}; every notebook of the "
            "assignment is handed in (`python -m helpers.student fill` restores a missing one)"
        )
    contents, problems = {}, []
    for name in expected:
        try:
            # the bytes validated are the bytes zipped, even if the file changes meanwhile
            contents[name] = (folder / name).read_bytes()
            parse_notebook(contents[name])
        except OSError as error:
            problems.append(f"{folder / name} cannot be read ({error.strerror})")
        except NotebookProblem as problem:
            problems.append(f"{folder / name} {problem}")
    if problems:
        raise StudentError(
            "not submitted, nothing was written:\n  "
            + "\n  ".join(problems)
            + "\nRepair the notebook (or restore it from a checkpoint) and submit again."
        )
    return contents


def extra_notebooks(folder: Path, expected: Sequence[str]) -> list[str]:
    return sorted(path.name for path in folder.glob("*.ipynb") if path.name not in expected)


def submission_zip(student: str, contents: dict[str, bytes], now: datetime) -> bytes:
    """A zip laid out as nbgrader's submitted folder: <student>/<assignment>/..."""
    buffer = io.BytesIO()
    date_time = now.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        files = {**contents, "timestamp.txt": now.strftime(TIMESTAMP_FORMAT).encode()}
        for name, data in files.items():
            entry = zipfile.ZipInfo(f"{student}/{ASSIGNMENT}/{name}", date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    return buffer.getvalue()


def submit(
    folder: Path,
    release: Path,
    student: str | None = None,
    out: Path | None = None,
    now: datetime | None = None,
) -> Path:
    """Write the submission zip of ``folder`` into ``out`` (default: here); return its path."""
    out = Path(".") if out is None else out
    student = student_id(student)
    expected = [path.name for path in release_notebooks(release)]
    contents = submission_contents(folder, expected)
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    path = out / f"{student}_{ASSIGNMENT}_{now.strftime(ZIP_TIME_FORMAT)}.zip"
    data = submission_zip(student, contents, now)
    make_folder(out)
    try:
        write_new_file(path, data)
    except FileExistsError:
        raise StudentError(f"{path} exists already; it was left as it is") from None
    return path


def run_submit(args: argparse.Namespace) -> int:
    path = submit(args.folder, args.release, args.student, args.out)
    expected = [notebook.name for notebook in release_notebooks(args.release)]
    extras = extra_notebooks(args.folder, expected)
    if extras:
        print(f"not included, not part of the assignment: {', '.join(extras)}")
    print(path)
    return 0
