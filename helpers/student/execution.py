"""How a notebook runs, for the student's check, the Validate button and grading alike.

One set of rules, read by nbgrader through ``configure`` (the student's lab config and the
course's ``nbgrader_config.py``) and by ``helpers.student.notebooks.run``:

    * every cell gets its own time limit, after which it is interrupted: an endless loop costs
      that cell only;
    * no cell is skipped because of its tags: a student could tag a test cell
      ``skip-execution`` to have it skipped and counted as passed, so skipping is keyed to a
      tag nobody can guess, new at every run.

Interface:
    CELL_TIMEOUT                 seconds per cell
    unguessable_tag() -> str     a fresh ``skip-<random>`` tag
    configure(c)                 the same rules as nbgrader settings (``Execute``)
"""

from __future__ import annotations

import secrets

CELL_TIMEOUT = 60


def unguessable_tag() -> str:
    return "skip-" + secrets.token_hex(16)


def configure(c) -> None:
    """Set nbgrader's ``Execute`` options on the traitlets config ``c``. ``Execute``'s own
    settings are the ones autograde reads; ``ExecutePreprocessor``'s alone would not apply."""
    c.Execute.timeout = CELL_TIMEOUT
    c.Execute.interrupt_on_timeout = True
    c.Execute.skip_cells_with_tag = unguessable_tag()
