"""What a student sees in JupyterLab: figures, messages, a clean notebook, no instructor pages.

Each test opens notebooks in the student's lab (see conftest.py), acts as a student would
(Run All, typing an answer, Validate) and reads the page. Screenshots: ``out/browser/``.
"""

from __future__ import annotations

import re

import pytest
from test_notebooks import FIGURE_CELLS

pytestmark = pytest.mark.slow

NOTEBOOKS = [
    "01_loss.ipynb",
    "02_activation_backward.ipynb",
    "03_layer_backward.ipynb",
    "04_L_layer_backward.ipynb",
    "05_update_parameters.ipynb",
    "06_model.ipynb",
    "07_predict.ipynb",
]
RUN_SECONDS = 180  # notebook 7 trains a network: about 10 s here, more on a busy machine
# the one-page summary that closes a notebook, by a phrase of its heading
SUMMARIES = {"04_L_layer_backward.ipynb": "Summary: the whole backward pass on one page"}
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in front
KERNEL = "Python 3 (backprop course)"
ERROR_OUTPUT = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
IMAGE_OUTPUT = ".jp-OutputArea-output img"
WRONG_LOSS = '''def compute_loss(HL, Y):
    """Forgot to take the mean over the m images."""
    return float(-np.sum(Y * np.log(np.clip(HL, 1e-12, 1.0))))'''

SCIPY_LOSS = '''def compute_loss(HL, Y):
    from scipy.special import xlogy
    return float(-np.sum(xlogy(Y, HL)) / Y.shape[1])'''


# Execution prompts of the notebook in front: "[ ]:" not run, "[*]:" running, "[3]:" ran.
PROMPTS = r"""[...document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)')
               .querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent)"""
FIRST_CELL_STARTED = rf"() => /\[(\*|\d+)\]/.test({PROMPTS}[0])"
EVERY_CELL_RAN = rf"() => {PROMPTS}.every(p => /\[\d+\]/.test(p))"


def open_notebook(page, lab, path: str) -> None:
    page.goto(lab.url(path))
    page.wait_for_selector(f"{NOTEBOOK} .jp-Cell", timeout=60_000)
    # the status bar names the kernel once it is connected and idle
    page.locator(".jp-StatusBar-Widget", has_text=f"{KERNEL} | Idle").wait_for(timeout=60_000)
    assert page.locator(".jp-NotebookPanel").count() == 1


def run_all(page) -> None:
    """Run > Run All Cells, as a student would; once more if no cell started within 20 s (a
    Run All given in the instant the kernel connects can be dropped by JupyterLab)."""
    for attempt in range(2):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        try:
            page.wait_for_function(FIRST_CELL_STARTED, timeout=20_000)
            return
        except Exception:
            if attempt:
                raise


def wait_until_every_cell_ran(page, screenshots, seconds: float = RUN_SECONDS) -> None:
    """Every code cell has its execution number: the whole notebook ran."""
    try:
        wait_for_prompts(page, seconds)
    except Exception:
        prompts = page.locator(f"{NOTEBOOK} .jp-CodeCell .jp-InputPrompt").all_inner_texts()
        status = page.locator(f"{NOTEBOOK} .jp-Notebook-ExecutionIndicator").get_attribute(
            "data-status"
        )
        page.screenshot(path=screenshots / "timed-out.png")
        raise AssertionError(f"not every cell ran: prompts {prompts}, kernel {status}") from None


def wait_for_prompts(page, seconds: float) -> None:
    page.wait_for_function(EVERY_CELL_RAN, timeout=seconds * 1000)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def cell_with_text(page, text: str):
    return page.locator(
        f"{NOTEBOOK} .jp-CodeCell", has=page.locator(".jp-OutputArea", has_text=text)
    )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_solved_notebook_runs_without_an_error_and_shows_every_figure(
    page, lab, screenshots, name
):
    open_notebook(page, lab, f"solved/{name}")
    run_all(page)
    wait_until_every_cell_ran(page, screenshots)
    errors = page.locator(f"{NOTEBOOK} {ERROR_OUTPUT}").all_inner_texts()
    assert not errors, f"{name}: {errors[0][:500]}"
    outputs = " ".join(page.locator(f"{NOTEBOOK} .jp-OutputArea").all_inner_texts())
    assert "Figure size" not in outputs, f"{name} shows a figure as text"
    figures = page.locator(f"{NOTEBOOK} .jp-CodeCell").filter(has=page.locator(IMAGE_OUTPUT))
    assert figures.count() == FIGURE_CELLS.get(name, 0)
    for index in range(figures.count()):
        cell = figures.nth(index)
        cell.scroll_into_view_if_needed()
        # a picture that loaded, not a broken image
        assert cell.locator(IMAGE_OUTPUT).evaluate("img => img.complete && img.naturalWidth > 100")
        cell.screenshot(path=screenshots / f"{slug(name)}-figure-{index + 1}.png")
    if name in SUMMARIES:  # a page meant to be read whole: its table rendered, on one screen
        summary = page.locator(f"{NOTEBOOK} .jp-MarkdownCell", has_text=SUMMARIES[name])
        summary.scroll_into_view_if_needed()
        assert summary.locator("table tr").count() >= 8, f"{name}: the summary's table"
        assert summary.bounding_box()["height"] < page.viewport_size["height"]
        summary.screenshot(path=screenshots / f"{slug(name)}-summary.png")
    page.screenshot(path=screenshots / f"{slug(name)}-end.png")


