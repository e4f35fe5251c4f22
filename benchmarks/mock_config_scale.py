"""How long a mock takes to start with a big config: 10,000 workflows and 10,000 users.

Baseline in the same run: the same mock started with an empty config. Target: under 3 s for the
big one (it took 26-28 s when every workflow was its own commit). Informational: a miss prints
BELOW TARGET and does not fail.

    python benchmarks/mock_config_scale.py [--count 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from mock_qualtrics import create_app
from mock_qualtrics.state import current_state

TARGET_SECONDS = 3.0


def _config(count: int) -> dict[str, object]:
    users = [{"username": f"user{i}@example.com", "api_token": f"token-{i}"} for i in range(count)]
    workflows = [
        {
            "id": f"WF_{i}",
            "name": f"Workflow {i}",
            "owner": f"user{i}@example.com",
            "url_token_id": f"{i:08x}-0000-4000-8000-000000000000",
            "fields": [
                {"name": "email", "jsonpath": "$.identityMap.Email[0].id", "required": True}
            ],
        }
        for i in range(count)
    ]
    return {"USERS": users, "WORKFLOWS": workflows}


def _start(config: dict[str, object], db: Path) -> float:
    started = time.perf_counter()
    app = create_app({**config, "DATABASE": str(db)})
    took = time.perf_counter() - started
    current_state(app).store.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        empty = _start({}, Path(tmp) / "empty.db")
        big = _start(_config(args.count), Path(tmp) / "big.db")
        again = _start(_config(args.count), Path(tmp) / "big.db")  # a restart: upsert over a file
    print(f"empty config: {empty:.2f} s")
    print(f"{args.count} workflows + {args.count} users, new file: {big:.2f} s")
    print(f"the same, restarting on that file: {again:.2f} s")
    worst = max(big, again)
    verdict = "" if worst < TARGET_SECONDS else "  BELOW TARGET"
    print(f"target < {TARGET_SECONDS:g} s: {worst:.2f} s{verdict} (informational)")


if __name__ == "__main__":
    main()
