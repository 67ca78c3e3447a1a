"""Test cells judged in the grading process: the student's kernel only evaluates calls.

While nbgrader grades a notebook, its answer cells and the other cells a student may edit run
in the student's (sandboxed) kernel as usual; its test cells do not. Each test cell's code, as
the gradebook holds it, runs here, in the grading process, in a namespace built from the
notebook's set-up cells (run inside ``helpers.answers.answers_from``, so that ``load_answers``
returns the reference solutions there, and only there). In that
namespace every function the notebook's answer cells define is a ``KernelFunction``: calling it
sends the arguments to the kernel, which runs the student's function on them and sends back the
result. So the kernel never sees a test, hidden or not, never holds a reference solution, and
never decides anything: rebinding ``np.allclose``, rewriting later cells, catching exceptions
or returning objects that equal anything change nothing here. The values a test reads from the
kernel (a question's answer, the predictions a question asks about) arrive the same way, as
data.

The functions of earlier exercises (and the stand-ins a test binds) stay here too: during a
call the kernel gets stubs whose calls come back to this process (``kernel_agent``).

Interface:
    NotebookTests.from_gradebook(gradebook, notebook, assignment, order)  what the gradebook holds
    NotebookTests.is_test_cell(cell) -> bool      a test cell exactly as the gradebook has it
    Judge(tests, client, timeout, alive)          one notebook's namespace and kernel
    Judge.run(cell) -> outputs                    run a test cell here; nbformat outputs (the
                                                  names it reads that nothing here defines are
                                                  read from the kernel, as data)
    KernelFunction                                a student's function, called in the kernel
    StudentCodeError                              what such a call raised in the kernel
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import queue
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.answers import answers_from
from helpers.instructor import kernel_agent, reference

AGENT_MODULE = "backprop_grading_agent"
_LOAD_AGENT = (
    "import sys as _s, types as _t\n"
    f"_m = _t.ModuleType({AGENT_MODULE!r})\n"
    "exec(compile({source!r}, '<grading agent>', 'exec'), _m.__dict__)\n"
    f"_s.modules[{AGENT_MODULE!r}] = _m\n"
    "del _s, _t, _m\n"
)
_SERVE = f"__import__('sys').modules[{AGENT_MODULE!r}].serve(globals())"


class StudentCodeError(Exception):
    """An error raised by the student's code in the kernel (its type name and message)."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class NotebookTests:
    """What the gradebook holds of one notebook: its test cells' code by grade id, its set-up
    code, and the names of the functions its answer cells define."""

    tests: dict
    setup: tuple
    answer_functions: tuple

    @classmethod
    def from_gradebook(cls, gradebook, notebook: str, assignment: str,
                       order: list[str]) -> NotebookTests:
        """``order``: the grade ids in the order of the notebook's cells. The gradebook keeps
        no order (PostgreSQL returns its cells in any), and set-up cells build on each other."""
        source = gradebook.find_notebook(notebook, assignment)
        solutions = {cell.name for cell in source.solution_cells}
        grades = {cell.name for cell in source.grade_cells}
        code = {cell.name: cell.source for cell in source.source_cells if cell.cell_type == "code"}
        tests = {name: code[name] for name in grades - solutions if name in code}
        position = {name: index for index, name in enumerate(order)}
        setup = tuple(code[name] for name in sorted(
            (name for name in code if name not in grades and name not in solutions),
            key=lambda name: position.get(name, len(position))))
        functions = sorted({node.name for name in solutions if name in code
                            for node in ast.parse(code[name]).body
                            if isinstance(node, ast.FunctionDef)})
        return cls(tests, setup, tuple(functions))

    def is_test_cell(self, cell) -> bool:
        """A test cell whose grade id and code are the gradebook's (nbgrader has put its code
        back); a cell that only claims to be one runs in the kernel like any other."""
        from nbgrader import utils  # see _new_output

        if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell):
            return False
        grade_id = cell.metadata["nbgrader"].get("grade_id")
        return grade_id in self.tests and cell.source == self.tests[grade_id]


