"""Grading on an existing Dask cluster, with real separate processes: a ``dask scheduler`` and
two ``dask worker`` processes on 127.0.0.1, as a course would start them on its machines.

A worker killed midway costs nothing: its grading process and kernels die with it, its student
is graded again on the other worker, and the PostgreSQL gradebook ends with one complete,
correct row per student. A student over the time limit is reported, and nothing of its
grading is left running.

The workers run without a nanny (``--no-nanny``): killing one is then losing it for good, as
when a machine goes down, and the other must finish the class. (The local cluster's workers
have nannies, which start a killed worker again: test_grade_class.py kills one of those.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from distributed import Client

from helpers.instructor.grade_class import grade_class
from helpers.instructor.samples import expected_scores

from class_grading import (
    CATALOGUE,
    grading_processes_under,
    is_kernel,
    kernels_running_in,
    running,
    staged_course,
)
from project import PROJECT

pytestmark = pytest.mark.slow
RETRIES = 1  # the scheduler's allowed-failures: a student is tried twice at most


@dataclass
class Cluster:
    scheduler_file: Path
    workers: list[subprocess.Popen]


@pytest.fixture
def cluster(tmp_path) -> Iterator[Cluster]:
    """A scheduler and two single-threaded workers, each a process of its own."""
    scheduler_file = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "dask"]
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(RETRIES)}
    logs = open(tmp_path / "dask.log", "ab")  # noqa: SIM115
    processes = [subprocess.Popen(
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
         "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)],
        env=env, stdout=logs, stderr=logs)]
    try:
        wait_for(lambda: written(scheduler_file), "the scheduler did not start")
        workers = [subprocess.Popen(
            [*dask, "worker", "--scheduler-file", str(scheduler_file), "--nworkers", "1",
             "--nthreads", "1", "--no-nanny", "--no-dashboard", "--local-directory",
             str(tmp_path / "dask")], stdout=logs, stderr=logs)
            for _ in range(2)]
        processes += workers
        wait_for(lambda: connected_workers(scheduler_file) == 2, "the workers did not connect")
        yield Cluster(scheduler_file, workers)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        logs.close()


def connected_workers(scheduler_file: Path) -> int:
    with Client(scheduler_file=str(scheduler_file), timeout=10) as client:
        return len(client.nthreads())


def written(scheduler_file: Path) -> bool:
    """The scheduler has written its address (and the file is whole)."""
    try:
        return "address" in json.loads(scheduler_file.read_text())
    except (OSError, ValueError):
        return False


def wait_for(condition, message: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.2)


def test_a_killed_worker_costs_nothing_and_the_gradebook_is_complete(
        tmp_path, postgres_url, cluster):
    names = ["solved", "untouched", "loss_without_mean"]
    course = staged_course(tmp_path / "course", names, db_url=postgres_url)
    command = [sys.executable, "-m", "helpers.instructor.grade_class", "--root",
               str(course.root), "--scheduler", str(cluster.scheduler_file),
               "--db-url", postgres_url, "--timeout", "30"]
    grading = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    worker, under_it = busy_worker(cluster.workers)
    os.kill(worker.pid, signal.SIGKILL)
    output, errors = grading.communicate(timeout=600)
    assert grading.returncode == 0, errors
    assert f"graded {len(names)} students" in output
    wait_for(lambda: not any(running(pid) for pid in under_it),
             "the killed worker's grading process and kernels live on", timeout=10)

    scores = course.scores()
    assert sorted(scores) == sorted(names), "one row per student: none lost, none doubled"
    for name in names:
        assert course.is_graded(name), name
        assert scores[name] == expected_scores(CATALOGUE[name], PROJECT), name
    assert kernels_running_in(course.root) == []


def test_a_student_over_the_time_limit_is_reported_and_nothing_is_left(tmp_path, cluster):
    names = ["solved", "untouched"]
    course = staged_course(tmp_path / "course", names)
    report = grade_class(course.root, scheduler=str(cluster.scheduler_file), time_limit=3,
                         timeout=30, progress=False)
    assert report.problems == dict.fromkeys(names, "took longer than the time limit of 3 s")
    assert not report.graded and not any(course.is_graded(name) for name in names)
    assert kernels_running_in(course.root) == []
    for worker in cluster.workers:  # no grading process, no kernel
        assert grading_processes_under(worker.pid) == []


def busy_worker(workers: list[subprocess.Popen],
                timeout: float = 120) -> tuple[subprocess.Popen, list[int]]:
    """A worker once a kernel runs under it, and the grading processes and kernels under it
    then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in workers:
            under = grading_processes_under(worker.pid)
            if any(is_kernel(process) for process in under):
                return worker, [process.pid for process in under]
        time.sleep(0.2)
    raise AssertionError("no worker started grading in time")
