"""Grading kernels in a bubblewrap sandbox: the kernel sees the Python environment, the
shipped ``helpers`` and its own notebook folder, and nothing else of the course.

``GradingExecute`` (``helpers.instructor.preprocessors``) starts every grading kernel through a
kernelspec whose command is this module: ``python -m helpers.instructor.sandbox
{connection_file} ...``. Run by jupyter_client in the notebook's folder, it sets the limits and
replaces itself by ``bwrap``, which starts the kernel with:

    * a file system of its own: the Python environment, ``helpers`` without ``instructor/``,
      a few files of ``/etc``, all read-only; its notebook folder as a size-limited tmpfs
      holding read-only views of the folder's files (what the kernel writes there vanishes
      with it); a private, size-limited ``/tmp``; nothing of ``source/``, ``submitted/``,
      other students, the gradebook or the instructor's code;
    * no network (an empty network namespace: the kernel talks to nbgrader over Unix sockets);
    * its own process namespace: it cannot see or signal any other process, and every process
      it starts dies with it; the sandbox dies with the process that grades it (bwrap's
      ``--die-with-parent``, and before bwrap runs this launcher's own parent-death signal,
      so that a grading process killed while its kernel starts leaves no kernel behind);
    * limits on memory (address space), CPU time, processes, file size and open files;
    * as root, a user id of its own that no account uses (the process limit counts per user,
      and holds for no process of root); as another user, that user's id in a user namespace.

Interface:
    problem() -> str | None       why the sandbox cannot run here, or None
    require()                     raise ``SandboxMissing`` with that reason
    write_kernelspec(folder) -> folder holding the ``backprop-sandbox`` kernelspec
    kernel_manager(scratch, manager_class=None, **options) -> a manager of a sandboxed kernel
    bwrap_command(folder, connection_file, sockets, uid, kernel_command) -> argv
    LIMITS                        the resource limits (see ``set_limits``)
    main(argv)                    the kernel launcher
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import helpers
from helpers.instructor.supervise import die_with_parent

KERNEL_NAME = "backprop-sandbox"
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; "
                "Fedora: dnf install bubblewrap)")

MIB = 1024 * 1024
LIMITS = {
    "memory": 2048 * MIB,  # address space of each process: a memory bomb gets MemoryError
    "cpu_seconds": 300,  # CPU time of the kernel process: a busy loop ends
    "tasks": 256,  # processes and threads of the kernel's user id
    "file_size": 64 * MIB,  # largest file it may write
    "open_files": 256,
    "folder_size": 64 * MIB,  # tmpfs over the notebook's folder
    "tmp_size": 64 * MIB,  # private /tmp
}
FIRST_UID = 1_000_000_000  # sandboxed kernels of root run as FIRST_UID + (pid % 1,000,000)

_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group",
        "nsswitch.conf", "alternatives", "fonts", "mime.types")
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64")


class SandboxMissing(RuntimeError):
    """Grading cannot sandbox its kernels on this machine."""


def problem() -> str | None:
    """Why sandboxed kernels cannot start here (one line), or None when they can."""
    if not sys.platform.startswith("linux"):
        return f"sandboxed grading needs Linux with bubblewrap; this is {sys.platform}"
    if shutil.which("bwrap") is None:
        return f"sandboxed grading needs bubblewrap (bwrap), which is not installed: {INSTALL_HINT}"
    return _probe()


@functools.cache  # once per process: every notebook graded asks
def _probe() -> str | None:
    """Why bwrap cannot make this sandbox's namespaces here, or None."""
    probe = subprocess.run(["bwrap", *_namespaces(), "--ro-bind", "/", "/", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        reason = probe.stderr.strip().splitlines()[-1:] or ["no message"]
        return f"bubblewrap cannot create a sandbox here: {reason[0]}"
    return None


def require() -> None:
    reason = problem()
    if reason is not None:
        raise SandboxMissing(
            f"{reason} (or grade without a sandbox, at your own risk: --unsandboxed)")


def write_kernelspec(folder: Path) -> Path:
    """A kernelspec folder under ``folder`` whose kernel starts through this module."""
    spec = Path(folder) / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "helpers.instructor.sandbox", "{connection_file}"],
        "display_name": "Python 3 (sandboxed grading)",
        "language": "python",
        # nbclient interrupts a cell that runs too long; a signal would end the whole sandbox
        "interrupt_mode": "message",
    }))
    return spec.parent


