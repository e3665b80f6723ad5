#!/usr/bin/env bash
# `make test-localstack`: the integration suite against LocalStack, without Docker.
#
#   1. LocalStack's own Python 3.13 venv (infrastructure/localstack/.venv), created when missing or
#      when requirements.txt changed;
#   2. LocalStack in host mode (S3, SQS, SNS, EventBridge, KMS) and a moto server for DynamoDB only
#      (LocalStack's DynamoDB downloads Java and DynamoDB Local at first use: not possible offline),
#      both on free localhost ports, in the background;
#   3. pytest from the project venv with CALLSIGHT_TEST_BACKEND=localstack and both endpoints set;
#   4. both servers stopped whatever happens.
#
# Arguments are passed to pytest (default: -n 2 --dist loadfile --durations=10 tests/integration).
# Environment: LOCALSTACK_PYTHON (a Python 3.13), LOCALSTACK_VENV, PROJECT_PYTHON (default
# .venv/bin/python), LOCALSTACK_PORT / DYNAMODB_PORT (default: free ports), KEEP_LOGS=1.
set -euo pipefail
cd "$(dirname "$0")/../.."

here=infrastructure/localstack
venv=${LOCALSTACK_VENV:-$here/.venv}
project_python=${PROJECT_PYTHON:-.venv/bin/python}
[ -x "$project_python" ] || { echo "test-localstack: no project venv at $project_python (run make first)" >&2; exit 2; }

# --- 1. LocalStack's venv ------------------------------------------------------------------------
find_python313() {  # the first candidate that runs and is 3.13 (a pyenv shim may exist and fail)
  local candidate
  for candidate in ${LOCALSTACK_PYTHON:-} python3.13 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  echo "test-localstack: LocalStack needs Python 3.13 (set LOCALSTACK_PYTHON or install it with pyenv)" >&2
  exit 2
}

stamp=$venv/.requirements
# Versions from requirements.lock (`make lock`); the stamp is the lock, so a refreshed lock rebuilds the venv.
if ! [ -x "$venv/bin/python" ] || ! cmp -s "$here/requirements.lock" "$stamp"; then
  python313=$(find_python313)
  echo "test-localstack: creating $venv with $python313"
  started=$SECONDS
  rm -rf "$venv"
  "$python313" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$here/requirements.txt" --constraint "$here/requirements.lock"
  cp "$here/requirements.lock" "$stamp"
  echo "test-localstack: venv ready in $((SECONDS - started)) s"
fi

# --- 2. the emulators ------------------------------------------------------------------------------
free_port() {
  "$project_python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
localstack_port=${LOCALSTACK_PORT:-$(free_port)}
dynamodb_port=${DYNAMODB_PORT:-$(free_port)}
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/callsight-localstack.XXXXXX")
localstack_pid=
moto_pid=

stop() {
  local status=$? pid
  for pid in $localstack_pid $moto_pid; do
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ] || [ -n "${KEEP_LOGS:-}" ]; then
    echo "test-localstack: logs kept in $run_dir" >&2
  else
    rm -rf "$run_dir"
  fi
  exit "$status"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# TMPDIR: LocalStack clears $TMPDIR/localstack at start and stop; a private one per run.
mkdir -p "$run_dir/tmp"
env TMPDIR="$run_dir/tmp" \
  GATEWAY_LISTEN="127.0.0.1:$localstack_port" \
  DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 DNS_ADDRESS=0 \
  "$venv/bin/python" -m localstack.runtime.main >"$run_dir/localstack.log" 2>&1 &
localstack_pid=$!
"$project_python" -m callsight.local.emulator --host 127.0.0.1 --port "$dynamodb_port" >"$run_dir/moto.log" 2>&1 &
moto_pid=$!

wait_for() {  # name, url, pid
  local started=$SECONDS
  until "$project_python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$2" 2>/dev/null; do
    if ! kill -0 "$3" 2>/dev/null; then
      echo "test-localstack: $1 exited during start-up:" >&2
      tail -n 30 "$run_dir/$1.log" >&2
      exit 1
    fi
    if [ $((SECONDS - started)) -ge 90 ]; then
      echo "test-localstack: $1 not ready after 90 s" >&2
      exit 1
    fi
    sleep 0.2
  done
}
wait_for localstack "http://127.0.0.1:$localstack_port/_localstack/health" "$localstack_pid"
wait_for moto "http://127.0.0.1:$dynamodb_port/moto-api/" "$moto_pid"
echo "test-localstack: LocalStack on :$localstack_port, DynamoDB (moto) on :$dynamodb_port"

# --- 3. the tests -----------------------------------------------------------------------------------
[ $# -gt 0 ] || set -- -n 2 --dist loadfile --durations=10 tests/integration
set +e
env CALLSIGHT_TEST_BACKEND=localstack \
  CALLSIGHT_AWS_ENDPOINT="http://127.0.0.1:$localstack_port" \
  CALLSIGHT_DYNAMODB_ENDPOINT="http://127.0.0.1:$dynamodb_port" \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
  "$project_python" -m pytest "$@"
status=$?
set -e
exit "$status"
