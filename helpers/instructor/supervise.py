"""A supervised process: one task at a time, a time limit per task, and nothing left running.

``Supervised(factory, args)`` starts a process of its own (``python -m
helpers.instructor.supervise``) that calls ``factory(*args)`` once, to set up, and keeps the
function it returns; ``run(item, time_limit)`` hands that function one item and waits for its
answer. A task that goes over its time limit, or whose process dies, is reported with the
reason, the process is killed with everything it started, and the next ``run`` starts a fresh
one. ``factory`` is named by a string, ``"package.module:function"``, so that whoever asks
for the work need not import what the work needs (nbgrader, for grading).

Killing the process group would miss Jupyter kernels, which start in a session of their own.
So the supervised process adopts the orphans among its descendants (a Linux child
subreaper), ``kill_tree`` stops and kills a whole process tree, and whatever a task left
running is killed before the answer is sent. The supervised process also dies with the
process that started it (Linux's parent-death signal): when a Dask worker dies, its grading
process dies at once, and the sandboxed kernels with it (``helpers.instructor.sandbox``), so
that nothing goes on grading a student whom another worker grades again.

``call`` is what a Dask task runs: each worker process keeps its supervised processes from
one task to the next (one per task running at a time), so the set-up is paid once per worker,
not once per item.

Interface:
    Supervised(factory, args=(), *, log=None, env=None, setup_limit=SETUP_LIMIT)
        .run(item, time_limit) -> Outcome
        .close()
    call(factory, args, item, *, time_limit, log=None, env=None) -> Outcome
    close_idle()                            end this process's idle supervised processes
    Outcome(item, value, problem)
    kill_tree(pid, *, spare_root=False)
    die_with_parent(parent)                 the parent-death signal, for a child of ``parent``
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import Any

import psutil

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PR_SET_CHILD_SUBREAPER = 36
_READY = "ready"  # the supervised process's first message, once its set-up is done
_CLOSE_WAIT = 5  # seconds a closed process has to end by itself before it is killed
SETUP_LIMIT = 300  # seconds a set-up may take (importing nbgrader takes a few)


@dataclass
class Outcome:
    item: Any
    value: Any = None
    # why there is no value: the task's exception, the process's death, or the time limit
    problem: str | None = None


class Supervised:
    """A process of its own that runs tasks one at a time; started when the first task comes,
    and again after one that killed it."""

    def __init__(self, factory: str, args: tuple = (), *, log: Path | None = None,
                 env: dict[str, str] | None = None, setup_limit: float = SETUP_LIMIT):
        self.factory, self.args, self.log, self.env = factory, tuple(args), log, env
        self.setup_limit = setup_limit
        self.process: subprocess.Popen | None = None
        self._connection: Connection | None = None

    def run(self, item: Any, time_limit: float) -> Outcome:
        """``item``'s outcome; the time limit counts from when the process is set up."""
        if self.process is None:
            problem = self._start()
            if problem is not None:
                return Outcome(item, None, problem)
        try:
            self._connection.send(item)
        except OSError:  # it died between two tasks: _receive says how
            pass
        answer, problem = self._receive(
            time_limit, f"took longer than the time limit of {time_limit:g} s")
        return Outcome(item, *answer) if problem is None else Outcome(item, None, problem)

    def close(self) -> None:
        """End the process: it returns when its connection closes; killed if it does not."""
        if self.process is None:
            return
        self._connection.close()
        try:
            self.process.wait(_CLOSE_WAIT)
        except subprocess.TimeoutExpired:
            self._kill()
        self.process = self._connection = None

    def _start(self) -> str | None:
        """Start the process and wait for its set-up; why it failed, or None."""
        # The parent-death signal comes when the *thread* that started the process ends:
        # start it from a thread that lives as long as this process (see _STARTER).
        self.process, self._connection = _STARTER.submit(self._spawn).result()
        message, problem = self._receive(
            self.setup_limit, f"could not set up within {self.setup_limit:g} s")
        if problem is not None:
            return problem
        if message != _READY:  # the set-up raised: the process has ended
            self._connection.close()
            self.process.wait()
            self.process = self._connection = None
            return f"could not set up: {message}"
        return None

    def _spawn(self) -> tuple[subprocess.Popen, Connection]:
        ours, theirs = Pipe()
        output = open(self.log, "ab") if self.log is not None else None  # noqa: SIM115
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(theirs.fileno()), str(os.getpid())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                env={**os.environ, **(self.env or {})},
            )
        finally:
            theirs.close()  # the child holds the only copy: its death ends the connection here
            if output is not None:
                output.close()
        ours.send((sys.path, self.factory, self.args))
        return process, ours

    def _receive(self, time_limit: float, too_long: str) -> tuple[Any, str | None]:
        """The process's next message, or why there is none (the process is then gone)."""
        try:
            if self._connection.poll(time_limit):
                return self._connection.recv(), None
        except (EOFError, OSError):  # the process died
            self._kill()
            code = self.process.returncode
            self.process = self._connection = None
            if code < 0:
                return None, f"the grading process was killed ({signal.Signals(-code).name})"
            return None, f"the grading process died (exit code {code})"
        self._kill()
        self.process = self._connection = None
        return None, too_long

    def _kill(self) -> None:
        kill_tree(self.process.pid)
        self.process.wait()
        self._connection.close()


