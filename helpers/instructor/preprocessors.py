"""The course's nbgrader preprocessors: they run in nbgrader's process, never in a kernel.

    GradingExecute         (Autograde.autograde_preprocessors, in place of nbgrader's Execute)
                           runs the student's cells in a sandboxed kernel
                           (``helpers.instructor.sandbox``) and the test cells in this process
                           (``helpers.instructor.judge``), where the kernel cannot reach them;
                           the kernel of the student's next notebook starts while this one
                           runs, and each kernel is killed after its last cell
    RestoreDeletedTests    (Autograde.sanitize_preprocessors) nbgrader's OverwriteCells, without
                           its KeyError on a test cell deleted after a read-only cell
    ClearHiddenTestCode    (GenerateFeedback.preprocessors) nbgrader's ClearHiddenTests for the
                           test cells only: a student's cell that merely contains nbgrader's
                           markers would make it fail, and with it the student's feedback
    StripTestTracebacks    (GenerateFeedback.preprocessors) feedback keeps only the last line of
                           an error in a test cell (``CheckFailed: dW: expected shape (3, 4), got
                           (4, 3)``), which the tests write to be read, not the hidden code that
                           a traceback would print

Answer cells that break ``helpers.answer_rules`` are refused by the hook every notebook run
shares (``helpers.student.execution``): grading, the student's check and the Validate button
judge them alike. That guard is a friendly first check: nothing about the grade's safety rests
on it. What keeps grades honest is that no test runs in the student's kernel, and the kernel
runs in a sandbox.

Interface:
    GradingExecute, RestoreDeletedTests, ClearHiddenTestCode, StripTestTracebacks
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from jupyter_core.utils import run_sync
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor, OverwriteCells
from traitlets import Bool, Enum

from helpers.answer_rules import refused_cells
from helpers.instructor import sandbox
from helpers.instructor.judge import Judge, NotebookTests

UNSANDBOXED = ("grading WITHOUT a sandbox (--unsandboxed): the students' code runs with this "
               "process's rights and can read and change the course folder")


class GradingExecute(Execute):
    """nbgrader's ``Execute``, with the student's cells in a sandboxed kernel and the test
    cells judged in this process (see the module's docstring)."""

    sandbox = Bool(True, help="Run grading kernels in a bubblewrap sandbox.").tag(config=True)
    # Nothing of a grading kernel is needed after its notebook's last cell: the outputs are in
    # the notebook, the kernel's files vanish with its sandbox. So it is killed at once instead
    # of being asked to shut down and waited for (about 0.3-0.4 s a notebook, seven per
    # submission). "graceful" restores nbclient's default (the benchmark's "before").
    shutdown_kernel = Enum(["graceful", "immediate"], default_value="immediate",
                           help="How a grading kernel ends after the last cell.").tag(config=True)
    # see async_start_new_kernel
    start_next_early = Bool(True, help="Start the kernel of the student's next notebook "
                            "while this one runs (sandboxed kernels only).").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        if self.sandbox:
            sandbox.require()
        else:
            self.log.warning(UNSANDBOXED)
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            order = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells]
            self._tests = NotebookTests.from_gradebook(
                gradebook, info["notebook"], info["assignment"], order)
            notebooks = [n.name for n in gradebook.find_assignment(info["assignment"]).notebooks]
        # nbgrader grades a student's notebooks in the order of their names, in one folder
        # (and copies each there only when its turn comes)
        self._next_notebook = any(name > info["notebook"] for name in notebooks)
        self._judge = self._client = None
        with tempfile.TemporaryDirectory(prefix="backprop-kernel-") as scratch:
            self._scratch = Path(scratch)
            try:
                nb, resources = super().preprocess(nb, resources, km)
            finally:
                if self._client is not None:
                    self._client.stop_channels()
                _Spare.clean_up_used()
        for grade_id, problems in refused_cells(nb).items():  # the guard ran at the start
            self.log.warning("Refused answer cell %s: %s", grade_id, "; ".join(problems))
        return nb, resources

    def create_kernel_manager(self):
        if not self.sandbox:
            return super().create_kernel_manager()
        self.kernel_name = sandbox.KERNEL_NAME
        self.km = self._sandboxed_manager(self._scratch)
        return self.km

    def _sandboxed_manager(self, scratch: Path):
        """A manager for a sandboxed kernel whose kernelspec and sockets are in ``scratch``."""
        return sandbox.kernel_manager(scratch, self.kernel_manager_class, config=self.config)

    async def async_start_new_kernel(self, **kwargs):
        # A kernel takes about half a second of CPU to start. The kernel of the student's next
        # notebook starts while this one runs, so that the core's idle moments (the waits for
        # the kernel's replies) go into it; the next notebook then finds its kernel started,
        # in the same folder, with the same arguments, and nothing run in it yet. Its sandbox
        # shows the folder's files as they were when it started: the earlier notebooks, which
        # load_answers reads, but not its own notebook, which nbgrader copies in later and no
        # kernel reads.
        spare = await _Spare.take(self._folder()) if self.sandbox else None
        if spare is None:
            await super().async_start_new_kernel(**kwargs)
        else:
            self.km = spare

    async def async_start_new_kernel_client(self):
        client = await super().async_start_new_kernel_client()
        # once this notebook's kernel is ready: it goes first
        if self.sandbox and self.start_next_early and self._next_notebook:
            try:
                await _Spare.start(self, self._folder())
            except Exception as error:  # the next notebook starts its own kernel, as without
                self.log.warning("Could not start the next notebook's kernel early: %s", error)
        return client

    # nbclient's blocking set-up calls these wrappers, made from its own coroutines
    start_new_kernel = run_sync(async_start_new_kernel)
    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _folder(self) -> str | None:
        return self.resources.get("metadata", {}).get("path") or None

    def preprocess_cell(self, cell, resources, index):
        if not self._tests.is_test_cell(cell):
            return super().preprocess_cell(cell, resources, index)
        cell.outputs = self._the_judge().run(cell)
        cell.execution_count = None
        return cell, resources

    def _the_judge(self) -> Judge:
        if self._judge is None:
            # kept apart from the judge, so that it is stopped even when no judge comes of it:
            # a client left to the garbage collector with its sockets open can hang the
            # process in zmq's Context.term
            self._client = self.km.blocking_client()
            self._client.start_channels(iopub=False, hb=False)
            self._judge = Judge(self._tests, self._client, self.timeout,
                                alive=run_sync(self.km.is_alive))
        return self._judge


