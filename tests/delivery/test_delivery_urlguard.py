"""The URL guard: only Qualtrics data-center hosts over https, loopback only with the flag."""

from __future__ import annotations

import re

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from support.destination import URL_TOKEN_ID

from connector.delivery.urlguard import check_url
from connector.errors import UrlGuardError, UsageError

QUERY = f"/inbound-event/v1/events/json/triggers?urlTokenId={URL_TOKEN_ID}"

ACCEPTED = [
    f"https://iad1.qualtrics.com{QUERY}",
    f"https://fra1.qualtrics.com{QUERY}",
    f"https://gov1.qualtrics.com{QUERY}",
    f"https://ca1.qualtrics.com{QUERY}",
    f"https://acme.syd1.qualtrics.com{QUERY}",
    f"https://my-brand.yul1.qualtrics.com:443{QUERY}",
    f"https://IAD1.Qualtrics.com{QUERY}",
    "https://pdx1.qualtrics.com/inbound-event/v1/events/JSON/triggers?triggerId=OC_1&userId=U",
]

REFUSED = [
    f"http://iad1.qualtrics.com{QUERY}",  # plain http
    f"https://iad1.qualtrics.com:8443{QUERY}",  # another port
    f"https://qualtrics.com{QUERY}",  # no data center
    f"https://www.qualtrics.com{QUERY}",  # not a data center
    f"https://iad1.qualtrics.com.evil.example{QUERY}",  # suffix attack
    f"https://evil.example/iad1.qualtrics.com{QUERY}",
    f"https://iad1-qualtrics.com{QUERY}",
    f"https://a.b.iad1.qualtrics.com{QUERY}",  # two labels before the dc
    f"https://iad1.qualtrics.com.{QUERY}",  # trailing dot
    f"https://user:pw@iad1.qualtrics.com{QUERY}",  # userinfo
    f"https://evil.example@iad1.qualtrics.com{QUERY}",
    f"https://iad1.qualtrics.com\\@evil.example{QUERY}",
    f"https://203.0.113.7{QUERY}",  # IP literal
    f"https://[2001:db8::1]{QUERY}",
    f"https://127.0.0.1{QUERY}",  # loopback without the flag
    f"http://127.0.0.1:8080{QUERY}",
    f"ftp://iad1.qualtrics.com{QUERY}",
    f"https://iad1.qualtrics.com {QUERY}",
    f"https://iad1.qualtrícs.com{QUERY}",
    f"https://iad1.qualtrics.com{QUERY}#frag",
    "not a url",
    "",
]


@pytest.mark.parametrize("url", ACCEPTED)
def test_qualtrics_hosts_pass(url: str) -> None:
    """Data-center and brand hosts over https on 443 pass unchanged."""
    assert check_url(url) == url


@pytest.mark.parametrize("url", REFUSED)
def test_everything_else_is_refused_without_leaking_the_token_id(url: str) -> None:
    """A refused URL is a usage error (exit 2) whose message hides the urlTokenId."""
    with pytest.raises(UrlGuardError) as caught:
        check_url(url)
    assert isinstance(caught.value, UsageError)
    assert caught.value.exit_code == 2
    assert URL_TOKEN_ID not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        f"http://127.0.0.1:5000{QUERY}",
        f"http://[::1]:5000{QUERY}",
        f"http://localhost:5000{QUERY}",
        f"https://127.0.0.1:8443{QUERY}",
    ],
)
def test_loopback_only_with_the_flag(url: str) -> None:
    """Plain http to loopback is allowed with the flag, and only then."""
    assert check_url(url, allow_http_loopback=True) == url
    with pytest.raises(UrlGuardError):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        f"http://127.0.0.2{QUERY}",
        f"http://10.0.0.1{QUERY}",
        f"http://localhost.evil.example{QUERY}",
        f"http://user@127.0.0.1{QUERY}",
        f"http://iad1.qualtrics.com{QUERY}",
    ],
)
def test_the_flag_does_not_open_anything_else(url: str) -> None:
    """The flag opens plain http to loopback only."""
    with pytest.raises(UrlGuardError):
        check_url(url, allow_http_loopback=True)


def test_http_refusal_names_the_flag() -> None:
    """The message tells a mock user what to do."""
    with pytest.raises(UrlGuardError, match="--allow-http-loopback"):
        check_url(f"http://127.0.0.1:9{QUERY}")


#: Labels that make up Qualtrics hosts and near misses, mixed with random ones.
_LABELS = st.one_of(
    st.sampled_from(["qualtrics", "com", "iad1", "fra1", "gov1", "ca1", "www", "evil", "x-1"]),
    st.from_regex(r"\A[a-z]{2,6}[0-9]{1,2}\Z"),  # data-center shaped
    st.from_regex(r"\A[a-z0-9-]{0,12}\Z"),  # anything, empty and dashed ends included
)
#: One to three labels, mostly before ``.qualtrics.com``, so that accepted hosts are common.
_HOSTS = st.builds(
    lambda labels, suffix: ".".join([*labels, *suffix]),
    st.lists(_LABELS, min_size=1, max_size=3),
    st.sampled_from([("qualtrics", "com")] * 4 + [(), ("com",), ("qualtrics", "com", "")]),
)


def test_only_hosts_ending_in_a_data_center_pass() -> None:
    """Any host the guard accepts is {dc}.qualtrics.com or {brand}.{dc}.qualtrics.com.

    The generator reaches both sides (a from_regex host alone was refused 1,000 times in 1,000,
    so the assertion never ran): the counts are asserted after the run."""
    seen = {"accepted": 0, "refused": 0}

    @given(_HOSTS)
    def check(host: str) -> None:
        try:
            check_url(f"https://{host}/x")
        except UrlGuardError:
            seen["refused"] += 1
            event("refused")
            return
        seen["accepted"] += 1
        event("accepted")
        labels = host.split(".")
        assert labels[-2:] == ["qualtrics", "com"]
        assert len(labels) in (3, 4)
        assert re.fullmatch(r"[a-z]{2,6}[0-9]{1,2}", labels[-3])
        assert all(labels)
        assert not any(label.startswith("-") for label in labels)

    check()
    assert seen["accepted"] > 0, seen
    assert seen["refused"] > 0, seen


@given(st.sampled_from(["iad1", "fra1", "sjc1", "au1"]), st.from_regex(r"\A[a-z0-9]{1,20}\Z"))
def test_brand_hosts_pass(dc: str, brand: str) -> None:
    """Any brand on any data center passes."""
    url = f"https://{brand}.{dc}.qualtrics.com/inbound-event"
    assert check_url(url) == url
