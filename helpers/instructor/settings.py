"""The course's nbgrader settings, for a course root given by the caller.

The course's ``nbgrader_config.py`` applies them to its own folder; ``Course`` applies them to
any course root (the demo's, the tests', a second grading machine's), so no copy of a config
file can silently fall back to nbgrader's defaults.

Interface:
    configure(c, root, db_url=None, sandbox=True)   set the course's options on the config ``c``
"""

from __future__ import annotations

import os

from helpers.student import execution

COURSE_ID = "backprop"



def configure(c, root: str | os.PathLike, db_url: str | None = None, sandbox: bool = True) -> None:
    """Settings of the course rooted at ``root``; the gradebook is ``root/gradebook.db``
    unless ``db_url`` (e.g. PostgreSQL) is given. ``sandbox=False`` grades with kernels that
    run with the grader's own rights (every run says so)."""
    root = os.path.abspath(root)
    c.CourseDirectory.root = root
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = db_url or "sqlite:///" + os.path.join(root, "gradebook.db")
    # Files never copied between course folders: the student's check leaves the same ones out.
    c.CourseDirectory.ignore = list(execution.IGNORED_FILES)

    # What a student's stub looks like once the solution is cut out.
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

    # How a notebook runs, answer-cell rules included: the same as the student's check and
    # Validate button.
    execution.configure(c)

    # Test cells a student deleted are put back before grading.
    c.OverwriteCells.add_missing_cells = True

    # nbgrader's own sanitizing steps, with deleted tests put back wherever they were.
    c.Autograde.sanitize_preprocessors = [
        "nbgrader.preprocessors.ClearOutput",
        "nbgrader.preprocessors.DeduplicateIds",
        "nbgrader.preprocessors.OverwriteKernelspec",
        "helpers.instructor.preprocessors.RestoreDeletedTests",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]

    # Student cells run in a sandboxed kernel, test cells in nbgrader's process
    # (helpers/instructor/preprocessors.py: GradingExecute); the rest is nbgrader's default.
    c.Autograde.autograde_preprocessors = [
        "helpers.instructor.preprocessors.GradingExecute",
        "nbgrader.preprocessors.IgnorePattern",
        "nbconvert.preprocessors.ClearMetadataPreprocessor",
        "nbgrader.preprocessors.LimitOutput",
        "nbgrader.preprocessors.SaveAutoGrades",
        "nbgrader.preprocessors.AssignLatePenalties",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    c.GradingExecute.sandbox = sandbox

    # Feedback shows which tests failed and their messages, never the hidden tests' code.
    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
        "helpers.instructor.preprocessors.ClearHiddenTestCode",
        "helpers.instructor.preprocessors.StripTestTracebacks",
    ]
