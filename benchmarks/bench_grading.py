"""Serial nbgrader autograde against the parallel command, on the same synthetic class.

N submissions (default 40, a mix of correct answers, correct answers written differently and
typical mistakes, taken in turn from the sample catalogue) are staged twice, in two course
folders with the same configuration. One is graded by plain ``nbgrader autograde backprop``
(one process, one student after another), the other by ``python -m helpers.grade_class``. The
script prints seconds per submission for each, their ratio, checks that both gradebooks hold
the same scores, and shows where the time of one submission goes.

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

import nbformat
from nbclient import NotebookClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from helpers.course import NOTEBOOKS, PROJECT, Course
from helpers.submissions import build, load_catalogue

KINDS = ("solved", "alternative", "mistake")


def stage_class(root: Path, n: int) -> Course:
    samples = [s for s in load_catalogue() if s.kind in KINDS]
    students = [f"student{i:03d}" for i in range(n)]
    course = Course(root)
    course.prepare(students)
    built = root.parent / "built"
    for i, student in enumerate(students):
        sample = samples[i % len(samples)]
        if not (built / sample.name).exists():
            build(sample, built / sample.name)
        course.stage(student, built / sample.name)
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
    limits = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    return {k: v for k, v in os.environ.items() if k not in limits}


def time_parallel(course: Course, workers: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "helpers.grade_class",
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
    """Seconds spent by one correct submission in kernel starts, cells, database, the rest."""
    root = folder / "breakdown" / "course"
    course = Course(root)
    course.prepare(["one"])
    solved = next(s for s in load_catalogue() if s.kind == "solved")
    course.stage("one", build(solved, folder / "breakdown" / "built"))

    database = [0.0]
    started = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        started[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        database[0] += time.perf_counter() - started.pop(id(cursor), time.perf_counter())

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    start = time.perf_counter()
    course.autograde("one")
    total = time.perf_counter() - start
    event.remove(Engine, "before_cursor_execute", before)
    event.remove(Engine, "after_cursor_execute", after)

    kernel_start = _kernel_start_seconds(folder)
    cells = 0.0
    for notebook in NOTEBOOKS:
        nb = nbformat.read(root / "autograded" / "one" / "backprop" / f"{notebook}.ipynb", 4)
        client = NotebookClient(
            nb,
            kernel_name="python3",
            resources={"metadata": {"path": str(root / "autograded" / "one" / "backprop")}},
        )
        t = time.perf_counter()
        client.execute()
        cells += time.perf_counter() - t - kernel_start
    starts = kernel_start * len(NOTEBOOKS)
    return {
        "total (in-process autograde)": total,
        f"kernel starts ({len(NOTEBOOKS)} x {kernel_start:.2f} s)": starts,
        "notebook execution (cells)": cells,
        "database (SQL statements)": database[0],
        "the rest (nbgrader's conversions, files, checks)": total - starts - cells - database[0],
    }


def _kernel_start_seconds(folder: Path, repeats: int = 3) -> float:
    empty = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        NotebookClient(empty, kernel_name="python3").execute()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
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
            f"helpers.grade_class:       {parallel_seconds:7.1f} s, "
            f"{parallel_seconds / args.n:.2f} s per submission"
        )
        print(f"throughput ratio (parallel / serial): {serial_seconds / parallel_seconds:.2f}x")
        same = serial.test_results() == parallel.test_results()
        print(f"same scores in both gradebooks: {same} ({len(parallel.test_results())} students)")
        print("\nwhere the time of one submission goes:")
        for label, seconds in breakdown(folder).items():
            print(f"  {label:<52} {seconds:6.2f} s")
        return 0 if same else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
