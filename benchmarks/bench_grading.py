"""Serial nbgrader autograde against the parallel command, and what the sandbox costs.

N submissions (default 40, a mix of correct answers, correct answers written differently and
typical mistakes, taken in turn from the sample catalogue) are staged three times, in three
course folders with the same configuration. One is graded by plain ``nbgrader autograde backprop``
(one process, one student after another), one by ``python -m helpers.instructor.grade_class``,
both with their kernels in the bubblewrap sandbox (the default), and one by
``python -m helpers.instructor.grade_class --unsandboxed``. The script prints

    * seconds per submission of serial nbgrader and of the course's command, their ratio, and
      whether both gradebooks hold the same scores;
    * seconds per submission of the course's command sandboxed and unsandboxed, their ratio
      (sandboxed / unsandboxed: what the sandbox costs), and whether both gradebooks hold the
      same scores;
    * where the time of one submission goes (sandboxed, graded in this process).

``--sandbox-only`` stages the class twice and prints only the sandbox comparison (default
N 8); ``--breakdown-only`` prints only the last part. The exit status is 1 when two gradebooks
differ, 2 when this machine cannot sandbox grading kernels.

    python benchmarks/bench_grading.py [--n 40] [--workers 2] [--sandbox-only | --breakdown-only]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nbclient import NotebookClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from helpers.instructor import sandbox
from helpers.instructor.course import Course
from helpers.instructor.grade_class import BLAS_THREAD_VARIABLES
from helpers.instructor.samples import load_catalogue, stage_students

PROJECT = Path(__file__).resolve().parents[1]
KINDS = ("solved", "alternative", "mistake")


def stage_class(root: Path, n: int) -> Course:
    samples = [s for s in load_catalogue() if s.kind in KINDS]
    course = Course(root)
    class_ = {f"student{i:03d}": samples[i % len(samples)] for i in range(n)}
    stage_students(course, class_, root.parent / "built", PROJECT)
    shutil.copy(PROJECT / "nbgrader_config.py", root)  # plain nbgrader reads it from its cwd
    return course


def time_serial(course: Course) -> float:
    start = time.perf_counter()
    with open(course.root / "serial.log", "w") as log:
        subprocess.run(
            ["nbgrader", "autograde", "backprop"],
            cwd=course.root,
            stdout=log,
            stderr=log,
            env={**_default_threads(), "BACKPROP_DB_URL": course.db_url},
            check=False,
        )
    return time.perf_counter() - start


def _default_threads() -> dict[str, str]:
    """The environment without thread limits: serial nbgrader as an instructor would run it."""
    return {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES}


def time_parallel(course: Course, workers: int, sandboxed: bool = True) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "helpers.instructor.grade_class",
            "--root",
            str(course.root),
            "--workers",
            str(workers),
            *([] if sandboxed else ["--unsandboxed"]),
        ],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def breakdown(folder: Path) -> dict[str, float]:
    """Where one correct submission's autograde spends its time, measured inside that run.

    nbclient's kernel start-up, cell execution and kernel shut-down, and SQLAlchemy's SQL
    statements, are timed by wrapping them while ``Course.autograde`` runs in this process.
    """
    root = folder / "breakdown" / "course"
    course = Course(root)
    solved = next(s for s in load_catalogue() if s.kind == "solved")
    stage_students(course, {"one": solved}, folder / "breakdown" / "built", PROJECT)

    spent = dict.fromkeys(["kernel", "cells", "shutdown", "database"], 0.0)
    wrapped = {  # the blocking versions, which nbconvert's ExecutePreprocessor calls
        "start_new_kernel": "kernel",
        "start_new_kernel_client": "kernel",
        "execute_cell": "cells",
        "_cleanup_kernel": "shutdown",
    }
    originals = {name: getattr(NotebookClient, name) for name in wrapped}
    for name, label in wrapped.items():
        setattr(NotebookClient, name, _timed(originals[name], label, spent))
    started = {}

    def before(conn, cursor, *args):
        started[id(cursor)] = time.perf_counter()

    def after(conn, cursor, *args):
        spent["database"] += time.perf_counter() - started.pop(id(cursor), time.perf_counter())

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    try:
        start = time.perf_counter()
        course.autograde("one")
        total = time.perf_counter() - start
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)
        for name, method in originals.items():
            setattr(NotebookClient, name, method)
    return {
        "total (in-process autograde)": total,
        f"kernel starts ({len(course.notebooks())} notebooks)": spent["kernel"],
        "cell execution": spent["cells"],
        "kernel shut-downs": spent["shutdown"],
        "database (SQL statements)": spent["database"],
        "the rest (nbgrader's conversions, files, checks)": total - sum(spent.values()),
    }


def _timed(method, label: str, spent: dict):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - start

    return timed


def _print_breakdown(folder: Path) -> None:
    print("\nwhere the time of one submission goes:")
    for label, seconds in breakdown(folder).items():
        print(f"  {label:<52} {seconds:6.2f} s")


def compare_serial(folder: Path, n: int, workers: int) -> tuple[Course, float, bool]:
    """Serial nbgrader against the course's command: the graded course of the command, its
    seconds, and whether both gradebooks hold the same scores."""
    serial = stage_class(folder / "serial" / "course", n)
    parallel = stage_class(folder / "parallel" / "course", n)
    serial_seconds = time_serial(serial)
    _print_seconds("serial nbgrader autograde:", serial_seconds, n)
    parallel_seconds = time_parallel(parallel, workers)
    _print_seconds("helpers.instructor.grade_class:", parallel_seconds, n)
    print(f"throughput ratio (parallel / serial): {serial_seconds / parallel_seconds:.2f}x")
    return parallel, parallel_seconds, _same_scores(serial, parallel)


def compare_sandbox(
    folder: Path, n: int, workers: int, sandboxed: tuple[Course, float] | None = None
) -> bool:
    """The course's command with and without the sandbox, on the same class. ``sandboxed``: a
    course already graded sandboxed by the command, and its seconds (graded here otherwise)."""
    print("\nthe sandbox's cost (helpers.instructor.grade_class, same class):")
    if sandboxed is None:
        course = stage_class(folder / "sandboxed" / "course", n)
        sandboxed = course, time_parallel(course, workers)
    unsandboxed = stage_class(folder / "unsandboxed" / "course", n)
    unsandboxed_seconds = time_parallel(unsandboxed, workers, sandboxed=False)
    _print_seconds("  sandboxed (the default):", sandboxed[1], n)
    _print_seconds("  unsandboxed (--unsandboxed):", unsandboxed_seconds, n)
    print(f"  time ratio (sandboxed / unsandboxed): {sandboxed[1] / unsandboxed_seconds:.2f}x")
    return _same_scores(sandboxed[0], unsandboxed, indent="  ")


def _print_seconds(label: str, seconds: float, n: int) -> None:
    print(f"{label:<38} {seconds:7.1f} s, {seconds / n:.2f} s per submission", flush=True)


def _same_scores(one: Course, other: Course, indent: str = "") -> bool:
    same = one.test_results() == other.test_results()
    students = len(other.test_results())
    print(f"{indent}same scores in both gradebooks: {same} ({students} students)", flush=True)
    return same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, help="submissions (default: 40; 8 with --sandbox-only)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--breakdown-only", action="store_true", help="skip the class runs")
    only.add_argument(
        "--sandbox-only",
        action="store_true",
        help="only the course's command with and without the sandbox",
    )
    args = parser.parse_args()
    n = args.n or (8 if args.sandbox_only else 40)
    if (reason := sandbox.problem()) is not None:
        print(f"error: {reason}", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        if args.breakdown_only:
            _print_breakdown(folder)
            return 0
        print(f"{n} submissions, {args.workers} workers, {os.cpu_count()} cores", flush=True)
        if args.sandbox_only:
            return 0 if compare_sandbox(folder, n, args.workers) else 1
        parallel, parallel_seconds, same = compare_serial(folder, n, args.workers)
        same &= compare_sandbox(folder, n, args.workers, (parallel, parallel_seconds))
        _print_breakdown(folder)
        return 0 if same else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
