# Two commands do all the set-up on a machine with only Python 3.11 and make:
#   make demo   - the example DAG end to end against the local sandbox
#   make test   - ruff, mypy and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/lock.txt pyproject.toml | cksum | cut -d' ' -f1)
UV_VERSION := 0.13.8
E2E_STAMP := $(VENV)/.e2e-$(shell cat requirements/e2e.txt | cksum | cut -d' ' -f1)
# `make dist` and `make docs` tools, each in its own venv under .venv/tools (requirements/lock.txt stays as it is)
DIST_TOOLS := $(VENV)/tools/dist
DIST_STAMP := $(DIST_TOOLS)/.installed-$(shell cat requirements/dist.txt | cksum | cut -d' ' -f1)
DOCS_TOOLS := $(VENV)/tools/docs
DOCS_STAMP := $(DOCS_TOOLS)/.installed-$(shell cat requirements/docs.txt | cksum | cut -d' ' -f1)
# benchmarks/s3_state.py's own venv: the Amazon provider (s3fs) that s3:// needs weighs on every task process's
# imports, so the other benchmarks keep measuring the dev venv, the one a team without S3 state has
S3_BENCH := $(VENV)/tools/bench-s3
S3_BENCH_STAMP := $(S3_BENCH)/.installed-$(shell cat requirements/bench.txt requirements/bench-overrides.txt | cksum | cut -d' ' -f1)

.PHONY: venv test lint typecheck pytest demo bench soak sandbox lock clean e2e e2e-celery dist docs matrix

venv: $(STAMP)

# --compile-bytecode: uv writes no .pyc by default, and with PYTHONDONTWRITEBYTECODE set every interpreter
# (each `airflow dags test`, each task process) would recompile Airflow: `import airflow.sdk` 6.4 s -> 2.6 s.
$(STAMP): requirements/lock.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -r requirements/lock.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m compileall -q airflow_provider_fptsms  # as a wheel install would (the editable one does not)
	rm -f $(VENV)/.installed-*
	touch $@

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

# The whole suite (but the sign-off's `dags test` runs, in `make e2e`) against the sandbox's manual rule (2501 = same phone + same text within 5 minutes),
# then every exactly-once test again with today's other reading (a reused RequestId is refused too):
# no guarantee may rest on either. Then what reads the gateway's words again with the Vietnamese texts
# production sends: no recovery may rest on the manual's English.
pytest: venv
	FPTSMS_SANDBOX_DEDUPE=content $(BIN)/pytest -q -p no:cacheprovider -m "not signoff_e2e"
	FPTSMS_SANDBOX_DEDUPE=request-id $(BIN)/pytest -q -p no:cacheprovider -m exactly_once
	FPTSMS_SANDBOX_ERROR_TEXTS=vi $(BIN)/pytest -q -p no:cacheprovider -m gateway_texts

test: lint typecheck pytest

demo: venv
	$(BIN)/python scripts/demo.py

# benchmarks/s3_state.py needs the bench extra (moto's S3 server, the Amazon provider's s3fs filesystem), pinned by
# requirements/bench.txt (its override file lifts botocore's python-dateutil cap), in a venv of its own.
$(S3_BENCH_STAMP): $(STAMP) requirements/bench.txt requirements/bench-overrides.txt
	test -x $(S3_BENCH)/bin/python || $(BIN)/uv venv --quiet --python $(BIN)/python $(S3_BENCH)
	$(BIN)/uv pip install --quiet --python $(S3_BENCH)/bin/python --compile-bytecode -r requirements/bench.txt --override requirements/bench-overrides.txt
	$(BIN)/uv pip install --quiet --python $(S3_BENCH)/bin/python --no-deps -e .
	rm -f $(S3_BENCH)/.installed-*
	touch $@

bench: venv $(S3_BENCH_STAMP)
	FPTSMS_S3_BENCH_PYTHON=$(S3_BENCH)/bin/python $(BIN)/python -m benchmarks

# The long fault soak: 10,000 CSKH messages and a 100,000-phone campaign, faults and killed workers,
# in both sandbox dedupe modes.
soak: venv
	FPTSMS_SANDBOX_DEDUPE=content $(BIN)/python -m tests.soak.soak --messages 10000 --campaign-phones 100000
	FPTSMS_SANDBOX_DEDUPE=request-id $(BIN)/python -m tests.soak.soak --messages 10000 --campaign-phones 100000

