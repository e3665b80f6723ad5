# Callsight — the two entry points of the README, plus the gates they run.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Every dependency version, resolved once by `make lock`: the only source of versions for the venv,
# CI, the Lambda layers and the transcriber image (pyproject.toml keeps the ranges).
LOCK   := layers/requirements.lock
# Left out of the lock: torch's CUDA libraries (the project installs the CPU build, 2.13.0+cpu, which needs
# none of them; uv resolves PyPI's CUDA build of the same version) and the `typing` backport (resemblyzer
# asks for it; uv ignores its Requires-Python <3.5 and would pin a release pip cannot install on 3.11).
LOCK_NO_EMIT := typing triton cuda-bindings cuda-pathfinder cuda-toolkit nvidia-cublas nvidia-cuda-cupti \
	nvidia-cuda-nvrtc nvidia-cuda-runtime nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand \
	nvidia-cusolver nvidia-cusparse nvidia-cusparselt-cu13 nvidia-nccl-cu13 nvidia-nvjitlink \
	nvidia-nvshmem-cu13 nvidia-nvtx
LOCK_COMMAND := uv pip compile pyproject.toml --extra dev --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 --custom-compile-command 'make lock' --quiet \
	$(addprefix --no-emit-package ,$(LOCK_NO_EMIT)) -o $(LOCK)

.PHONY: demo test lint typecheck unit integration clean samples bench bench-quick layers lock test-isas

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --constraint $(LOCK) pip
	$(BIN)/python -m pip install --quiet --constraint $(LOCK) -e '.[dev]'
	$(BIN)/python -m pip check
	touch $(STAMP)

## Re-resolve the lock after a change to pyproject.toml (keeps existing pins); UPGRADE=1 takes the newest
## versions pyproject.toml allows. Commit the lock with the change; the next make reinstalls from it.
lock:
	test -x $(BIN)/uv || { test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); $(BIN)/python -m pip install --quiet uv; }
	$(BIN)/$(LOCK_COMMAND) $(if $(UPGRADE),--upgrade)
	$(BIN)/uv pip compile infrastructure/localstack/requirements.txt --python-version 3.13 \
		--python-platform x86_64-manylinux_2_28 --custom-compile-command 'make lock' --quiet \
		-o infrastructure/localstack/requirements.lock $(if $(UPGRADE),--upgrade)

## Run the whole pipeline locally on the bundled sample recordings (embedded emulator, no Docker).
demo: $(STAMP)
	$(BIN)/callsight local demo

## Lint, type-check and run every test (what CI runs).
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy
	for handler in functions/*/app.py; do $(BIN)/mypy --strict --follow-imports=silent $$handler || exit 1; done

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

## The tests that run the real Whisper model, once per CPU instruction set this machine has
## (CTranslate2's int8 output differs by ISA: tests/asr/test_recognition.py; RUNS=3 to repeat).
ASR_TESTS := tests/asr tests/integration/test_transcribe_pipeline.py tests/integration/test_observability.py
test-isas: $(STAMP)
	for isa in GENERIC AVX AVX2 AVX512; do \
	  flag=$$(echo $$isa | tr A-Z a-z | sed 's/avx512/avx512f/'); \
	  if [ $$isa != GENERIC ] && ! grep -qw $$flag /proc/cpuinfo; then echo "== $$isa: not on this CPU"; continue; fi; \
	  for run in $$(seq $${RUNS:-1}); do \
	    echo "== CT2_FORCE_CPU_ISA=$$isa run $$run"; \
	    CT2_FORCE_CPU_ISA=$$isa $(BIN)/python -m pytest -q -n 2 --dist loadfile $(ASR_TESTS) || exit 1; \
	  done; \
	done

integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration

## Integration tests against LocalStack (no Docker; its own Python 3.13 venv): infrastructure/localstack/README.md
.PHONY: test-localstack
test-localstack: $(STAMP)
	PROJECT_PYTHON=$(BIN)/python bash infrastructure/localstack/run-tests.sh

## Benchmarks (never pass/fail): one table of every figure, JSON in tests/bench/results/ (tests/bench/README.md).
bench: $(STAMP)
	$(BIN)/python tests/bench/run_all.py

## The same at small sizes, to check that every benchmark runs (under 5 minutes; not for quoting).
bench-quick: $(STAMP)
	$(BIN)/python tests/bench/run_all.py --quick

## The Lambda layers (reproducible zips under build/layers; layers/README.md).
layers: $(STAMP)
	$(BIN)/python layers/build_layer.py

## Rebuild events/samples/recordings from the dialogue scripts (needs espeak-ng, sox, festival).
samples:
	bash events/samples/generate.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache infrastructure/localstack/.venv build