def answer_and_run(page, lab, code: str, shown: str, screenshot):
    """Type ``code`` into notebook 1's answer cell as a student would, Run All, and return the
    cell whose output shows ``shown``, after a screenshot of it."""
    open_notebook(page, lab, "01_loss.ipynb")
    answer = page.locator(f"{NOTEBOOK} .jp-CodeCell", has_text="YOUR CODE HERE").first
    answer.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)
    run_all(page)
    cell = cell_with_text(page, shown)
    cell.wait_for(timeout=60_000)
    cell.scroll_into_view_if_needed()
    cell.screenshot(path=screenshot)
    return cell


def test_a_typical_wrong_answer_shows_its_hint_first(page, lab, screenshots):
    failed = answer_and_run(page, lab, WRONG_LOSS, "loss of the three images",
                            screenshots / "01_loss-wrong-answer-hint.png")
    text = failed.locator(ERROR_OUTPUT).inner_text()
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 2, lines
    assert lines[0] == (
        "CheckFailed: loss of the three images: expected 1.02009, got 3.06027; it is m = 3 "
        "times too large: the mean needs a factor 1/m"
    )
    assert lines[1].lstrip().startswith("line 6: assert_scalar_close(")
    assert "helpers" not in text


def test_an_answer_grading_would_refuse_is_refused_when_run(page, lab, screenshots):
    """The set-up cell installs the answer-cell rules in the kernel: JupyterLab sends each
    cell's metadata with its code, so the kernel knows the answer cell and refuses it."""
    refused = answer_and_run(page, lab, SCIPY_LOSS, "AnswerRefused",
                             screenshots / "01_loss-refused-answer.png")
    text = " ".join(refused.locator(ERROR_OUTPUT).inner_text().split())
    assert text.startswith("AnswerRefused: Grading refuses this answer cell, so none of it ran: "
                           "it imports scipy.special: answers may import only numpy"), text
    assert "scipy" in refused.locator(".cm-content").inner_text()  # the student's code is kept


def test_notebook_7_with_notebook_6_unfinished_says_so_in_one_line(page, lab, screenshots):
    open_notebook(page, lab, "unfinished/07_predict.ipynb")
    run_all(page)
    failed = cell_with_text(page, "AnswerNotReady")
    failed.wait_for(timeout=RUN_SECONDS * 1000)
    failed.scroll_into_view_if_needed()
    failed.screenshot(path=screenshots / "07_predict-notebook-6-unfinished.png")
    text = failed.locator(ERROR_OUTPUT).inner_text().strip()
    assert text == (
        "AnswerNotReady: L_layer_model in 06_model.ipynb is not finished yet: complete it "
        "there, save that notebook, and run this notebook again"
    )


def test_opening_a_notebook_does_not_mark_it_modified(page, lab, screenshots):
    open_notebook(page, lab, "02_activation_backward.ipynb")
    page.wait_for_timeout(1500)  # the kernel's details arrive after it is idle
    assert page.locator(".lm-TabBar-tab.jp-mod-dirty").count() == 0
    kernel = page.locator(".jp-Toolbar-kernelName").inner_text()
    assert kernel == KERNEL
    page.screenshot(path=screenshots / "02-opened.png")


def test_the_lab_offers_the_students_tools_only(page, lab, screenshots):
    open_notebook(page, lab, "solved/05_update_parameters.ipynb")
    menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert menus == ["File", "Edit", "View", "Run", "Kernel", "Tabs", "Settings", "Help"]
    sidebars = " ".join(
        page.locator(".jp-SideBar .lm-TabBar-tab").evaluate_all(
            "tabs => tabs.map(t => t.getAttribute('title') || t.textContent)"
        )
    )
    assert "Create Assignment" not in sidebars
    page.keyboard.press("Control+Shift+c")  # the command palette lists every command
    page.keyboard.insert_text("formgrader")
    commands = page.locator(".lm-CommandPalette-item:not(.lm-mod-hidden)").all_inner_texts()
    assert not [c for c in commands if re.search("formgrader|course list", c, re.I)]
    page.keyboard.press("Escape")
    for address in ("/formgrader", "/assignments", "/courses"):
        assert lab.request("GET", address)[0] == 404, address
    # the student's check of a notebook, with the course's nbgrader settings
    page.locator(".jp-Toolbar-item", has_text="Validate").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=120_000)
    dialog.get_by_text("Success!").wait_for(timeout=120_000)
    page.screenshot(path=screenshots / "validate.png")
    assert "No nbgrader_config.py file found" not in lab.log.read_text()
