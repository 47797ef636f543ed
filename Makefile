# Two commands on a fresh clone (only Python 3.11 and make needed):
#   make demo   set up .venv, then fit, predict and report on the bundled data
#   make test   set up .venv, then run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out

.PHONY: demo test venv bench figures browser clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The main job on the bundled data: fit a loss-curve law on two runs, predict the held-out runs,
# rank schedules, fit Chinchilla on the final-loss grid, plan budgets, write the report.
HELD_OUT = $(filter-out data/curves/cosine.csv data/curves/constant.csv,$(wildcard data/curves/*.csv))
demo: $(STAMP)
	@mkdir -p $(OUT)
	$(BIN)/scaling inspect data/curves
	$(BIN)/scaling fit data/curves/cosine.csv data/curves/constant.csv --law lr-annealing --split val \
		--bootstrap 20 --out $(OUT)/curve_fit.json
	@for f in $(HELD_OUT); do \
		echo "--- held out: $$f"; \
		$(BIN)/scaling predict $(OUT)/curve_fit.json --lr-from $$f --split val \
			--out $(OUT)/pred_$$(basename $$f) || exit 1; \
	done
	$(BIN)/scaling schedule-plan $(OUT)/curve_fit.json --steps 600 --peak 3e-3 --warmup 30
	@if [ -f data/grid/points.csv ]; then \
		$(BIN)/scaling fit data/grid/points.csv --law chinchilla --bootstrap 100 --out $(OUT)/chinchilla_fit.json \
		&& $(BIN)/scaling budget $(OUT)/chinchilla_fit.json --flops-range 1e12:1e15:4 \
		&& $(BIN)/scaling report $(OUT)/curve_fit.json $(OUT)/chinchilla_fit.json \
			--data data/curves --data data/grid/points.csv --out $(OUT)/report; \
	else \
		echo "no data/grid/points.csv: skipping the final-loss fit"; \
		$(BIN)/scaling report $(OUT)/curve_fit.json --data data/curves --out $(OUT)/report; \
	fi

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

# Best effort: the report's browser test needs Chromium. Install the Debian package when we
# are root with apt-get and it is missing; never fail here (the test then skips and says why).
browser:
	-@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium for the report's browser test (best effort)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
		|| echo "could not install chromium; the browser test will skip"; \
	fi

# The README's figures and the report screenshot, regenerated from the bundled data.
figures: $(STAMP)
	$(BIN)/python figures/make_figures.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
