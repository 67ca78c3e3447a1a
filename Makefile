# Two commands do everything on a fresh machine: `make demo` and `make test`.
# The student's commands (lab, update, check, submit) and the environment: student.mk.

include student.mk
.DEFAULT_GOAL := help

# The official MNIST test files live outside the project; tests and reports find them here
# when that folder exists (a setting of your own wins).
MNIST_FOLDER := $(abspath $(CURDIR)/../shared/data/mnist)
ifneq ($(wildcard $(MNIST_FOLDER)/t10k-images-idx3-ubyte.gz),)
export BACKPROP_MNIST_DIR ?= $(MNIST_FOLDER)
endif

.PHONY: help demo train test lint bench bench-grading release kit clean grade

help:
	@echo "make demo   grade sample submissions end to end: gradebook, release, autograde, feedback, export"
	@echo "make train  train the reference network on the bundled data and save its figures"
	@echo "make grade  autograde everyone in submitted/ on every core (a local Dask cluster; the course's own gradebook)"
	@echo "make lab    copy the notebooks you do not have yet into notebooks/, open JupyterLab"
	@echo "            (LAB_OPTIONS=\"--port 8890\" passes options to JupyterLab)"
	@echo "make update take a newer release into notebooks/, keeping your answers (and a backup)"
	@echo "make check  run your saved notebooks and list every test (NOTEBOOK=01_loss for one)"
	@echo "make submit zip notebooks/ for handing in (STUDENT=your_id, default: login name)"
	@echo "make test   lint and run every test"
	@echo "make bench  compare the course text's training recipe with the taught one"
	@echo "make bench-grading  serial nbgrader autograde against the parallel command (8 and 32 students), the student's check"
	@echo "make release  regenerate release/ from source/ with nbgrader"
	@echo "make kit    build out/student-kit/: what students receive (no solutions, no hidden tests)"
	@echo "make lint   ruff over the project's code"
	@echo "make clean  remove the virtual environment and everything runs produced"

demo: $(STAMP)
	$(BIN)/python -m helpers.instructor.demo --out out/demo

train: $(STAMP)
	$(BIN)/python -m helpers.instructor.train --out out/train

# notebook 7's gallery: the training curves of the sample catalogue's typical mistakes, written
# to helpers/mistake_curves.json (committed; tests/test_gallery.py keeps it true to the catalogue)
.PHONY: gallery
gallery: $(STAMP)
	$(BIN)/python -m helpers.instructor.gallery

grade: $(STAMP)
	$(BIN)/python -m helpers.instructor.grade_class --root .

test: lint
	bash .ci/install-postgres
	bash .ci/install-chromium
	bash .ci/install-bubblewrap
	# one BLAS thread per worker: two workers with two threads each would fight over 2 cores
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadfile --durations=15 \
		tests source/backprop --nbval-lax --nbval-current-env

lint: $(STAMP)
	$(BIN)/ruff check helpers tests benchmarks

# What an instructor hands out: release notebooks, helpers without instructor/, the student's
# Makefile (student.mk) and README. A test builds it and proves it holds no answer.
kit: $(STAMP)
	$(BIN)/python -m helpers.instructor.kit --out out/student-kit

# release/ is generated from source/ and committed; a test fails when the two drift apart.
release: $(STAMP)
	$(BIN)/nbgrader generate_assignment backprop --force

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_training.py

# 18 to 21 minutes on two free cores (measured; see the README)
bench-grading: $(STAMP)
	$(BIN)/python benchmarks/bench_grading.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
