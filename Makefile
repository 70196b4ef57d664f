# Thin aliases over the `picojoule` CLI and pytest; the logic lives in Python (sim/cli.py, tb/).
# First use creates .venv and installs the project into it (no root needed).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Parallel test workers: all cores unless JOBS is given.
JOBS   ?= auto

.PHONY: sim test test-quick verilog report fpga lint clean distclean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else \
	  "picojoule needs Python >= 3.10, found " + sys.version.split()[0])'
	@test -d $(VENV) || { echo "[setup] creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "[setup] installing picojoule and its toolchain into $(VENV) (first run only)"
	@$(BIN)/python -m pip install --quiet --upgrade pip > $(VENV)/install.log 2>&1 \
	  && $(BIN)/python -m pip install -e . >> $(VENV)/install.log 2>&1 \
	  || { tail -n 30 $(VENV)/install.log; echo "[setup] failed; full log: $(VENV)/install.log"; exit 1; }
	@touch $(STAMP)
	@echo "[setup] done ($(VENV)/install.log)"

sim: $(STAMP)
	@$(BIN)/picojoule sim

test: $(STAMP)
	@$(BIN)/picojoule doctor --quiet
	$(BIN)/python -m pytest -n $(JOBS) --durations=15 $(PYTEST_ARGS)

# The quick subset: Verilator only (unless SIM is given), no exhaustive (`slow`) checks.
test-quick: $(STAMP)
	@$(BIN)/picojoule doctor --quiet
	SIM=$${SIM:-verilator} $(BIN)/python -m pytest -n $(JOBS) -m "not slow" --durations=10 \
	  $(PYTEST_ARGS)

verilog: $(STAMP)
	@$(BIN)/picojoule verilog

# Bitstream + utilization/timing report: make fpga BOARD=icebreaker|ulx3s-25f|ulx3s-85f
# [SEEDS=1,2,3] (the Fmax median over seeds). Output under build/fpga/$(BOARD)/.
fpga: $(STAMP)
	@$(BIN)/picojoule fpga $(BOARD) $(if $(SEEDS),--seeds $(SEEDS))

lint: $(STAMP)
	@$(BIN)/picojoule verilog --lint
	@$(BIN)/ruff check hdl sim tb boards && echo "ruff: clean"

report: $(STAMP)
	@$(BIN)/picojoule report $(UNIT)

clean:
	rm -rf build

distclean: clean
	rm -rf $(VENV) *.egg-info