# ---------------------------------------------------------------- inside a Dask worker

_idle: dict[tuple, list[Supervised]] = {}
_idle_lock = threading.Lock()
# Starts every supervised process: a thread that lives as long as this process.
_STARTER = ThreadPoolExecutor(1, thread_name_prefix="supervise-start")


def call(factory: str, args: tuple, item: Any, *, time_limit: float, log: Path | None = None,
         env: dict[str, str] | None = None) -> Outcome:
    """Run ``item`` in one of this process's supervised processes for ``factory(*args)``: an
    idle one kept from an earlier task, or a new one. Idle processes set up otherwise (an
    earlier grading run's) are ended first: a worker serves one run at a time."""
    key = (factory, tuple(args), log, tuple(sorted((env or {}).items())))
    with _idle_lock:
        stale = [p for other, ps in _idle.items() if other != key for p in ps]
        for other in [other for other in _idle if other != key]:
            del _idle[other]
        idle = _idle.setdefault(key, [])
        supervised = idle.pop() if idle else Supervised(factory, args, log=log, env=env)
    for process in stale:
        process.close()
    try:
        return supervised.run(item, time_limit)
    finally:
        with _idle_lock:
            _idle.setdefault(key, []).append(supervised)


def close_idle() -> int:
    """End this process's idle supervised processes (after a grading run); how many."""
    with _idle_lock:
        idle = [p for ps in _idle.values() for p in ps]
        _idle.clear()
    for process in idle:
        process.close()
    return len(idle)


# ---------------------------------------------------------------- process trees


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


def die_with_parent(parent: int | None) -> None:
    """On Linux, have this process killed (SIGKILL) when its parent ends; if ``parent`` (its
    pid when this process started) has ended already, exit at once."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # The signal only comes for a parent that ends from now on; one that has ended already
    # has handed this process to another (init, or a subreaper).
    if parent and os.getppid() != parent:
        os._exit(1)


def _adopt_orphans() -> None:
    """On Linux, be handed the orphans among this process's descendants instead of init: they
    stay in its tree, where ``kill_tree`` finds them."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


# ---------------------------------------------------------------- the supervised process


def _serve(connection: Connection) -> None:
    """Set up, say so, then run the work on each item received and answer
    ``(value, problem)`` until the connection closes."""
    path, factory, args = connection.recv()
    sys.path[:] = path
    try:
        module, _, name = factory.partition(":")
        work = getattr(importlib.import_module(module), name)(*args)
    except Exception as error:
        connection.send(f"{type(error).__name__}: {error}")
        return
    connection.send(_READY)
    while True:
        try:
            item = connection.recv()
        except EOFError:  # closed: no more work
            return
        try:
            answer = (work(item), None)
        except Exception as error:  # the item's failure, not the process's
            answer = (None, f"{type(error).__name__}: {error}")
        kill_tree(os.getpid(), spare_root=True)  # nothing the item left running goes on
        connection.send(answer)


def main(argv: list[str]) -> None:
    """``python -m helpers.instructor.supervise CONNECTION_FD PARENT_PID`` (by ``Supervised``)."""
    fd, parent = (int(arg) for arg in argv)
    die_with_parent(parent)
    _adopt_orphans()
    os.set_inheritable(fd, False)  # kernels and the like never hold the connection
    _serve(Connection(fd))


if __name__ == "__main__":
    main(sys.argv[1:])
