"""What the set-up cell of every notebook switches on in the student's kernel.

    start_notebook()   warnings are printed to standard output, answer cells that grading
                       would refuse are refused when they run (``helpers.answer_rules``), and
                       NumPy's matrix products use one thread

The first two keep the notebook's judgement the grader's: grading scores a test cell that writes to
standard error 0, so a harmless NumPy warning must not go there, and an answer cell that grading
refuses must not seem to work while the student writes it. The third keeps training at its
stated time: the products of these small networks gain little from a second thread, and on a
shared machine (a JupyterHub, two kernels on two cores) competing threads make them many times
slower.
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits

from helpers.answer_rules import install_in_kernel
from helpers.checks import route_warnings_to_stdout


def start_notebook() -> None:
    route_warnings_to_stdout()
    install_in_kernel()
    threadpool_limits(limits=1, user_api="blas")
