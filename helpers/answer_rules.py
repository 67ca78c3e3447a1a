"""The rules for answer cells: what an answer to these exercises may and may not do.

No answer to these exercises needs more than NumPy and a little of the standard library. An
answer cell that does more is refused when grading (the grader applies these rules in its own
process, before the kernel starts): it may not

    * import anything but the numerical standard library and NumPy (``ALLOWED_IMPORTS``),
    * assign to or delete an attribute (``np.allclose = ...``, ``helpers.checks.x = ...``),
    * touch a private or dunder attribute (``f.__wrapped__``),
    * call what reaches around the language (``exec``, ``setattr``, ``globals``, ``open``, ...),
    * rebind a name the notebook's own cells imported (``assert_close = ...``, ``np = ...``),
    * run shell commands or magics (``!kill``, ``%run``).

The rules hold no answer, and students are told them (notebook 1, the README): they live with
the student's tools, and every place that runs a notebook applies them the same way. A refused
cell is replaced by code that raises ``AnswerRefused`` (a ``PermissionError``) with the
reason, so exactly the tests that need its functions fail:

    * grading, the student's ``make check`` and the Validate button run notebooks through
      nbclient, whose ``on_notebook_start`` hook is ``guard_answer_cells``
      (``helpers.student.execution``);
    * in JupyterLab, the set-up cell of each notebook installs ``install_in_kernel``: the kernel
      then refuses an answer cell when the student runs it (JupyterLab sends each cell's
      metadata with the code, so the kernel knows an answer cell when it sees one).

Interface:
    answer_cell_problems(source, protected=frozenset()) -> list of reasons (empty: fine)
    protected_names(cells) -> the names a notebook's read-only cells import
    refused_cell_source(source, problems) -> the code that runs instead of a refused cell
    AnswerRefused: the PermissionError that code raises
    guard_answer_cells(notebook) -> {grade_id: problems} of the cells it replaced
    refused_cells(notebook) -> the same, read back from the cells the guard marked
    install_in_kernel(shell=None)
    ALLOWED_IMPORTS
"""

from __future__ import annotations

import ast
import json
import os

from IPython.core.inputtransformer2 import TransformerManager

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
        return ["it runs a shell command or an IPython magic: run those in a cell of your own"]
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
            return [f"it uses the private attribute .{node.attr}: use only public names"]
        if isinstance(node.ctx, ast.Store | ast.Del):
            return [f"it assigns to or deletes the attribute {ast.unparse(node)}: an answer "
                    "changes no module or object; keep values in variables or dicts"]
    if isinstance(node, ast.Name):
        if node.id in FORBIDDEN_CALLS:
            return [f"it uses {node.id}, which no answer needs: an answer computes from its "
                    "arguments"]
        if node.id.startswith("__"):
            return [f"it uses {node.id}: use only public names"]
    if isinstance(node, ast.Global | ast.Nonlocal):
        return _rebinds(set(node.names) & protected)
    return []


def _rebinding_problems(tree: ast.Module, protected: frozenset[str]) -> list[str]:
    """Statements of the cell, outside function bodies, that bind a protected name."""
    bound = _names_bound_at_top_level(tree)
    bound -= _harmless_numpy_imports(tree)  # `import numpy as np` binds np to NumPy itself
    return _rebinds(bound & protected)


def _rebinds(touched: set[str]) -> list[str]:
    if not touched:
        return []
    names = ", ".join(sorted(touched))
    return [f"it rebinds {names}, which the tests rely on: choose another name"]


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
    allowed = ", ".join(sorted(ALLOWED_IMPORTS - {"numpy"}))
    return (f"it imports {module}: answers may import only numpy and, from the standard "
            f"library, {allowed} (NumPy has all an answer needs, e.g. np.log, np.where)")


def is_answer_cell(cell) -> bool:
    """A cell nbgrader marks as the student's solution (as ``nbgrader.utils.is_solution``,
    which the kernel does not import: nbgrader takes seconds to import)."""
    return bool((cell.get("metadata") or {}).get("nbgrader", {}).get("solution", False))


