# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Every target creates .venv and installs requirements.txt into it first, when needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The official MNIST test files live outside the project; tests and reports find them here
# when that folder exists (a setting of your own wins).
MNIST_FOLDER := $(abspath $(CURDIR)/../shared/data/mnist)
ifneq ($(wildcard $(MNIST_FOLDER)/t10k-images-idx3-ubyte.gz),)
export BACKPROP_MNIST_DIR ?= $(MNIST_FOLDER)
endif
# Notebooks run on the kernel installed into .venv, whatever other kernels the machine has.
export JUPYTER_PATH := $(abspath $(VENV)/share/jupyter)
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0
# nbgrader runs tools (alembic) from the environment it is installed in.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help venv demo train test lint bench bench-grading release clean notebooks lab update \
	check submit grade browsers

help:
	@echo "make demo   grade sample submissions end to end: gradebook, release, autograde, feedback, export"
	@echo "make train  train the reference network on the bundled data and save its figures"
	@echo "make grade  autograde everyone in submitted/ on every core (the course's own gradebook)"
	@echo "make lab    copy the notebooks you do not have yet into notebooks/, open JupyterLab"
	@echo "            (LAB_OPTIONS=\"--port 8890\" passes options to JupyterLab)"
	@echo "make update take a newer release into notebooks/, keeping your answers (and a backup)"
	@echo "make check  run your saved notebooks and list every test (NOTEBOOK=01_loss for one)"
	@echo "make submit zip notebooks/ for handing in (STUDENT=your_id, default: login name)"
	@echo "make test   lint and run every test"
	@echo "make bench  compare the course text's training recipe with the taught one"
	@echo "make bench-grading  serial nbgrader autograde against the parallel command (40 students)"
	@echo "make release  regenerate release/ from source/ with nbgrader"
	@echo "make lint   ruff over the project's code"
	@echo "make clean  remove the virtual environment and everything runs produced"

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (backprop course)" >/dev/null
	touch $@

demo: $(STAMP)
	$(BIN)/python -m helpers.grading_demo --out out/demo

train: $(STAMP)
	$(BIN)/python -m helpers.demo --out out/train

grade: $(STAMP)
	$(BIN)/python -m helpers.grade_class --root .

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

test: lint
	bash .ci/install-postgres
	bash .ci/install-chromium
	# one BLAS thread per worker: two workers with two threads each would fight over 2 cores
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadfile \
		tests source/backprop --nbval-lax --nbval-current-env

lint: $(STAMP)
	$(BIN)/ruff check helpers tests benchmarks

# release/ is generated from source/ and committed; a test fails when the two drift apart.
release: $(STAMP)
	$(BIN)/nbgrader generate_assignment backprop --force

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_training.py

# about 20 minutes on 2 cores
bench-grading: $(STAMP)
	$(BIN)/python benchmarks/bench_grading.py --n 40

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
