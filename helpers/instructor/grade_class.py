"""Autograde a whole class on every core: students are shared out to worker processes.

nbgrader grades one student after another in one process. Here each worker process builds its
own ``Course`` (nbgrader's API with the course's settings) and grades the students it is handed,
one at a time, so results are those of nbgrader's own autograde. The parent process hands out
students, shows one progress bar for the class, and enforces a time limit per student: a worker
that goes over it, or dies, is killed with its kernels and replaced, and the student is reported
as failed, with the reason. Running again grades what is missing (``resume=True``) or everything.

The gradebook is shared: the default SQLite file copes with two or three workers (each write
is short, and SQLite waits for the lock); for more, or for several machines, use PostgreSQL
through ``db_url``.

Interface:
    grade_class(root, students=None, *, db_url=None, workers=None, time_limit=900,
                timeout=None, resume=False, progress=True) -> ClassReport
    main(argv=None): ``python -m helpers.instructor.grade_class --help``
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from tqdm.auto import tqdm

from helpers.instructor.course import ASSIGNMENT, Course

# The maths libraries' thread settings; grading kernels get one thread each.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class ClassReport:
    graded: list[str] = field(default_factory=list)
    # student -> why grading failed (a time limit, a dead worker, a notebook that scored 0)
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
) -> ClassReport:
    """Autograde ``students`` (default: everyone who submitted) across ``workers`` processes."""
    start = time.perf_counter()
    root = Path(root).resolve()
    students = list(students) if students is not None else submitted_students(root)
    course = Course(root, db_url)
    if course.ensure_assignment() and progress:
        print(f"The gradebook did not know {ASSIGNMENT!r}: generated it from source/ first.")
    if resume:
        students = [s for s in students if not course.is_graded(s)]
    if not students:  # nothing to grade: no worker to start
        return ClassReport(seconds=time.perf_counter() - start)
    workers = max(1, min(workers or os.cpu_count() or 1, len(students)))
    report = ClassReport()
    pending = list(reversed(students))
    pool = _Pool(root, db_url, timeout, workers)
    bar = tqdm(total=len(students), desc="autograde", unit="student", disable=not progress)
    try:
        while pending or pool.busy():
            for worker in pool.idle():
                if pending:
                    worker.assign(pending.pop())
            for worker, message in pool.messages(poll=1.0):
                student, failed = message
                worker.current = None
                if failed:
                    report.problems[student] = "; ".join(f"{n}: {w}" for n, w in failed.items())
                report.graded.append(student)
                bar.update()
            for worker, reason in pool.stuck_or_dead(time_limit):
                report.problems[worker.current] = reason
                worker.current = None
                pool.replace(worker)
                bar.update()
    finally:
        pool.close()
        bar.close()
    report.seconds = time.perf_counter() - start
    return report


class _Worker:
    def __init__(self, context, root, db_url, timeout):
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_work, args=(child, str(root), db_url, timeout), daemon=True
        )
        self.process.start()
        self.current: str | None = None
        self.since = 0.0

    def assign(self, student: str) -> None:
        self.current, self.since = student, time.monotonic()
        self.connection.send(student)

    def kill(self) -> None:
        """Kill the worker and everything it started (its kernels share its process group)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            self.process.kill()  # not yet the leader of its own group
        self.process.join(5)


class _Pool:
    def __init__(self, root, db_url, timeout, size):
        self._args = (multiprocessing.get_context("spawn"), root, db_url, timeout)
        self.workers = [_Worker(*self._args) for _ in range(size)]

    def busy(self) -> bool:
        return any(w.current is not None for w in self.workers)

    def idle(self) -> list[_Worker]:
        return [w for w in self.workers if w.current is None]

    def messages(self, poll: float):
        ready = wait([w.connection for w in self.workers if w.current], timeout=poll)
        for worker in self.workers:
            if worker.connection in ready:
                try:
                    yield worker, worker.connection.recv()
                except (EOFError, OSError):
                    pass  # the worker died; stuck_or_dead reports it

    def stuck_or_dead(self, time_limit: float):
        for worker in list(self.workers):
            if worker.current is None:
                continue
            if not worker.process.is_alive():
                code = worker.process.exitcode
                yield worker, f"the grading process died (exit code {code})"
            elif time.monotonic() - worker.since > time_limit:
                worker.kill()
                yield worker, f"took longer than the time limit of {time_limit:g} s"

    def replace(self, worker: _Worker) -> None:
        worker.kill()
        self.workers[self.workers.index(worker)] = _Worker(*self._args)

    def close(self) -> None:
        for worker in self.workers:
            try:
                worker.connection.send(None)
            except (BrokenPipeError, OSError):
                pass
        for worker in self.workers:
            worker.process.join(10)
            if worker.process.is_alive():
                worker.kill()


def _work(connection, root: str, db_url: str | None, timeout: int | None) -> None:
    """Worker process: grade each student received, answer ``(student, failed notebooks)``."""
    os.setsid()  # a process group of its own, so that kill() also reaches its kernels
    _log_to(Path(root) / "grading.log")
    # One BLAS thread per kernel: the workers already fill the cores, and threads fighting
    # over them slow the training cells tenfold. Kernels inherit this environment.
    for variable in BLAS_THREAD_VARIABLES:
        os.environ[variable] = "1"
    course = Course(root, db_url, timeout)
    while (student := connection.recv()) is not None:
        try:
            outcome = course.autograde(student)
            failed = outcome.failed_notebooks
        except Exception as error:  # reported to the parent, which carries on
            failed = {"*": f"{type(error).__name__}: {error}"}
        connection.send((student, failed))


def _log_to(path: Path) -> None:
    """Send this process's output (nbgrader's log, the kernels' chatter) to a log file."""
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)


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
    parser.add_argument("students", nargs="*", help="default: everyone in submitted/")
    args = parser.parse_args(argv)
    if not (args.root / "submitted").is_dir():
        parser.error(f"{args.root / 'submitted'} does not exist: is --root the course root?")
    report = grade_class(
        args.root,
        args.students or None,
        db_url=args.db_url,
        workers=args.workers,
        time_limit=args.time_limit,
        timeout=args.timeout,
        resume=args.resume,
    )
    print(f"graded {len(report.graded)} students in {report.seconds:.1f} s")
    for student, reason in sorted(report.problems.items()):
        print(f"  {student}: {reason}", file=sys.stderr)
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
