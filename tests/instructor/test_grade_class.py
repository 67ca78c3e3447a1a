"""Grading a class on a local Dask cluster: same results as nbgrader's serial autograde, on
SQLite and on a real PostgreSQL server, and a complete gradebook after a worker is killed midway
and the command is run again. (An existing cluster: test_dask_grading.py.)
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from helpers.instructor.course import Course, folder_contents
from helpers.instructor.grade_class import grade_class
from helpers.instructor.samples import build, expected_scores

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
# Samples that serial nbgrader grades without failing (it gives up on a broken notebook's
# whole submission, which the parallel command does not).
SAME_AS_SERIAL = ["solved", "untouched", "loss_without_mean", "einsum_and_mean"]


def grade_command(root: Path, *extra: str, db_url: str | None = None) -> list[str]:
    command = [sys.executable, "-m", "helpers.instructor.grade_class", "--root", str(root)]
    command += ["--workers", "2"]
    command += ["--timeout", "30", *extra]
    return command + (["--db-url", db_url] if db_url else [])


def test_parallel_grading_matches_serial_nbgrader(tmp_path):
    serial = staged_course(tmp_path / "serial" / "course", SAME_AS_SERIAL)
    # plain nbgrader with the course's settings (the config makes its own folder the root)
    shutil.copy(PROJECT / "nbgrader_config.py", serial.root)
    run = subprocess.run(
        ["nbgrader", "autograde", "backprop", "--Execute.timeout=30"],
        cwd=serial.root,
        capture_output=True,
        text=True,
        env={**os.environ, "BACKPROP_DB_URL": serial.db_url},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    parallel = staged_course(tmp_path / "parallel" / "course", SAME_AS_SERIAL)
    subprocess.run(grade_command(parallel.root), check=True, capture_output=True)
    assert parallel.test_results() == serial.test_results()
    assert sorted(parallel.test_results()) == sorted(SAME_AS_SERIAL)


def test_postgres_gradebook_survives_a_killed_worker(tmp_path, postgres_url):
    """Without retries, the student of a Dask worker that dies is reported, the others are
    graded, and ``--resume`` completes the gradebook."""
    names = ["solved", "untouched", "loss_without_mean", "output_dZ_sign", "kernel_killed"]
    course = staged_course(tmp_path / "course", names, db_url=postgres_url)
    process = subprocess.Popen(
        grade_command(course.root, "--retries", "0", db_url=postgres_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    worker, left = wait_for_a_busy_worker(process.pid)
    os.kill(worker, signal.SIGKILL)
    _, errors = process.communicate(timeout=600)
    assert process.returncode == 1, "the killed worker's student must be reported"
    died = [line.split(":")[0].strip() for line in errors.splitlines() if "KilledWorker" in line]
    assert len(died) == 1, errors
    assert not any(running(pid) for pid in left), "its grading process and kernels died with it"

    rerun = subprocess.run(
        grade_command(course.root, "--resume", db_url=postgres_url), capture_output=True, text=True
    )
    # the rerun grades the killed worker's student again; only kernel_killed is then reported
    if died == ["kernel_killed"]:
        (notebook,) = CATALOGUE["kernel_killed"].zero_notebooks
        assert rerun.returncode == 1
        assert f"kernel_killed: {notebook}: DeadKernelError" in rerun.stderr
    else:
        assert rerun.returncode == 0, rerun.stderr
    scores = course.scores()
    assert sorted(scores) == sorted(names), "one row per student: none lost, none doubled"
    for name in names:
        assert course.is_graded(name), name
        assert scores[name] == expected_scores(CATALOGUE[name], PROJECT), name
    assert kernels_running_in(course.root) == []


def wait_for_a_busy_worker(command: int, timeout: float = 120) -> tuple[int, list[int]]:
    """A Dask worker process of the command once a kernel runs under it, and the grading
    processes and kernels under it then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in psutil.Process(command).children():
            under = grading_processes_under(worker.pid)
            if any(is_kernel(process) for process in under):
                return worker.pid, [process.pid for process in under]
        time.sleep(0.2)
    raise AssertionError("no worker started grading in time")


def test_a_student_over_the_time_limit_is_stopped_and_reported(tmp_path):
    names = ["solved", "untouched"]
    course = staged_course(tmp_path / "course", names)
    report = grade_class(course.root, workers=2, time_limit=3, progress=False)
    assert set(report.problems) == set(names)
    assert all("time limit of 3 s" in reason for reason in report.problems.values())
    assert kernels_running_in(course.root) == [], "killed with their workers"
    # and killed at once: none lived on long enough to see its worker gone and shut down
    assert "Parent appears to have exited" not in (course.root / "grading.log").read_text()
    assert not report.graded
    assert not any(course.is_graded(name) for name in names)
    # run again with room to finish: everything is graded, as if nothing had happened
    report = grade_class(course.root, workers=2, resume=True, progress=False)
    assert sorted(report.graded) == names and not report.problems
    for name in names:
        assert course.scores()[name] == expected_scores(CATALOGUE[name], PROJECT)


def test_staging_never_replaces_a_different_submission(tmp_path):
    course = Course(tmp_path / "course")
    solved = build(CATALOGUE["solved"], tmp_path / "solved", PROJECT)
    untouched = build(CATALOGUE["untouched"], tmp_path / "untouched", PROJECT)
    target = course.stage("alice", solved)
    before = folder_contents(target)
    assert course.stage("alice", solved) == target  # the same files again: nothing to do
    with pytest.raises(FileExistsError, match="different submission"):
        course.stage("alice", untouched)
    assert folder_contents(target) == before


def test_grading_a_fresh_course_generates_the_assignment_first(tmp_path, capsys):
    """A fresh clone has submissions but no gradebook entry for the assignment yet."""
    root = tmp_path / "course"
    shutil.copytree(PROJECT / "source", root / "source")
    build(CATALOGUE["solved"], root / "submitted" / "alice" / "backprop", PROJECT)
    report = grade_class(root, workers=1, timeout=30)
    assert report.problems == {}
    assert "generated it from source/ first" in capsys.readouterr().out
    assert Course(root).scores() == {"alice": expected_scores(CATALOGUE["solved"], PROJECT)}
    # the next run finds it there: nothing generated again
    assert grade_class(root, workers=1, timeout=30, resume=True).graded == []
    assert "generated" not in capsys.readouterr().out
