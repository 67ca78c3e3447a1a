"""A supervised process: every item's value, the time limit, a process that dies, nothing left
running after an item (even in a session of its own, as Jupyter kernels are), and a supervised
process that dies with the process that started it.

The fake work is set up by a top-level function of this module: the supervised process
imports it by name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import astuple
from pathlib import Path

import psutil
import pytest

from helpers.instructor import supervise
from helpers.instructor.supervise import Supervised

FACTORY = f"{__name__}:set_up"
ENV = {"FAKE_SETTING": "from the supervisor"}


def set_up(folder: str):
    """The fake work's set-up: runs once per supervised process."""
    print("setting up", flush=True)
    setting = os.environ["FAKE_SETTING"]
    return lambda behaviour: BEHAVIOURS[behaviour](Path(folder), setting)


def set_up_and_fail(folder: str):
    raise ValueError("no course here")


def set_up_slowly(folder: str):
    time.sleep(60)


def set_up_in_two_seconds(folder: str):
    time.sleep(2)
    return set_up(folder)


def answer(folder: Path, setting: str) -> str:
    print("answering", flush=True)
    return f"{setting}, pid {os.getpid()}"


def fail(folder: Path, setting: str) -> None:
    raise ValueError("no answer")


def exit_at_once(folder: Path, setting: str) -> None:
    os._exit(1)


def sleep_too_long(folder: Path, setting: str) -> None:
    note_pid(folder, "worker", os.getpid())
    time.sleep(60)


def start_a_session(folder: Path, setting: str) -> None:
    """Like a kernel: a child process in a session (and process group) of its own."""
    child = subprocess.Popen(["sleep", "60"], start_new_session=True)
    note_pid(folder, "left running", child.pid)


def start_a_session_and_sleep_too_long(folder: Path, setting: str) -> None:
    start_a_session(folder, setting)
    time.sleep(60)


def start_a_session_and_return(folder: Path, setting: str) -> str:
    start_a_session(folder, setting)
    return "done"


def orphan_a_grandchild_and_return(folder: Path, setting: str) -> str:
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


def run(folder: Path, behaviours: list[str], time_limit: float = 1) -> list[tuple]:
    """Each item's ``(value, problem)``, in turn, from one supervised process."""
    supervised = Supervised(FACTORY, (str(folder),), log=folder / "log", env=ENV)
    try:
        return [(o.value, o.problem) for o in (supervised.run(b, time_limit) for b in behaviours)]
    finally:
        supervised.close()


def running(pid: int) -> bool:
    """Whether a process runs; a killed one may stay a zombie until init collects its status."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def answered(outcome: tuple) -> bool:
    value, problem = outcome
    return problem is None and value.startswith("from the supervisor, pid ")


def test_each_item_gets_its_value_from_a_process_set_up_once(tmp_path):
    outcomes = run(tmp_path, ["answer", "fail", "answer"])
    assert answered(outcomes[0]) and answered(outcomes[2])
    assert outcomes[0] == outcomes[2], "the same process answered both"
    assert outcomes[1] == (None, "ValueError: no answer")
    log = (tmp_path / "log").read_text()
    assert log.count("setting up") == 1 and log.count("answering") == 2


def test_an_item_over_the_time_limit_is_stopped_and_the_next_gets_a_fresh_process(tmp_path):
    outcomes = run(tmp_path, ["sleep_too_long", "answer"])
    assert outcomes[0] == (None, "took longer than the time limit of 1 s")
    assert answered(outcomes[1])
    assert not psutil.pid_exists(noted_pid(tmp_path, "worker"))
    assert (tmp_path / "log").read_text().count("setting up") == 2


def test_a_process_that_dies_is_reported_and_replaced(tmp_path):
    outcomes = run(tmp_path, ["exit_at_once", "answer"])
    assert outcomes[0] == (None, "the grading process died (exit code 1)")
    assert answered(outcomes[1])


def test_a_set_up_that_fails_is_reported(tmp_path):
    supervised = Supervised(f"{__name__}:set_up_and_fail", (str(tmp_path),))
    outcome = supervised.run("answer", time_limit=10)
    assert outcome.problem == "could not set up: ValueError: no course here"
    assert supervised.process is None


def test_a_set_up_that_takes_too_long_is_reported(tmp_path):
    slow = Supervised(f"{__name__}:set_up_slowly", (str(tmp_path),), setup_limit=1)
    assert slow.run("answer", time_limit=10).problem == "could not set up within 1 s"
    assert slow.process is None


def test_the_time_limit_counts_from_when_the_set_up_is_done(tmp_path):
    supervised = Supervised(f"{__name__}:set_up_in_two_seconds", (str(tmp_path),), env=ENV)
    try:
        assert answered(astuple(supervised.run("answer", time_limit=1))[1:])
    finally:
        supervised.close()


def test_a_process_in_a_session_of_its_own_dies_with_its_supervised_process(tmp_path):
    outcomes = run(tmp_path, ["start_a_session_and_sleep_too_long", "answer"])
    assert outcomes[0] == (None, "took longer than the time limit of 1 s")
    assert answered(outcomes[1])
    assert not running(noted_pid(tmp_path, "left running"))


@pytest.mark.parametrize(
    "behaviour", ["start_a_session_and_return", "orphan_a_grandchild_and_return"]
)
def test_what_an_item_leaves_running_is_gone_when_it_is_reported(tmp_path, behaviour):
    assert run(tmp_path, [behaviour], time_limit=10) == [("done", None)]
    # the supervised process collected its status: not even a zombie is left
    assert not psutil.pid_exists(noted_pid(tmp_path, "left running"))


def test_call_keeps_one_process_per_set_up_and_ends_idle_ones(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()

    def call(folder: Path) -> int:
        outcome = supervise.call(FACTORY, (str(folder),), "answer", time_limit=10, env=ENV)
        assert outcome.problem is None
        return int(outcome.value.rsplit(" ", 1)[1])

    try:
        pid = call(first)
        assert call(first) == pid, "kept between items"
        other = call(second)  # another run's set-up: the first run's process is ended
        assert other != pid and not psutil.pid_exists(pid)
    finally:
        assert supervise.close_idle() == 1
    assert not psutil.pid_exists(other)


OWNER = textwrap.dedent("""
    import sys
    from helpers.instructor.supervise import Supervised
    sys.path.insert(0, {tests!r})
    supervised = Supervised({factory!r}, ({folder!r},), env={env!r})
    supervised.run("sleep_too_long", time_limit=60)
""")


def test_the_supervised_process_dies_with_the_process_that_started_it(tmp_path):
    script = OWNER.format(tests=str(Path(__file__).parent), factory=FACTORY,
                          folder=str(tmp_path), env=ENV)
    owner = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while not (tmp_path / "worker.pid").exists():
        assert time.monotonic() < deadline and owner.poll() is None, "the item never started"
        time.sleep(0.1)
    worker = noted_pid(tmp_path, "worker")
    os.kill(owner.pid, signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 5
    while running(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(worker)


def test_a_process_whose_parent_is_already_gone_does_not_start():
    """The parent-death signal comes only for a parent that dies later: the supervised
    process checks that the parent it was started by is still its parent."""
    not_the_parent = os.getpid() + 1_000_000
    started = subprocess.run(
        [sys.executable, "-m", "helpers.instructor.supervise", "0", str(not_the_parent)],
        capture_output=True, timeout=30)
    assert started.returncode == 1 and started.stderr == b""
