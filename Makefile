# Two commands do all the set-up on a fresh machine:
#   make demo   - installs (first time only), then Best-of-N and test-time optimization on a bundled task
#   make test   - installs (first time only) and runs the test suite
# torch 2.13.0 (CPU) is installed first: it lies on disk, and asking for a newer torch
# would pull a multi-GB CUDA build. The demo and the tests need every extra (.[all,dev]);
# ray (rulec[ray], for `rulec bench --ray`) too, so its test runs: +21 s of install (a 79 MB
# wheel) and +31 s of test, measured. `pip install rulec` alone is the light core (compile,
# check, explain, the reward).

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.rulec-installed

.PHONY: install demo test bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[all,ray,dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/rulec compile examples/tasks/navigate_00000/rules.txt
	$(BIN)/rulec run examples/tasks/navigate_00000 --method best-of-n -o out/demo-best-of-n
	$(BIN)/rulec run examples/tasks/navigate_00000 -o out/demo

test: $(STAMP)
	OMP_NUM_THREADS=2 $(BIN)/python -m pytest
