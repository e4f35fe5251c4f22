#!/bin/sh
# The container's entrypoint (run by dumb-init as PID 1).
#
# With no arguments, or only options, it serves the mock on 0.0.0.0:8080 with its run history in
# /data/runs.sqlite3 and the options appended (`... qualtrics-mock --run-delay 0`):
#   - /config/workflows.toml, when mounted, is given as --workflows;
#   - the admin token comes from $QHARNESS_MOCK_ADMIN_TOKEN (never from argv), and must be at least
#     16 characters: off loopback, the token is what keeps others out of the admin API and the UI;
#   - $QHARNESS_PUBLIC_HOSTS (comma- or space-separated names, e.g. "qualtrics-mock") become
#     --public-host flags: the Host names the mock answers to behind a service name;
#   - $QHARNESS_TRUST_PROXY (a number of proxies, behind an ingress) becomes --trust-proxy.
# With a command (`... qualtrics-mock qharness certify activation.toml --junit junit.xml`), it
# runs that command instead.
set -eu

case "${1:-}" in
  "" | -*) ;;
  *) exec "$@" ;;
esac

token="${QHARNESS_MOCK_ADMIN_TOKEN:-}"
if [ "${#token}" -lt 16 ]; then
  echo "qualtrics-mock: refusing to listen on 0.0.0.0 without an admin token of at least 16 characters: export QHARNESS_MOCK_ADMIN_TOKEN=\"\$(openssl rand -hex 16)\" and run the container with -e QHARNESS_MOCK_ADMIN_TOKEN" >&2
  exit 2
fi
unset token

set -- --host 0.0.0.0 --port 8080 --db /data/runs.sqlite3 "$@"
if [ -f /config/workflows.toml ]; then
  set -- --workflows /config/workflows.toml "$@"
fi
set -f  # the names are split on commas and blanks, never globbed
for name in $(printf '%s' "${QHARNESS_PUBLIC_HOSTS:-}" | tr ',' ' '); do
  set -- "$@" --public-host "$name"
done
if [ -n "${QHARNESS_TRUST_PROXY:-}" ]; then
  set -- "$@" --trust-proxy "$QHARNESS_TRUST_PROXY"
fi
exec qharness mock serve "$@"
