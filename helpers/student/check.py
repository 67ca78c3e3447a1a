"""``check``: run the student's saved notebooks of the assignment and judge every test cell as
nbgrader does (``nbgrader.utils.determine_grade``), on copies in memory.

Interface:
    check_notebook(path, release=None, timeout=CELL_TIMEOUT) -> NotebookCheck
    grade_test_cell(cell, reply, problem) -> GradedTest
    notebooks_to_check(folder, names, release) -> [Path]
    report_checks(checks)
    run_check(args) -> exit status (notebooks run ``args.jobs`` at a time)
    CHECK_JOBS
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.utils import determine_grade
from tqdm import tqdm

from helpers.answer_rules import refused_cells
from helpers.student.execution import CELL_TIMEOUT
from helpers.student.notebooks import (
    ANSI_ESCAPE,
    TIMEOUT_ERROR,
    NotebookProblem,
    StudentError,
    clear_outputs,
    first_line,
    nbgrader_metadata,
    read_notebook,
    release_notebooks,
    restore_locked_cells,
    run,
    shorten,
)

MESSAGE_LINES = 4
WRAP_WIDTH = 100  # characters per line of a failure's message
PASS, FAIL, HIDDEN, REFUSED = "PASS", "FAIL", "hidden", "REFUSED"
CHECK_JOBS = 2  # notebooks run at the same time


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
    refused: dict[str, list[str]] = field(default_factory=dict)  # answer cells, with reasons

    @property
    def passed(self) -> bool:
        return (self.problem is None and not self.refused
                and all(test.status != FAIL for test in self.tests))


def check_notebook(path: Path, release: Path | None = None, timeout: float = CELL_TIMEOUT,
                   kernel_manager=None) -> NotebookCheck:
    """Run the notebook at ``path`` in its folder, on a copy in memory, and grade its tests as
    grading would: with the tests of the release notebook ``release`` (when given) in place of
    edited or deleted ones, and the answer-cell rules applied. ``kernel_manager``: as for
    ``notebooks.run``."""
    if not path.exists():
        return NotebookCheck(
            path.stem, problem=f"{path.name} is not in {path.parent}: `make lab` restores it"
        )
    try:
        notebook = read_notebook(path)
    except NotebookProblem as problem:
        return NotebookCheck(path.stem, problem=f"{path.name} {problem}")
    if release is not None:
        restore_locked_cells(notebook, read_notebook(release))
    clear_outputs(notebook)
    replies, problem = run(notebook, path.parent, timeout, kernel_manager=kernel_manager)
    tests = [
        grade_test_cell(cell, replies.get(index), problem)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and nbgrader_metadata(cell).get("grade")
    ]
    # the answer-cell guard ran before the first cell and marked what it refused
    return NotebookCheck(path.stem, tests, problem, refused_cells(notebook))


def grade_test_cell(cell, reply: dict | None, problem: str | None) -> GradedTest:
    """PASS, FAIL or HIDDEN for a test cell, scored by nbgrader's own rule (an error or
    anything written to standard error scores 0); a failure comes with its message."""
    grade_id = nbgrader_metadata(cell).get("grade_id", "?")
    score, points = determine_grade(cell)
    if is_hidden(cell.source):
        return GradedTest(grade_id, points, HIDDEN, "runs when your work is graded")
    if reply is None and cell.execution_count is None:
        reason = f" ({problem})" if problem else ""
        return GradedTest(grade_id, points, FAIL, f"the cell did not run{reason}")
    if problem:  # nbgrader gives no score to a notebook whose run broke off
        return GradedTest(grade_id, points, FAIL,
                          f"ran, but the notebook did not run through ({problem}): grading "
                          "scores the whole notebook 0")
    if score == points:
        return GradedTest(grade_id, points, PASS)
    failure = failure_of(cell, reply or {}) or f"scored {score:g} of {points:g} points"
    return GradedTest(grade_id, points, FAIL, failure)


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
    """The exception and its message, wrapped, without the traceback: the hint at the end of a
    long message is what the student needs most."""
    text = f"{name}: {ANSI_ESCAPE.sub('', value).strip()}".rstrip(": ")
    lines = [wrapped for line in text.splitlines()
             for wrapped in textwrap.wrap(line, WRAP_WIDTH) or [""]]
    if len(lines) > MESSAGE_LINES:
        lines = [*lines[:MESSAGE_LINES - 1], shorten(" ".join(lines[MESSAGE_LINES - 1:]))]
    return "\n".join(lines)


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
        for grade_id, problems in check.refused.items():
            reason = describe_error("Grading refuses this answer cell", "; ".join(problems))
            notes[len(rows)] = reason.splitlines()
            rows.append((check.name, f"{grade_id} (answer)", "", REFUSED))
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
    refused = sum(len(check.refused) for check in checks)
    parts = [
        f"{len(passed)} of {len(visible)} tests passed "
        f"({sum(t.points for t in passed):g} of {sum(t.points for t in visible):g} points)"
    ]
    if hidden_points:
        parts.append(f"hidden tests worth {hidden_points:g} points run when your work is graded")
    if broken:
        parts.append(f"{broken} notebook(s) could not be read or run through")
    if refused:
        parts.append(f"{refused} answer cell(s) refused by the answer-cell rules, as grading would")
    return "\n" + "; ".join(parts) + ".\nChecked the saved files: save your notebooks first."


def run_check(args: argparse.Namespace) -> int:
    paths = notebooks_to_check(args.folder, args.notebooks, args.release)
    jobs = max(1, min(getattr(args, "jobs", CHECK_JOBS), len(paths)))
    progress = tqdm(total=len(paths), desc="checking", unit="notebook", file=sys.stderr)
    # Every notebook runs in a kernel of its own, on a copy of its folder: two at a time keep
    # both cores of a laptop busy through the kernels' start-ups, and change no result. The
    # report lists them in the assignment's order, whichever finished first.
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        running = [pool.submit(check_notebook, path, args.release / path.name, args.timeout)
                   for path in paths]
        for done in as_completed(running):
            progress.set_postfix_str(done.result().name)
            progress.update()
        checks = [future.result() for future in running]
    progress.close()
    report_checks(checks)
    return 0 if all(check.passed for check in checks) else 1
