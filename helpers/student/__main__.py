"""``python -m helpers.student COMMAND``: the student's commands (helpers/student/__init__.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from helpers.student.check import CHECK_JOBS, run_check
from helpers.student.execution import CELL_TIMEOUT
from helpers.student.fill import run_fill
from helpers.student.lab import run_lab
from helpers.student.notebooks import FOLDER, RELEASE, StudentError
from helpers.student.submit import run_submit
from helpers.student.update import run_update


def positive_seconds(text: str) -> float:
    seconds = float(text)
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return seconds


def positive_int(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.student",
        description="Get the notebooks, check your work, hand it in.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, run: Callable[[argparse.Namespace], int]):
        sub = commands.add_parser(name, help=summary, description=summary)
        sub.set_defaults(run=run)
        return sub

    fill_parser = command(
        "fill", "copy the release notebooks you do not have yet; never overwrite yours", run_fill
    )
    update_parser = command(
        "update", "take a newer release, keeping your answer cells (and a backup)", run_update
    )
    lab_parser = command("lab", "fill notebooks/ and open JupyterLab there", run_lab)
    lab_parser.add_argument(
        "options", nargs=argparse.REMAINDER, help="JupyterLab options, after --"
    )
    for sub in (fill_parser, update_parser, lab_parser):
        sub.add_argument("--release", type=Path, default=RELEASE, help="default: %(default)s")
        sub.add_argument("--into", type=Path, default=FOLDER, help="default: %(default)s")

    check_parser = command("check", "run your saved notebooks and report every test", run_check)
    check_parser.add_argument(
        "notebooks", nargs="*", metavar="NOTEBOOK", help="e.g. 01_loss (default: all)"
    )
    check_parser.add_argument("--folder", type=Path, default=FOLDER, help="default: %(default)s")
    check_parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=CELL_TIMEOUT,
        help="seconds per cell (default: %(default)s)",
    )
    check_parser.add_argument(
        "--release", type=Path, default=RELEASE, help="the assignment (default: %(default)s)"
    )
    check_parser.add_argument(
        "--jobs",
        type=positive_int,
        default=CHECK_JOBS,
        help="notebooks run at the same time, each in its own kernel (default: %(default)s)",
    )

    submit_parser = command("submit", "zip your notebooks for handing in", run_submit)
    submit_parser.add_argument("--folder", type=Path, default=FOLDER, help="default: %(default)s")
    submit_parser.add_argument("--student", help="your student id (default: your login name)")
    submit_parser.add_argument(
        "--out", type=Path, default=Path("."), help="folder for the zip (default: here)"
    )
    submit_parser.add_argument(
        "--release",
        type=Path,
        default=RELEASE,
        help="the notebooks expected (default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except StudentError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
