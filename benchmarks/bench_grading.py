"""Serial nbgrader autograde against the parallel command, at two class sizes; where the time
of one submission goes, before and after the kernel changes; the student's check.

A class of N submissions (a mix of correct answers, correct answers written differently and
typical mistakes, taken in turn from the sample catalogue) is staged twice, in two course
folders with the same configuration, for each size of ``--sizes`` (default 8 and 32). One is
graded by plain ``nbgrader autograde backprop`` (one process, one student after another), the
other by ``python -m helpers.instructor.grade_class``, both with their kernels in the
bubblewrap sandbox. The script prints

    * for each size, seconds per submission of serial nbgrader and of the course's command,
      their ratio, and whether both gradebooks hold the same scores;
    * where the time of one correct submission goes (graded in this process, its steps timed
      inside the run): kernel starts, the student's cells in the kernel, the test cells judged
      in this process, kernel ends, SQL statements, the rest; once as before the kernel changes
      (``GradingExecute.start_next_early`` off, ``shutdown_kernel = "graceful"``, nbclient's
      default) and once as now;
    * the student's check (``python -m helpers.student check``) of all seven solved notebooks,
      one notebook at a time and as it runs by default;
    * a summary table, and the targets with the figure that decides each.

``--sandbox-only`` stages one class twice and prints only what the sandbox costs (the course's
command with and without it; default N 8); ``--breakdown-only`` prints only the breakdown. The
exit status is 1 when two gradebooks differ, 2 when this machine cannot sandbox grading kernels.

    python benchmarks/bench_grading.py [--sizes 8,32] [--workers 2]
                                       [--sandbox-only [--n 8] | --breakdown-only]
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

from helpers.instructor import sandbox
from helpers.instructor.course import Course
from helpers.instructor.grade_class import BLAS_THREAD_VARIABLES
from helpers.instructor.judge import Judge
from helpers.instructor.preprocessors import GradingExecute
from helpers.instructor.samples import (
    load_catalogue,
    notebook_names,
    solved_notebook,
    stage_students,
)

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


def breakdown(folder: Path, before: bool = False) -> dict[str, float]:
    """Where one correct submission's autograde spends its time, measured inside that run.

    nbclient's kernel start-up, cell execution and kernel end, the judge's test cells and
    SQLAlchemy's SQL statements are timed by wrapping them while ``Course.autograde`` runs in
    this process. ``before``: as before the kernel changes, each kernel started when its
    notebook's turn comes and asked to shut down (``GradingExecute.start_next_early`` off,
    ``GradingExecute.shutdown_kernel`` "graceful", nbclient's default).
    """
    root = folder / f"breakdown-{'before' if before else 'now'}" / "course"
    course = Course(root)
    if before:
        course.config.GradingExecute.shutdown_kernel = "graceful"
        course.config.GradingExecute.start_next_early = False
    solved = next(s for s in load_catalogue() if s.kind == "solved")
    stage_students(course, {"one": solved}, root.parent / "built", PROJECT)

    spent = dict.fromkeys(["kernel", "cells", "tests", "shutdown", "database"], 0.0)
    wrapped = [  # the blocking versions, which nbconvert's ExecutePreprocessor calls
        (GradingExecute, "start_new_kernel", "kernel"),
        (GradingExecute, "start_new_kernel_client", "kernel"),
        (NotebookClient, "execute_cell", "cells"),
        (NotebookClient, "_cleanup_kernel", "shutdown"),
        (Judge, "run", "tests"),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in wrapped]
    for owner, name, label in wrapped:
        setattr(owner, name, _timed(getattr(owner, name), label, spent))
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
        for owner, name, method in originals:
            setattr(owner, name, method)
    return {
        "total (in-process autograde)": total,
        f"kernel starts ({len(course.notebooks())} notebooks)": spent["kernel"],
        "student's cells (in the kernel)": spent["cells"],
        "test cells (judged in this process)": spent["tests"],
        "kernel ends": spent["shutdown"],
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


def _print_breakdown(folder: Path) -> dict[str, dict[str, float]]:
    """The breakdown before and after the kernel changes, side by side."""
    measured = {"before": breakdown(folder, before=True), "now": breakdown(folder)}
    print("\nwhere the time of one correct submission goes (seconds; before: each kernel started"
          "\nin its notebook's turn and shut down gracefully, nbclient's default; now: the next"
          "\nnotebook's kernel started while one runs, each killed after its last cell):")
    print(f"  {'':<50} {'before':>7} {'now':>7}")
    for label in measured["now"]:
        print(f"  {label:<50} {measured['before'][label]:7.2f} {measured['now'][label]:7.2f}")
    return measured


def time_check(folder: Path, jobs: int) -> tuple[float, str]:
    """Seconds of the student's check of the seven solved notebooks, and its report."""
    solved = folder / "check" / "notebooks"
    if not solved.exists():
        solved.mkdir(parents=True)
        for name in notebook_names(PROJECT):
            nbformat.write(solved_notebook(name, PROJECT), solved / f"{name}.ipynb")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "helpers.student", "check", "--folder", str(solved),
         "--release", str(PROJECT / "release" / "backprop"), "--jobs", str(jobs)],
        cwd=PROJECT, capture_output=True, text=True, check=False,
    )
    return time.perf_counter() - start, done.stdout


