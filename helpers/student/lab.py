"""``lab``: fill the working folder, then open JupyterLab there, set up for students.

Interface:
    lab_command(release, into, options=()) -> (argv, environment, course root)
    LAB_CONFIG: the student's Jupyter settings (helpers/lab_config)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from helpers.student.fill import fill, report_fill

# Student-side Jupyter settings (instructor pages switched off), read by the lab through
# JUPYTER_CONFIG_PATH, before the environment's own settings.
LAB_CONFIG = Path(__file__).resolve().parents[1] / "lab_config"


def lab_command(
    release: Path, into: Path, options: Sequence[str] = ()
) -> tuple[list[str], dict[str, str], Path]:
    """The command line, environment and working folder of the student's JupyterLab, serving
    ``into``.

    It runs in the course root (``release/<assignment>/..``), where nbgrader's Validate button
    looks for the course's ``nbgrader_config.py``.
    """
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={into.resolve()}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and cloud notebooks
        argv.append("--allow-root")
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if headless:  # no screen: do not start a text-mode browser in this terminal
        argv.append("--no-browser")
    environment = dict(os.environ)
    paths = [str(LAB_CONFIG), *filter(None, [environment.get("JUPYTER_CONFIG_PATH")])]
    environment["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    return argv + list(options), environment, release.resolve().parent.parent


def run_lab(args: argparse.Namespace) -> int:
    report_fill(fill(args.release, args.into), args.release, args.into)
    options = args.options[1:] if args.options[:1] == ["--"] else args.options
    argv, environment, course_root = lab_command(args.release, args.into, options)
    print(f"\nStarting JupyterLab on {args.into} (stop it with Ctrl+C) ...", flush=True)
    try:
        return subprocess.run(argv, env=environment, cwd=course_root).returncode
    except KeyboardInterrupt:
        return 0
