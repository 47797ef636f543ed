# Two commands on a fresh clone (only Python 3.11 and make needed):
#   make demo   set up .venv, then fit, predict, plan and report on the shipped published runs
#   make test   set up .venv, then run the fast test suite (make test-slow: the slow tier)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out

.PHONY: demo demo-small test test-all venv bench figures browser clean

venv: $(STAMP)

# --no-compile: pip would byte-compile every module of jax, scipy, pandas and matplotlib, half
# of the install's time (24 -> 10 s here); Python compiles the modules it imports on first use.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -e ".[dev]"
	touch $(STAMP)

# The main job on real published runs shipped in the package (Luo et al. 2025 loss curves,
# Gadre et al. 2024 final losses): fit, predict the held-out schedules, plan, report, summary.
demo: $(STAMP)
	$(BIN)/scaling demo --out $(OUT)

# The same job on the project's own small CPU runs (data/), as the format example.
demo-small: $(STAMP)
	@mkdir -p $(OUT)/small
	$(BIN)/scaling inspect data/curves
	$(BIN)/scaling fit data/curves/cosine.csv data/curves/constant.csv --law lr-annealing --split val \
		--bootstrap 20 --out $(OUT)/small/curve_fit.json
	$(BIN)/scaling predict $(OUT)/small/curve_fit.json --lr-from data/curves/wsd_exp20.csv --split val \
		--out $(OUT)/small/pred_wsd.csv
	$(BIN)/scaling schedule-plan $(OUT)/small/curve_fit.json --steps 1200 --peak 3e-3 --warmup 30
	$(BIN)/scaling report $(OUT)/small/curve_fit.json --data data/curves --steps 1200 --out $(OUT)/small/report

# The fast tier (everything not marked slow), two workers: the CI machine has two cores.
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" -n 2

# The slow tier: published-number checks, notebook, headless browser, big property runs.
test-slow: $(STAMP) browser
	$(BIN)/python -m pytest -q -m slow -n 2

test-all: test test-slow

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
	SCALING_UPDATE_SCREENSHOT=1 $(BIN)/python -m pytest -q tests/test_report_browser.py -k screenshot

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
