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

The rules hold no answer, and students are told them: they live with the student's tools.

Interface:
    answer_cell_problems(source, protected=frozenset()) -> list of reasons (empty: fine)
    protected_names(cells) -> the names a notebook's read-only cells import
    ALLOWED_IMPORTS
"""

from __future__ import annotations

import ast

from IPython.core.inputtransformer2 import TransformerManager
from nbgrader import utils

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
