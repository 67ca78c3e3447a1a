"""Run tasks in supervised worker processes: a time limit per item, and nothing left running.

``run`` calls ``work(item)`` for every item in a few worker processes (multiprocessing's
"spawn" context: ``work`` and ``setup`` must be top-level functions, or partials of them) and
yields each item's ``Outcome`` as it arrives. An item whose worker dies, or that goes over the
time limit, is reported with the reason; its worker is killed with everything it started and
replaced, and the others carry on.

Killing a worker's process group would miss its Jupyter kernels, which run in a session of
their own. So each worker adopts the orphans among its descendants (a Linux child subreaper),
``kill_tree`` stops and kills a whole process tree, and a worker kills whatever an item left
running before it takes the next one.

Interface:
    run(work, items, *, workers, time_limit, setup=None, log=None, env=None) -> Iterator[Outcome]
    Outcome(item, value, problem)
    kill_tree(pid, *, spare_root=False)
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import psutil

PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
_READY = "ready"  # a worker's first message, once its setup is done


@dataclass
class Outcome:
    item: Any
    value: Any = None
    # why there is no value: the task's exception, its worker's death, or the time limit
    problem: str | None = None


def run(
    work: Callable[[Any], Any],
    items: Iterable[Any],
    *,
    workers: int,
    time_limit: float,
    setup: Callable[[], Any] | None = None,
    log: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Outcome]:
    """Run ``work(item)`` for every item on ``workers`` processes; yield outcomes as they come.

    Each worker adds ``env`` to its environment, appends its output (file descriptors 1 and 2)
    to ``log``, then runs ``setup()`` once. An item's time limit counts from when a worker that
    is set up has it.
    """
    pending = list(reversed(list(items)))
    start = partial(_Worker, multiprocessing.get_context("spawn"), (work, setup, log, env))
    pool = [start() for _ in range(max(1, min(workers, len(pending))))]
    try:
        while pending or any(worker.busy for worker in pool):
            for index, worker in enumerate(pool):
                if pending and not worker.busy:
                    if not worker.process.is_alive():  # killed or dead: a fresh one takes over
                        pool[index] = worker = start()
                    worker.assign(pending.pop())
            _wait_for_news(pool, time_limit)
            for worker in pool:
                if (outcome := worker.outcome(time_limit)) is not None:
                    yield outcome
    finally:
        for worker in pool:
            worker.connection.close()  # an idle worker reads the end of the pipe and returns
        for worker in pool:
            worker.process.join(0 if worker.busy else 5)
            if worker.process.is_alive():
                worker.kill()


def kill_tree(pid: int, *, spare_root: bool = False) -> None:
    """Kill every descendant of a process, and the process itself unless ``spare_root``.

    Killing the process group is not enough: Jupyter kernels start in a session of their own.
    Everything is stopped before anything is killed, so that nothing forks, or leaves the tree
    as an orphan, while the tree is read. Descendants that are the caller's children are
    reaped; ``pid`` itself is left to the caller.
    """
    try:
        root = psutil.Process(pid)
        if not spare_root:
            root.send_signal(signal.SIGSTOP)
    except psutil.Error:
        return
    descendants = _stop_descendants(root)
    for process in descendants if spare_root else [root, *descendants]:
        with contextlib.suppress(psutil.Error):
            process.send_signal(signal.SIGKILL)
    # Parents first: a subreaper inherits the children of each one that dies, so that they
    # are its own children by the time their turn comes.
    for process in descendants:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(process.pid, 0)


class _Worker:
    """A worker process, the item it is at, and since when."""

    def __init__(self, context, task: tuple):
        self.connection, child_end = context.Pipe()
        self.process = context.Process(target=_serve, args=(child_end, *task), daemon=True)
        self.process.start()
        child_end.close()  # the worker holds the only copy: its death ends the pipe here
        self.item, self.busy, self.ready, self.since = None, False, False, 0.0

    def assign(self, item: Any) -> None:
        self.item, self.busy, self.since = item, True, time.monotonic()
        with contextlib.suppress(OSError):  # a worker that has just died: outcome() says so
            self.connection.send(item)

    def deadline(self, time_limit: float) -> float | None:
        return self.since + time_limit if self.busy and self.ready else None

    def outcome(self, time_limit: float) -> Outcome | None:
        """The item's outcome if it has one by now: its value, or why it has none."""
        if not self.busy:
            return None
        try:
            while self.connection.poll():
                message = self.connection.recv()
                if message != _READY:
                    return self._finish(*message)
                self.ready, self.since = True, time.monotonic()
        except EOFError:  # the worker is gone, or going: make sure of it
            self.kill()
        if not self.process.is_alive():
            code = self.process.exitcode
            return self._finish(None, f"the grading process died (exit code {code})")
        deadline = self.deadline(time_limit)
        if deadline is not None and time.monotonic() >= deadline:
            self.kill()
            return self._finish(None, f"took longer than the time limit of {time_limit:g} s")
        return None

    def kill(self) -> None:
        kill_tree(self.process.pid)
        self.process.join()

    def _finish(self, value: Any, problem: str | None) -> Outcome:
        outcome = Outcome(self.item, value, problem)
        self.item, self.busy = None, False
        return outcome


def _wait_for_news(pool: list[_Worker], time_limit: float) -> None:
    """Wait until a busy worker answers, dies, or reaches its deadline."""
    busy = [worker for worker in pool if worker.busy]
    deadlines = [d for worker in busy if (d := worker.deadline(time_limit)) is not None]
    timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
    wait([handle for w in busy for handle in (w.connection, w.process.sentinel)], timeout)


def _serve(connection, work, setup, log: Path | None, env: dict[str, str] | None) -> None:
    """A worker process: run ``work`` on each item received, answer ``(value, problem)``."""
    _adopt_orphans()
    if log is not None:
        _send_output_to(log)
    os.environ.update(env or {})  # before setup: whatever it starts inherits it
    if setup is not None:
        setup()
    connection.send(_READY)
    while True:
        try:
            item = connection.recv()
        except EOFError:  # the pool is closing
            return
        try:
            answer = (work(item), None)
        except Exception as error:  # the item's failure, not the worker's
            answer = (None, f"{type(error).__name__}: {error}")
        kill_tree(os.getpid(), spare_root=True)  # nothing the item left running goes on
        connection.send(answer)


def _stop_descendants(root: psutil.Process) -> list[psutil.Process]:
    """Stop (SIGSTOP) all descendants of ``root``, parents before their children, looking again
    until no new one shows up."""
    stopped: dict[int, psutil.Process] = {}
    while True:
        try:
            new = [p for p in root.children(recursive=True) if p.pid not in stopped]
        except psutil.Error:
            new = []
        if not new:
            return list(stopped.values())
        for process in new:
            with contextlib.suppress(psutil.Error):
                process.send_signal(signal.SIGSTOP)
            stopped[process.pid] = process


def _adopt_orphans() -> None:
    """On Linux, be handed the orphans among this process's descendants instead of init: they
    stay in its tree, where ``kill_tree`` finds them."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _send_output_to(path: Path) -> None:
    """Append this process's output, and that of whatever it starts, to a log file."""
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
