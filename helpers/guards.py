"""Answer cells that try to change the rules are not run at grading time.

Tests run in the student's kernel, after the student's code, so an answer cell could replace
``np.allclose``, rebind a checking function, reach the reference solution through its
internals, or kill the kernel, before any test runs. The hidden tests defend themselves inside
the kernel (``helpers.grading.assert_untampered``), but code in the kernel can always undo code
in the kernel. This module adds a check the student's code cannot reach: it reads each answer
cell in the grading process, before the kernel starts, and refuses cells that do what no answer
to these exercises needs:

    * import anything but the numerical standard library and NumPy (``ALLOWED_IMPORTS``),
    * assign to or delete an attribute (``np.allclose = ...``, ``helpers.checks.x = ...``),
    * touch a private or dunder attribute (``f.__wrapped__``, ``reference._forbidden``),
    * call what reaches around the language (``exec``, ``setattr``, ``globals``, ``open``, ...),
    * rebind a name the notebook's own cells imported (``assert_close = ...``, ``np = ...``),
    * run shell commands or magics (``!kill``, ``%run``).

A refused cell is replaced by one that raises with the reason and shows the student's code as
a comment: its functions stay undefined, so exactly the tests that need them fail, and the
feedback says why.

Interface:
    answer_cell_problems(source, protected=frozenset()) -> list of reasons (empty: fine)
    GuardAnswerCells: the nbgrader preprocessor (in ``Autograde.sanitize_preprocessors``)
    RestoreDeletedTests: nbgrader's OverwriteCells, without its KeyError on deleted tests
"""

from __future__ import annotations

import ast

from IPython.core.inputtransformer2 import TransformerManager
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells

ALLOWED_IMPORTS = frozenset(
    {
        "numpy",
        "math",
        "copy",
        "functools",
        "itertools",
        "collections",
        "operator",
        "typing",
        "warnings",
    }
)
FORBIDDEN_CALLS = frozenset(
    {
        "exec",
        "eval",
        "compile",
        "__import__",
        "globals",
        "locals",
        "vars",
        "setattr",
        "delattr",
        "open",
        "breakpoint",
        "input",
        "get_ipython",
        "exit",
        "quit",
    }
)
# Always protected: the tests compare through NumPy.
ALWAYS_PROTECTED = frozenset({"np", "numpy"})


def answer_cell_problems(source: str, protected: frozenset[str] = frozenset()) -> list[str]:
    """Reasons to refuse an answer cell; an empty list when it may run.

    Args:
        source: the cell's code, as written in the notebook (magics included).
        protected: names bound by the notebook's read-only cells, which the tests rely on.

    A cell that is not valid Python is not refused here: it fails by itself when it runs.
    """
    python = TransformerManager().transform_cell(source)
    tree = _parse(python)
    if tree is None:
        return []
    if "get_ipython()" in python and "get_ipython" not in source:
        return ["it runs a shell command or an IPython magic"]
    problems = []
    protected = protected | ALWAYS_PROTECTED
    for node in ast.walk(tree):
        problems.extend(_node_problems(node, protected))
    problems.extend(_rebinding_problems(tree, protected))
    return list(dict.fromkeys(problems))  # once each, in order


def _node_problems(node: ast.AST, protected: frozenset[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [_import_problem(alias.name) for alias in node.names if _is_forbidden(alias.name)]
    if isinstance(node, ast.ImportFrom):
        module = "." * node.level + (node.module or "")
        return [_import_problem(module)] if node.level or _is_forbidden(module) else []
    if isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            return [f"it uses the private attribute .{node.attr}"]
        if isinstance(node.ctx, ast.Store | ast.Del):
            return [f"it assigns to or deletes the attribute {ast.unparse(node)}"]
    if isinstance(node, ast.Name):
        if node.id in FORBIDDEN_CALLS:
            return [f"it uses {node.id}, which no answer needs"]
        if node.id.startswith("__"):
            return [f"it uses {node.id}"]
    if isinstance(node, ast.Global | ast.Nonlocal):
        return _rebinds(set(node.names) & protected)
    return []


def _rebinding_problems(tree: ast.Module, protected: frozenset[str]) -> list[str]:
    """Statements of the cell, outside function bodies, that bind a protected name."""
    bound = _names_bound_at_top_level(tree)
    bound -= _harmless_numpy_imports(tree)  # `import numpy as np` binds np to NumPy itself
    return _rebinds(bound & protected)


def _rebinds(touched: set[str]) -> list[str]:
    return [f"it rebinds {', '.join(sorted(touched))}, which the tests rely on"] if touched else []


def _names_bound_at_top_level(node: ast.AST) -> set[str]:
    bound = set()
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(child.name)  # its body binds the function's own locals
            continue
        if isinstance(child, ast.Lambda):
            continue
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store | ast.Del):
            bound.add(child.id)
        elif isinstance(child, ast.alias):
            bound.add(_bound_name(child))
        bound |= _names_bound_at_top_level(child)
    return bound


def _harmless_numpy_imports(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {_bound_name(alias) for alias in node.names if alias.name == "numpy"}
    return names & {"np", "numpy"}


def _is_forbidden(module: str) -> bool:
    return module.split(".")[0] not in ALLOWED_IMPORTS


def _import_problem(module: str) -> str:
    allowed = ", ".join(sorted(ALLOWED_IMPORTS))
    return f"it imports {module} (answers may import only {allowed})"


def protected_names(cells) -> frozenset[str]:
    """Names that the notebook's read-only code cells import."""
    names = set()
    for cell in cells:
        if cell.cell_type != "code" or utils.is_solution(cell):
            continue
        tree = _parse(TransformerManager().transform_cell(cell.source))
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.Import | ast.ImportFrom):
                names |= {_bound_name(alias) for alias in node.names}
    return frozenset(names)


def _parse(python: str) -> ast.Module | None:
    """The syntax tree, or None for code that is not valid Python (it fails when it runs)."""
    try:
        return ast.parse(python)
    except SyntaxError:
        return None


def _bound_name(alias: ast.alias) -> str:
    """The name an import binds: ``import a.b`` binds ``a``, ``import a as c`` binds ``c``."""
    return (alias.asname or alias.name).split(".")[0]


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