class _Spare:
    """The one kernel started early in this process: for the next notebook of the student
    being graded, in that student's folder. One process grades one notebook at a time."""

    waiting = None  # (folder, kernel manager, scratch folder), started and unused
    used = []  # scratch folders of spares taken, removed once their notebook is graded

    @classmethod
    async def start(cls, execute: GradingExecute, folder: str | None) -> None:
        await cls.discard()
        scratch = tempfile.TemporaryDirectory(prefix="backprop-kernel-")
        current = execute.km
        # nbclient's own start (its arguments, its working folder), on a manager of our own
        execute.km = execute._sandboxed_manager(Path(scratch.name))
        try:
            await super(GradingExecute, execute).async_start_new_kernel()
            cls.waiting = (folder, execute.km, scratch)
        except Exception:
            scratch.cleanup()
            raise
        finally:
            execute.km = current

    @classmethod
    async def take(cls, folder: str | None):
        """The spare started for ``folder``, if it is there and alive (then it is the caller's);
        any other spare is stopped."""
        if cls.waiting is not None and cls.waiting[0] == folder:
            _, km, scratch = cls.waiting
            cls.waiting = None
            if await km.is_alive():
                cls.used.append(scratch)
                return km
            await km.cleanup_resources()
            scratch.cleanup()
        await cls.discard()
        return None

    @classmethod
    async def discard(cls) -> None:
        if cls.waiting is not None:
            _, km, scratch = cls.waiting
            cls.waiting = None
            try:
                await km.shutdown_kernel(now=True)
            finally:
                scratch.cleanup()

    @classmethod
    def clean_up_used(cls) -> None:
        while cls.used:
            cls.used.pop().cleanup()


class RestoreDeletedTests(OverwriteCells):
    """nbgrader's ``OverwriteCells``, putting deleted test cells back wherever they were.

    nbgrader re-inserts a deleted test cell after the cell that preceded it in the source, but
    only finds that cell when it is an answer or test cell: after a read-only cell (a heading
    above the tests, say) it raises ``KeyError`` and the whole notebook goes ungraded. Here the
    cell goes after the nearest earlier source cell still in the notebook, whatever its kind.
    """

    def add_missing_grade_cells(self, nb, resources):
        source = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_ids = [cell.name for cell in source.source_cells]
        solution_ids = {cell.name for cell in source.solution_cells}
        for grade_cell in sorted(source.grade_cells, key=lambda c: source_ids.index(c.name)):
            present = _positions_by_grade_id(nb)
            if grade_cell.name in present:
                continue
            self.log.warning("Missing grade cell %s, adding it back", grade_cell.name)
            position = source_ids.index(grade_cell.name)
            cell = self.missing_cell_transform(
                source.source_cells[position],
                grade_cell.max_score,
                is_solution=grade_cell.name in solution_ids,
            )
            earlier = [present[name] for name in source_ids[:position] if name in present]
            nb.cells.insert(max(earlier) + 1 if earlier else 0, cell)
        return nb, resources


def _positions_by_grade_id(nb) -> dict[str, int]:
    return {
        cell.metadata["nbgrader"]["grade_id"]: index
        for index, cell in enumerate(nb.cells)
        if "grade_id" in cell.metadata.get("nbgrader", {})
    }


class ClearHiddenTestCode(ClearHiddenTests):
    """Remove the hidden tests' code from test cells; leave every other cell as it is."""

    def preprocess_cell(self, cell, resources, index):
        if utils.is_grade(cell) and not utils.is_solution(cell):
            return super().preprocess_cell(cell, resources, index)
        return cell, resources


class StripTestTracebacks(NbGraderPreprocessor):
    """In test cells, replace every error's traceback by its one-line summary."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename')}: {output.get('evalue')}"]
        return cell, resources
