"""Your own workflow as a student: get the notebooks, check your work, hand it in.

    python -m helpers.student fill   [--release release/backprop] [--into notebooks]
    python -m helpers.student update [--release release/backprop] [--into notebooks]
    python -m helpers.student lab    [--release release/backprop] [--into notebooks]
                                     [-- JUPYTERLAB OPTIONS ...]
    python -m helpers.student check  [NOTEBOOK ...] [--folder notebooks] [--timeout 60]
                                     [--release release/backprop]
    python -m helpers.student submit [--folder notebooks] [--student ID] [--out DIR]
                                     [--release release/backprop]

fill    makes ``notebooks/`` your working folder: copies each release notebook you do not have
        yet. A notebook you already have is never overwritten, only reported: up to date, your
        work in progress, or older than the release (running a notebook is no change).
update  takes a newer release: a notebook you never edited is replaced by the new one; in a
        notebook you worked in, your answer cells are kept and everything else comes from the
        new release, after a copy of your file is saved in ``notebooks/backup/``.
lab     fills ``notebooks/`` and opens JupyterLab there, set up for students: the course's
        kernel, nbgrader's Validate button with the course's settings, none of the
        instructor's pages; ``--allow-root`` when run as root, no browser start without a
        display. Options after ``--`` go to JupyterLab (e.g. ``-- --port 8890``).
check   runs your saved notebooks of the assignment (all, or the ones named: ``01_loss`` or
        ``01_loss.ipynb``) in their folder, on a copy in memory so your files stay untouched,
        and prints each test with its points, PASS or FAIL, and the error of a failure. Hidden
        tests are empty in your copy: they run when your work is graded.
submit  checks that every notebook of the assignment is there and is a valid notebook, then
        writes ``DIR/<student>_backprop_<UTC time>.zip`` in nbgrader's submission layout:
        ``<student>/backprop/<notebook>.ipynb`` and ``<student>/backprop/timestamp.txt``.

Exit status: 0 when everything is fine; 1 when a test fails, a notebook cannot be read or run,
or a request is refused (with a message saying why).

Interface:
    main(argv=None) -> int
    fill(release, into) -> list[FillResult]
    update(release, into, now=None) -> list[FillResult]
    lab_command(release, into, options=()) -> (argv, environment, course root)
    check_notebook(path, timeout=60) -> NotebookCheck
    submit(folder, release, student=None, out=None, now=None) -> Path
    StudentError: a request that cannot be carried out
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
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
from nbgrader import utils as nbgrader_utils
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


@contextlib.contextmanager
def complete_copy_beside(path: Path, data: bytes):
    """A temporary file next to ``path`` holding all of ``data``, on disk; it is removed
    afterwards unless the caller moved it into place."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~current_umask())  # mkstemp makes the file private
        yield temporary
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def write_new_file(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all, and never over a file (FileExistsError)."""
    with complete_copy_beside(path, data) as temporary:
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
    # "copied", "up to date", "in progress" (yours; the release did not change), "older"
    # (the release changed since you copied it), "unreadable"; for update also "updated"
    status: str
    detail: str = ""


def fill(release: Path, into: Path) -> list[FillResult]:
    """Copy into ``into`` each notebook of ``release`` it lacks; never touch one it has."""
    notebooks = release_notebooks(release)
    make_folder(into)
    return [fill_one(notebook, into / notebook.name) for notebook in notebooks]


def student_copy(notebook) -> bytes:
    """The bytes of a notebook as the student's copy: with the kernel's own language details,
    which JupyterLab writes into a notebook when it opens it (marking it modified) unless they
    are there already."""
    notebook = copy.deepcopy(notebook)
    notebook.metadata["language_info"] = kernel_language_info()
    return nbformat.writes(notebook).encode("utf-8") + b"\n"


@functools.cache
def kernel_language_info() -> dict:
    # the kernel runs on this environment's Python, so its language_info is this one
    from ipykernel.ipkernel import IPythonKernel

    return copy.deepcopy(IPythonKernel.language_info)


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


# ------------------------------------------------------------------------------ update
BACKUP = "backup"
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


def replace_file(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (a complete copy renamed over it)."""
    with complete_copy_beside(path, data) as temporary:
        os.replace(temporary, path)


def run_update(args: argparse.Namespace) -> int:
    report_fill(update(args.release, args.into), args.release, args.into)
    return 0


# ------------------------------------------------------------------------------ lab
# Student-side Jupyter settings (instructor pages switched off), read by the lab through
# JUPYTER_CONFIG_PATH, before the environment's own settings.
LAB_CONFIG = Path(__file__).resolve().parent / "lab_config"


def lab_command(
    release: Path, into: Path, options: Sequence[str] = ()
) -> tuple[list[str], dict[str, str], Path]:
    """The command line, environment and working folder of the student's JupyterLab, serving
    ``into``.

    It runs in the course root (``release/<assignment>/..``), where nbgrader's Validate button
    looks for the course's ``nbgrader_config.py``.
    """
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={into.resolve()}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and cloud notebooks
        argv.append("--allow-root")
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if headless:  # no screen: do not start a text-mode browser in this terminal
        argv.append("--no-browser")
    environment = dict(os.environ)
    paths = [str(LAB_CONFIG), *filter(None, [environment.get("JUPYTER_CONFIG_PATH")])]
    environment["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    return argv + list(options), environment, release.resolve().parent.parent


def run_lab(args: argparse.Namespace) -> int:
    report_fill(fill(args.release, args.into), args.release, args.into)
    options = args.options[1:] if args.options[:1] == ["--"] else args.options
    argv, environment, course_root = lab_command(args.release, args.into, options)
    print(f"\nStarting JupyterLab on {args.into} (stop it with Ctrl+C) ...", flush=True)
    try:
        return subprocess.run(argv, env=environment, cwd=course_root).returncode
    except KeyboardInterrupt:
        return 0


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
    if not path.exists():
        return NotebookCheck(
            path.stem, problem=f"{path.name} is not in {path.parent}: `make lab` restores it"
        )
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


def notebooks_to_check(folder: Path, names: Sequence[str], release: Path) -> list[Path]:
    """The assignment's notebooks in ``folder`` (all, or the ones named); other notebooks
    there (``Untitled.ipynb``) are not the assignment's and are not run."""
    if not folder.is_dir():
        raise StudentError(
            f"there is no folder {folder}: fill it first with `make lab` "
            "(python -m helpers.student fill)"
        )
    assignment = [path.name for path in release_notebooks(release)]
    if not names:
        return [folder / name for name in assignment]
    chosen = {}
    for name in names:
        file_name = Path(name).name
        file_name = file_name if file_name.endswith(".ipynb") else f"{file_name}.ipynb"
        if file_name not in assignment:
            choices = ", ".join(Path(known).stem for known in assignment)
            raise StudentError(
                f"{name!r} is not a notebook of the assignment; choose from: {choices}"
            )
        chosen[file_name] = folder / file_name
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
    paths = notebooks_to_check(args.folder, args.notebooks, args.release)
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
    update_parser = command(
        "update", "take a newer release, keeping your answer cells (and a backup)", run_update
    )
    lab_parser = command("lab", "fill notebooks/ and open JupyterLab there", run_lab)
    lab_parser.add_argument(
        "options", nargs=argparse.REMAINDER, help="JupyterLab options, after --"
    )
    for sub in (fill_parser, update_parser, lab_parser):
        sub.add_argument("--release", type=Path, default=RELEASE, help="default: %(default)s")
        sub.add_argument("--into", type=Path, default=FOLDER, help="default: %(default)s")

    check_parser = command("check", "run your saved notebooks and report every test", run_check)
    check_parser.add_argument(
        "notebooks", nargs="*", metavar="NOTEBOOK", help="e.g. 01_loss (default: all)"
    )
    check_parser.add_argument("--folder", type=Path, default=FOLDER, help="default: %(default)s")
    check_parser.add_argument(
        "--timeout", type=positive_seconds, default=60.0, help="seconds per cell (default: 60)"
    )
    check_parser.add_argument(
        "--release", type=Path, default=RELEASE, help="the assignment (default: %(default)s)"
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