def kernel_manager(scratch: Path, manager_class=None, **options):
    """A kernel manager (``manager_class``, default jupyter_client's ``AsyncKernelManager``, as
    nbclient's) whose kernel starts in this sandbox; its kernelspec and sockets go into
    ``scratch`` (created), outside the notebook's folder."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    scratch = Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    km = (manager_class or AsyncKernelManager)(kernel_name=KERNEL_NAME, **options)
    km.kernel_spec_manager = KernelSpecManager(kernel_dirs=[str(write_kernelspec(scratch))])
    sockets = scratch / "sockets"
    sockets.mkdir()
    km.transport, km.ip = "ipc", str(sockets / "kernel")  # the sandbox has no network
    return km


def _namespaces() -> list[str]:
    user = [] if os.geteuid() == 0 else ["--unshare-user", "--disable-userns"]
    return [*user, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session"]


def bwrap_command(folder: str, connection_file: str, connection_fd: int, sockets: str,
                  uid: int | None, kernel_command: list[str]) -> list[str]:
    """The bwrap command line that runs ``kernel_command`` sandboxed in ``folder``.

    ``connection_fd`` is open on ``connection_file`` (which the kernel, under another user id,
    could not read itself); ``sockets`` is the folder of the kernel's Unix sockets; ``uid`` is
    the id to run as (root only; None otherwise).
    """
    folder = os.path.abspath(folder)
    # /tmp first: the environment or the course may live below it (a fresh clone in a
    # mktemp folder), and a tmpfs mounted later would hide them
    mounts = [("--tmpfs", "/tmp", "1777", LIMITS["tmp_size"]), *_read_only_system(),
              ("--proc", "/proc"), ("--dev", "/dev"),
              ("--tmpfs", folder, "1777", LIMITS["folder_size"])]
    mounts += [("--ro-bind", os.path.join(folder, entry)) for entry in sorted(os.listdir(folder))]
    mounts += [("--bind", sockets), ("--ro-bind-data", str(connection_fd), connection_file, "0444")]
    mnist = os.environ.get("BACKPROP_MNIST_DIR", "").strip()
    environment = _environment()
    if mnist and os.path.isdir(mnist):  # the official MNIST files, read-only, if there are any
        mounts.append(("--ro-bind", os.path.abspath(mnist)))
        environment["BACKPROP_MNIST_DIR"] = os.path.abspath(mnist)
    args = ["bwrap", *_namespaces(), *_mount_arguments(mounts), "--chdir", folder, "--clearenv"]
    for name, value in environment.items():
        args += ["--setenv", name, value]
    if uid is None:
        return [*args, "--cap-drop", "ALL", "--", *kernel_command]
    drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs", "--"]
    caps = ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
    return [*args, *caps, "--", *drop, *kernel_command]


def _read_only_system() -> list[tuple]:
    mounts = []
    for path in _SYSTEM:
        if os.path.islink(path):
            mounts.append(("--symlink", os.readlink(path), path))
        elif os.path.isdir(path):
            mounts.append(("--ro-bind", path))
    mounts += [("--ro-bind-try", f"/etc/{name}") for name in _ETC]
    python = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))}
    mounts += [("--ro-bind", path) for path in sorted(python)]
    package = os.path.dirname(os.path.abspath(helpers.__file__))
    hidden = os.path.join(package, "instructor")
    mounts += [("--ro-bind", package), ("--tmpfs", hidden, "0755", 4096), ("--remount-ro", hidden)]
    return mounts


def _mount_arguments(mounts: list[tuple]) -> list[str]:
    """bwrap arguments for ``mounts``: (op, path) binds a path onto itself, (op, source, dest)
    with an optional mode, (--tmpfs, dest, mode, size). Missing parent folders are made
    world-readable first: bwrap would make them private to root, and the kernel runs as
    another user."""
    args, made = [], set()
    for op, *rest in mounts:
        destination = rest[0] if op in ("--ro-bind", "--bind", "--ro-bind-try", "--tmpfs",
                                       "--remount-ro", "--proc", "--dev") else rest[1]
        for parent in reversed(Path(destination).parents):
            if str(parent) != "/" and parent not in made:
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        if op == "--tmpfs":
            args += ["--perms", rest[1], "--size", str(rest[2]), "--tmpfs", destination]
        elif op == "--ro-bind-data":
            args += ["--perms", rest[2], op, rest[0], destination]
        elif op in ("--remount-ro", "--proc", "--dev"):
            args += [op, destination]
        elif op == "--symlink":
            args += [op, rest[0], destination]
        else:
            args += [op, rest[0], rest[1] if len(rest) > 1 else rest[0]]
        made.add(Path(destination))
    return args


def _environment() -> dict[str, str]:
    return {
        "PATH": f"{os.path.join(sys.prefix, 'bin')}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "IPYTHONDIR": "/tmp/ipython",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NBGRADER_EXECUTION": "autograde",
        # the kernel's parent is the sandbox's init, pid 1: ipykernel then neither watches it
        # nor prints its "Ctrl-C will not work" banner into the grading log
        "JPY_PARENT_PID": "1",
        # one thread each: kernels of several students share the cores
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    }


def set_limits(uid: int | None) -> None:
    """Resource limits of this process, inherited by the sandbox and everything in it."""
    tasks = LIMITS["tasks"]
    if uid is None:  # the grader's own user: its processes count too
        tasks += _tasks_of(os.getuid())
    for limit, value in [(resource.RLIMIT_AS, LIMITS["memory"]),
                         (resource.RLIMIT_CPU, LIMITS["cpu_seconds"]),
                         (resource.RLIMIT_NPROC, tasks),
                         (resource.RLIMIT_FSIZE, LIMITS["file_size"]),
                         (resource.RLIMIT_NOFILE, LIMITS["open_files"]),
                         (resource.RLIMIT_CORE, 0)]:
        resource.setrlimit(limit, (value, value))


def _tasks_of(uid: int) -> int:
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                count += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            continue
    return count


def main(argv: list[str] | None = None) -> int:
    """Launch a sandboxed kernel: ``python -m helpers.instructor.sandbox CONNECTION_FILE
    [kernel arguments]``, run by jupyter_client in the notebook's folder."""
    connection_file, *kernel_args = sys.argv[1:] if argv is None else argv
    # bwrap binds itself to its parent only once it has started its sandbox: until then this
    # process does (the setting survives the exec), and the grading process that started it
    # (jupyter_client names it) may have ended already
    die_with_parent(int(os.environ.get("JPY_PARENT_PID") or 0))
    connection_file = os.path.abspath(connection_file)
    with open(connection_file) as file:
        connection = json.load(file)
    if connection.get("transport") != "ipc":
        raise SystemExit("the sandboxed kernel needs jupyter_client's ipc transport")
    sockets = os.path.dirname(os.path.abspath(connection["ip"]))
    uid = None
    if os.geteuid() == 0:
        uid = FIRST_UID + os.getpid() % 1_000_000
        os.chown(sockets, uid, uid)
    fd = os.open(connection_file, os.O_RDONLY)
    os.set_inheritable(fd, True)
    kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file, *kernel_args]
    command = bwrap_command(os.getcwd(), connection_file, fd, sockets, uid, kernel)
    set_limits(uid)
    os.execvp(command[0], command)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
