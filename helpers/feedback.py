"""What the feedback a student receives may show: which tests failed and why, not their code.

nbgrader's feedback HTML is made from the graded notebook, which holds the hidden tests, and
the traceback of a failed test prints the lines around the failure. ``ClearHiddenTests`` (from
nbgrader) removes the hidden region from the cells' source; ``StripTestTracebacks`` here keeps
only the last line of an error in a test cell (``AssertionError: dW: expected shape (3, 4), got
(4, 3)``), which the tests write to be read.

Interface:
    StripTestTracebacks: nbgrader preprocessor for ``GenerateFeedback.preprocessors``
"""

from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor


class StripTestTracebacks(NbGraderPreprocessor):
    """In test cells, replace every error's traceback by its one-line summary."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename')}: {output.get('evalue')}"]
        return cell, resources
