"""Autograde a whole class on Dask: one task per student, on this machine or on a cluster.

nbgrader grades one student after another in one process. Here every student is a task of a
Dask cluster: by default a local one (``LocalCluster``, one worker process per core), or one
that exists already, named by ``scheduler`` (workers started by hand on several machines, a
Slurm or PBS cluster through dask-jobqueue, Kubernetes through dask-kubernetes). Every worker
needs the course folder at the same path and this project installed.

A task grades its student in the worker's grading process (``supervise.call``), which builds
the course's ``Course`` once (nbgrader's API with the course's settings) and is kept from one
student to the next, so results are those of nbgrader's own autograde. Dask cannot stop a
task, so the task enforces the time limit itself: a student who takes longer is reported and
the grading process is killed with everything it started, kernels included. A worker that dies
takes its grading process and kernels with it; Dask gives its student to another worker, up
to ``retries`` more times, and then reports it (``KilledWorker``); the other students go on.
The cluster is handed no more students at a time than it has threads: Dask counts a worker's
death against every task queued on it, so a queue would cost students that never started.
Output of nbgrader and of the kernels goes to
``<root>/grading.log``. Running again grades what is missing (``resume=True``) or everything.

The gradebook is shared: the default SQLite file copes with two or three workers (each write
is short, and SQLite waits for the lock); for more, or for several machines, use PostgreSQL
through ``db_url``.

Interface:
    grade_class(root, students=None, *, db_url=None, scheduler=None, workers=None,
                retries=None, time_limit=900, timeout=None, resume=False, progress=True,
                sandbox=True) -> ClassReport
    grader(root, db_url, timeout, sandbox)   (in a grading process) student -> failed notebooks
    main(argv=None): ``python -m helpers.instructor.grade_class --help``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dask
from distributed import Client, KilledWorker, LocalCluster, as_completed
from tqdm.auto import tqdm

from helpers.instructor import supervise
from helpers.instructor.sandbox import SandboxMissing
from helpers.instructor.sandbox import require as require_sandbox

# nbgrader is imported where it is used, never at the top: run as ``python -m``, this module is
# the command's __main__, which every worker process of a local cluster imports afresh, and
# workers never grade themselves (their grading processes do).

# The maths libraries' thread settings; grading kernels get one thread each.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
RETRIES = 2  # a student whose worker dies is tried on another worker this many more times
# What a grading process sets up with: named by a string, so that a Dask worker, which only
# supervises, never imports nbgrader.
GRADER = "helpers.instructor.grade_class:grader"


class SchedulerUnreachable(RuntimeError):
    """The Dask scheduler given cannot be reached."""


@dataclass
class ClassReport:
    graded: list[str] = field(default_factory=list)
    # student -> why grading failed (time limit, dead worker, error, a notebook that scored 0)
    problems: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def submitted_students(root: Path) -> list[str]:
    """Students with a submission folder for the assignment, in order."""
    from helpers.instructor.course import ASSIGNMENT

    return sorted(p.parent.name for p in (Path(root) / "submitted").glob(f"*/{ASSIGNMENT}"))


def grade_class(
    root: str | Path,
    students: list[str] | None = None,
    *,
    db_url: str | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    retries: int | None = None,
    time_limit: float = 900,
    timeout: int | None = None,
    resume: bool = False,
    progress: bool = True,
    sandbox: bool = True,
) -> ClassReport:
    """Autograde ``students`` (default: everyone who submitted), one Dask task each.

    ``scheduler``: the address of an existing Dask cluster's scheduler, or its scheduler file;
    by default a local cluster of ``workers`` processes (default: one per core) is started for
    the run. ``retries``: how many more times a student whose worker died is tried, on the local
    cluster (default 2; an existing scheduler keeps its own setting,
    ``distributed.scheduler.allowed-failures``). ``time_limit``: seconds per student.
    ``sandbox=False`` runs the students' code with the workers' rights (a warning says so).
    Raises ``SandboxMissing`` before grading anyone when a sandbox cannot be made here.
    """
    from helpers.instructor.course import ASSIGNMENT, Course
    from helpers.instructor.preprocessors import UNSANDBOXED

    if scheduler is not None and (workers is not None or retries is not None):
        raise ValueError("workers and retries size the local cluster; with a scheduler, its "
                         "workers and its allowed-failures setting decide")
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
    if not students:  # nothing to grade: no cluster to start
        return ClassReport(seconds=time.perf_counter() - start)
    if scheduler is None:
        workers = max(1, min(workers or os.cpu_count() or 1, len(students)))
        cluster = _local_cluster(workers, RETRIES if retries is None else retries)
    else:
        cluster = _existing_cluster(scheduler, progress)
    with cluster as client:
        report = _grade_on(
            client,
            students,
            args=(root, course.db_url, timeout, sandbox),  # the gradebook checked here
            time_limit=time_limit,
            log=root / "grading.log",
            # One BLAS thread per kernel: the workers already fill the cores, and threads
            # fighting over them slow the training cells tenfold. Kernels inherit the grading
            # process's environment.
            env=dict.fromkeys(BLAS_THREAD_VARIABLES, "1"),
            progress=progress,
        )
    report.seconds = time.perf_counter() - start
    return report


@contextlib.contextmanager
def _local_cluster(workers: int, retries: int) -> Iterator[Client]:
    """A cluster of ``workers`` processes on this machine, one thread each, for one run."""
    # The scheduler reads it when it starts: a student is reported after retries + 1 deaths.
    with dask.config.set({"distributed.scheduler.allowed-failures": retries}):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=":0") as cluster:
            with Client(cluster) as client:
                yield client


@contextlib.contextmanager
def _existing_cluster(scheduler: str, progress: bool) -> Iterator[Client]:
    """A client of a running cluster: ``scheduler`` is its address or its scheduler file."""
    try:
        if Path(scheduler).is_file():
            client = Client(scheduler_file=scheduler)
        else:
            client = Client(scheduler)
    except (OSError, ValueError) as error:  # TimeoutError is an OSError
        raise SchedulerUnreachable(f"no Dask scheduler at {scheduler}: {error}") from None
    with client:
        if not client.nthreads() and progress:
            print(f"No Dask worker at {client.scheduler.address} yet: waiting for one.")
        yield client


def _grade_on(client: Client, students: list[str], *, args: tuple, time_limit: float,
              log: Path, env: dict[str, str], progress: bool) -> ClassReport:
    """Grade ``students`` on ``client``'s cluster, no more at a time than it has threads.
    ``args``: (root, db_url, timeout, sandbox), the grading processes' ``Course``."""
    run = uuid.uuid4().hex[:8]  # keys of their own: another run's results are not this one's
    waiting, submitted = list(reversed(students)), {}
    running = as_completed()

    def hand_out() -> None:
        # Dask's own queue would put several students on one worker, and a worker's death
        # counts against every student queued there, graded or not: hand out one per thread,
        # and the next when one is done.
        room = max(1, sum(client.nthreads().values())) - running.count()
        for _ in range(min(room, len(waiting))):
            student = waiting.pop()
            future = client.submit(supervise.call, GRADER, args, student, time_limit=time_limit,
                                   log=log, env=env, key=f"grade-{student}-{run}", pure=False)
            submitted[future.key] = student
            running.add(future)

    report = ClassReport()
    try:
        with tqdm(total=len(students), desc="autograde", unit="student",
                  disable=not progress) as bar:
            hand_out()
            for future in running:
                student = submitted[future.key]
                graded, problem = _outcome(future)
                if graded:  # even if some notebooks could not be (they score 0)
                    report.graded.append(student)
                if problem:
                    report.problems[student] = problem
                future.release()
                bar.update()
                hand_out()
    finally:  # the workers' grading processes end with the run
        with contextlib.suppress(Exception):
            client.run(supervise.close_idle)
    return report


