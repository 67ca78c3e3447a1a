"""Notebooks as the student's commands handle them: read, validated, written safely, run.

Nothing here ever writes over a student's file except ``replace_file``, which ``update`` uses
only after a backup. ``run`` is the one way the course runs a notebook outside JupyterLab (the
student's check, and the project's tests): every cell, errors and all, under the grader's rules.

Interface:
    parse_notebook(data) / read_notebook(path) -> NotebookNode (NotebookProblem says why not)
    release_notebooks(release) -> [Path]
    content_of(nb), locked_cells(nb), nbgrader_metadata(cell)
    restore_locked_cells(nb, release_nb)
    student_copy(nb) -> bytes; kernel_language_info() -> dict
    write_new_file(path, data), replace_file(path, data), make_folder(folder)
    run(nb, folder, timeout=CELL_TIMEOUT, *, env=None) -> problem or None
    StudentError, NotebookProblem; ASSIGNMENT, RELEASE, FOLDER
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import nbformat
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

from helpers.student.execution import CELL_TIMEOUT, IGNORED_FILES, client_options

ASSIGNMENT = "backprop"
RELEASE = Path("release") / ASSIGNMENT
FOLDER = Path("notebooks")
TIMEOUT_ERROR = "CellTimeoutError"
MESSAGE_WIDTH = 160
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class StudentError(Exception):
    """A request that cannot be carried out; the message says what to do instead."""


class NotebookProblem(Exception):
    """A file that is not a readable, valid notebook."""


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


def replace_file(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (a complete copy renamed over it)."""
    with complete_copy_beside(path, data) as temporary:
        os.replace(temporary, path)


def restore_locked_cells(notebook, release) -> None:
    """Put the release's read-only cells (set-up, instructions, tests) back into ``notebook``,
    as grading does from its gradebook: an edited one gets the release's code again, and a
    deleted test cell comes back after the nearest earlier cell still there."""
    order = [nbgrader_metadata(cell)["grade_id"] for cell in release.cells
             if nbgrader_metadata(cell).get("grade_id")]
    for original in release.cells:
        grade_id = nbgrader_metadata(original).get("grade_id")
        if not grade_id or nbgrader_metadata(original).get("solution"):
            continue
        present = {nbgrader_metadata(c).get("grade_id"): i for i, c in enumerate(notebook.cells)}
        if grade_id in present:
            cell = notebook.cells[present[grade_id]]
            cell.cell_type, cell.source = original.cell_type, original.source
            cell.metadata["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])
        elif nbgrader_metadata(original).get("grade"):
            earlier = [present[g] for g in order[: order.index(grade_id)] if g in present]
            restored = copy.deepcopy(original)
            if restored.cell_type == "code":
                restored.outputs, restored.execution_count = [], None
            notebook.cells.insert(max(earlier) + 1 if earlier else 0, restored)


def clear_outputs(notebook) -> None:
    """Saved outputs must not pass for results of this run."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


def run(
    notebook, folder: Path, timeout: float = CELL_TIMEOUT, *, env: dict[str, str] | None = None,
    kernel_manager=None,
) -> tuple[dict[int, dict], str | None]:
    """Run every cell of ``notebook`` (in memory) beside a copy of ``folder``'s files, errors
    and all, under the rules grading applies (``helpers.student.execution``); return each
    cell's execute reply and what stopped the run early, if anything.

    ``env``: the kernel's environment (default: this process's, with no plot windows).
    ``kernel_manager``: makes the manager of the kernel to run in, asynchronous as nbclient's,
    from a scratch folder of its own (default: nbclient's, for the notebook's kernel).
    """
    with tempfile.TemporaryDirectory(prefix="backprop-run-") as scratch:
        # as when graded: the folder's files without the ones grading leaves out (numpy.py)
        copy = Path(scratch) / folder.name
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(*IGNORED_FILES))
        km = kernel_manager(Path(scratch) / "kernel") if kernel_manager else None
        try:
            return _run_in(notebook, copy, timeout, env, km)
        finally:
            if km is not None and km.has_kernel:  # nbclient stops only the kernels it made
                run_sync(km.shutdown_kernel)(now=True)


def _run_in(notebook, folder: Path, timeout: float, env: dict[str, str] | None, km=None):
    replies: dict[int, dict] = {}

    def remember(cell, cell_index: int, execute_reply: dict | None) -> None:
        reply = replies[cell_index] = (execute_reply or {}).get("content", {})
        # as nbgrader's Execute does: an error reply with no error output (a cell stopped at
        # its time limit) gets one, so that the cell scores 0
        if reply.get("status") == "error" and not any(
            output.output_type == "error" for output in cell.get("outputs", [])
        ):
            error = {key: reply.get(key, "") for key in ("ename", "evalue")}
            cell.outputs.append(
                nbformat.v4.new_output("error", traceback=reply.get("traceback", []), **error)
            )

    client = NotebookClient(
        notebook,
        km=km,
        allow_errors=True,
        error_on_timeout={
            "ename": TIMEOUT_ERROR,
            "evalue": f"the cell did not finish within {timeout:g} s",
            "traceback": [],
        },
        on_cell_executed=remember,
        resources={"metadata": {"path": str(folder)}},
        # the kernel is killed after the last cell rather than asked to shut down and waited
        # for: nothing of it is needed any more, and its folder is a copy that goes with it
        shutdown_kernel="immediate",
        **client_options(timeout),  # the rules grading applies too
    )
    try:
        # the kernel's own log lines (not the notebook's output) would only clutter the report
        environment = kernel_environment() if env is None else env
        client.execute(cwd=str(folder), env=environment, stderr=subprocess.DEVNULL)
    except Exception as error:  # a kernel that died or never started: the rest did not run
        return replies, f"{type(error).__name__}: {first_line(str(error))}"
    finally:
        if km is not None and client.kc is not None:  # a manager of the caller's: its kernel
            client.kc.stop_channels()  # is stopped by the caller, the channels here
    return replies, None


def kernel_environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment.setdefault("MPLBACKEND", "Agg")  # no plot windows while checking
    # as grading sets it: demonstrations shrink (helpers.training.while_grading)
    environment.setdefault("NBGRADER_EXECUTION", "autograde")
    return environment


def first_line(text: str) -> str:
    lines = ANSI_ESCAPE.sub("", text).strip().splitlines()
    return shorten(lines[0]) if lines else ""


def shorten(line: str) -> str:
    return line if len(line) <= MESSAGE_WIDTH else line[: MESSAGE_WIDTH - 3] + "..."
