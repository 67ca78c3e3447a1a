"""The grading kernel's half of a graded call, and the data format both halves speak.

While nbgrader grades, test cells never run in the student's kernel: they run in the grading
process (``helpers.instructor.judge``), where every call of a student's function becomes a
request to the kernel. The grading process sends this module's source to the kernel once; for
each call the kernel runs ``serve(globals())``, which talks to the grading process through
``input()`` (Jupyter's stdin channel, the one way a kernel can ask its client something):

    kernel -> "request"            grading process -> the call: name, arguments, forwarded names
    kernel -> "call" (any number)  grading process -> the result of a forwarded function
    kernel -> "done": the result, what became of the arguments, what the call printed

A request may also ask for the value a name holds (the answer to a question, the predictions a
question is about): the kernel answers "done" with it, or with "missing".

A forwarded name (an earlier exercise, a stand-in a test sets up) is bound, during the call
only, to a stub whose every call is answered by the grading process: the reference solutions
never enter the kernel.

Nothing the kernel sends is trusted: it is data (numbers, strings, arrays of numbers, lists,
tuples and dicts of them), decoded without pickle, and whatever else a student's function
returns arrives as a ``Foreign`` that no check accepts.

Interface:
    encode(value) -> JSON-able;  decode(data) -> value
    Foreign            what an object of another type becomes
    serve(namespace)   the kernel side of one call, or of one value read
    PROMPT             the prefix of the agent's input() prompts
"""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import json
import warnings

import numpy as np

PROMPT = "\x1bbackprop-grading "
MAX_DEPTH = 32
MAX_ITEMS = 50_000_000  # elements in one array: far above any test's, far below the memory
NUMERIC_KINDS = "biufc"  # bool, int, unsigned, float, complex: never object arrays


class Foreign:
    """An object of a type that does not travel between kernel and grader (a class of the
    student's, a generator, ...): it equals nothing and is no array."""

    def __init__(self, type_name: str):
        self.type_name = str(type_name)[:100]

    def __repr__(self) -> str:
        return f"<a {self.type_name} object>"

    def __eq__(self, other) -> bool:
        return False

    __hash__ = object.__hash__

    def __array__(self, *args, **kwargs):
        raise TypeError(f"expected numbers, got {self!r}")


def encode(value, depth: int = 0):
    """``value`` as JSON-able data: arrays keep dtype and shape; other objects become a note of
    their type."""
    if depth > MAX_DEPTH:
        return {"foreign": "deeply nested structure"}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and type(value) in (int, float):
        return value
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in NUMERIC_KINDS:
        array = np.array(value, order="C")  # a copy that keeps 0-d (ascontiguousarray does not)
        return {"array": array.dtype.str, "shape": list(array.shape), "scalar": np.isscalar(value),
                "data": base64.b64encode(array.tobytes()).decode("ascii")}
    if type(value) in (list, tuple):
        items = [encode(item, depth + 1) for item in value]
        return items if type(value) is list else {"tuple": items}
    if type(value) is dict and all(type(key) is str for key in value):
        return {"dict": [[key, encode(item, depth + 1)] for key, item in value.items()]}
    return {"foreign": type(value).__name__}


def decode(data, depth: int = 0):
    """The value ``encode`` made; anything malformed raises ``ValueError``."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deeply")
    if data is None or type(data) in (bool, str, int, float):
        return data
    if type(data) is list:
        return [decode(item, depth + 1) for item in data]
    if type(data) is not dict or len(data) == 0:
        raise ValueError(f"unexpected {type(data).__name__}")
    if "array" in data:
        return _decode_array(data)
    if set(data) == {"tuple"} and type(data["tuple"]) is list:
        return tuple(decode(item, depth + 1) for item in data["tuple"])
    if set(data) == {"dict"} and type(data["dict"]) is list:
        pairs = data["dict"]
        if not all(type(p) is list and len(p) == 2 and type(p[0]) is str for p in pairs):
            raise ValueError("malformed dict")
        return {key: decode(item, depth + 1) for key, item in pairs}
    if set(data) == {"foreign"}:
        return Foreign(data["foreign"])
    raise ValueError(f"unexpected keys {sorted(data)[:5]}")


def _decode_array(data: dict):
    dtype = np.dtype(str(data["array"]))
    shape = tuple(int(n) for n in data["shape"])
    if dtype.kind not in NUMERIC_KINDS or any(n < 0 for n in shape) or len(shape) > 32:
        raise ValueError(f"not an array of numbers: {dtype}, shape {shape}")
    if int(np.prod(shape, dtype=np.int64)) > MAX_ITEMS:
        raise ValueError(f"array too large: shape {shape}")
    raw = base64.b64decode(str(data["data"]), validate=True)
    array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    return array[()] if data.get("scalar") is True else array


def ask(kind: str, payload=None):
    """Send ``kind`` and ``payload`` to the grading process; its decoded answer."""
    answer = input(PROMPT + json.dumps({"kind": kind, "payload": encode(payload)}))
    return decode(json.loads(answer)) if answer else None


def _stub(name: str):
    def forwarded(*args, **kwargs):
        answer = ask("call", {"name": name, "args": list(args), "kwargs": kwargs})
        if "error" in answer:
            raise RuntimeError(f"{name} failed: {answer['error']}")
        return answer["result"]

    forwarded.__name__ = forwarded.__qualname__ = name
    return forwarded


def serve(namespace: dict) -> None:
    """Fetch one request and report it: a call, run in ``namespace`` with the forwarded names
    bound, or (``"value"``) what a name of ``namespace`` holds."""
    request = ask("request")
    if request.get("value"):
        name = request["name"]
        ask("done", {"result": namespace[name]} if name in namespace else {"missing": True})
        return
    name, args, kwargs = request["name"], request["args"], request["kwargs"]
    forwarded = {forwarded_name: _stub(forwarded_name) for forwarded_name in request["forward"]}
    saved = {key: namespace[key] for key in forwarded if key in namespace}
    printed = io.StringIO()
    report = {}
    try:
        namespace.update(forwarded)
        with contextlib.redirect_stdout(printed), np.errstate(all="ignore"), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a correct answer may warn; a test judges values
            given = copy.deepcopy((args, kwargs))
            function = namespace.get(name)
            if not callable(function):
                raise NameError(f"name {name!r} is not defined as a function")
            report["result"] = function(*given[0], **given[1])
        report["inputs_after"] = list(given)
    except Exception as error:  # reported as the call's error, judged by the grader
        report = {"error": [type(error).__name__, str(error)[:2000]]}
    finally:
        for key in forwarded:
            namespace.pop(key, None)
        namespace.update(saved)
    report["printed"] = printed.getvalue()[-100_000:]
    ask("done", report)
