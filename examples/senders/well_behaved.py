#!/usr/bin/env python3
"""A well-behaved sender for `qharness certify-sender`: plain Python, standard library only.

It reads the AEP profiles in $QHARNESS_PROFILES (JSON Lines), renders each with its own small
mapping (the bundled example's: Email and ECID identities, first name, mobile number), and POSTs
it to $QHARNESS_TRIGGER_URL with Basic auth ($QHARNESS_USERNAME:$QHARNESS_API_TOKEN). A 429, a
5xx, a timeout or a dropped connection is retried with exponential backoff, waiting at least
what Retry-After says; any other 4xx is given up at once. A dropped connection may mean the
event was recorded and only the answer was lost: resending is still right (at-least-once), and
Qualtrics may then run it twice.

    qharness certify-sender -- python3 examples/senders/well_behaved.py
"""

from __future__ import annotations

import base64
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request

#: The mapping this sender implements (a partner's code has its own).
IDENTITIES = ("Email", "ECID")  # identityMap namespaces sent, each entry reduced to {"id"}
ATTRIBUTES = ("person.name.firstName", "mobilePhone.number")  # same path in profile and payload
AUDIENCES = ("046456e3-18e1-48a6-9bda-d68547861283",)
SENDABLE = ("realized", "exited")  # "existing" alone is no change: nothing to send
ATTEMPTS = 12  # with the waits below: gives up after 1.5-3 minutes
TRANSIENT = (408, 429, 500, 502, 503, 504)


def get(document: dict, dotted: str) -> object:
    for key in dotted.split("."):
        if not isinstance(document, dict) or key not in document:
            return None
        document = document[key]
    return document


def render(profile: dict) -> dict | None:
    """The Qualtrics payload for one profile, or None when there is no change to announce."""
    ups = get(profile, "segmentMembership.ups") or {}
    changes = {aid: ups[aid] for aid in AUDIENCES if aid in ups}
    if not any(change.get("status") in SENDABLE for change in changes.values()):
        return None
    payload: dict = {}
    for path in ATTRIBUTES:
        value = get(profile, path)
        if value is not None:
            *parents, leaf = path.split(".")
            node = payload
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = value
    identity_map = profile.get("identityMap", {})
    payload["identityMap"] = {
        ns: [{"id": entry["id"]} for entry in identity_map[ns]]
        for ns in IDENTITIES
        if ns in identity_map
    }
    payload["segmentMembership"] = {
        "ups": {
            aid: {"status": c["status"], "lastQualificationTime": c["lastQualificationTime"]}
            for aid, c in changes.items()
        }
    }
    return payload


def post(url: str, auth: str, body: bytes) -> None:
    """Deliver one body, retrying transient failures; raise when it cannot be delivered."""
    for attempt in range(1, ATTEMPTS + 1):
        wait = min(30.0, 0.25 * 2**attempt) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter
        request = urllib.request.Request(  # noqa: S310 - QHARNESS_TRIGGER_URL, http(s)
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                response.read()
                return
        except urllib.error.HTTPError as error:
            if error.code not in TRANSIENT:
                raise
            retry_after = error.headers.get("Retry-After")
            if retry_after and retry_after.isdigit():
                wait = max(wait, float(retry_after))
            print(f"attempt {attempt}: HTTP {error.code}; retrying in {wait:.1f} s", flush=True)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            print(
                f"attempt {attempt}: {type(error).__name__}; retrying in {wait:.1f} s", flush=True
            )
        time.sleep(wait)
    raise RuntimeError(f"gave up after {ATTEMPTS} attempts")


def main() -> int:
    url = os.environ["QHARNESS_TRIGGER_URL"]
    user = os.environ["QHARNESS_USERNAME"]
    token = os.environ["QHARNESS_API_TOKEN"]
    auth = base64.b64encode(f"{user}:{token}".encode()).decode()
    sent = failed = 0
    with open(os.environ["QHARNESS_PROFILES"], encoding="utf-8") as lines:
        for line in lines:
            payload = render(json.loads(line))
            if payload is None:
                continue
            body = json.dumps(payload, ensure_ascii=False).encode()
            try:
                post(url, auth, body)
                sent += 1
            except Exception as error:  # report and go on with the next event
                print(f"could not deliver an event: {error}", file=sys.stderr)
                failed += 1
    print(f"sent {sent} events, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
