"""nbgrader settings of the course. Paths are relative to this folder, the course root."""

import os
import secrets

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "backprop"
c.CourseDirectory.db_url = os.environ.get(
    "BACKPROP_DB_URL", "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
)
# Files never copied between course folders. Instructor-only folders never travel with an
# assignment, and Python files a student hands in are not copied next to the notebooks at
# grading time: a `numpy.py` there would be imported instead of NumPy.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "__pycache__", "feedback", ".git", "*.py", "*.pyc", "*.so", "*.pth",
]

# What a student's stub looks like once the solution is cut out.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Every cell gets its own time limit (an endless loop costs that cell only). Execute's own
# setting is the one autograde reads; ExecutePreprocessor's alone would not apply.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
# A student could tag a test cell `skip-execution` to have it skipped and counted as passed.
# Skipping is keyed to a tag nobody can guess: a new random one every run.
c.Execute.skip_cells_with_tag = "skip-" + secrets.token_hex(16)

# Test cells a student deleted are put back before grading.
c.OverwriteCells.add_missing_cells = True

# Answer cells that replace what the tests rely on are refused before the kernel starts
# (helpers/guards.py); nbgrader's own sanitizing steps come first, as by default.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "helpers.guards.RestoreDeletedTests",
    "nbgrader.preprocessors.CheckCellMetadata",
    "helpers.guards.GuardAnswerCells",
]

# Feedback shows which tests failed and their messages, never the hidden tests' code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "nbgrader.preprocessors.ClearHiddenTests",
    "helpers.feedback.StripTestTracebacks",
]