def _outcome(future) -> tuple[bool, str | None]:
    """Whether a student's task graded it, and what went wrong: the reason it was not graded,
    or the notebooks nbgrader could not grade (they score 0)."""
    try:
        outcome: supervise.Outcome = future.result()
    except KilledWorker as error:
        tries = error.allowed_failures + 1
        return False, (f"not graded: each Dask worker that graded it died ({tries} in all; "
                       "KilledWorker)")
    except Exception as error:
        return False, f"{type(error).__name__}: {error}"
    if outcome.problem is not None:
        return False, outcome.problem
    return True, "; ".join(f"{notebook}: {why}" for notebook, why in outcome.value.items())


def grader(root: Path, db_url: str | None, timeout: int | None,
           sandbox: bool) -> Callable[[str], dict[str, str]]:
    """In a grading process: the course, set up once; then, per student, the notebooks
    nbgrader could not grade, and why."""
    from helpers.instructor.course import Course

    course = Course(root, db_url, timeout, sandbox)
    return lambda student: course.autograde(student).failed_notebooks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.instructor.grade_class",
        description="Autograde the class's submissions with nbgrader, one Dask task per "
                    "student: on this machine's cores, or on an existing Dask cluster.",
        epilog="Exit status: 0 when every student was graded whole, 1 when some were not "
               "(listed on stderr), 2 when grading could not start (no sandbox can be made "
               "here, no scheduler at --scheduler).",
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), metavar="FOLDER",
                        help="course root (default: .)")
    parser.add_argument("--db-url", metavar="URL",
                        help="gradebook URL (default: <root>/gradebook.db)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="grade on this Dask cluster: its scheduler's address "
                             "(tcp://host:8786) or scheduler file; every worker needs the "
                             "course folder at the same path and this project installed "
                             "(default: a local cluster for this run)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="worker processes of the local cluster (default: one per core)")
    parser.add_argument("--retries", type=int, metavar="N",
                        help="times a student whose worker died is tried again on the local "
                             f"cluster (default: {RETRIES}); an existing scheduler uses its "
                             "own distributed.scheduler.allowed-failures")
    parser.add_argument("--time-limit", type=float, default=900, metavar="SECONDS",
                        help="seconds per student (default: 900)")
    parser.add_argument("--timeout", type=int, metavar="SECONDS",
                        help="seconds per cell (default: the config's)")
    parser.add_argument("--resume", action="store_true", help="skip students already graded")
    parser.add_argument("--unsandboxed", action="store_true",
                        help="run the students' code without the bubblewrap sandbox, with the "
                             "workers' rights (only for code you trust)")
    parser.add_argument("students", nargs="*", help="default: everyone in submitted/")
    args = parser.parse_args(argv)
    if not (args.root / "submitted").is_dir():
        parser.error(f"{args.root / 'submitted'} does not exist: is --root the course root?")
    if args.scheduler and (args.workers is not None or args.retries is not None):
        parser.error("--workers and --retries set up the local cluster; with --scheduler, the "
                     "cluster's workers and its scheduler's allowed-failures setting decide")
    try:
        report = _grade_from_command_line(args)
    except (SandboxMissing, SchedulerUnreachable) as error:
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
        scheduler=args.scheduler,
        workers=args.workers,
        retries=args.retries,
        time_limit=args.time_limit,
        timeout=args.timeout,
        resume=args.resume,
        sandbox=not args.unsandboxed,
    )


if __name__ == "__main__":
    raise SystemExit(main())
