"""Coverage-guided fuzzing of every parser that takes outside input (``nox -s fuzz``).

Targets: the activation loader, the profile parser + renderer, the URL guard, and the mock's
body parsing and trigger handling. Each runs for a bounded time (60 s by default). A "crash" is
any exception other than the documented error a user should see, or a 5xx from the mock. Crashing
inputs are written to ``tests/fuzz/crashes/<target>/``; ``tests/test_fuzz_regressions.py``
replays every file there on each test run, so a crash found once stays fixed.

atheris drives the search where it installs; elsewhere Hypothesis generates bytes for the same
time budget (less clever, same oracle).

    python tests/fuzz/fuzz_targets.py [--seconds 60] [TARGET ...]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CRASHES = Path(__file__).resolve().parent / "crashes"
#: Starting inputs per target (valid documents), so the search starts past the parser's front door.
SEEDS = Path(__file__).resolve().parent / "seeds"


def _activation(data: bytes) -> None:
    from connector.activation import parse_activation
    from connector.errors import ActivationError

    for source in ("fuzz.toml", "fuzz.json"):
        with contextlib.suppress(ActivationError):
            parse_activation(data, source=source)


def _profile(data: bytes) -> None:
    from connector.profiles import parse_line
    from connector.render import Exclusion, Payload

    try:
        profile = parse_line(data)
    except ValueError:
        return
    result = _renderer().render(profile)
    assert result is None or isinstance(result, Payload | Exclusion), result


def _urlguard(data: bytes) -> None:
    from connector.delivery.urlguard import check_url
    from connector.errors import UrlGuardError

    url = data.decode("utf-8", "replace")
    for loopback in (False, True):
        try:
            checked = check_url(url, allow_http_loopback=loopback)
        except UrlGuardError as exc:
            assert "urlTokenId=" not in str(exc) or "urlTokenId=***" in str(exc), str(exc)
        else:
            assert checked.startswith(("https://", "http://")), checked


def _mock_trigger(data: bytes) -> None:
    client, url, headers = _mock_client()
    content_type = ("application/json", "text/plain", "application/json; charset=latin-1")[
        len(data) % 3
    ]
    response = client.post(url, data=data, headers={**headers, "Content-Type": content_type})
    assert response.status_code < 500, (response.status_code, response.data[:200])


_cache: dict[str, Any] = {}


def _renderer() -> Any:
    if "renderer" not in _cache:
        from connector.activation import parse_activation
        from connector.example import bundled_activation_bytes
        from connector.render import Renderer

        data = bundled_activation_bytes()
        _cache["renderer"] = Renderer(parse_activation(data))
    return _cache["renderer"]


def _mock_client() -> tuple[Any, str, dict[str, str]]:
    if "mock" not in _cache:
        from mock_qualtrics import create_app

        app = create_app({"DATABASE": ":memory:", "RUN_DELAY": 0.0, "RATE_LIMIT": 10**9})
        client = app.test_client()
        client.post("/__admin/users", json={"username": "fuzz", "api_token": "fuzz-token"})
        workflow = client.post(
            "/__admin/workflows",
            json={
                "name": "fuzz",
                "owner": "fuzz",
                "fields": [
                    {"name": "email", "jsonpath": "$.identityMap.Email[0].id", "required": True}
                ],
            },
        ).get_json()
        token = base64.b64encode(b"fuzz:fuzz-token").decode()
        url = "/inbound-event/v1/events/json/triggers?urlTokenId=" + workflow["urlTokenId"]
        _cache["mock"] = (client, url, {"Authorization": f"Basic {token}"})
    return _cache["mock"]  # type: ignore[no-any-return]


TARGETS: dict[str, Callable[[bytes], None]] = {
    "activation": _activation,
    "profile": _profile,
    "urlguard": _urlguard,
    "mock-trigger": _mock_trigger,
}


def _record(target: str, data: bytes) -> Path:
    folder = CRASHES / target
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / hashlib.sha256(data).hexdigest()[:16]
    path.write_bytes(data)
    return path


def _with_hypothesis(name: str, target: Callable[[bytes], None], seconds: float) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    deadline = time.monotonic() + seconds
    runs = 0

    @settings(
        max_examples=10**9, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(st.one_of(st.binary(max_size=4096), st.text(max_size=2048).map(str.encode)))
    def fuzz(data: bytes) -> None:
        nonlocal runs
        if time.monotonic() > deadline:
            raise TimeoutError
        runs += 1
        try:
            target(data)
        except Exception:
            print(f"{name}: crash saved to {_record(name, data)}", file=sys.stderr)
            raise

    for seed in sorted((SEEDS / name).glob("*")):
        target(seed.read_bytes())
        runs += 1
    with contextlib.suppress(TimeoutError):
        fuzz()
    return runs


def _with_atheris(name: str, seconds: float) -> int:
    """Run one target under atheris in a child process (libFuzzer owns the process it runs in)."""
    import subprocess

    (CRASHES / name).mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        __file__,
        "--engine",
        "atheris-child",
        "--seconds",
        str(seconds),
        name,
    ]
    return subprocess.run(command, check=False).returncode


def _atheris_child(name: str, seconds: float) -> None:
    import atheris

    target = TARGETS[name]
    for seed in sorted((SEEDS / name).glob("*")):  # loads everything the target touches
        target(seed.read_bytes())
    # instrument_imports() misses modules installed in site-packages (a custom loader); this
    # instruments every function loaded so far, ours included, once, before the search starts.
    atheris.instrument_all()
    import tempfile

    corpus = tempfile.mkdtemp(prefix=f"qh-fuzz-{name}-")  # libFuzzer writes new units here
    argv = [
        sys.argv[0],
        corpus,
        str(SEEDS / name),
        f"-max_total_time={int(seconds)}",
        f"-artifact_prefix={CRASHES / name}/",
        "-print_final_stats=1",
    ]
    atheris.Setup(argv, target)
    atheris.Fuzz()


def main() -> int:
    parser = argparse.ArgumentParser(description="Fuzz the harness's input parsers.")
    parser.add_argument(
        "targets", nargs="*", default=list(TARGETS), metavar="TARGET", help=", ".join(TARGETS)
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--engine", choices=["auto", "atheris", "hypothesis", "atheris-child"], default="auto"
    )
    args = parser.parse_args()
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    if args.engine == "atheris-child":
        _atheris_child(args.targets[0], args.seconds)
        return 0
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401
        except ImportError:
            engine = "hypothesis"
        else:
            engine = "atheris"
    failed = 0
    for name in args.targets:
        start = time.monotonic()
        if engine == "atheris":
            code = _with_atheris(name, args.seconds)
            failed += code != 0
            print(
                f"{name}: atheris {'found a crash (see ' + str(CRASHES / name) + ')' if code else 'no crash'} in {time.monotonic() - start:.0f} s"
            )
            continue
        try:
            runs = _with_hypothesis(name, TARGETS[name], args.seconds)
        except Exception as exc:  # the crash was saved; report it and go on with the next target
            failed += 1
            print(f"{name}: crash: {type(exc).__name__}: {exc}")
            continue
        elapsed = time.monotonic() - start
        print(
            f"{name}: hypothesis {runs:,} inputs in {elapsed:.0f} s ({runs / elapsed:,.0f}/s), no crash"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
