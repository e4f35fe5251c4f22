"""The URL guard's host pattern, character rules and messages, with exact oracles.

A host passes iff it is ``{dc}.qualtrics.com`` or ``{brand}.{dc}.qualtrics.com``, where a dc is
2-6 letters then 1-2 digits and a brand is one DNS label (1-63 of ``[a-z0-9-]``, no hyphen at
either end).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.delivery.urlguard import LOOPBACK_HOSTS, check_url
from connector.errors import UrlGuardError
from connector.redact import redact_url

TOKEN_ID = "5f1c3a52-7d0e-4c1b-9a43-2b8e6f0d9c71"
PATH = f"/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}"


def _passes(url: str, **kwargs: Any) -> bool:
    try:
        assert check_url(url, **kwargs) == url
    except UrlGuardError:
        return False
    return True


@given(st.integers(0, 9), st.integers(0, 4))
def test_dc_is_two_to_six_letters_then_one_or_two_digits(letters: int, digits: int) -> None:
    """``{letters}{digits}.qualtrics.com`` passes iff 2 <= letters <= 6 and 1 <= digits <= 2."""
    dc = "abcdefghi"[:letters] + "123456789"[:digits]
    expected = 2 <= letters <= 6 and 1 <= digits <= 2
    assert _passes(f"https://{dc}.qualtrics.com{PATH}") is expected


@given(st.integers(1, 70))
def test_brand_label_is_one_to_63_characters(length: int) -> None:
    """A brand label passes iff it is at most 63 characters (a DNS label's limit)."""
    brand = ("a1-b" * 20)[: length - 1] + "z"
    assert _passes(f"https://{brand}.iad1.qualtrics.com{PATH}") is (length <= 63)


@pytest.mark.parametrize("brand", ["-acme", "acme-", "-", "ac_me", "ac.me"])
def test_brand_label_hyphen_and_character_rules(brand: str) -> None:
    """No hyphen at either end of a brand; only letters, digits and inner hyphens."""
    assert not _passes(f"https://{brand}.iad1.qualtrics.com{PATH}")


@pytest.mark.parametrize("brand", ["a", "a-b", "a--b", "9", "x" * 63])
def test_brand_labels_at_the_edges_pass(brand: str) -> None:
    """One character, inner (even doubled) hyphens and exactly 63 characters pass."""
    assert _passes(f"https://{brand}.iad1.qualtrics.com{PATH}")


@pytest.mark.parametrize(
    "url",
    [
        f"https://iad1.qualtrics.com/a b{PATH}",
        f"https://iad1.qualtrics.com/a\\b{PATH}",
        f"https://iad1.qualtrics.com/a\tb{PATH}",
        f"https://iad1.qualtrics.com/\x7f{PATH}",
        f"https://iad1.qualtrics.com/é{PATH}",
    ],
)
def test_space_backslash_control_and_non_ascii_are_refused_by_name(url: str) -> None:
    """Characters on which URL parsers disagree are refused with a message that says so."""
    with pytest.raises(UrlGuardError) as caught:
        check_url(url)
    message = str(caught.value)
    assert message == (
        f"destination URL {redact_url(url)!r} contains whitespace, control or non-ASCII characters"
    )
    assert TOKEN_ID not in message


@pytest.mark.parametrize(
    ("url", "ending"),
    [
        (f"https://iad1.qualtrics.com:8443{PATH}", "must use port 443, not 8443"),
        (f"http://iad1.qualtrics.com{PATH}", "must use https; plain http is allowed only to "
         "127.0.0.1, ::1 or localhost, with --allow-http-loopback, or to a mock host named "
         "with --allow-mock-host NAME"),
        (f"ftp://iad1.qualtrics.com{PATH}", "must use https"),
        (f"https://iad1.qualtrics.com{PATH}#top", "has a fragment"),
        (f"https://u:p@iad1.qualtrics.com{PATH}", "carries userinfo; credentials come from the environment"),
        (f"https://iad1.qualtrics.com:99999{PATH}", "cannot be parsed (an invalid host or port)"),
    ],
)  # fmt: skip
def test_messages_show_the_redacted_url_and_the_rule(url: str, ending: str) -> None:
    """Each refusal quotes the URL with its urlTokenId as ``***`` and ends with the rule broken."""
    with pytest.raises(UrlGuardError) as caught:
        check_url(url)
    message = str(caught.value)
    assert message == f"destination URL {redact_url(url)!r} {ending}"
    assert "urlTokenId=***" in message
    assert TOKEN_ID not in message


def test_host_message_names_the_host_and_the_pattern() -> None:
    """A wrong host is named (hosts carry no secret), with the two shapes that pass."""
    with pytest.raises(UrlGuardError) as caught:
        check_url(f"https://www.qualtrics.com{PATH}")
    assert str(caught.value) == (
        "destination host 'www.qualtrics.com' is not a Qualtrics data-center host "
        "({dc}.qualtrics.com or {brand}.{dc}.qualtrics.com, dc such as iad1 or fra1)"
    )


def test_an_uppercase_scheme_is_returned_lowercased() -> None:
    """``HTTPS://`` passes and comes back as ``https://`` with the rest byte-exact."""
    rest = f"://IAD1.qualtrics.com{PATH}"
    assert check_url("HTTPS" + rest) == "https" + rest


def test_loopback_hosts_are_exactly_three() -> None:
    """Only 127.0.0.1, ::1 and localhost count as loopback for the mock."""
    assert frozenset({"127.0.0.1", "::1", "localhost"}) == LOOPBACK_HOSTS


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "localhost", "LOCALHOST"])
@pytest.mark.parametrize("scheme", ["http", "https", "HTTP"])
def test_loopback_with_the_flag_on_any_port(host: str, scheme: str) -> None:
    """With the flag, http or https to loopback on any port passes, scheme lowercased."""
    url = f"{scheme}://{host}:5{PATH}"
    assert check_url(url, allow_http_loopback=True) == scheme.lower() + url[len(scheme) :]


