# One-command set-up for relaxtune on a fresh Debian machine.
#   make demo   - create .venv, install relaxtune, run the main job (heat2d demo)
#   make test   - create .venv, install relaxtune with every extra, run the whole suite, build the docs
#   make docs   - build the documentation site into docs/_build/html (warnings are errors)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# pip and sphinx through the venv's python: bin/pip's first line names the folder the venv was
# made in, so a repository moved or renamed since had failed with "No such file or directory"
PIP    := $(PY) -m pip
# PETSc is built from source by pip (no binary wheel); these options skip the CUDA,
# Fortran and X11 probes.  pip caches the built wheel, so only the first install is slow.
export PETSC_CONFIGURE_OPTIONS ?= --with-cuda=0 --with-fc=0 --with-x=0
# mpiexec refuses to run as root without these (CI runs as root).
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
# the documentation site; -W: warnings are errors, --keep-going: report all of them, then fail
SPHINX_BUILD = $(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SYSTEM_PACKAGES := libopenblas-dev libopenmpi-dev openmpi-bin

.PHONY: demo test docs bench venv system-deps install install-all install-docs clean

# the project's venv, made again when its python does not run (the Python it was made with was
# upgraded or removed since)
venv:
	@$(PY) -c "import pip" >/dev/null 2>&1 || { \
	  echo "$(VENV): missing, or its python does not run: making it"; \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && \
	  $(PIP) install --quiet --upgrade pip setuptools wheel; }

system-deps:
	@dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(SYSTEM_PACKAGES); }

install: venv
	$(PIP) install --quiet -e .

install-all: system-deps venv
	$(PIP) install --quiet -e '.[petsc,test,docs]'

demo: install
	$(VENV)/bin/relaxtune demo

test: install-all
	$(PY) -m pytest -q
	$(SPHINX_BUILD)

install-docs: venv
	$(PIP) install --quiet -e '.[docs]'

docs: install-docs
	$(SPHINX_BUILD)

bench: install-all
	$(VENV)/bin/relaxtune bench kernels

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis results docs/_build docs/api/generated