class KernelCalls:
    """Calls of the student's functions, run by the agent in the kernel over stdin."""

    def __init__(self, client, timeout: float, alive=None):
        self.client = client
        self.timeout = timeout
        self.alive = alive or (lambda: True)
        self.agent_loaded = False

    def value(self, name: str):
        """What the kernel's name ``name`` holds, as data (``kernel_agent.encode``); raises
        KeyError if the kernel has no such name."""
        report = self._request({"name": name, "value": True})
        if report.get("missing") or "result" not in report:
            raise KeyError(name)
        return report["result"]

    def call(self, name: str, args: tuple, kwargs: dict, forwarded: dict) -> dict:
        """Run ``name(*args, **kwargs)`` in the kernel; its report (result or error, inputs
        after the call, what it printed). ``forwarded``: names answered from here."""
        request = {"name": name, "args": list(args), "kwargs": kwargs, "forward": sorted(forwarded)}
        report = self._request(request, forwarded)
        if not ({"result", "error"} & set(report)):
            raise StudentCodeError("GradingError", f"the kernel gave no result for {name}")
        return report

    def _request(self, request: dict, forwarded: dict | None = None) -> dict:
        if not self.agent_loaded:
            self._execute(_LOAD_AGENT.format(source=Path(kernel_agent.__file__).read_text()), {})
            self.agent_loaded = True
        report = self._execute(_SERVE, {"request": request}, forwarded)
        return report if isinstance(report, dict) else {}

    def _execute(self, code: str, answers: dict, forwarded: dict | None = None):
        """Execute ``code``; answer the agent's questions until the kernel replies."""
        message_id = self.client.execute(code, silent=False, store_history=False, allow_stdin=True)
        deadline = time.monotonic() + self.timeout
        next_look = time.monotonic() + 1
        report = None
        while True:
            if time.monotonic() > next_look:
                if not self.alive():
                    raise StudentCodeError("DeadKernelError", "the kernel died")
                next_look = time.monotonic() + 1
            if time.monotonic() > deadline:
                self._interrupt(message_id)
                raise StudentCodeError("TimeoutError", f"no answer within {self.timeout:.0f} s")
            with contextlib.suppress(queue.Empty):
                question = self.client.get_stdin_msg(timeout=0.01)
                kind, payload = _question(question)
                if kind == "done":
                    report = payload
                self.client.input(_answer(kind, payload, answers, forwarded or {}))
                continue
            reply = self._reply(message_id)
            if reply is not None:
                if reply["content"]["status"] == "error" and report is None:
                    content = reply["content"]
                    raise StudentCodeError(content.get("ename", "Error"), content.get("evalue", ""))
                return report

    def _reply(self, message_id: str):
        with contextlib.suppress(queue.Empty):
            while True:
                reply = self.client.get_shell_msg(timeout=0.01)
                if reply["parent_header"].get("msg_id") == message_id:
                    return reply
        return None

    def _interrupt(self, message_id: str) -> None:
        """Interrupt the call (the kernel takes interrupts as messages) and wait for it."""
        message = self.client.session.msg("interrupt_request", {})
        self.client.control_channel.send(message)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                self.client.input("")  # a call blocked on a question gets an empty answer
            if self._reply(message_id) is not None:
                return


def _question(message) -> tuple[str, object]:
    prompt = message["content"].get("prompt", "")
    if not prompt.startswith(kernel_agent.PROMPT):
        return "unexpected", None  # the student's own input(): answered with nothing
    try:
        question = json.loads(prompt[len(kernel_agent.PROMPT):])
        return str(question["kind"]), kernel_agent.decode(question["payload"])
    except (ValueError, KeyError, TypeError, RecursionError):
        return "malformed", None


def _answer(kind: str, payload, answers: dict, forwarded: dict) -> str:
    """The reply to one of the agent's questions, as JSON (empty: no answer)."""
    if kind == "request":
        return json.dumps(kernel_agent.encode(answers["request"]))
    if kind == "call" and isinstance(payload, dict) and payload.get("name") in forwarded:
        function = forwarded[payload["name"]]
        try:
            args, kwargs = list(payload.get("args", [])), dict(payload.get("kwargs", {}))
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = {"result": function(*args, **kwargs)}
        except Exception as error:  # the student's arguments made it fail: their error
            result = {"error": f"{type(error).__name__}: {error}"}
        return json.dumps(kernel_agent.encode(result))
    if kind == "call":
        return json.dumps(kernel_agent.encode({"error": "not a function of this test"}))
    return ""


class KernelFunction:
    """A student's function as test code sees it: each call runs in the kernel."""

    def __init__(self, name: str, judge: Judge):
        self.__name__ = name
        self.judge = judge

    def __repr__(self) -> str:
        return f"<your function {self.__name__}>"

    def __call__(self, *args, **kwargs):
        result, (args_after, kwargs_after) = self.call(*args, **kwargs)
        # as a call in the student's kernel would: what the function changed in its arguments
        # is changed here too, so that a test of "leave dH unchanged" judges as the check does
        _mirror(list(args), args_after)
        _mirror(kwargs, kwargs_after)
        return result

    def call(self, *args, **kwargs) -> tuple:
        """``(result, (args, kwargs) as the function left them)``; what it printed is printed
        here, so that tests can read it."""
        report = self.judge.calls.call(self.__name__, args, kwargs, self.judge.forwarded())
        print(report.get("printed", ""), end="")
        if "error" in report:
            name, message = (list(report["error"]) + ["", ""])[:2]
            raise StudentCodeError(str(name), str(message))
        args_after, kwargs_after = (list(report.get("inputs_after") or [[], {}]) + [{}])[:2]
        return report["result"], (args_after, kwargs_after)


