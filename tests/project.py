"""The project's own course folder, as every test finds it: instructor notebooks, release, and
the secrets (answers, hidden tests) that nothing a student receives may hold."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import nbformat

from helpers.instructor.samples import notebook_names

PROJECT = Path(__file__).resolve().parents[1]
SOURCE = PROJECT / "source" / "backprop"  # the instructor's notebooks
RELEASE = PROJECT / "release" / "backprop"  # generated from them by nbgrader
NOTEBOOKS = notebook_names(PROJECT)


def secret_snippets() -> set[str]:
    """Pairs of consecutive code lines from the source's solutions and hidden tests.

    A single line such as ``for l in range(1, L + 1):`` is common to any loop over layers; two
    consecutive lines of an answer are specific to it. Pairs that also occur outside the secret
    regions (scaffolding shared with the visible tests) are not secrets.
    """
    secret = set()
    for cell in _source_cells():
        for _, body in _SECRET_REGION.findall(cell.source):
            secret |= line_pairs(body)
    return secret - public_pairs()


def public_pairs() -> set[str]:
    """Pairs of consecutive code lines of the source notebooks outside the secret regions: what
    every student sees in the release."""
    cells = _source_cells()
    return set().union(*(line_pairs(_SECRET_REGION.sub("", cell.source)) for cell in cells))


_SECRET_REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)


def _source_cells() -> list:
    notebooks = (nbformat.read(path, as_version=4) for path in SOURCE.glob("*.ipynb"))
    return [cell for nb in notebooks for cell in nb.cells]


def line_pairs(text: str) -> set[str]:
    lines = [line.strip() for line in text.splitlines()]
    code = [line for line in lines if line and not line.startswith(("#", "import ", "from "))]
    return {f"{a}\n{b}" for a, b in itertools.pairwise(code)}


def code_lines_of(text: str) -> str:
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())
