"""Correct answers written differently from the reference pass every test, and a NumPy warning
raised by a correct answer costs nothing (nbgrader scores a test cell that writes to stderr 0).

One "student" answers every exercise in another style (loops, ``np.where``, ``einsum``, ``@``,
in-place updates, other clipping, a warning on ``log(0)``); the source notebooks, hidden tests
included, run with those answers and every graded cell must pass without writing to stderr.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from helpers.student.notebooks import run as run_notebook

SOURCE = Path(__file__).resolve().parents[1] / "source" / "backprop"

ALTERNATIVES = {
    "compute_loss": """
def compute_loss(HL, Y):
    m = Y.shape[1]
    if HL.shape[0] == 1:
        p = np.where(Y == 1, HL, 1 - HL)  # probability given to the right answer
    else:
        p = np.sum(HL * Y, axis=0)
    # log(0) warns here; the warning must not cost points
    logs = np.where(p > 0, np.log(p), np.log(1e-15))
    return float(-logs.sum() / m)
""",
    "sigmoid_backward": """
def sigmoid_backward(dH, sigmoid_memory):
    s = 1 / (1 + np.exp(-sigmoid_memory))
    return dH * s * (1 - s)
""",
    "relu_backward": """
def relu_backward(dH, relu_memory):
    return np.where(relu_memory > 0, dH, 0.0)
""",
    "layer_backward": """
def layer_backward(dH, memory, activation="relu"):
    (H_prev, W, b), Z = memory
    dZ = relu_backward(dH, Z) if activation == "relu" else sigmoid_backward(dH, Z)
    dW = np.einsum("im,jm->ij", dZ, H_prev) / H_prev.shape[1]
    db = dZ.mean(axis=1, keepdims=True)
    dH_prev = np.einsum("ij,im->jm", W, dZ)
    return dH_prev, dW, db
""",
    "L_layer_backward": """
def L_layer_backward(HL, Y, memories):
    gradients = {}
    L = len(memories)
    m = HL.shape[1]
    dZ = HL - Y.reshape(HL.shape)
    (H_prev, W, b), _ = memories[-1]
    gradients["dW" + str(L)] = (dZ @ H_prev.T) * (1.0 / m)
    gradients["db" + str(L)] = np.sum(dZ, axis=1).reshape(-1, 1) / m
    gradients["dH" + str(L - 1)] = W.T @ dZ
    l = L - 1
    while l >= 1:
        grads = layer_backward(gradients["dH" + str(l)], memories[l - 1], activation="relu")
        gradients["dH" + str(l - 1)], gradients["dW" + str(l)], gradients["db" + str(l)] = grads
        l -= 1
    return gradients
""",
    "update_parameters": """
def update_parameters(parameters, gradients, learning_rate):
    L = len(parameters) // 2
    for l in range(L):  # in place, as the course text does
        parameters["W" + str(l + 1)] -= learning_rate * gradients["dW" + str(l + 1)]
        parameters["b" + str(l + 1)] -= learning_rate * gradients["db" + str(l + 1)]
    return parameters
""",
    "L_layer_model": """
def L_layer_model(X, Y, dimensions, learning_rate=0.0075, num_iterations=3000, print_loss=False,
                  *, init="course", seed=None, batch_size=None, return_losses=False):
    rng = np.random.default_rng(seed)
    parameters = initialize_parameters(dimensions, init, rng)
    batches = minibatches(X.shape[1], batch_size, rng)
    losses = []
    iteration = 0
    while iteration < num_iterations:
        columns = next(batches)
        Xb = X if columns is None else X[:, columns]
        Yb = Y if columns is None else Y[:, columns]
        HL, memories = L_layer_forward(Xb, parameters)
        losses.append(compute_loss(HL, Yb))
        gradients = L_layer_backward(HL, Yb, memories)
        parameters = update_parameters(parameters, gradients, learning_rate)
        if print_loss and iteration % 100 == 0:
            print("Loss after iteration %i: %f" % (iteration, losses[-1]))
        iteration += 1
    if return_losses:
        return parameters, losses
    return parameters
""",
    "predict": """
def predict(X, y, parameters):
    probabilities, _ = L_layer_forward(X, parameters)
    p = probabilities.argmax(0)
    print("Accuracy:", (p == y.argmax(0)).mean())
    return p
""",
}


def with_alternative_answers(folder: Path) -> None:
    for path in SOURCE.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = ALTERNATIVES[grade_id].strip()
        nbformat.write(nb, folder / path.name)


@pytest.mark.slow
def test_answers_in_another_style_get_full_marks(tmp_path):
    with_alternative_answers(tmp_path)
    for path in sorted(tmp_path.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        _, problem = run_notebook(nb, tmp_path, timeout=120)
        assert problem is None, f"{path.name}: {problem}"
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if not meta.get("grade"):
                continue
            failures = [o for o in cell.outputs if o.output_type == "error"]
            stderr = [o.text for o in cell.outputs if o.get("name") == "stderr"]
            assert not failures, f"{path.name} {meta['grade_id']}: {failures[0].evalue}"
            assert not stderr, f"{path.name} {meta['grade_id']} wrote to stderr: {stderr}"


def test_the_alternatives_cover_every_exercise():
    solution_ids = {
        cell.metadata["nbgrader"]["grade_id"]
        for path in SOURCE.glob("*.ipynb")
        for cell in nbformat.read(path, as_version=4).cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }
    assert solution_ids == set(ALTERNATIVES)


def test_the_warning_answer_really_warns():
    """The compute_loss alternative must actually warn, or the stderr check proves nothing."""
    import numpy as np

    namespace = {"np": np}
    exec(ALTERNATIVES["compute_loss"], namespace)
    with pytest.warns(RuntimeWarning):
        namespace["compute_loss"](np.eye(3)[:, [1, 1, 0]], np.eye(3))
