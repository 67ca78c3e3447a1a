# The student's commands, shared by the course's Makefile and the student kit's (make kit).
# Every target creates .venv and installs requirements.txt into it first, when needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KERNEL_NAME := Python 3 (backprop course)

# Notebooks run on the kernel installed into .venv, whatever other kernels the machine has.
export JUPYTER_PATH := $(abspath $(VENV)/share/jupyter)
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0
# nbgrader runs tools (alembic) from the environment it is installed in.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: venv notebooks lab update check submit

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "$(KERNEL_NAME)" >/dev/null
	touch $@

# The student's working folder. Release notebooks missing from it are copied in; a notebook
# already there is never overwritten, only reported when it differs from the release.
notebooks: $(STAMP)
	$(BIN)/python -m helpers.student fill --release release/backprop --into notebooks

# JupyterLab set up for students (helpers/lab_config): as root, headless, with LAB_OPTIONS.
lab: $(STAMP)
	$(BIN)/python -m helpers.student lab --release release/backprop --into notebooks \
		-- $(LAB_OPTIONS)

update: $(STAMP)
	$(BIN)/python -m helpers.student update --release release/backprop --into notebooks

# Runs copies of the saved notebooks; the files in notebooks/ are not changed. The command
# exits 1 when a test fails; make reports that as its own exit status 2.
check: $(STAMP)
	$(BIN)/python -m helpers.student check $(NOTEBOOK) --folder notebooks

# "$$STUDENT": the shell quotes the id, so that "alice smith" reaches the command whole.
submit: $(STAMP)
	$(BIN)/python -m helpers.student submit --folder notebooks --release release/backprop \
		$(if $(STUDENT),--student "$$STUDENT")
