"""The kernel of a student's next notebook starts while the current notebook is graded
(``GradingExecute.start_next_early``): every notebook but the first finds its kernel started,
the scores are those of the catalogue, and no kernel is left once the student is graded."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from jupyter_core.utils import run_sync

from helpers.instructor.preprocessors import _Spare
from helpers.instructor.samples import expected_scores

from class_grading import CATALOGUE, kernels_running_in, staged_course
from project import NOTEBOOKS, PROJECT


@pytest.mark.slow
# nbgrader's gradebook makes SQLAlchemy warn (a RuntimeWarning, an error in this suite) when it
# adds a student's first submission; the grading processes of the other tests only print it
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_every_later_notebook_finds_its_kernel_started_and_none_is_left(tmp_path, monkeypatch):
    course = staged_course(tmp_path / "course", ["solved"])
    taken = []
    take = _Spare.take.__func__

    async def recording_take(cls, folder):
        km = await take(cls, folder)
        taken.append(km is not None)
        return km

    monkeypatch.setattr(_Spare, "take", classmethod(recording_take))
    outcome = course.autograde("solved")
    assert not outcome.failed_notebooks
    assert taken == [False] + [True] * (len(NOTEBOOKS) - 1)
    assert _Spare.waiting is None and not _Spare.used
    assert kernels_running_in(course.root) == []
    assert course.scores()["solved"] == expected_scores(CATALOGUE["solved"], PROJECT)


def test_a_kernel_started_for_another_folder_is_stopped_not_used():
    stopped = []

    async def shutdown_kernel(now=False):
        stopped.append(now)

    kernel = SimpleNamespace(shutdown_kernel=shutdown_kernel)
    scratch = SimpleNamespace(cleanup=lambda: stopped.append("scratch"))
    _Spare.waiting = ("/course/autograded/ada/backprop", kernel, scratch)
    # as nbclient runs it: another test in this process may have left an event loop running
    assert run_sync(_Spare.take)("/course/autograded/bob/backprop") is None
    assert stopped == [True, "scratch"] and _Spare.waiting is None
