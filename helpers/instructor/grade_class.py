"""Autograde a whole class on every core: students are shared out to worker processes.

nbgrader grades one student after another in one process. Here each worker process builds its
own ``Course`` (nbgrader's API with the course's settings) and grades the students it is handed,
one at a time, so results are those of nbgrader's own autograde. The parent process hands out
students through ``supervise.run`` and shows one progress bar for the class. A student's worker
that goes over the time limit, or dies, is killed with everything it started (kernels included)
and replaced, and the student is reported as failed, with the reason. Output of nbgrader and of
the kernels goes to ``<root>/grading.log``. Running again grades what is missing
(``resume=True``) or everything.

The gradebook is shared: the default SQLite file copes with two or three workers (each write
is short, and SQLite waits for the lock); for more, or for several machines, use PostgreSQL
through ``db_url``.

Interface:
    grade_class(root, students=None, *, db_url=None, workers=None, time_limit=900,
                timeout=None, resume=False, progress=True, sandbox=True) -> ClassReport
    main(argv=None): ``python -m helpers.instructor.grade_class --help``
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from helpers.instructor import supervise
from helpers.instructor.course import ASSIGNMENT, Course
from helpers.instructor.preprocessors import UNSANDBOXED
from helpers.instructor.sandbox import SandboxMissing
from helpers.instructor.sandbox import require as require_sandbox

# The maths libraries' thread settings; grading kernels get one thread each.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class ClassReport:
    graded: list[str] = field(default_factory=list)
    # student -> why grading failed (time limit, dead worker, error, a notebook that scored 0)
    problems: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def submitted_students(root: Path) -> list[str]:
    """Students with a submission folder for the assignment, in order."""
    return sorted(p.parent.name for p in (Path(root) / "submitted").glob(f"*/{ASSIGNMENT}"))


def grade_class(
    root: str | Path,
    students: list[str] | None = None,
    *,
    db_url: str | None = None,
    workers: int | None = None,
    time_limit: float = 900,
    timeout: int | None = None,
    resume: bool = False,
    progress: bool = True,
    sandbox: bool = True,
) -> ClassReport:
    """Autograde ``students`` (default: everyone who submitted) across ``workers`` processes.

    ``sandbox=False`` runs the students' code with this process's rights (a warning says so).
    Raises ``SandboxMissing`` before grading anyone when a sandbox cannot be made."""
    start = time.perf_counter()
    root = Path(root).resolve()
    students = list(students) if students is not None else submitted_students(root)
    if sandbox:
        require_sandbox()
    else:
        print(f"warning: {UNSANDBOXED}", file=sys.stderr)
    course = Course(root, db_url, sandbox=sandbox)
    if course.ensure_assignment() and progress:
        print(f"The gradebook did not know {ASSIGNMENT!r}: generated it from source/ first.")
    if resume:
        students = [s for s in students if not course.is_graded(s)]
    if not students:  # nothing to grade: no worker to start
        return ClassReport(seconds=time.perf_counter() - start)
    workers = max(1, min(workers or os.cpu_count() or 1, len(students)))
    course_args = (root, db_url, timeout, sandbox)
    outcomes = supervise.run(
        functools.partial(_grade, *course_args),
        students,
        workers=workers,
        time_limit=time_limit,
        setup=functools.partial(_course, *course_args),
        log=root / "grading.log",
        # One BLAS thread per kernel: the workers already fill the cores, and threads fighting
        # over them slow the training cells tenfold. Kernels inherit the workers' environment.
        env=dict.fromkeys(BLAS_THREAD_VARIABLES, "1"),
    )
    report = ClassReport()
    with tqdm(total=len(students), desc="autograde", unit="student", disable=not progress) as bar:
        for outcome in outcomes:
            if outcome.problem is None:  # graded, even if some notebooks could not be
                report.graded.append(outcome.item)
            failed = outcome.problem or "; ".join(f"{n}: {w}" for n, w in outcome.value.items())
            if failed:
                report.problems[outcome.item] = failed
            bar.update()
    report.seconds = time.perf_counter() - start
    return report


@functools.cache
def _course(root: Path, db_url: str | None, timeout: int | None, sandbox: bool) -> Course:
    """The worker's ``Course``: built once, by the pool's setup, and used for every student."""
    return Course(root, db_url, timeout, sandbox)


def _grade(root: Path, db_url: str | None, timeout: int | None, sandbox: bool,
           student: str) -> dict[str, str]:
    """Autograde one student in a worker: the notebooks nbgrader could not grade, and why."""
    return _course(root, db_url, timeout, sandbox).autograde(student).failed_notebooks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Autograde the class's submissions on several cores with nbgrader."
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course root (default: .)")
    parser.add_argument("--db-url", help="gradebook URL (default: <root>/gradebook.db)")
    parser.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    parser.add_argument("--time-limit", type=float, default=900, help="seconds per student")
    parser.add_argument("--timeout", type=int, help="seconds per cell (default: the config's)")
    parser.add_argument("--resume", action="store_true", help="skip students already graded")
    parser.add_argument("--unsandboxed", action="store_true",
                        help="run the students' code without the bubblewrap sandbox, with this "
                             "process's rights (only for code you trust)")
    parser.add_argument("students", nargs="*", help="default: everyone in submitted/")
    args = parser.parse_args(argv)
    if not (args.root / "submitted").is_dir():
        parser.error(f"{args.root / 'submitted'} does not exist: is --root the course root?")
    try:
        report = _grade_from_command_line(args)
    except SandboxMissing as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"graded {len(report.graded)} students in {report.seconds:.1f} s")
    for student, reason in sorted(report.problems.items()):
        print(f"  {student}: {reason}", file=sys.stderr)
    return 1 if report.problems else 0


def _grade_from_command_line(args) -> ClassReport:
    return grade_class(
        args.root,
        args.students or None,
        db_url=args.db_url,
        workers=args.workers,
        time_limit=args.time_limit,
        timeout=args.timeout,
        resume=args.resume,
        sandbox=not args.unsandboxed,
    )


if __name__ == "__main__":
    raise SystemExit(main())
