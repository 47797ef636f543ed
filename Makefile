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

demo: $(STAMP)
	$(BIN)/scaling inspect data/runs

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
