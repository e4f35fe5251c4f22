#!/usr/bin/env python3
"""A naive sender for `qharness certify-sender`: one POST per profile, no retries.

It renders like well_behaved.py but sends each event once and moves on, whatever the answer:
a 503, a 429 or a dropped connection loses that event, and it still exits 0. Certification
fails it on sender.complete and names every lost event with the answer its only attempt got.

    qharness certify-sender -- python3 examples/senders/naive.py
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request

from well_behaved import render


def main() -> int:
    url = os.environ["QHARNESS_TRIGGER_URL"]
    credentials = f"{os.environ['QHARNESS_USERNAME']}:{os.environ['QHARNESS_API_TOKEN']}"
    auth = base64.b64encode(credentials.encode()).decode()
    with open(os.environ["QHARNESS_PROFILES"], encoding="utf-8") as lines:
        for line in lines:
            payload = render(json.loads(line))
            if payload is None:
                continue
            request = urllib.request.Request(  # noqa: S310 - QHARNESS_TRIGGER_URL, http(s)
                url,
                data=json.dumps(payload).encode(),
                method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                    response.read()
            except (urllib.error.URLError, ConnectionError) as error:
                print(f"ignored: {error}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
