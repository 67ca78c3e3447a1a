"""The data format between the grading kernel and nbgrader's process: results come back as
numbers and arrays, never as objects of the student's making, and malformed data is refused;
and what a test reads from the kernel (a question's answer) arrives the same way."""

from __future__ import annotations

import json

import jupyter_client
import nbformat
import numpy as np
import pytest

from helpers.instructor import judge
from helpers.instructor.kernel_agent import Foreign, decode, encode


def round_trip(value):
    return decode(json.loads(json.dumps(encode(value))))


def test_arrays_numbers_and_containers_come_back_as_they_were():
    value = {"W1": np.arange(6.0).reshape(2, 3), "b1": np.zeros((2, 1), dtype=np.float32),
             "steps": [1, 2.5, None, True, "text"], "pair": (np.int64(3), np.float64(np.nan))}
    back = round_trip(value)
    np.testing.assert_array_equal(back["W1"], value["W1"])
    assert back["b1"].dtype == np.float32 and back["b1"].shape == (2, 1)
    assert back["steps"] == value["steps"]
    assert isinstance(back["pair"], tuple) and back["pair"][0] == 3 and np.isnan(back["pair"][1])
    # a NumPy number stays a number, not an array of one
    assert np.shape(back["pair"][0]) == () and type(back["pair"][1]) is np.float64
    assert np.shape(round_trip(np.array(2.5))) == ()


def test_objects_of_other_types_come_back_as_foreign_and_equal_nothing():
    class Anything(float):
        def __eq__(self, other):
            return True

    back = round_trip([Anything(1.0), object(), np.array([object()])])
    assert all(isinstance(item, Foreign) for item in back)
    assert back[0] != 1.0 and not back[0] == back[0]
    with pytest.raises(TypeError):
        np.asarray(back[0], dtype=float)


@pytest.mark.parametrize("data", [
    {"array": "|O", "shape": [1], "data": ""},  # object arrays never
    {"array": "<f8", "shape": [4], "data": "AAAA"},  # data of the wrong length
    {"array": "<f8", "shape": [10**9, 10**9], "data": ""},  # far too large
    {"tuple": [1], "extra": 2},
    {"dict": [["a"]]},
    {},
])
def test_malformed_data_is_refused(data):
    with pytest.raises((ValueError, TypeError)):
        decode(data)


def test_nesting_has_a_limit():
    deep = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(ValueError, match="nested"):
        decode(json.loads(json.dumps(deep)))


def test_a_test_reads_what_it_neither_sets_nor_imports():
    source = (
        "import numpy as np\nfrom helpers.checks import assert_answer as check\n"
        "for i in range(2):\n    total = i\n"
        "def f(x):\n    return x\n"
        "try:\n    pass\nexcept ValueError as error:\n    pass\n"
        "check('q', q, np.log(2))\nprint(p_test[0], total, f, error, len)\n"
    )
    builtins = {"print", "len", "range", "ValueError"}  # left out later, by the judge
    assert judge._read_but_never_set(source) == {"q", "p_test"} | builtins


@pytest.fixture
def kernel():
    manager, client = jupyter_client.manager.start_new_kernel(kernel_name="python3")
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.mark.slow
def test_a_test_cell_reads_the_kernels_answers_as_data_and_nothing_else(kernel):
    kernel.execute_interactive("import numpy as np\nanswer = 'b'\np_test = np.arange(3)\n"
                               "class Sneaky:\n    def __eq__(self, other):\n        return True\n"
                               "sneaky = Sneaky()\n", timeout=30)
    tests = judge.NotebookTests(tests={}, setup=("import numpy as np",), answer_functions=())
    graded = judge.Judge(tests, kernel, timeout=30)
    cell = nbformat.v4.new_code_cell(
        "assert answer == 'b' and p_test.tolist() == [0, 1, 2]\n"
        "assert sneaky != 'b', 'an object of the kernel arrives as a Foreign'\n"
        "print(missing)\n",
        metadata={"nbgrader": {"grade_id": "t"}},
    )
    assert [(o.ename, o.evalue) for o in graded.run(cell)] == [
        ("NameError", "name 'missing' is not defined")]


@pytest.mark.slow
def test_a_function_changes_its_arguments_for_the_test_as_it_would_in_the_kernel(kernel):
    """A test cell runs in the grading process, the function in the kernel: what the function
    does to its arguments (zeroing entries of an array, changing a dict) reaches the test's own
    objects, so that a visible test that checks its inputs were left alone judges as in the
    student's kernel."""
    kernel.execute_interactive(
        "def zero_negatives(a):\n    a[a < 0] = 0\n    return float(a.sum())\n"
        "def step(parameters, rate):\n    parameters['W1'] -= rate\n"
        "    parameters['b1'] = [0.0]\n    del parameters['old']\n",
        timeout=30)
    tests = judge.NotebookTests(tests={}, setup=("import numpy as np",),
                                answer_functions=("step", "zero_negatives"))
    graded = judge.Judge(tests, kernel, timeout=30)
    cell = nbformat.v4.new_code_cell(
        "a = np.array([-1.0, 2.0])\n"
        "assert zero_negatives(a) == 2.0 and a.tolist() == [0.0, 2.0], a\n"
        "W1 = np.ones(2)\n"
        "parameters = {'W1': W1, 'old': 1}\n"
        "assert step(parameters, 0.5) is None\n"
        "assert W1.tolist() == [0.5, 0.5], 'the same array, changed in place'\n"
        "assert parameters.keys() == {'W1', 'b1'} and parameters['b1'] == [0.0], parameters\n",
        metadata={"nbgrader": {"grade_id": "t"}},
    )
    assert graded.run(cell) == []
