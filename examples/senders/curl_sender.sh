#!/bin/sh
# A shell sender for `qharness certify-sender`: `qharness render` makes the payloads, curl sends
# them, one request per payload, with curl's own retry handling (--retry: on timeouts and on
# 408, 429, 500, 502, 503 and 504, waiting what Retry-After says, else 1 s doubling).
#
#   qharness certify-sender -- sh examples/senders/curl_sender.sh
#
# What curl does under the default scenario: it honours Retry-After on the 429 and the 503s, but
# --retry does not retry a connection closed without an answer ("(52) Empty reply from server"),
# so the event whose connection was dropped before processing is lost: sender.complete and
# sender.exit fail. With CURL_RETRY="--retry 5 --retry-all-errors" (curl 7.71+) it passes, and the
# lost answer is resent (a second run, reported, not failed).
#
# The credentials go to curl through a private config file, never through its argv (which any
# user of the machine can read in `ps`).
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
umask 077
printf 'user = "%s:%s"\n' "$QHARNESS_USERNAME" "$QHARNESS_API_TOKEN" > "$dir/curl.conf"
printf 'url = "%s"\n' "$QHARNESS_TRIGGER_URL" >> "$dir/curl.conf"
qharness render "$QHARNESS_ACTIVATION" "$QHARNESS_PROFILES" > "$dir/payloads.jsonl"
retry=${CURL_RETRY:-"--retry 5"}
failed=0
while IFS= read -r payload; do
  printf '%s' "$payload" | curl --silent --show-error --fail $retry --max-time 30 \
    --config "$dir/curl.conf" -H 'Content-Type: application/json' --data-binary @- \
    --output /dev/null || failed=$((failed + 1))
done < "$dir/payloads.jsonl"
echo "curl sender: $failed event(s) not delivered"
[ "$failed" -eq 0 ]
