"""Supervised worker processes: every item's value, the time limit, a dead worker, and no process
left running after an item, even one in a session of its own as Jupyter kernels are.

The fake tasks are top-level functions of this module: spawned workers import it by name.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from helpers.instructor import supervise

ENV = {"FAKE_SETTING": "from the pool"}


def set_up() -> None:
    os.environ["FAKE_SET_UP"] = "yes"


def fake_task(item: tuple[int, str, str]):
    _, behaviour, folder = item
    return BEHAVIOURS[behaviour](Path(folder))


def answer(folder: Path) -> str:
    print("answering", flush=True)
    return f"{os.environ['FAKE_SETTING']}, set up: {os.environ['FAKE_SET_UP']}"


def fail(folder: Path) -> None:
    raise ValueError("no answer")


def exit_at_once(folder: Path) -> None:
    os._exit(1)


def sleep_too_long(folder: Path) -> None:
    note_pid(folder, "worker", os.getpid())
    time.sleep(60)


def start_a_session(folder: Path) -> None:
    """Like a kernel: a child process in a session (and process group) of its own."""
    child = subprocess.Popen(["sleep", "60"], start_new_session=True)
    note_pid(folder, "left running", child.pid)


def start_a_session_and_sleep_too_long(folder: Path) -> None:
    start_a_session(folder)
    time.sleep(60)


def start_a_session_and_return(folder: Path) -> str:
    start_a_session(folder)
    return "done"


def orphan_a_grandchild_and_return(folder: Path) -> str:
    """A child in a session of its own that starts a grandchild and exits, leaving it behind."""
    pid_file = folder / "left running.pid"
    script = f"sleep 60 >/dev/null 2>&1 & echo $! > '{pid_file}'"
    subprocess.run(["sh", "-c", script], start_new_session=True, check=True)
    return "done"


BEHAVIOURS = {
    function.__name__: function
    for function in [
        answer,
        fail,
        exit_at_once,
        sleep_too_long,
        start_a_session_and_sleep_too_long,
        start_a_session_and_return,
        orphan_a_grandchild_and_return,
    ]
}


def note_pid(folder: Path, name: str, pid: int) -> None:
    (folder / f"{name}.pid").write_text(str(pid))


def noted_pid(folder: Path, name: str) -> int:
    return int((folder / f"{name}.pid").read_text())


def run(folder: Path, behaviours: list[str], workers: int = 2, time_limit: float = 1):
    """Each item's ``(value, problem)``, in the order of ``behaviours``."""
    items = [(index, behaviour, str(folder)) for index, behaviour in enumerate(behaviours)]
    outcomes = supervise.run(
        fake_task,
        items,
        workers=workers,
        time_limit=time_limit,
        setup=set_up,
        log=folder / "log",
        env=ENV,
    )
    return [(o.value, o.problem) for o in sorted(outcomes, key=lambda o: o.item[0])]


def running(pid: int) -> bool:
    """Whether a process runs; a killed one may stay a zombie until init collects its status."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


ANSWER = ("from the pool, set up: yes", None)


def test_each_item_gets_its_value_from_a_prepared_worker(tmp_path):
    assert run(tmp_path, ["answer", "fail", "answer"]) == [
        ANSWER,
        (None, "ValueError: no answer"),
        ANSWER,
    ]
    assert (tmp_path / "log").read_text().count("answering") == 2


def test_an_item_over_the_time_limit_is_stopped_and_the_others_done(tmp_path):
    outcomes = run(tmp_path, ["sleep_too_long", "answer", "answer"])
    assert outcomes == [(None, "took longer than the time limit of 1 s"), ANSWER, ANSWER]
    assert not psutil.pid_exists(noted_pid(tmp_path, "worker"))


def test_a_worker_that_dies_is_reported_and_replaced(tmp_path):
    outcomes = run(tmp_path, ["exit_at_once", "answer", "answer"], workers=1)
    assert outcomes == [(None, "the grading process died (exit code 1)"), ANSWER, ANSWER]


def test_a_process_in_a_session_of_its_own_dies_with_its_worker(tmp_path):
    outcomes = run(tmp_path, ["start_a_session_and_sleep_too_long", "answer"])
    assert outcomes == [(None, "took longer than the time limit of 1 s"), ANSWER]
    assert not running(noted_pid(tmp_path, "left running"))


@pytest.mark.parametrize(
    "behaviour", ["start_a_session_and_return", "orphan_a_grandchild_and_return"]
)
def test_what_an_item_leaves_running_is_gone_when_it_is_reported(tmp_path, behaviour):
    items = [(0, behaviour, str(tmp_path))]
    for outcome in supervise.run(fake_task, items, workers=1, time_limit=10):
        assert outcome.value == "done"
        # the worker collected its status: not even a zombie is left
        assert not psutil.pid_exists(noted_pid(tmp_path, "left running"))
