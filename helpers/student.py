"""Your own workflow as a student: get the notebooks, check your work, hand it in.

    python -m helpers.student fill   [--release release/backprop] [--into notebooks]
    python -m helpers.student check  [NOTEBOOK ...] [--folder notebooks] [--timeout 60]
    python -m helpers.student submit [--folder notebooks] [--student ID] [--out DIR]
                                     [--release release/backprop]

fill    makes ``notebooks/`` your working folder: copies each release notebook you do not have
        yet. A notebook you already have is never overwritten, only reported: up to date, or
        different from the release (running a notebook is no change; editing it is).
check   runs your saved notebooks (all, or the ones named: ``01_loss`` or ``01_loss.ipynb``) in
        their folder, on a copy in memory so your files stay untouched, and prints each test
        with its points, PASS or FAIL, and the error of a failure. Hidden tests are empty in
        your copy: they run when your work is graded.
submit  checks that every notebook of the assignment is there and is a valid notebook, then
        writes ``DIR/<student>_backprop_<UTC time>.zip`` in nbgrader's submission layout:
        ``<student>/backprop/<notebook>.ipynb`` and ``<student>/backprop/timestamp.txt``.

Exit status: 0 when everything is fine; 1 when a test fails, a notebook cannot be read or run,
or a request is refused (with a message saying why).

Interface:
    main(argv=None) -> int
    fill(release, into) -> list[FillResult]
    check_notebook(path, timeout=60) -> NotebookCheck
    submit(folder, release, student=None, out=None, now=None) -> Path
    StudentError: a request that cannot be carried out
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import io
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from tqdm import tqdm

ASSIGNMENT = "backprop"
RELEASE = Path("release") / ASSIGNMENT
FOLDER = Path("notebooks")
# nbgrader's own format for timestamp.txt, read back by its parse_utc
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
ZIP_TIME_FORMAT = "%Y%m%dT%H%M%S.%fZ"
STUDENT_ID = re.compile(r"[A-Za-z0-9_.-]+")
TIMEOUT_ERROR = "CellTimeoutError"
MESSAGE_LINES = 3
MESSAGE_WIDTH = 160
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

PASS, FAIL, HIDDEN = "PASS", "FAIL", "hidden"


class StudentError(Exception):
    """A request that cannot be carried out; the message says what to do instead."""


class NotebookProblem(Exception):
    """A file that is not a readable, valid notebook."""


# ------------------------------------------------------------------------------ notebooks
def parse_notebook(data: bytes) -> nbformat.NotebookNode:
    """The notebook in ``data``, as version 4; NotebookProblem says what is wrong with it."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotebookProblem(f"is not UTF-8 text ({error.reason} at byte {error.start})") from None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookProblem(
            f"is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from None
    if not isinstance(parsed, dict):
        raise NotebookProblem(f"is JSON but not a notebook (a {type(parsed).__name__})")
    try:
        with warnings.catch_warnings():
            # missing cell ids only warn; what matters is that the notebook validates
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
            nbformat.validate(notebook)
            return nbformat.convert(notebook, 4)
    except nbformat.ValidationError as error:
        raise NotebookProblem(f"is not a valid notebook: {first_line(error.message)}") from None
    except Exception as error:  # nbformat raises many kinds on malformed input
        raise NotebookProblem(
            f"is not a valid notebook ({type(error).__name__}: {first_line(str(error))})"
        ) from None


def read_notebook(path: Path) -> nbformat.NotebookNode:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise NotebookProblem(f"cannot be read ({error.strerror})") from None
    return parse_notebook(data)


def release_notebooks(release: Path) -> list[Path]:
    notebooks = sorted(release.glob("*.ipynb")) if release.is_dir() else []
    if not notebooks:
        raise StudentError(
            f"no release notebooks in {release}: run this from the course folder, or pass "
            "--release with the folder of the assignment's notebooks"
        )
    return notebooks


