"""No traceback in ``qharness certify``'s output, however the embedded mock's shutdown races.

Regression: a failed certification printed a waitress worker's ``OSError: [Errno 9] Bad file
descriptor`` traceback just before its verdict, on one run in a few under load. Thirty runs of a
failing activation (a few at a time, as real subprocesses) must each end with the verdict line and
exit 1, and none may print "Traceback".
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

from support.cli import QHARNESS
from support.paths import PARTNER_EXAMPLE

RUNS = 30
AT_ONCE = 10


def _certify(seed: int) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "QHARNESS_DEBUG"}
    result = subprocess.run(
        [
            *QHARNESS,
            "certify",
            str(PARTNER_EXAMPLE),
            "--examples",
            "5",
            "--seed",
            str(seed),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    return result.returncode, result.stdout + result.stderr


def test_failing_certification_never_prints_a_traceback() -> None:
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        results = list(pool.map(_certify, range(RUNS)))
    for code, output in results:
        assert "Traceback" not in output
        assert "internal error" not in output
        assert code == 1, output
        # The verdict is the last line; load warnings (stderr, printed first) come after stdout here.
        said = [line for line in output.rstrip().splitlines() if not line.startswith("warning: ")]
        assert said[-1].startswith("certification failed:"), output
