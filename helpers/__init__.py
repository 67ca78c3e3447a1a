"""The Python side of the backpropagation course.

Every module directly in this folder is what a student receives (``make kit`` ships them); all
of it runs in the student's kernel except ``student``, which runs in the student's shell.
One concept each:
    forward       the given forward pass
    training      the training recipes and minibatch order
    data          MNIST: bundled offline subset, IDX files, opt-in download
    labels        class labels as integers, one-hot columns or a 0/1 row; accuracy
    gradcheck     numerical gradients by centred differences, and the random cases the
                  visible tests, the hidden tests and the project's tests all draw
    plots         loss curves, digit grids, confusion matrices, first-layer weights and the
                  gallery of typical mistakes (``mistake_curves.json``) that display in JupyterLab
    diagrams      the computational graphs of one layer and of the whole network
    experiments   notebook 6's one-knob-at-a-time training runs and their figures
    checks        assertions with messages that say what is wrong (shape first, then values,
                  then the exercise's named slips)
    stand_ins     earlier notebooks' steps by differences, so each visible test judges its own
                  exercise alone
    answers       a later notebook loads the student's earlier answers
    answer_rules  what an answer cell may do (imports, attributes); every run refuses the rest
    kernel_setup  what each notebook's set-up cell switches on in the kernel
    student/      the student's commands, one module each: fill or update notebooks/, open the
                  lab, check, submit; how a notebook runs (execution), for the check, the
                  Validate button and grading alike (the lab's settings: lab_config/)

``instructor/`` holds everything that stays with the instructor: the solutions, the hidden-test
kit, nbgrader's preprocessors, class grading, the sample submissions, the demos. A student's
copy of the course does not contain it.
"""

__version__ = "0.1.0"