def protected_names(cells) -> frozenset[str]:
    """Names that the notebook's read-only code cells import (``cells``: nbformat cells, or
    cells as read from the JSON file)."""
    names = set()
    for cell in cells:
        if cell["cell_type"] != "code" or is_answer_cell(cell):
            continue
        tree = _parse(TransformerManager().transform_cell("".join(cell["source"])))
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


class AnswerRefused(PermissionError):
    """Raised instead of running a refused answer cell. A notebook shows its message alone:
    the one line of code that raises it would only repeat the message."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


def refused_cell_source(source: str, problems: list[str]) -> str:
    """The code that runs instead of a refused answer cell: it raises with the reasons, and
    keeps the student's code as a comment."""
    message = f"Grading refuses this answer cell, so none of it ran: {'; '.join(problems)}."
    commented = "\n".join(f"# {line}" for line in source.splitlines())
    return (f"from helpers.answer_rules import AnswerRefused\nraise AnswerRefused({message!r})\n"
            f"# Your code, as written:\n{commented}\n")


def guard_answer_cells(notebook, **_) -> dict[str, list[str]]:
    """Replace, in ``notebook``, each answer cell the rules refuse by ``refused_cell_source``
    and mark it (metadata ``backprop.refused``). Returns the reasons by grade id. Its
    signature is that of nbclient's ``on_notebook_start`` hook."""
    protected = protected_names(notebook.cells)
    for cell in notebook.cells:
        if cell.cell_type != "code" or not is_answer_cell(cell):
            continue
        problems = answer_cell_problems(cell.source, protected)
        if problems:
            cell.source = refused_cell_source(cell.source, problems)
            cell.metadata.setdefault("backprop", {})["refused"] = problems
    return refused_cells(notebook)


def refused_cells(notebook) -> dict[str, list[str]]:
    """The reasons, by grade id, of the answer cells ``guard_answer_cells`` replaced in
    ``notebook`` (nbclient drops what its hook returns, so the cells carry the mark)."""
    return {
        cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}"): refused
        for index, cell in enumerate(notebook.cells)
        if (refused := cell.metadata.get("backprop", {}).get("refused"))
    }


def install_in_kernel(shell=None) -> None:
    """Make the running IPython kernel refuse, as grading would, an answer cell that breaks the
    rules when the student runs it in JupyterLab. Running it again changes nothing."""
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return  # not in a Jupyter kernel: nothing sends cells with their metadata
    cleanup = shell.input_transformers_cleanup
    cleanup[:] = [t for t in cleanup if not isinstance(t, _KernelGuard)] + [_KernelGuard(shell)]


class _KernelGuard:
    """An IPython input transformer: the code of a refused answer cell becomes the code that
    raises. Only cells that JupyterLab sends with the metadata of an answer cell are judged."""

    def __init__(self, shell):
        self.shell = shell
        self._protected = None

    def __call__(self, lines: list[str]) -> list[str]:
        # an execute request carries the cell's metadata, as a cell does
        parent = self.shell.kernel.get_parent() or {}
        if parent.get("header", {}).get("msg_type") != "execute_request" \
                or not is_answer_cell(parent):
            return lines
        source = "".join(lines)
        problems = answer_cell_problems(source, self.protected())
        if not problems:
            return lines
        return refused_cell_source(source, problems).splitlines(keepends=True)

    def protected(self) -> frozenset[str]:
        """The names the notebook's read-only cells import, read from the notebook's file
        (Jupyter names it in ``JPY_SESSION_NAME``); just NumPy's names without it."""
        if self._protected is None:
            path = os.environ.get("JPY_SESSION_NAME", "")
            try:
                with open(path, encoding="utf-8") as file:
                    self._protected = protected_names(json.load(file)["cells"])
            except Exception:  # no file, or not a notebook: the names every notebook has
                self._protected = ALWAYS_PROTECTED
        return self._protected