def _mirror(given, after) -> bool:
    """Change ``given`` (arrays, dicts and lists, nested) in place to hold what ``after``, its
    state after the call in the kernel, holds; False when it cannot (another type or shape)."""
    if isinstance(given, np.ndarray) and isinstance(after, np.ndarray):
        if given.shape != after.shape or not given.flags.writeable:
            return False
        np.copyto(given, after, casting="unsafe")
    elif isinstance(given, dict) and isinstance(after, dict):
        for key in set(given) - set(after):
            del given[key]
        for key, value in after.items():
            if key not in given or not _mirror(given[key], value):
                given[key] = value
    elif isinstance(given, list) and isinstance(after, list):
        if len(given) != len(after):
            given[:] = after
        for index, (item, item_after) in enumerate(zip(given, after, strict=True)):
            if not _mirror(item, item_after):
                given[index] = item_after
    else:
        return False
    return True


class Judge:
    """One notebook's test cells, run here against the student's kernel."""

    def __init__(self, tests: NotebookTests, client, timeout: float, alive=None):
        self.tests = tests
        self.calls = KernelCalls(client, timeout, alive)
        self.namespace: dict = {"__name__": "__graded_tests__"}
        with _contained(), answers_from(_reference_versions):
            for source in tests.setup:
                exec(compile(source, "<set-up cell>", "exec"), self.namespace)
        for name in tests.answer_functions:
            self.namespace[name] = KernelFunction(name, self)
        self.baseline = dict(self.namespace)

    def forwarded(self) -> dict:
        """The functions a call of the student's code takes from here: the reference solutions
        of earlier exercises, and every function a test has bound in place of another."""
        return {
            name: value for name, value in self.namespace.items()
            if callable(value) and not isinstance(value, (KernelFunction, type))
            and (getattr(value, "__module__", "") == reference.__name__
                 or (name in self.baseline and value is not self.baseline[name]))
        }

    def run(self, cell) -> list:
        """Run the test cell's code here; its outputs, as the kernel would have shown them."""
        printed = io.StringIO()
        error = None
        with _contained(), contextlib.redirect_stdout(printed):
            try:
                code = compile(cell.source, f"<{cell.metadata['nbgrader']['grade_id']}>", "exec")
                self._read_from_kernel(_read_but_never_set(cell.source) - set(self.namespace))
                exec(code, self.namespace)
            except StudentCodeError as raised:
                error = (raised.name, str(raised))
            except Exception as raised:  # a failed check: the cell's error, as in a kernel
                error = (type(raised).__name__, str(raised))
        outputs = []
        new_output = _new_output()
        if printed.getvalue():
            outputs.append(new_output("stream", name="stdout", text=printed.getvalue()))
        if error is not None:
            outputs.append(new_output("error", ename=error[0], evalue=error[1],
                                      traceback=[f"{error[0]}: {error[1]}"]))
        return outputs


    def _read_from_kernel(self, names: set[str]) -> None:
        """Bind the names a test reads but neither it nor the set-up defines (a question's
        answer, the predictions a question is about) to their values in the kernel, as data;
        a name the kernel lacks stays unbound, a NameError as it would be there."""
        for name in sorted(names - set(dir(builtins))):
            try:
                self.namespace[name] = self.calls.value(name)
            except KeyError:
                self.namespace.pop(name, None)


def _read_but_never_set(source: str) -> set[str]:
    """The names a cell's code reads and never binds (by assignment, import, def, loop...)."""
    read, bound = set(), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return read - bound


def _new_output():
    # nbformat and nbgrader are imported where they are used (about 1.7 s): the instructor's
    # own runs of source/ import this module in their kernels for KernelFunction alone
    from nbformat.v4 import new_output

    return new_output


def _reference_versions(names) -> tuple:
    return tuple(getattr(reference, name) for name in names)


@contextlib.contextmanager
def _contained():
    """Warnings settings and NumPy's error state as they were, whatever the cell changes."""
    with warnings.catch_warnings(), np.errstate():
        yield
