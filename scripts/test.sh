#!/usr/bin/env bash
# Set up and run the whole test suite on a fresh Debian machine: system packages, PostgreSQL,
# a virtualenv with the test dependencies, then every test on SQLite and on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

need_apt=()
command -v ostree >/dev/null || need_apt+=(ostree)
command -v psql >/dev/null || need_apt+=(postgresql postgresql-client)
if [ ${#need_apt[@]} -gt 0 ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# PostgreSQL on 127.0.0.1:5432 with trust auth for the postgres user.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    cluster_version="$(ls /etc/postgresql 2>/dev/null | head -n1)"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$cluster_version" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
export PULPWOOD_TEST_PG="${PULPWOOD_TEST_PG:-postgresql://postgres@127.0.0.1:5432}"

VENV="${PULPWOOD_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --upgrade pip >/dev/null
"$VENV/bin/pip" install -q -e ".[test]"

# Layer contracts (plugins import only pulpwood.plugin; calls flow downwards).
"$VENV/bin/lint-imports"

status=0
echo "== tests on SQLite =="
PULPWOOD_TEST_DB=sqlite "$VENV/bin/pytest" -q -p no:cacheprovider "$@" || status=$?
echo "== tests on PostgreSQL =="
PULPWOOD_TEST_DB=postgresql "$VENV/bin/pytest" -q -p no:cacheprovider "$@" || status=$?
exit $status
