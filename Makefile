# CARINE — two commands: `make lab` runs the school in network namespaces, `make test` tests it.
.PHONY: install lab lab-down lab-status lint test test-fast golden reference clean deb image

VENV := .venv/bin

install:
	@scripts/install.sh

lab: install
	$(VENV)/carine lab up examples/site.yaml

lab-down:
	$(VENV)/carine lab down

lab-status:
	$(VENV)/carine lab status

lint: install
	$(VENV)/ruff check .
	$(VENV)/mypy appliance network filtering monitoring webui storage tests

# Everything: lint, then every test level (lab tests need root; under CI=true nothing may skip).
test: lint
	$(VENV)/pytest -q tests

# Without namespaces or root: unit and render tests only.
test-fast: install
	$(VENV)/pytest -q -m "unit or render" tests

# Rewrite the golden files after an intended change of a renderer; review the diff.
golden: install
	CARINE_UPDATE_GOLDEN=1 $(VENV)/pytest -q tests/render

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache *.egg-info dist

# Regenerate the site file reference in README.md from the model's field docs.
reference: install
	$(VENV)/python scripts/update-readme-reference.py

# The Debian package dist/carine_<version>_amd64.deb (dh-virtualenv), checked by lintian.
deb:
	scripts/build-deb.sh

# The flashable disk image dist/carine-<version>.img (GPT, systemd-boot, root slots A/B, data).
image: deb
	image/build.sh dist/carine_$$(dpkg-parsechangelog -S Version)_amd64.deb
