# file-records: `make demo` runs the whole pipeline on local Spark against the built-in
# emulators; `make test` runs the test suite. Both create .venv and install what they need.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help demo test test-fast benchmark emulate check-java clean

help:
	@echo "make demo       run the pipeline on local Spark against the built-in emulators"
	@echo "make test       run the test suite"
	@echo "make benchmark  DXR ingestion benchmark (prints records/s and peak memory)"
	@echo "make emulate    serve the Data X-Ray emulator on 127.0.0.1:8765"
	@echo "make clean      remove the virtual environment and local state"

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || \
		{ echo "file-records needs Python 3.10 or newer (found: $$($(PYTHON) --version 2>&1))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[local,dev]"
	@touch $(INSTALLED)

check-java:
	@command -v java >/dev/null 2>&1 || [ -x "$$JAVA_HOME/bin/java" ] || { \
		echo "Java 17 or newer is required by local Spark and was not found."; \
		echo "  Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless"; \
		echo "  macOS:         brew install openjdk@17"; \
		echo "  or set JAVA_HOME to an installed JDK/JRE 17+."; exit 1; }

# Two simulated days: the second serves the demo tenant a day later (files removed, changed,
# added), so the tables, the report and the dashboard show real changes. One command, so both
# days run in one local Spark.
demo: $(INSTALLED) check-java
	$(VENV)/bin/file-records run --demo --demo-days 2 --state-dir .file-records-demo

test: $(INSTALLED) check-java
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q $(PYTEST_ARGS)

benchmark: $(INSTALLED) check-java
	$(PY) benchmarks/dxr_ingest.py

emulate: $(INSTALLED)
	$(VENV)/bin/file-records emulate --demo

clean:
	rm -rf $(VENV) .file-records .file-records-demo spark-warehouse metastore_db derby.log
