# FieldApp: `make demo` runs the server with demo data plus the tablet client;
# `make test` runs every test. Both install what they need first (Debian packages,
# pinned Python packages, bundled assets), so a fresh Debian machine needs nothing else.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get
APT_PACKAGES := python3 python3-venv python3-pip libzbar0 fonts-wqy-microhei chromium \
	xvfb xauth poppler-utils libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 \
	libdbus-1-3 libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
	libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 postgresql
FONT := resources/fonts/wqy-microhei.ttc
# nginx for the reverse-proxy test (tests/server/test_reverse_proxy.py): Debian's package
# unpacked under var/, not installed, so no web server is started or left running.
NGINX := var/nginx/usr/sbin/nginx

.PHONY: demo test bench install system venv assets lint screenshots clean package package-check

demo: install
	PYTHONPATH=$(CURDIR) $(PY) scripts/demo.py

# Everything on SQLite, then the storage and sync tests again on a throwaway PostgreSQL
# cluster (tests/pg.py starts it on a free loopback port). Exit code 5 (no tests) is fine.
# On both cores (pytest-xdist); a test file stays on one process, so a module's shared
# server or browser starts once. PYTEST_WORKERS=0 runs in this process (for a debugger).
PG_TESTS := tests/server tests/sync tests/portal tests/blackbox tests/test_end_to_end.py
PYTEST_WORKERS ?= 2
PYTEST := QT_QPA_PLATFORM=offscreen $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile

test: install $(NGINX)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PYTEST); rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc
	FIELDAPP_TEST_PG=1 $(PYTEST) $(PG_TESTS); \
		rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc
	$(MAKE) package-check

# Every benchmark, one at a time, into docs/benchmarks.md (about an hour; a quiet machine).
bench: install
	PYTHONPATH=$(CURDIR) $(PY) bench/run_all.py

# The tablet app as one folder (dist/FieldApp/), then the frozen app's own check, run away
# from the checkout so it can only use what the folder carries.
package: install
	$(VENV)/bin/pyinstaller --noconfirm --log-level WARN --distpath dist \
		--workpath build/pyinstaller pyinstaller.spec

package-check: package
	cd "$$(mktemp -d)" && QT_QPA_PLATFORM=offscreen $(CURDIR)/dist/FieldApp/FieldApp --self-test
	@echo "dist/FieldApp: $$(du -sh dist/FieldApp | cut -f1)"

install: system venv assets

system:
	@if dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then echo "Debian packages: present"; \
	else $(APT) update -qq && $(APT) install -y -qq --no-install-recommends $(APT_PACKAGES); fi

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

# The CJK font is bundled with the app (Qt, photo watermarks, PDFs), taken from Debian's package.
# Leaflet (offline maps) is committed under resources/leaflet/; if it is missing, it is unpacked
# from the npm registry's tarball of the pinned version. So is axe-core, the accessibility
# checker the portal's browser test injects (tests/assets/, with its licence and its bundled
# libraries' notices).
LEAFLET_VERSION := 1.9.4
LEAFLET := resources/leaflet/leaflet.js
AXE_VERSION := 4.14.1
AXE := tests/assets/axe.min.js

assets: $(FONT) $(LEAFLET) $(AXE)

$(FONT):
	mkdir -p $(@D)
	cp /usr/share/fonts/truetype/wqy/wqy-microhei.ttc $@

$(LEAFLET):
	rm -rf build/leaflet && mkdir -p build/leaflet $(@D)/images
	cd build/leaflet && npm pack --silent leaflet@$(LEAFLET_VERSION) && tar xzf leaflet-$(LEAFLET_VERSION).tgz
	cp build/leaflet/package/dist/leaflet.css build/leaflet/package/LICENSE $(@D)/
	cp build/leaflet/package/dist/images/*.png $(@D)/images/
	cp build/leaflet/package/dist/leaflet.js $@

$(AXE):
	rm -rf build/axe-core && mkdir -p build/axe-core $(@D)
	cd build/axe-core && npm pack --silent axe-core@$(AXE_VERSION) && tar xzf axe-core-$(AXE_VERSION).tgz
	cat build/axe-core/package/LICENSE build/axe-core/package/LICENSE-3RD-PARTY.txt \
		> $(@D)/axe-core.LICENSE
	cp build/axe-core/package/axe.min.js $@

$(NGINX):
	rm -rf var/nginx && mkdir -p var/nginx/debs
	cd var/nginx/debs && { apt-get download nginx 2>/dev/null || \
		{ $(APT) update -qq && apt-get download nginx; }; }
	for deb in var/nginx/debs/*.deb; do dpkg-deb -x "$$deb" var/nginx; done
	test -x $@

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

screenshots: install
	PYTHONPATH=$(CURDIR) xvfb-run -a -s "-screen 0 1280x800x24" $(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) var build dist
