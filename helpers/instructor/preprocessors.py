"""The course's nbgrader preprocessors: they run in nbgrader's process, never in a kernel.

    GuardAnswerCells       (Autograde.sanitize_preprocessors) refuses answer cells that break
                           ``helpers.answer_rules``, before the kernel starts: a refused cell is
                           replaced by one that raises with the reason and keeps the student's
                           code as a comment, so exactly the tests that need its functions fail
    RestoreDeletedTests    (Autograde.sanitize_preprocessors) nbgrader's OverwriteCells, without
                           its KeyError on a test cell deleted after a read-only cell
    StripTestTracebacks    (GenerateFeedback.preprocessors) feedback keeps only the last line of
                           an error in a test cell (``CheckFailed: dW: expected shape (3, 4), got
                           (4, 3)``), which the tests write to be read, not the hidden code that
                           a traceback would print

Tests run in the student's kernel, after the student's code, so an answer cell could replace
``np.allclose`` or rebind a checking function before any test runs. The hidden tests defend
themselves inside the kernel (``helpers.instructor.hidden.assert_untampered``), but code in the
kernel can always undo code in the kernel; the guard reads the cells where the student's code
cannot reach.

Interface:
    refused_cell_source(source, problems) -> str
    GuardAnswerCells, RestoreDeletedTests, StripTestTracebacks
"""

from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells

from helpers.answer_rules import answer_cell_problems, protected_names


def refused_cell_source(source: str, problems: list[str]) -> str:
    """The code that replaces a refused answer cell: it raises, and keeps the student's code."""
    reason = "; ".join(problems)
    message = f"This answer cell was not run when grading: {reason}."
    commented = "\n".join(f"# {line}" for line in source.splitlines())
    return f"raise PermissionError({message!r})\n# Your code, as submitted:\n{commented}\n"


class GuardAnswerCells(NbGraderPreprocessor):
    """Replace answer cells that ``answer_cell_problems`` refuses, before the kernel runs."""

    def preprocess(self, nb, resources):
        protected = protected_names(nb.cells)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not utils.is_solution(cell):
                continue
            problems = answer_cell_problems(cell.source, protected)
            if problems:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}")
                self.log.warning("Refusing answer cell %s: %s", grade_id, "; ".join(problems))
                cell.source = refused_cell_source(cell.source, problems)
                cell.metadata.setdefault("backprop", {})["refused"] = problems
        return nb, resources


class RestoreDeletedTests(OverwriteCells):
    """nbgrader's ``OverwriteCells``, putting deleted test cells back wherever they were.

    nbgrader re-inserts a deleted test cell after the cell that preceded it in the source, but
    only finds that cell when it is an answer or test cell: after a read-only cell (a heading
    above the tests, say) it raises ``KeyError`` and the whole notebook goes ungraded. Here the
    cell goes after the nearest earlier source cell still in the notebook, whatever its kind.
    """

    def add_missing_grade_cells(self, nb, resources):
        source = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_ids = [cell.name for cell in source.source_cells]
        solution_ids = {cell.name for cell in source.solution_cells}
        for grade_cell in sorted(source.grade_cells, key=lambda c: source_ids.index(c.name)):
            present = _positions_by_grade_id(nb)
            if grade_cell.name in present:
                continue
            self.log.warning("Missing grade cell %s, adding it back", grade_cell.name)
            position = source_ids.index(grade_cell.name)
            cell = self.missing_cell_transform(
                source.source_cells[position],
                grade_cell.max_score,
                is_solution=grade_cell.name in solution_ids,
            )
            earlier = [present[name] for name in source_ids[:position] if name in present]
            nb.cells.insert(max(earlier) + 1 if earlier else 0, cell)
        return nb, resources


def _positions_by_grade_id(nb) -> dict[str, int]:
    return {
        cell.metadata["nbgrader"]["grade_id"]: index
        for index, cell in enumerate(nb.cells)
        if "grade_id" in cell.metadata.get("nbgrader", {})
    }


class StripTestTracebacks(NbGraderPreprocessor):
    """In test cells, replace every error's traceback by its one-line summary."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename')}: {output.get('evalue')}"]
        return cell, resources
