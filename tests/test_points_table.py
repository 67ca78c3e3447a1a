"""The README's table of how the 100 points split is the notebooks' own."""

from __future__ import annotations

import re

from helpers.instructor.samples import points_per_test

from project import PROJECT

# a question has a hidden test only: its visible test and points are "—"
ROW = re.compile(r"^\| `(\w+)` \| [^|]+ \| (?:`(\w+)`|—) \| (\d+|—) \| `(\w+)` \| (\d+) \|$")


def test_the_readme_gives_every_test_cell_and_its_points():
    lines = (PROJECT / "README.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("How the 100 points split"))
    table = lines[start + 2:]
    table = table[: table.index("")]  # the table ends at the first blank line
    rows = [ROW.match(line) for line in table if line.startswith("| `")]
    in_readme = {}
    for row in rows:
        assert row, "a row of the points table does not parse"
        notebook, visible, visible_points, hidden, hidden_points = row.groups()
        if visible:
            in_readme[f"{notebook}:{visible}"] = float(visible_points)
        in_readme[f"{notebook}:{hidden}"] = float(hidden_points)
    assert in_readme == points_per_test(PROJECT)
    assert sum(in_readme.values()) == 100
