"""The student's check judges every sample submission as grading does, cell by cell.

``test_samples.py`` proves that nbgrader's grading gives each sample exactly the catalogue's
outcome (``failing``, ``zero_notebooks``). Here the student's ``make check``
(``helpers.student.check``) runs the same submissions and must give the same outcome for every
visible test cell: PASS exactly where grading gives full points. Hidden test cells are empty in
the student's copy, so the check lists them as ``hidden`` and there is nothing to compare. For
the samples that name a slip (``hints``), the check's message must name it.

Only the notebooks a sample changes are checked (all seven for the solutions and the untouched
release): the visible tests of a notebook depend on that notebook alone, since the earlier
notebooks' functions are replaced by stand-ins (``helpers.stand_ins``) or fakes while they run.

The check runs a student's code with the student's own rights, on the student's machine, where
the course's instructor files are not. The attacks on the grader would attack the machine
running these tests instead, so their check runs in grading's sandbox, which shows the kernel
what a student's machine has (the environment, ``helpers`` without ``instructor/``, the
notebook's folder) and keeps the rest of the machine out of reach. One attack is left out:
``tampers_inside_the_kernel`` fools the visible tests by changing what they run with in the
kernel. Grading runs its tests outside the kernel, where that cannot reach; the check runs them
in the student's kernel, so a student who tampers with it only fools their own check.
"""

from __future__ import annotations

import concurrent.futures

import pytest

from helpers.instructor import sandbox
from helpers.instructor.samples import build, load_catalogue, points_per_test
from helpers.student.check import FAIL, HIDDEN, PASS, REFUSED, check_notebook

from project import NOTEBOOKS, PROJECT, RELEASE

FOOLS_ITS_OWN_CHECK = "tampers_inside_the_kernel"
SAMPLES = [sample for sample in load_catalogue() if sample.name != FOOLS_ITS_OWN_CHECK]
CELL_TIMEOUT = 30  # as test_samples grades them


def notebooks_changed_by(sample) -> list[str]:
    if sample.kind in ("solved", "untouched"):
        return list(NOTEBOOKS)
    named = {edit.notebook for edit in sample.edits} | set(sample.zero_notebooks)
    if sample.base != "untouched":  # on the stubs every test fails, whatever a cell adds
        named |= {cell.notebook for cell in sample.added}
    for action in sample.actions:
        kind, _, target = action.partition(":")
        named.add("01_loss" if kind == "extra_file" else target)  # a numpy.py beside them all
    return sorted(named & set(NOTEBOOKS))


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> dict:
    """{sample name: {"notebook:grade_id": (status, message)}} from the student's check."""

    # made here, not in the threads: pytest's first mktemp empties the worker's base folder,
    # and two threads doing that at once would delete each other's folders
    folders = {sample.name: tmp_path_factory.mktemp(sample.name) for sample in SAMPLES}

    def check(sample):
        folder = build(sample, folders[sample.name] / "backprop", PROJECT)
        results = {}
        for notebook in notebooks_changed_by(sample):
            outcome = check_notebook(
                folder / f"{notebook}.ipynb", RELEASE / f"{notebook}.ipynb", timeout=CELL_TIMEOUT,
                kernel_manager=sandbox.kernel_manager if sample.kind == "attack" else None)
            for test in outcome.tests:
                results[f"{notebook}:{test.grade_id}"] = (test.status, test.message)
            for grade_id, problems in outcome.refused.items():  # an answer cell, not a test
                results[f"{notebook}:{grade_id}"] = (REFUSED, "; ".join(problems))
            if outcome.problem and not outcome.tests:  # unreadable: no test ran
                results.update({key: (FAIL, outcome.problem) for key in points_per_test(PROJECT)
                                if key.startswith(f"{notebook}:")})
        return sample.name, results

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        return dict(pool.map(check, SAMPLES))


@pytest.mark.slow
@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.name for sample in SAMPLES])
def test_the_check_agrees_with_grading_on_every_visible_test(checked, sample):
    results = checked[sample.name]
    assert results, f"{sample.name}: nothing was checked"
    for key, (status, message) in sorted(results.items()):
        notebook = key.split(":")[0]
        graded_full = not (sample.base == "untouched" or notebook in sample.zero_notebooks
                           or key in sample.failing)
        if status in (HIDDEN, REFUSED):
            continue
        expected = PASS if graded_full else FAIL
        assert status == expected, f"{sample.name}: {key} is {status} in the check ({message}), "\
                                   f"but grading gives it {'full' if graded_full else 'no'} points"


@pytest.mark.slow
@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.hints], ids=lambda s: s.name)
def test_each_named_slip_gets_its_hint(checked, sample):
    messages = [" ".join(message.split()) for status, message in checked[sample.name].values()
                if status in (FAIL, REFUSED)]
    assert messages, f"{sample.name}: no visible test failed"
    assert any(all(hint in message for hint in sample.hints) for message in messages), messages
