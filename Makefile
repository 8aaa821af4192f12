# md5steg developer tasks. Every target sets up what it needs in .venv (an editable build
# of the C core), so each works on a fresh clone: `make demo` installs only what the demo
# runs (the core and the [serve] extra), `make test` every extra.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
SOURCES := pyproject.toml setup.py src/md5steg/_core.pyx $(wildcard src/md5steg/*.h)
EDITABLE := MD5STEG_REQUIRE_EXTENSIONS=1 $(PY) -m pip install -q --no-build-isolation -e

.PHONY: install test test-pure demo bench bench-quick lint debug clean info package-check cross-check system-deps man

$(VENV)/.tools: ## the venv and the build tools both installs need
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip "setuptools>=77" wheel "Cython>=3.0"
	touch $@

$(DEMO_STAMP): $(SOURCES) | $(VENV)/.tools
	$(EDITABLE) ".[serve]"
	touch $@

$(STAMP): $(SOURCES) | $(VENV)/.tools
	$(EDITABLE) ".[test,serve,dask,bench,gpu,hide]"
	touch $@ $(DEMO_STAMP)

install: $(STAMP) ## venv + editable build with every extra

system-deps: ## Debian packages the browser and OpenCL tests use (Chromium, pocl), installed with apt-get only when root
	@bash .ci/system-deps.sh

test: install system-deps ## the whole suite on the compiled core (pure engine too, via the fixture), with branch coverage
	$(PY) -m pytest --cov=md5steg --cov-report=term

test-pure: install ## the whole suite with the C extension disabled
	MD5STEG_NO_EXTENSIONS=1 $(PY) -m pytest

demo: $(DEMO_STAMP) ## make a file's MD5 start with c0ffee, then publish the example story into the local md5bin (installs the core and [serve] only)
	@mkdir -p .md5steg
	@printf 'Hello from md5steg! This line is all you see.\n' > .md5steg/hello.txt
	$(BIN)/md5steg find --prefix c0ffee .md5steg/hello.txt
	@md5sum .md5steg/hello.txt 2>/dev/null || true
	$(BIN)/md5steg publish examples/story
	@echo "Read the story in a browser: $(BIN)/md5steg serve   (then open the start URL above)"

bench: install ## benchmarks/results/: engines and SIMD paths side by side, scaling, end to end; collide vs fastcoll ($$FASTCOLL)
	$(PY) benchmarks/run.py
	$(PY) benchmarks/collide.py

bench-quick: install ## the same in about a minute
	$(PY) benchmarks/run.py --quick
	$(PY) benchmarks/collide.py --quick --out .md5steg/bench-quick

lint: install ## ruff and strict mypy
	$(PY) -m pip install -q ruff mypy
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

debug: install ## rebuild the core with -O1 -g and a Cython annotation (src/md5steg/_core.html)
	MD5STEG_ANNOTATE=1 CFLAGS="-O1 -g" $(PY) -m pip install -q --no-build-isolation -e .

info: install ## versions of Python, Cython, compiler; CPU flags; the engine and SIMD path in use
	$(BIN)/md5steg info
	@$(or $(CC),cc) --version | head -1

package-check: ## build sdist + wheel, test the installed wheel, PyPy, cibuildwheel ids, aarch64 cross-compile
	bash .ci/package-check.sh

cross-check: ## the C core for aarch64 (gcc, clang): every kernel (NEON, scalar) against a reference MD5 under qemu-user
	bash tools/cross_check.sh

man: install ## regenerate docs/md5steg.1 from the click commands (commit it)
	$(PY) tools/make_man.py docs/md5steg.1

clean: ## remove build outputs (keeps .venv)
	rm -rf build dist wheelhouse src/*.egg-info src/md5steg/*.so src/md5steg/_core.c src/md5steg/_core.html .pytest_cache .hypothesis .md5steg
