# Two set-up commands on a fresh machine: `make run` and `make test`.
# torch is installed first at a pinned version that is on disk (a CPU build);
# the package's own range admits it, so pip pulls no CUDA wheels. The package
# is then installed with --no-build-isolation: setup.py compiles the fused CPU
# kernels against that torch (never another one pulled into an isolated build
# environment), so the first forward never waits for a compiler.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0
STAMP := $(VENV)/.installed
KERNELS := $(wildcard src/lstmkit/kernels/cpu/*.cpp src/lstmkit/kernels/cpu/*.h)

.PHONY: run test install bench clean

$(STAMP): pyproject.toml setup.py $(KERNELS)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH) numpy "setuptools>=68" wheel ninja
	$(BIN)/python -m pip install -q --no-build-isolation -e ".[all]"
	bash scripts/install_data.sh $(BIN)/python
	$(BIN)/python -m lstmkit.kernels.cpu.build
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/lstmkit demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python benchmarks/kernels.py

clean:
	rm -rf $(VENV) build *.egg-info src/lstmkit/kernels/cpu/_C*.so