def _print_check(folder: Path) -> dict[str, float]:
    print("\nthe student's check of all seven solved notebooks (python -m helpers.student check):")
    seconds = {}
    reports = set()
    for jobs in (1, 2):
        seconds[jobs], report = time_check(folder, jobs)
        reports.add(report)
        summary = report.strip().splitlines()[-2] if report.strip() else "(no report)"
        print(f"  {jobs} notebook(s) at a time: {seconds[jobs]:6.1f} s   {summary}", flush=True)
    print(f"  same report both ways: {len(reports) == 1}")
    return seconds


def compare_serial(folder: Path, n: int, workers: int) -> tuple[float, float, bool]:
    """Serial nbgrader against the course's command on a class of ``n``: the seconds of each,
    and whether both gradebooks hold the same scores."""
    print(f"\n{n} submissions:", flush=True)
    serial = stage_class(folder / f"serial-{n}" / "course", n)
    parallel = stage_class(folder / f"parallel-{n}" / "course", n)
    serial_seconds = time_serial(serial)
    _print_seconds("  serial nbgrader autograde:", serial_seconds, n)
    parallel_seconds = time_parallel(parallel, workers)
    _print_seconds(f"  grade_class, {workers} workers:", parallel_seconds, n)
    print(f"  throughput ratio (serial / parallel time): {serial_seconds / parallel_seconds:.2f}x")
    same = _same_scores(serial, parallel, indent="  ")
    for course in (serial, parallel):  # the next size gets the disk and the page cache
        shutil.rmtree(course.root.parent, ignore_errors=True)
    return serial_seconds, parallel_seconds, same


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
    parser.add_argument("--sizes", default="8,32",
                        help="class sizes, comma-separated (default: %(default)s)")
    parser.add_argument("--n", type=int, default=8, help="submissions for --sandbox-only")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--breakdown-only", action="store_true", help="skip the class runs")
    only.add_argument(
        "--sandbox-only",
        action="store_true",
        help="only the course's command with and without the sandbox",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    if (reason := sandbox.problem()) is not None:
        print(f"error: {reason}", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        if args.breakdown_only:
            _print_breakdown(folder)
            return 0
        if args.sandbox_only:
            print(f"{args.n} submissions, {args.workers} workers, {os.cpu_count()} cores")
            return 0 if compare_sandbox(folder, args.n, args.workers) else 1
        print(f"class sizes {sizes}, {args.workers} workers, {os.cpu_count()} cores", flush=True)
        runs = {n: compare_serial(folder, n, args.workers) for n in sizes}
        measured = _print_breakdown(folder)
        check = _print_check(folder)
        _print_summary(runs, measured, check, args.workers)
        return 0 if all(same for *_, same in runs.values()) else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _print_summary(runs: dict, measured: dict, check: dict, workers: int) -> None:
    print("\nsummary")
    print(f"  {'students':>8} {'serial s/sub':>13} {'grade_class s/sub':>18} {'ratio':>6} "
          f"{'same scores':>11}")
    for n, (serial, parallel, same) in runs.items():
        print(f"  {n:>8} {serial / n:13.2f} {parallel / n:18.2f} {serial / parallel:5.2f}x "
              f"{str(same):>11}")
    total = "total (in-process autograde)"
    print(f"  one submission in-process: {measured['before'][total]:.2f} s before, "
          f"{measured['now'][total]:.2f} s now")
    print(f"  student's check of the seven notebooks: {check[1]:.1f} s one at a time, "
          f"{check[2]:.1f} s two at a time (the default)")
    _print_targets(runs, check, workers)


def _print_targets(runs: dict, check: dict, workers: int) -> None:
    """The targets of the grading work, each with the figure of this run that decides it."""
    largest = max(runs)
    serial, parallel, _ = runs[largest]
    ratio = serial / parallel
    print("\ntargets")
    print(f"  throughput >= 5x serial nbgrader autograde: {ratio:.2f}x at {largest} students: "
          f"{_verdict(ratio >= 5)}")
    if ratio < 5:
        # both run the course's nbgrader_config.py, so every cut in one submission's work is
        # theirs too: what is left is the parallelism, at most one submission per core
        print(f"    (both graders do the same work per submission; the ratio cannot exceed the "
              f"{min(workers, os.cpu_count() or 1)} cores this run had)")
    if len(runs) > 1:
        small, large = min(runs), max(runs)
        growth = (runs[large][1] / large) / (runs[small][1] / small)
        # 1.00x: the whole run grows linearly; 10% is left for a noisy machine
        print(f"  per-submission time no faster than linear in the class size: {growth:.2f}x "
              f"from {small} to {large} students: {_verdict(growth <= 1.1)}")
    print(f"  the student's check of the series in at most 20 s: {check[2]:.1f} s: "
          f"{_verdict(check[2] <= 20)}")


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    raise SystemExit(main())
