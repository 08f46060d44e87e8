# Every target that runs course code first brings .venv up to date with requirements.txt
# and pyproject.toml, so a newcomer types one command (make lab, make test).

SHELL := /bin/bash
# the first Python of 3.11 (preferred) to 3.13 that runs (an inactive pyenv shim exists but fails)
PYTHON ?= $(firstword $(foreach v,3.11 3.12 3.13,$(shell python$(v) -c 'import sys; print(sys.executable)' 2>/dev/null)) $(shell command -v python3))
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_OPTS ?=
# Jupyter refuses to run as root without --allow-root (containers, CI machines)
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
NB ?=
# Unit and tool tests, and every notebook re-run by nbval against its stored outputs;
# CORE leaves out the browser and re-run tests (no floating-point work of their own)
SUITE := tests --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg \
	$(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
CORE := $(SUITE) --ignore=tests/test_slides_browser.py --ignore=tests/test_rerun.py \
	--ignore=tests/test_takehome.py
# pytest-xdist, one worker per core (PARALLEL= for one process)
PARALLEL ?= -n auto
# One BLAS thread: the course's matrices are small, and a fixed thread count keeps the
# recorded floating-point outputs reproducible.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1

.PHONY: venv lab test test-core test-explore test-portability lint record nav slides bench clean pdf site release

# 3.10 and older: an error naming the version; 3.14 and newer: a note (untested there)
CHECK_VERSION := import sys; v = sys.version_info[:2]; \
	sys.exit(f"error: {sys.argv[1]} Python {sys.version.split()[0]} {sys.argv[2]}") if v < (3, 11) else \
	print(f"note: Python {sys.version.split()[0]} is newer than the versions tested here (3.11 to 3.13); \
	if a test fails, please report it with this version") if v > (3, 13) else None

# EXTRA: more requirement files (make bench's peers)
$(STAMP): requirements.txt pyproject.toml $(EXTRA)
	@test -n "$(PYTHON)" || { echo "error: no python3.11, python3.12, python3.13 or python3 on PATH; the course needs Python 3.11 or newer" >&2; exit 1; }
	@$(PYTHON) -c '$(CHECK_VERSION)' "the course needs Python 3.11 or newer, but $(PYTHON) is" "(set PYTHON=/path/to/python3.11)"
	$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c '$(CHECK_VERSION)' "$(VENV) holds" "; remove it (rm -rf $(VENV)) and run make again"
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements.txt $(addprefix -r ,$(EXTRA))
	touch $@

venv: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir="$(CURDIR)" \
		--LabApp.default_url=/lab/tree/notebooks $(ALLOW_ROOT) $(LAB_OPTS)

# SUITE: also the slides in a browser, every notebook re-run as students re-run it
test: $(STAMP) lint
	$(BIN)/python -m pytest $(PARALLEL) $(SUITE)

test-core: $(STAMP)
	$(BIN)/python -m pytest $(PARALLEL) $(CORE)

# Property tests with new random examples (make test replays fixed ones).
test-explore: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider --hypothesis-profile explore \
		--hypothesis-show-statistics tests/engine/test_properties.py tests/course/test_style_and_utils.py

# make test-core under simulated machines (BLAS kernels x SIMD levels): tools/portability.py
PORTABILITY_OPTS ?=
test-portability: $(STAMP)
	$(BIN)/python tools/portability.py $(PORTABILITY_OPTS) -- $(CORE)

lint: $(STAMP)
	$(BIN)/python -m ruff check .

record: $(STAMP)
	$(BIN)/python tools/record.py $(NB)

nav: $(STAMP)
	$(BIN)/python tools/nav.py

# Benchmarks against micrograd, autograd, torch and jax in .venv-bench (~2 GB) ->
# benchmarks/RESULTS.md.  One thread per engine; the machine-wide OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE select a slower numpy kernel, so they are unset.
# glibc's heap is kept (MALLOC_*): with its default trimming, some processes fault the
# freed pages back in at every step and time the same MLP step 2x slower than others.
BENCH_VENV := .venv-bench
BENCH_ENV ?= env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 XLA_FLAGS=--xla_cpu_multi_thread_eigen=false \
	MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_MMAP_THRESHOLD_=33554432

bench:
	$(MAKE) venv VENV=$(BENCH_VENV) EXTRA=benchmarks/requirements-peers.txt
	$(BENCH_ENV) $(BENCH_VENV)/bin/python -m benchmarks.run

# Offline reveal.js decks in build/slides/; only stale ones are rebuilt.
slides: $(STAMP)
	$(BIN)/python tools/build_slides.py

clean:
	rm -rf .pytest_cache .hypothesis build
	find . \( -path ./$(VENV) -o -path ./$(BENCH_VENV) \) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print0 \
		| xargs -0 rm -rf

# What students take home: build/pdf, build/site, build/release/autodiff-course-VERSION.zip
pdf: $(STAMP)
	$(BIN)/python tools/pdfs.py

site: $(STAMP)
	$(BIN)/python tools/website.py

release: pdf
	$(BIN)/python tools/website.py --release
