"""How a notebook runs, for the student's check, the Validate button and grading alike.

One set of rules, read by nbgrader through ``configure`` (the student's lab config and the
course's ``nbgrader_config.py``) and by ``helpers.student.notebooks.run``:

    * every cell gets its own time limit, after which it is interrupted: an endless loop costs
      that cell only;
    * no cell is skipped because of its tags: a student could tag a test cell
      ``skip-execution`` to have it skipped and counted as passed, so skipping is keyed to a
      tag nobody can guess, new at every run;
    * answer cells that break the answer-cell rules are refused before the first cell runs
      (``helpers.answer_rules.guard_answer_cells``, nbclient's ``on_notebook_start`` hook);
    * files matching ``IGNORED_FILES`` in the student's folder are not beside the notebook when
      it runs: a ``numpy.py`` there would be imported instead of NumPy.

Interface:
    CELL_TIMEOUT                 seconds per cell
    IGNORED_FILES                patterns of files a run leaves out of the notebook's folder
    unguessable_tag() -> str     a fresh ``skip-<random>`` tag
    client_options() -> dict     the rules as nbclient options
    configure(c)                 the same rules as nbgrader settings (``Execute``)
"""

from __future__ import annotations

import secrets

from helpers.answer_rules import guard_answer_cells

CELL_TIMEOUT = 60
IGNORED_FILES = [".ipynb_checkpoints", "__pycache__", "feedback", ".git", "*.py", "*.pyc", "*.so",
                 "*.pth"]


def unguessable_tag() -> str:
    return "skip-" + secrets.token_hex(16)


def client_options(timeout: float = CELL_TIMEOUT) -> dict:
    """The rules above as options of nbclient's ``NotebookClient`` (and so of nbgrader's
    ``Execute``, which is one)."""
    return {
        "timeout": timeout,
        "interrupt_on_timeout": True,
        "skip_cells_with_tag": unguessable_tag(),
        "on_notebook_start": guard_answer_cells,
    }


def configure(c) -> None:
    """Set nbgrader's ``Execute`` options on the traitlets config ``c``. ``Execute``'s own
    settings are the ones autograde and validate read; ``ExecutePreprocessor``'s alone would
    not apply."""
    for name, value in client_options().items():
        setattr(c.Execute, name, value)
