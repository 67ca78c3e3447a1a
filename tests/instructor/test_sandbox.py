"""The grading sandbox's command line: no network, no instructor code, a private folder and
/tmp; and the one-line refusal when bubblewrap is missing. (That it holds against real attacks
is checked by grading the attack samples: tests/instructor/test_samples.py.)"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers.instructor import sandbox


def command(tmp_path, uid=None):
    (tmp_path / "01_loss.ipynb").write_text("{}")
    sockets = tmp_path / "sockets"
    sockets.mkdir()
    return sandbox.bwrap_command(str(tmp_path), "/run/kernel.json", 3, str(sockets), uid,
                                 [sys.executable, "-m", "ipykernel_launcher"])


def test_the_kernel_has_no_network_and_no_instructor_code(tmp_path):
    args = command(tmp_path)
    assert "--unshare-net" in args and "--unshare-pid" in args and "--die-with-parent" in args
    instructor = os.path.dirname(sandbox.__file__)
    assert args[args.index(instructor) - 1] == "--tmpfs", "instructor/ is an empty tmpfs"
    assert "--clearenv" in args


def test_the_notebook_folder_is_a_limited_tmpfs_with_read_only_files(tmp_path):
    args = command(tmp_path)
    folder = args.index(str(tmp_path), args.index("--dev"))
    assert args[folder - 1] == "--tmpfs"
    assert args[folder - 2] == str(sandbox.LIMITS["folder_size"])
    notebook = str(tmp_path / "01_loss.ipynb")
    assert args[args.index(notebook) - 1] == "--ro-bind"


def test_as_root_the_kernel_drops_to_its_own_user_id(tmp_path):
    args = command(tmp_path, uid=sandbox.FIRST_UID + 5)
    assert f"--reuid={sandbox.FIRST_UID + 5}" in args and "--no-new-privs" in args


def test_without_bubblewrap_grading_refuses_with_one_line(monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    with pytest.raises(sandbox.SandboxMissing) as refused:
        sandbox.require()
    message = str(refused.value)
    assert "\n" not in message and "apt-get install bubblewrap" in message
    assert "--unsandboxed" in message


def test_bubblewrap_works_on_this_machine():
    assert sandbox.problem() is None


def test_tmp_is_mounted_before_what_may_live_below_it(tmp_path):
    """A fresh clone in a mktemp folder has its environment below /tmp: a tmpfs mounted on /tmp
    after binding it would hide it, and every kernel would die at start."""
    args = command(tmp_path)
    tmp = args.index("/tmp", args.index("--tmpfs") - 1)
    assert args[tmp - 1] == "--tmpfs"
    assert tmp < args.index("--ro-bind")


def test_no_kernel_starts_for_a_grading_process_that_is_gone(tmp_path):
    """bwrap binds itself to its parent only once its sandbox is up: the launcher exits at once
    when the grading process that started it (jupyter_client's JPY_PARENT_PID) is no longer its
    parent, instead of starting a kernel that nothing would stop."""
    connection = tmp_path / "kernel.json"
    connection.write_text('{"transport": "ipc", "ip": "' + str(tmp_path / "kernel") + '"}')
    launched = subprocess.run(
        [sys.executable, "-m", "helpers.instructor.sandbox", str(connection)],
        cwd=tmp_path, capture_output=True, timeout=30,
        env={**os.environ, "JPY_PARENT_PID": str(os.getpid() + 1_000_000)})
    assert launched.returncode == 1 and launched.stderr == b""
