# KP Digital Workspace: everything a fresh clone needs.
#   make run   install into .venv, initialise var/ (demo data when empty), serve on 127.0.0.1:$(PORT)
#   make run-zeo WORKERS=2  the same with WORKERS app processes sharing the database through ZEO
#   make test  install what the tests need (Python and system packages) and run the whole suite
#   make coverage  the same, measuring which lines of kp_workspace the suite runs (slower)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 6543
WORKERS ?= 2
ZEO_PORT ?= 8100
CONFIG ?= development.ini
# Test worker processes (pytest-xdist); each takes whole test modules (--dist loadfile),
# so a module's shared server and browser stay in one process, in the order of
# collection (tests/conftest.py puts the long modules first).  JOBS=0: one process.
JOBS ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK = 1

# Installs only when setup.cfg (the dependency list) or the translations changed.
STAMP := $(VENV)/.installed
# The Urdu catalogues: ours, and deform's and colander's (which ship no Urdu).
DOMAINS := kp_workspace deform colander
MO := $(DOMAINS:%=kp_workspace/locale/ur/LC_MESSAGES/%.mo)

.PHONY: run run-zeo test coverage install test-deps system-deps ocr-deps clean

# axe-core, the accessibility checker the end-to-end tests inject into pages,
# from the npm registry (pinned), into a folder of its own inside the venv.
AXE_VERSION := 4.14.1
AXE := $(VENV)/axe/node_modules/axe-core/axe.min.js

run: ocr-deps $(STAMP) $(MO)
	$(BIN)/kpw -c $(CONFIG) init --demo-if-empty
	$(BIN)/pserve $(CONFIG) http_port=$(PORT)

run-zeo: $(STAMP) $(MO)
	$(BIN)/kpw -c $(CONFIG) init --demo-if-empty
	$(BIN)/kpw -c $(CONFIG) serve --workers $(WORKERS) --port $(PORT) --zeo-port $(ZEO_PORT)

install: $(STAMP) $(MO)

$(STAMP): setup.cfg setup.py pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "setuptools>=64,<81" wheel
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

kp_workspace/locale/ur/LC_MESSAGES/%.mo: kp_workspace/locale/ur/LC_MESSAGES/%.po $(STAMP)
	$(BIN)/pybabel -q compile -D $* -d kp_workspace/locale -l ur

# System packages the tests use: Debian's Chromium for the end-to-end tests
# (Playwright drives it; its own browser download does not work on these
# machines), the Noto fonts, so Urdu pages render as users see them, and
# poppler's pdfsig with NSS's certutil, to verify signatures independently of
# pyHanko, and PostgreSQL's server, of which the tests start private clusters
# (RelStorage and the PostgreSQL search).  (The PDFs' own fonts ship in kp_workspace/fonts.)
# npm (Debian's, which brings node) installs axe-core; only when no npm is on the PATH.
# Tesseract with its English and Urdu data reads scanned correspondence (kp_workspace/ocr),
# with poppler's pdftoppm drawing the pages of a scanned PDF: make run needs them too.
OCR_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-urd poppler-utils
SYSTEM_PACKAGES := chromium fonts-noto-core libnss3-tools postgresql \
	$(OCR_PACKAGES)   # (poppler-utils among them)
# $(call apt_install,packages,extra check): apt-get installs those of the packages that
# are missing (as root, or with sudo), after the extra shell check adds to $$missing.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	$(2) \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

system-deps:
	$(call apt_install,$(SYSTEM_PACKAGES),command -v npm >/dev/null 2>&1 || missing="$$missing npm";)

ocr-deps:
	$(call apt_install,$(OCR_PACKAGES),)

$(AXE): | system-deps
	mkdir -p $(VENV)/axe
	npm install --prefix $(VENV)/axe --no-save --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION)
	test -f $@

# (the slowest tests are listed at the end: the time budget of CI is 25 minutes)
PYTEST := $(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile --no-loadscope-reorder --durations=15

test: system-deps $(STAMP) $(MO) $(AXE)
	$(PYTEST) $(PYTEST_ARGS)

# Coverage's tracing makes the Python-bound tests a fifth to a third slower, which
# took the suite past CI's budget: it is measured here, not in every run.
coverage: system-deps $(STAMP) $(MO) $(AXE)
	$(PYTEST) --cov=kp_workspace --cov-report=term $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .coverage $(MO)  # (.venv/axe with it)
