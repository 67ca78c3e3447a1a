"""The Python side of the backpropagation course.

Modules, one concept each:
    forward    the given forward pass (students import it)
    training   the training recipes and minibatch order (students import it)
    data       MNIST: bundled offline subset, IDX files, opt-in download
    gradcheck  numerical gradients by centred differences
    plots      loss curves, digit grids, confusion matrices
    checks     assertions with messages that say what is wrong (shape first, then values)
    answers    a later notebook loads the student's earlier answers
    student    the student's workflow: fill or update notebooks/, open the lab, check, submit
               (the lab's settings: lab_config/)

Instructor-only (never imported by a student notebook):
    reference      the solutions of every exercise
    grading        the hidden tests' tools
    guards         answer cells that change the rules are not run at grading time
    feedback       feedback HTML without the hidden tests' code
    course         a course folder graded by nbgrader, with the course's safety nets
    grade_class    autograde a whole class on every core
    submissions    sample submissions and the scores they must get (sample_submissions.toml)
    grading_demo   ``make demo``: the grading pipeline end to end
    demo           ``make train``: train the reference network and save its figures
"""

__version__ = "0.1.0"
