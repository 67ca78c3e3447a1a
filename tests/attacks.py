"""What the attack samples (``kind = "attack"`` in helpers/instructor/samples.toml) are checked
against: canary files, a server on this machine, processes left behind, secrets in feedback."""

from __future__ import annotations

import contextlib
import html
import re
import secrets
import socket
import threading
from pathlib import Path

import psutil

from helpers.instructor import reference, sandbox

from project import line_pairs, public_pairs, secret_snippets

SERVER_PORT = 47811  # the port uses_the_network tries


def plant_canaries(root: Path) -> dict[Path, bytes]:
    """A file of random text in the course root and in every student's submission folder."""
    students = (root / "submitted").glob("*")
    paths = [root / "canary.txt", *(folder / "canary.txt" for folder in students)]
    canaries = {}
    for path in paths:
        path.write_text(f"canary {secrets.token_hex(16)}\n")
        canaries[path] = path.read_bytes()
    return canaries


@contextlib.contextmanager
def listening(port: int):
    """A TCP server on 127.0.0.1:``port`` while the block runs; yields the list of the
    connections it accepted."""
    accepted: list = []
    server = socket.create_server(("127.0.0.1", port), reuse_port=True)
    server.settimeout(0.2)
    done = threading.Event()

    def accept():
        while not done.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                connection, peer = server.accept()
                accepted.append(peer)
                connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield accepted
    finally:
        done.set()
        thread.join()
        server.close()


def sandboxed_processes(root: Path) -> list[str]:
    """Processes started by the attacks, or running under a sandbox's user id in a folder of
    the course ``root`` (other tests may be grading other courses meanwhile)."""
    left = []
    for process in psutil.process_iter(["uids", "cmdline", "cwd"]):
        uid = process.info["uids"].real if process.info["uids"] else 0
        command = " ".join(process.info["cmdline"] or [])
        in_course = str(process.info["cwd"] or "").startswith(str(root))
        if (uid >= sandbox.FIRST_UID and in_course) or "backprop-busy-loop" in command \
                or command == "sleep 1000":
            left.append(f"{process.pid} (uid {uid}): {command}")
    return left


def visible_text(page: str) -> str:
    """What a browser shows of an HTML page, as text."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def secret_pairs_in(text: str) -> set[str]:
    """Pairs of consecutive code lines of the hidden tests, the solutions or the reference
    module that occur in ``text``."""
    reference_pairs = line_pairs(Path(reference.__file__).read_text())
    return line_pairs(text) & (secret_snippets() | reference_pairs - _public())


def _public() -> set[str]:
    """Pairs every student has: the release's code and the shipped modules."""
    shipped = Path(reference.__file__).parents[1]
    modules = (line_pairs(path.read_text()) for path in shipped.glob("*.py"))
    return public_pairs().union(*modules)
