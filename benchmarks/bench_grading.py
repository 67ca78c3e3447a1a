"""Serial nbgrader autograde against the parallel command, on the same synthetic class.

N submissions (default 40, a mix of correct answers, correct answers written differently and
typical mistakes, taken in turn from the sample catalogue) are staged twice, in two course
folders with the same configuration. One is graded by plain ``nbgrader autograde backprop``
(one process, one student after another), the other by
``python -m helpers.instructor.grade_class``. The script prints seconds per submission for each,
their ratio, checks that both gradebooks hold the same scores, and shows where the time of one
submission goes.

    python benchmarks/bench_grading.py [--n 40] [--workers 2]
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


def time_parallel(course: Course, workers: int) -> float:
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--breakdown-only", action="store_true", help="skip the class runs")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        if args.breakdown_only:
            _print_breakdown(folder)
            return 0
        print(f"{args.n} submissions, {args.workers} workers, {os.cpu_count()} cores")
        serial = stage_class(folder / "serial" / "course", args.n)
        parallel = stage_class(folder / "parallel" / "course", args.n)
        serial_seconds = time_serial(serial)
        print(
            f"serial nbgrader autograde: {serial_seconds:7.1f} s, "
            f"{serial_seconds / args.n:.2f} s per submission",
            flush=True,
        )
        parallel_seconds = time_parallel(parallel, args.workers)
        print(
            f"helpers.instructor.grade_class:       {parallel_seconds:7.1f} s, "
            f"{parallel_seconds / args.n:.2f} s per submission"
        )
        print(f"throughput ratio (parallel / serial): {serial_seconds / parallel_seconds:.2f}x")
        same = serial.test_results() == parallel.test_results()
        print(f"same scores in both gradebooks: {same} ({len(parallel.test_results())} students)")
        _print_breakdown(folder)
        return 0 if same else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