def nbgrader_metadata(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def content_of(notebook) -> list[tuple[str, str]]:
    """What a notebook says: running it (outputs, counts) or opening it (metadata) changes
    nothing here."""
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def locked_cells(notebook) -> dict[str, tuple[str, str]]:
    """The nbgrader cells a student does not edit (instructions, tests), by grade_id."""
    return {
        meta["grade_id"]: (cell.cell_type, cell.source)
        for cell in notebook.cells
        if (meta := nbgrader_metadata(cell)).get("grade_id") and not meta.get("solution")
    }


def write_new_file(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all, and never over a file (FileExistsError)."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~current_umask())  # mkstemp makes the file private
        try:
            # a hard link is atomic and, unlike os.replace, refuses to replace a file that
            # appeared after we looked
            os.link(temporary, path)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            if path.exists():
                raise FileExistsError(path) from None
            os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file of that name, or no permission
        raise StudentError(f"cannot make the folder {folder} ({error.strerror})") from None


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ------------------------------------------------------------------------------ fill
@dataclass(frozen=True)
class FillResult:
    """What fill did with one release notebook."""

    name: str
    status: str  # "copied", "up to date", "differs" or "unreadable"
    detail: str = ""


def fill(release: Path, into: Path) -> list[FillResult]:
    """Copy into ``into`` each notebook of ``release`` it lacks; never touch one it has."""
    notebooks = release_notebooks(release)
    make_folder(into)
    return [fill_one(notebook, into / notebook.name) for notebook in notebooks]


def fill_one(released: Path, mine: Path) -> FillResult:
    if not mine.exists():
        try:
            write_new_file(mine, released.read_bytes())
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
        return FillResult(
            mine.name, "differs", "instructions or tests differ: the release is probably newer"
        )
    return FillResult(mine.name, "differs", "your answers and cells differ from the release")


def report_fill(results: Sequence[FillResult], release: Path, into: Path) -> None:
    width = max(len(result.name) for result in results)
    for result in results:
        status = f"copied to {into}" if result.status == "copied" else result.status
        detail = f": {result.detail}" if result.detail else ""
        print(f"{result.name:<{width}}  {status}{detail}")
    kept = [result.name for result in results if result.status in ("differs", "unreadable")]
    if kept:
        print(
            f"\n{len(kept)} of your notebooks differ from the release in {release} and were left "
            f"alone: {', '.join(kept)}.\nTo take the release's version of one, rename your copy "
            "(your work stays in it) and run fill again."
        )


def run_fill(args: argparse.Namespace) -> int:
    results = fill(args.release, args.into)
    report_fill(results, args.release, args.into)
    return 0


# ------------------------------------------------------------------------------ check
@dataclass(frozen=True)
class GradedTest:
    """One graded test cell after the run."""

    grade_id: str
    points: float
    status: str  # PASS, FAIL or HIDDEN
    message: str = ""


@dataclass
class NotebookCheck:
    """The tests of one notebook, and what stopped the notebook if it could not run through."""

    name: str
    tests: list[GradedTest] = field(default_factory=list)
    problem: str | None = None

    @property
    def passed(self) -> bool:
        return self.problem is None and all(test.status != FAIL for test in self.tests)


def check_notebook(path: Path, timeout: float = 60) -> NotebookCheck:
    """Run the notebook at ``path`` in its folder, on a copy in memory, and grade its tests."""
    try:
        notebook = read_notebook(path)
    except NotebookProblem as problem:
        return NotebookCheck(path.stem, problem=f"{path.name} {problem}")
    clear_outputs(notebook)
    replies, problem = execute_in_memory(notebook, path.parent, timeout)
    tests = [
        grade_test_cell(cell, replies.get(index), problem)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and nbgrader_metadata(cell).get("grade")
    ]
    return NotebookCheck(path.stem, tests, problem)


def clear_outputs(notebook) -> None:
    """Saved outputs must not pass for results of this run."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def execute_in_memory(notebook, folder: Path, timeout: float) -> tuple[dict[int, dict], str | None]:
    """Run every cell, errors and all; return each cell's execute reply and what stopped the
    run early, if anything."""
    replies: dict[int, dict] = {}

    def remember(cell, cell_index: int, execute_reply: dict | None) -> None:
        replies[cell_index] = (execute_reply or {}).get("content", {})

    client = NotebookClient(
        notebook,
        timeout=timeout,
        allow_errors=True,
        # a cell that runs too long costs that cell only, as when graded
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": TIMEOUT_ERROR,
            "evalue": f"the cell did not finish within {timeout:g} s",
            "traceback": [],
        },
        # the autograder skips no cell whatever its tags; an unguessable tag mimics that
        skip_cells_with_tag="skip-" + secrets.token_hex(16),
        on_cell_executed=remember,
        resources={"metadata": {"path": str(folder)}},
    )
    try:
        # the kernel's own log lines (not the notebook's output) would only clutter the report
        client.execute(cwd=str(folder), env=kernel_environment(), stderr=subprocess.DEVNULL)
    except Exception as error:  # a kernel that died or never started: the rest did not run
        return replies, f"{type(error).__name__}: {first_line(str(error))}"
    return replies, None


def kernel_environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment.setdefault("MPLBACKEND", "Agg")  # no plot windows while checking
    return environment


def grade_test_cell(cell, reply: dict | None, problem: str | None) -> GradedTest:
    """PASS, FAIL or HIDDEN for a test cell, judged as nbgrader grades it: an error or
    anything written to standard error scores 0."""
    meta = nbgrader_metadata(cell)
    grade_id, points = meta.get("grade_id", "?"), float(meta.get("points", 0))
    if is_hidden(cell.source):
        return GradedTest(grade_id, points, HIDDEN, "runs when your work is graded")
    if reply is None and cell.execution_count is None:
        reason = f" ({problem})" if problem else ""
        return GradedTest(grade_id, points, FAIL, f"the cell did not run{reason}")
    failure = failure_of(cell, reply or {})
    return GradedTest(grade_id, points, FAIL if failure else PASS, failure or "")


def is_hidden(source: str) -> bool:
    """A test cell holding only comments: its hidden tests are added at grading time."""
    return all(not line.strip() or line.lstrip().startswith("#") for line in source.splitlines())


def failure_of(cell, reply: dict) -> str | None:
    if reply.get("status") == "error" and reply.get("ename") == TIMEOUT_ERROR:
        return f"{TIMEOUT_ERROR}: {reply.get('evalue', '')}"
    for output in cell.outputs:
        if output.output_type == "error":
            return describe_error(output.ename, output.evalue)
    for output in cell.outputs:
        if output.output_type == "stream" and output.name == "stderr":
            return f"wrote to standard error, which grading scores 0: {first_line(output.text)}"
    if reply.get("status") == "error":
        return describe_error(reply.get("ename", "Error"), reply.get("evalue", ""))
    return None


def describe_error(name: str, value: str) -> str:
    """The exception and the first lines of its message, without the traceback."""
    lines = [shorten(line) for line in ANSI_ESCAPE.sub("", value).strip().splitlines()]
    head = f"{name}: {lines[0]}" if lines else name
    return "\n".join([head, *lines[1:MESSAGE_LINES]])


def first_line(text: str) -> str:
    lines = ANSI_ESCAPE.sub("", text).strip().splitlines()
    return shorten(lines[0]) if lines else ""


def shorten(line: str) -> str:
    return line if len(line) <= MESSAGE_WIDTH else line[: MESSAGE_WIDTH - 3] + "..."


def notebooks_to_check(folder: Path, names: Sequence[str]) -> list[Path]:
    if not folder.is_dir():
        raise StudentError(
            f"there is no folder {folder}: fill it first with "
            "`python -m helpers.student fill` (or `make lab`)"
        )
    available = {path.name: path for path in sorted(folder.glob("*.ipynb"))}
    if not available:
        raise StudentError(
            f"{folder} holds no notebooks: fill it first with `python -m helpers.student fill`"
        )
    if not names:
        return list(available.values())
    chosen = {}
    for name in names:
        file_name = Path(name).name
        file_name = file_name if file_name.endswith(".ipynb") else f"{file_name}.ipynb"
        if file_name not in available:
            choices = ", ".join(Path(known).stem for known in available)
            raise StudentError(f"no notebook {name!r} in {folder}; choose from: {choices}")
        chosen[file_name] = available[file_name]
    return list(chosen.values())


def report_checks(checks: Sequence[NotebookCheck]) -> None:
    rows = [("notebook", "test", "points", "result")]
    notes: dict[int, list[str]] = {}
    for check in checks:
        if check.problem:
            notes[len(rows)] = [check.problem]
            rows.append((check.name, "(notebook)", "", FAIL))
        for test in check.tests:
            if test.message:
                notes[len(rows)] = test.message.splitlines()
            rows.append((check.name, test.grade_id, f"{test.points:g}", test.status))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for number, (notebook, test, points, result) in enumerate(rows):
        lines = notes.get(number, [])
        message = f"  {lines[0]}" if lines else ""
        print(
            f"{notebook:<{widths[0]}}  {test:<{widths[1]}}  {points:>{widths[2]}}  "
            f"{result}{message}".rstrip()
        )
        indent = " " * (sum(widths) + 6 + len(result) + 2)
        for line in lines[1:]:
            print(f"{indent}{line}")
    print(summary_of(checks))


def summary_of(checks: Sequence[NotebookCheck]) -> str:
    tests = [test for check in checks for test in check.tests]
    visible = [test for test in tests if test.status != HIDDEN]
    passed = [test for test in visible if test.status == PASS]
    hidden_points = sum(test.points for test in tests if test.status == HIDDEN)
    broken = sum(1 for check in checks if check.problem)
    parts = [
        f"{len(passed)} of {len(visible)} tests passed "
        f"({sum(t.points for t in passed):g} of {sum(t.points for t in visible):g} points)"
    ]
    if hidden_points:
        parts.append(f"hidden tests worth {hidden_points:g} points run when your work is graded")
    if broken:
        parts.append(f"{broken} notebook(s) could not be read or run through")
    return "\n" + "; ".join(parts) + ".\nChecked the saved files: save your notebooks first."


def run_check(args: argparse.Namespace) -> int:
    paths = notebooks_to_check(args.folder, args.notebooks)
    checks = []
    progress = tqdm(paths, desc="checking", unit="notebook", file=sys.stderr)
    for path in progress:
        progress.set_postfix_str(path.stem)
        checks.append(check_notebook(path, args.timeout))
    progress.close()
    report_checks(checks)
    return 0 if all(check.passed for check in checks) else 1


# ------------------------------------------------------------------------------ submit
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


# ------------------------------------------------------------------------------ command line
def positive_seconds(text: str) -> float:
    seconds = float(text)
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.student",
        description="Get the notebooks, check your work, hand it in.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, run: Callable[[argparse.Namespace], int]):
        sub = commands.add_parser(name, help=summary, description=summary)
        sub.set_defaults(run=run)
        return sub

    fill_parser = command(
        "fill", "copy the release notebooks you do not have yet; never overwrite yours", run_fill
    )
    fill_parser.add_argument("--release", type=Path, default=RELEASE, help="default: %(default)s")
    fill_parser.add_argument("--into", type=Path, default=FOLDER, help="default: %(default)s")

    check_parser = command("check", "run your saved notebooks and report every test", run_check)
    check_parser.add_argument(
        "notebooks", nargs="*", metavar="NOTEBOOK", help="e.g. 01_loss (default: all)"
    )
    check_parser.add_argument("--folder", type=Path, default=FOLDER, help="default: %(default)s")
    check_parser.add_argument(
        "--timeout", type=positive_seconds, default=60.0, help="seconds per cell (default: 60)"
    )

    submit_parser = command("submit", "zip your notebooks for handing in", run_submit)
    submit_parser.add_argument("--folder", type=Path, default=FOLDER, help="default: %(default)s")
    submit_parser.add_argument("--student", help="your student id (default: your login name)")
    submit_parser.add_argument(
        "--out", type=Path, default=Path("."), help="folder for the zip (default: here)"
    )
    submit_parser.add_argument(
        "--release",
        type=Path,
        default=RELEASE,
        help="the notebooks expected (default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except StudentError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
