"""The Python side of the backpropagation course.

Modules, one concept each:
    forward    the given forward pass (students import it)
    training   the training recipes and minibatch order (students import it)
    data       MNIST: bundled offline subset, IDX files, opt-in download
    gradcheck  numerical gradients by centred differences
    plots      loss curves, digit grids, confusion matrices
    reference  the solutions of every exercise: instructor-only, never imported by a student
               notebook
"""

__version__ = "0.1.0"
