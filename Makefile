# The two commands: `make grade` grades the bundled examples, `make test` runs
# the project's own suite. Both create (or reuse) .venv first.
#
# The venv is built from Debian's /usr/bin/python3 when there is one: the
# sandbox runs the worker as an unprivileged uid, which must be able to read
# the interpreter (a pyenv Python under /root cannot be read by other users).
SYSTEM_PYTHON := $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: grade test venv sandbox stubs bench audit clean

grade: venv sandbox
	$(PY) -m grader batch polyfit examples/polyfit --out out/examples/polyfit
	@for a in $$(ls examples); do [ "$$a" = polyfit ] || $(PY) -m grader batch $$a examples/$$a --out out/examples/$$a; done

test: venv sandbox
	$(PY) -m pytest tests -q -p no:cacheprovider -n 2 --durations=20

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(SYSTEM_PYTHON) -m venv $(VENV) || { \
	  test "$$(id -u)" = 0 && apt-get update -qq && apt-get install -y -qq python3-venv && $(SYSTEM_PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@chmod -R a+rX $(VENV)
	@touch $@

# bubblewrap is the default sandbox; install it when missing and we are root.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing bubblewrap"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	  else echo "warning: bubblewrap is missing; sandboxed tests will be skipped"; fi; }

stubs: venv
	$(PY) -m grader stubs

bench: venv sandbox
	$(PY) bench/sandbox_overhead.py

# How strong is each suite? Grade mutants of every reference (minutes per assignment).
audit: venv sandbox
	@for a in polyfit backprop functions modules training conv; do \
	  $(PY) -m grader audit $$a --out out/audit/$$a || exit 1; done

clean:
	rm -rf out build *.egg-info

# Containers for real (docs/deployment.md): a private Docker Engine (docker/dockerd.sh),
# the base, worker and grader images, and the container suites; stops what it started.
# Needs root. The wheels come from pip's sources here (torch's CPU wheel from local disk).
.PHONY: test-docker docker-wheels
test-docker: venv sandbox docker-wheels
	docker/test-docker.sh

docker-wheels: docker/wheels/.stamp

docker/wheels/.stamp: pyproject.toml Makefile $(STAMP)
	$(PY) -m pip download -q --disable-pip-version-check -d docker/wheels torch==2.13.0 'setuptools>=68' wheel '.[docker,cluster]'
	@touch $@

# The wheels a lent GPU machine (Python 3.12 with its own CUDA torch, no network) lacks,
# into .whl/ for bench/gpu/run.sh (about 10 MiB; `python bench/gpu/wheels.py --list` only lists).
.PHONY: gpu-wheels
gpu-wheels: venv
	$(PY) bench/gpu/wheels.py