# QC delays compressed as in the demo: approval, sending and final reports 3 s apart, not at tomorrow's ScheduleTime.
sandbox: venv
	$(BIN)/fptsms-sandbox --port 8765 --approval-delay 3 --send-delay 3 --dlr-delay 3

# A real deployment on this machine: PostgreSQL (the pgserver wheel), scheduler, dag-processor, triggerer and
# api-server as separate processes on free ports, the sandbox posting DLRs to the api-server; every example DAG
# through the REST API. Nothing to install by hand; everything is stopped at the end.
$(E2E_STAMP): $(STAMP) requirements/e2e.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -r requirements/e2e.txt
	rm -f $(VENV)/.e2e-*
	touch $@

e2e: $(E2E_STAMP)
	$(BIN)/python -m tests.e2e
	$(BIN)/pytest -q -p no:cacheprovider -m signoff_e2e tests/compliance

# The same stack on CeleryExecutor with two workers: one 1,000,000-phone campaign over mapped pushes, a worker killed.
e2e-celery: $(E2E_STAMP)
	$(BIN)/python -m tests.e2e.celery

# The sdist and the wheel in dist/, as PyPI would get them (the wheel built from the sdist), then checked:
# twine check --strict (metadata, long description), check-wheel-contents, and scripts/check_dist.py
# (license files, README, CHANGELOG, py.typed present; no venv, caches or run folders).
$(DIST_STAMP): $(STAMP) requirements/dist.txt
	test -x $(DIST_TOOLS)/bin/python || $(BIN)/uv venv --quiet --python $(BIN)/python $(DIST_TOOLS)
	$(BIN)/uv pip install --quiet --python $(DIST_TOOLS)/bin/python -r requirements/dist.txt
	rm -f $(DIST_TOOLS)/.installed-*
	touch $@

dist: $(DIST_STAMP)
	rm -rf dist
	$(DIST_TOOLS)/bin/python -m build --quiet --dependency-constraints-txt requirements/dist.txt --outdir dist .
	$(DIST_TOOLS)/bin/twine check --strict dist/*
	$(DIST_TOOLS)/bin/check-wheel-contents dist/*.whl
	$(DIST_TOOLS)/bin/python scripts/check_dist.py dist

# The documentation site in site/ (MkDocs Material; the API reference from the docstrings by mkdocstrings;
# the user-facing pages take their text from README.md's sections, see docs/hooks/readme.py).
$(DOCS_STAMP): $(STAMP) requirements/docs.txt
	test -x $(DOCS_TOOLS)/bin/python || $(BIN)/uv venv --quiet --python $(BIN)/python $(DOCS_TOOLS)
	$(BIN)/uv pip install --quiet --python $(DOCS_TOOLS)/bin/python -r requirements/docs.txt
	rm -f $(DOCS_TOOLS)/.installed-*
	touch $@

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(DOCS_TOOLS)/bin/mkdocs build --strict --clean --site-dir site

# The built wheel (not the source tree) on Airflow 3.0.6, 3.1.8, 3.2.2 and 3.3.2 on Python 3.11, and 3.3.2 on 3.10,
# 3.12, 3.13: a venv per cell under .matrix/, pinned by requirements/matrix/ (scripts/matrix.py; a missing Python
# is a skipped cell). Not part of `make test`. One cell: make matrix MATRIX_ARGS='--cell airflow-3.0-py3.11'.
matrix: venv
	$(BIN)/python scripts/matrix.py $(MATRIX_ARGS)

# Re-pin every dependency (needs the package index); commit requirements/lock.txt afterwards.
lock: venv
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra sandbox --extra openlineage --python-version 3.11 -o requirements/lock.txt
	$(BIN)/uv pip compile pyproject.toml --extra e2e -c requirements/lock.txt --python-version 3.11 -o requirements/e2e.txt
	$(BIN)/uv pip compile pyproject.toml --extra bench -c requirements/lock.txt --override requirements/bench-overrides.txt --python-version 3.11 -o requirements/bench.txt

clean:
	rm -rf $(VENV) .demo .e2e .e2e-celery .matrix site dist .mypy_cache .ruff_cache .pytest_cache
