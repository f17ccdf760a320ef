# Everything runs in .venv, made with the machine's python3 and pip only.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint demo bench clean dist dist-check constraints

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests bench
	$(BIN)/ruff format --check reconciler tests bench
	$(BIN)/mypy

# Four workers on two cores: most of the suite waits on sandbox transitions and subprocesses, not on the CPU
# (measured: 131 s serial, 75 s with -n 4). Each test has its own tmp_path, sandbox port and state file.
# Then the tests that PUT customization again, with the sandbox's other reading of that PUT (it replaces the whole
# customization): ovhkube must be right under both (docs/sandbox.md). Those that send the PUT through ovhkube, and
# those that send it themselves, part of a customization (someone editing behind ovhkube's back, the sandbox's own).
CUSTOMIZATION_TESTS := tests/test_customization_put.py tests/test_apply_e2e.py tests/test_plan_e2e.py \
	tests/test_defaults_e2e.py tests/test_null_customization.py tests/test_control_plane.py \
	tests/test_apply_faults.py tests/test_accounts.py tests/test_shows_late.py tests/test_saved_plan_integrity.py \
	tests/test_concurrent_apply.py tests/test_reset_put_back.py tests/test_drift.py tests/test_staleness.py \
	tests/test_api_client.py tests/test_sandbox.py tests/test_sandbox_faults.py tests/test_sandbox_processes.py
test: lint
	$(BIN)/pytest -q -n 4
	OVHKUBE_SANDBOX_PUT_REPLACES_CUSTOMIZATION=1 $(BIN)/pytest -q -n 4 $(CUSTOMIZATION_TESTS)

# The main job on the embedded sandbox (no account needed): seed live state, plan the example fleet and save the
# plan, apply exactly that plan (it waits for READY and verifies), then plan again: no changes.
demo: $(STAMP)
	mkdir -p .ovhkube
	$(BIN)/ovhkube sandbox seed examples/sandbox-seed.yaml
	$(BIN)/ovhkube --endpoint sandbox plan examples/ --out .ovhkube/demo-plan.json
	$(BIN)/ovhkube --endpoint sandbox apply --plan .ovhkube/demo-plan.json
	$(BIN)/ovhkube --endpoint sandbox plan examples/ --detailed-exitcode

# The release's files: the wheel and the sdist (the schema inside both), built offline with the hatchling of .venv
# (the version comes from reconciler/__init__.py only), the pinned dependencies, and SHA256SUMS of them all.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .
	cp constraints.txt dist/
	cd dist && sha256sum -- *.whl *.tar.gz constraints.txt > SHA256SUMS

# constraints.txt again, from PyPI: the wheel's dependencies as pip resolves them today, in a fresh venv.
constraints: dist
	rm -rf build/constraints-venv
	$(PYTHON) -m venv build/constraints-venv
	build/constraints-venv/bin/pip install --quiet dist/*.whl
	{ sed -n '/^#/p' constraints.txt; build/constraints-venv/bin/pip freeze --exclude ovhkube; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

# What CI runs after make test: the release's files check against SHA256SUMS, and the wheel, installed in a fresh
# venv with the pinned dependencies, runs from outside the checkout (validate, and a plan on the embedded sandbox).
dist-check: dist
	.ci/dist-check

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .ovhkube build dist