@pytest.mark.parametrize("scheme", ["ftp", "ws"])
def test_loopback_with_another_scheme_is_refused(scheme: str) -> None:
    """The flag opens http and https only, without the http hint."""
    with pytest.raises(UrlGuardError) as caught:
        check_url(f"{scheme}://127.0.0.1:5{PATH}", allow_http_loopback=True)
    assert str(caught.value).endswith("must use https")


def test_userinfo_is_refused_even_on_loopback() -> None:
    """Credentials in the URL are refused before the loopback exception applies."""
    with pytest.raises(UrlGuardError, match=re.escape("carries userinfo")):
        check_url(f"http://u@127.0.0.1:5{PATH}", allow_http_loopback=True)


def test_a_url_without_a_host_names_an_empty_host() -> None:
    """``https:///path`` has no host: the message shows '' rather than inventing one."""
    with pytest.raises(UrlGuardError) as caught:
        check_url("https:///inbound-event")
    assert str(caught.value).startswith("destination host '' is not a Qualtrics data-center host")


# --- named mock hosts (--allow-mock-host) ---------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize(
    "name", ["qualtrics-mock", "QUALTRICS-MOCK", "mock.ci.internal", "10.0.0.7"]
)
def test_a_named_mock_host_passes_on_any_port(scheme: str, name: str) -> None:
    """A host named in ``allow_mock_hosts`` passes with http or https on any port, without the
    loopback flag; the name matches whatever its case."""
    url = f"{scheme}://{name.lower()}:8080{PATH}"
    assert check_url(url, allow_mock_hosts=[name]) == url


@pytest.mark.parametrize(
    "url",
    [
        f"http://other-mock:8080{PATH}",  # not the named host
        f"http://qualtrics-mock.evil.example{PATH}",  # the name as a prefix only
        f"http://127.0.0.1:8080{PATH}",  # loopback still needs its own flag
        f"ftp://qualtrics-mock{PATH}",  # another scheme
        f"http://u:p@qualtrics-mock{PATH}",  # userinfo before any exception
    ],
)
def test_the_guard_stays_closed_for_every_host_not_named(url: str) -> None:
    """Naming one mock host opens exactly that host, for http and https only."""
    with pytest.raises(UrlGuardError):
        check_url(url, allow_mock_hosts=["qualtrics-mock"])


@given(
    st.from_regex(r"\A[a-z][a-z0-9-]{0,20}[a-z0-9]\Z"),
    st.from_regex(r"\A[a-z][a-z0-9-]{0,20}[a-z0-9]\Z"),
)
def test_a_named_host_opens_only_itself(named: str, other: str) -> None:
    """For any two names, http to ``other`` passes iff it is the named one."""
    assert _passes(f"http://{other}:8080{PATH}", allow_mock_hosts=[named]) is (other == named)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("iad1.qualtrics.com", "is a Qualtrics host: plain http is never allowed to Qualtrics"),
        (
            "acme.fra1.QUALTRICS.com",
            "is a Qualtrics host: plain http is never allowed to Qualtrics",
        ),
        ("*.example", "is not a host name"),
        ("mock:8080", "is not a host name"),
        ("http://mock", "is not a host name"),
        ("", "is not a host name"),
        ("-mock", "is not a host name"),
    ],
)
def test_a_mock_host_that_could_leak_or_is_not_a_name_is_refused(name: str, problem: str) -> None:
    """Naming a Qualtrics host, a pattern, a port or a URL is refused, quoting the name."""
    with pytest.raises(UrlGuardError) as caught:
        check_url(f"https://iad1.qualtrics.com{PATH}", allow_mock_hosts=[name])
    assert str(caught.value).startswith(f"mock host {name!r} {problem}")
