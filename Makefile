# The two set-up commands of the README: `make run` (the app on the embedded GeoPackage store) and
# `make test` (the whole suite). Both create .venv and install the project on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test install lint bench clean npm

# the browser libraries the app serves itself (package.json: protomaps-leaflet and pmtiles for a PMTiles
# basemap), installed from the npm registry into node_modules/ and never committed
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
npm: node_modules/.package-lock.json

$(BIN)/.installed-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: pyproject.toml $(BIN)/.installed-run
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed-run

run: $(BIN)/.installed-run npm
	$(BIN)/geo-p4gn boundaries
	$(BIN)/geo-p4gn init
	$(BIN)/python -m geo_p4gn.render.assets --install static
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.enableStaticServing true \
		--browser.gatherUsageStats false

test: $(BIN)/.installed-test npm
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: $(BIN)/.installed-test
	$(BIN)/ruff check geo_p4gn geo_p4gn_app app_pages tests bench app.py app_main.py
	$(BIN)/mypy  # the files of [tool.mypy] in pyproject.toml: store/, services/, identity

bench: $(BIN)/.installed-test npm
	for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) data/boundaries/build .pytest_cache node_modules
