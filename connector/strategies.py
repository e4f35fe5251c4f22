"""Hypothesis strategies for AEP profiles and Qualtrics payloads, built from an activation.

Certification runs its properties over these strategies, and partners can write their own::

    from hypothesis import given
    from connector.activation import load_activation
    from connector.render import Exclusion, Payload, Renderer
    from connector.strategies import profiles

    ACTIVATION = load_activation("activation.toml")
    RENDERER = Renderer(ACTIVATION)

    @given(profiles(ACTIVATION))
    def test_every_profile_is_sent_or_excluded_with_a_reason(profile):
        result = RENDERER.render(profile)  # raises ContractViolation on a bad payload
        assert result is None or isinstance(result, (Payload, Exclusion))

``profiles(activation)`` builds AEP profile updates that exercise every identity and attribute
mapping, in both of the forms AEP hands a destination: XDM (values at their dotted paths) and, for
sources written ``attributes.X``, the Destination SDK form ``{"attributes": {"X": {"value": ...}}}``
(``{}`` for an absent attribute). With ``adversarial=True`` (the default) they also carry what a
connector must survive: unicode, right-to-left and emoji names, very long values (some push the
payload over Qualtrics' 100 KB body limit), SHA-256 hashed and invalid emails, missing identities,
unmapped identity namespaces, attributes and audiences (to prove nothing leaks), ``existing``,
``exited`` and ``realized`` statuses, any JSON number (``1e400``, ``1.50``, 1,000-digit integers,
each of which must arrive as written), both timestamp formats AEP uses
(``2021-06-30T18:40:07.591378Z`` and ``2021-10-26T17:41:55.947+0000``) and consent values that are
allowed and not. With ``adversarial=False`` every profile is one that should be sent.

Every profile's attribute values cover what an AEP export carries for the attribute's XDM
``type`` (``live_values(type)``: 64-bit integers beyond 2^53, doubles as Java writes them,
``1.0E10`` and ``4.9E-324``, strings with whitespace at the edges and of 100 KB, booleans, arrays
and objects; any of them when the mapping declares no type).

``payloads(activation)`` gives the payload documents the connector's renderer makes from
non-adversarial profiles. Every value is constructed directly (no filtering), so generation is fast
enough to run hundreds of examples in a certification.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any, Final

from hypothesis import strategies as st

from . import exactjson
from .activation import Activation
from .live_values import java_double, showcase
from .model import SDK_ATTRIBUTES, sdk_attribute
from .paths import set_path, split_path

__all__ = [
    "emails",
    "identity_ids",
    "live_values",
    "number_texts",
    "payloads",
    "profiles",
    "text_values",
    "timestamps",
]

#: Fragments adversarial strings are assembled from: plain, accented, RTL, CJK, emoji, controls.
_FRAGMENTS: Final = (
    "Dave", "Ana", "Zoë", "Jürgen", "Ørsted", "O'Brien", 'say "hi"', "back\\slash", "a b",
    "محمد", "שלום", "\u202eevil", "\u200f", "名前", "김", "Ἀθῆναι", "😀",
    "👩\u200d👩\u200d👧", "🇫🇷",
    "e\u0301", "\u200b", "\t", "\n", "\x00", "\x7f", "\ufeff", "0", "-1", "null", "</script>",
)  # fmt: skip
#: Short adversarial strings, built once: each fragment alone, then deterministic combinations.
_TEXTS: Final = (
    *_FRAGMENTS,
    *(a + " " + b for a, b in zip(_FRAGMENTS, reversed(_FRAGMENTS), strict=True)),
    "".join(_FRAGMENTS),
    "محمد بن سلمان 😀",
    "x" * 255,
)
_LOCAL_PARTS: Final = (
    "dave",
    "ana.maria",
    "x",
    "first+tag",
    "o'brien",
    "zoë",
    "ユーザー",
    "user_1",
)
_DOMAINS: Final = ("example.com", "mail.example.org", "xn--bcher-kva.example", "例え.jp", "a.co")
_BAD_EMAILS: Final = (
    "not-an-email", "dave@", "@example.com", "dave@example", "dave @example.com",
    "dave@exa mple.com", "dave@@example.com", "dave@example.com\n", " ", "dave@.com",
)  # fmt: skip
_NAMESPACES: Final = ("Phone", "GAID", "IDFA", "loyaltyId", "crm_id", "Email_LC_SHA256", "TNTID")
_UNMAPPED_KEYS: Final = (
    "homeAddress",
    "loyalty",
    "_tenant",
    "secretScore",
    "person",
    "mobilePhone",
)
_UNMAPPED_SDK: Final = ("unmappedAttr", "ssn", "internalScore")
_CONSENT_OTHERS: Final = ("n", "", "N", "yes", "no", "dy", "u", "Y ")
_LONG_CHUNKS: Final = ("x", "é", "😀", "محمد ", "lorem ipsum ")
#: Fractions of a second as AEP writes them (none, milli, micro, nano and odd lengths).
_FRACTIONS: Final = ("", ".591378", ".947", ".5", ".123456789", ".000", ".12")
#: Offsets in both spellings: ``Z``, ``+0000`` (AEP's second format), ``+05:30``, ``-0800``.
_ZONES: Final = ("Z", "+0000", "+00:00", "+05:30", "-0800", "-03:30", "+1400")
_ENTRY_EXTRAS: Final[tuple[dict[str, Any], ...]] = (
    {},
    {"authenticatedState": "authenticated", "primary": True},
    {"authenticatedState": "ambiguous"},
    {"authenticatedState": "loggedOut", "primary": False},
)
_EPOCH_2000: Final = 946_684_800
_CENTURY: Final = 3_155_760_000  # seconds from 2000 to 2100, give or take


#: (fraction, zone) pairs, so one draw picks both; AEP's two documented formats come first and
#: often (``.591378Z`` and ``.947+0000``).
_FRACTION_ZONES: Final = (
    *[(".591378", "Z"), (".947", "+0000")] * 8,
    *((f, z) for z in _ZONES for f in _FRACTIONS),
)


def _format_time(seconds: int, fraction_zone: tuple[str, str]) -> str:
    moment = time.gmtime(_EPOCH_2000 + seconds)
    return time.strftime("%Y-%m-%dT%H:%M:%S", moment) + fraction_zone[0] + fraction_zone[1]


def timestamps() -> st.SearchStrategy[str]:
    """``lastQualificationTime`` in AEP's formats: ``...591378Z``, ``...947+0000`` and kin."""
    return st.builds(_format_time, st.integers(0, _CENTURY), st.sampled_from(_FRACTION_ZONES))


def _repeat(chunk: str, count: int) -> str:
    return (chunk * count)[:130_000]


def text_values(*, long: bool = False) -> st.SearchStrategy[str]:
    """Short adversarial strings; with ``long``, also values of ~10-130 K characters."""
    short = st.sampled_from(_TEXTS)
    if not long:
        return short
    very_long = st.builds(_repeat, st.sampled_from(_LONG_CHUNKS), st.integers(10_000, 130_000))
    return st.one_of(short, short, short, short, short, short, short, very_long)


def _email(number: int, local_domain: tuple[str, str]) -> str:
    return f"{local_domain[0]}{number}@{local_domain[1]}"


_LOCAL_DOMAINS: Final = tuple((local, domain) for domain in _DOMAINS for local in _LOCAL_PARTS)


def emails() -> st.SearchStrategy[str]:
    """Plain-text emails (``local@domain.tld``, unicode included) that Qualtrics can use."""
    return st.builds(_email, st.integers(0, 10**6), st.sampled_from(_LOCAL_DOMAINS))


def _sha256_hex(email: str, upper: bool) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return digest.upper() if upper else digest


def _hashed_emails() -> st.SearchStrategy[str]:
    return st.builds(_sha256_hex, emails(), st.booleans())


def identity_ids() -> st.SearchStrategy[str]:
    """Non-email identity ids: any non-empty string (ECID-like digits, UUIDs, unicode)."""
    return st.one_of(
        st.integers(10**37, 10**38 - 1).map(str),
        st.uuids().map(str),
        text_values(),
    )


def _email_ids(adversarial: bool) -> st.SearchStrategy[str]:
    if not adversarial:
        return emails()
    return st.one_of(emails(), emails(), emails(), _hashed_emails(), st.sampled_from(_BAD_EMAILS))


def _entries_of(identity: str, shape: int) -> list[dict[str, Any]]:
    """One entry (with the authenticatedState/primary extras ``shape`` picks), two for 6-7.

    A second entry reuses the first id in another form (``alt.`` prefix, or upper case), so an
    identityMap with several ids per namespace is exercised without another draw.
    """
    entries = [{"id": identity, **_ENTRY_EXTRAS[shape % len(_ENTRY_EXTRAS)]}]
    if shape >= 6:
        entries.append({"id": f"alt.{identity}" if shape == 6 else identity.upper() or identity})
    return entries


def _entries(
    ids: st.SearchStrategy[str], adversarial: bool
) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.builds(_entries_of, ids, st.integers(0, 7 if adversarial else 3))


def _attribute_values(
    adversarial: bool, xdm_type: str | None = None, *, strict_numbers: bool = False
) -> st.SearchStrategy[Any]:
    if not adversarial:  # every profile is sent: no ~100 KB value that two could overflow
        return live_values(xdm_type, strict_numbers=strict_numbers, long=False)
    live = live_values(xdm_type, strict_numbers=strict_numbers)
    anything = st.one_of(
        text_values(long=True),
        text_values(long=True),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        number_texts().map(exactjson.loads),  # as the profile parser hands them over
        st.booleans(),
        st.none(),
    )
    if xdm_type is None:
        return st.one_of(live, anything)
    # A typed attribute mostly holds its type; a value of another one is excluded (render).
    return st.one_of(live, live, live, live, live, anything)


def _java_double(value: float) -> Any:
    return exactjson.loads(java_double(value))


def _scalars(xdm_type: str, strict_numbers: bool) -> st.SearchStrategy[Any]:
    """Generated values of one scalar XDM type, beside its showcase (``live_values.showcase``)."""
    if xdm_type == "string":
        edges = st.sampled_from(("", " ", "\t", "\n", "\u00a0", "\u3000"))
        return st.one_of(
            text_values(), st.builds(lambda a, t, b: a + t + b, edges, text_values(), edges)
        )
    if xdm_type == "integer":
        bound = 10**1000 if strict_numbers else 2**63
        return st.integers(-bound, bound - 1).map(lambda n: exactjson.loads(str(n)))
    if xdm_type == "number":
        doubles = st.floats(allow_nan=False, allow_infinity=False).map(_java_double)
        if strict_numbers:
            return st.one_of(doubles, number_texts().map(exactjson.loads))
        return doubles
    if xdm_type == "boolean":
        return st.booleans()
    if xdm_type == "date":
        return st.dates().map(lambda d: d.isoformat())
    return timestamps()  # date-time


_SCALAR_TYPES: Final = ("string", "integer", "number", "boolean", "date", "date-time")


def live_values(
    xdm_type: str | None = None, *, strict_numbers: bool = False, long: bool = True
) -> st.SearchStrategy[Any]:
    """The JSON values an AEP export carries for an attribute of ``xdm_type`` (``None``: any).

    Half the draws are ``live_values.showcase``'s edge values (2^53 + 1, ``1.0E10``,
    ``4.9E-324``, ``-0.0``, edge whitespace, RTL, emoji, a 100 KB string...), the rest generated:
    any 64-bit integer, any double as Java writes it, adversarial strings, and arrays and objects
    of those. ``strict_numbers`` adds any JSON number (``number_texts``) where numbers go;
    ``long=False`` leaves out the ~100 KB string (two of them overflow a payload).
    """
    edges = showcase(xdm_type, strict_numbers=strict_numbers)
    if not long:
        edges = tuple(v for v in edges if not (isinstance(v, str) and len(v) > 1000))
    edge = st.sampled_from(edges)
    kinds = _SCALAR_TYPES if xdm_type in (None, "array", "object") else (xdm_type,)
    scalar = st.one_of(*(_scalars(kind, strict_numbers) for kind in kinds))
    containers: st.SearchStrategy[Any] = st.recursive(
        scalar,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.sampled_from(_OBJECT_KEYS), inner, max_size=4),
        ),
        max_leaves=8,
    )
    if xdm_type == "array":
        generated: st.SearchStrategy[Any] = st.lists(containers, max_size=4)
    elif xdm_type == "object":
        generated = st.dictionaries(st.sampled_from(_OBJECT_KEYS), containers, max_size=4)
    elif xdm_type is None:
        generated = containers
    else:
        generated = scalar
    return st.one_of(edge, generated)


#: Keys of generated object values (XDM field names: camelCase, or a tenant's ``_tenant``).
_OBJECT_KEYS: Final = ("tier", "points", "since", "sku", "price", "_tenant", "note", "tags")


def _number_text(
    negative: bool, whole: int, fraction: str | None, exponent: tuple[str, str, int] | None
) -> str:
    text = ("-" if negative else "") + str(whole)
    if fraction is not None:
        text += "." + fraction
    if exponent is not None:
        text += f"{exponent[0]}{exponent[1]}{exponent[2]}"
    return text


def number_texts() -> st.SearchStrategy[str]:
    """Any JSON number as text: ``-0``, ``1.50``, ``1e400``, ``5E-324``, 1,000-digit integers.

    Each must arrive byte-exact; parse one with ``connector.profiles.parse_line`` to get the
    value a profile would hold. Shrinks towards ``0``.
    """
    return st.builds(
        _number_text,
        st.booleans(),
        st.one_of(st.integers(0, 2**64 + 1), st.integers(0, 10**1000)),
        st.none() | st.text("0123456789", min_size=1, max_size=24),
        st.none()
        | st.tuples(st.sampled_from("eE"), st.sampled_from(("", "+", "-")), st.integers(0, 500)),
    )


def _membership(moment: str, status: str) -> dict[str, str]:
    return {"lastQualificationTime": moment, "status": status}


class _Absent:
    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


_ABSENT: Final = _Absent()

#: Bits of the ``extras`` draw: which unmapped things an adversarial profile carries.
_X_NAMESPACE, _X_XDM, _X_SDK, _X_AUDIENCE, _X_SDK_FORM, _X_EMPTY_SDK = (1 << n for n in range(6))


def profiles(
    activation: Activation, *, adversarial: bool = True, strict_numbers: bool = False
) -> st.SearchStrategy[dict[str, Any]]:
    """AEP profile updates that exercise every mapping of ``activation`` (see the module doc);
    ``strict_numbers`` adds numbers no XDM type holds where an attribute may hold a number."""
    sdk_names = {a.sdk_name for a in activation.attributes if a.sdk_name}
    mapped_heads = {split_path(a.source)[0] for a in activation.attributes}
    if activation.consent is not None:
        mapped_heads.add(split_path(activation.consent.path)[0])
    mapped_namespaces = {i.source for i in activation.identities}

    def absent_sometimes(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        # Adversarial: a value is absent about one time in four.
        return st.one_of(value, value, value, st.just(_ABSENT)) if adversarial else value

    identities = st.tuples(
        *(
            absent_sometimes(
                _entries(
                    _email_ids(adversarial) if m.target == "email" else identity_ids(), adversarial
                )
            )
            for m in activation.identities
        )
    )
    attributes = st.tuples(
        *(
            absent_sometimes(_attribute_values(adversarial, a.type, strict_numbers=strict_numbers))
            for a in activation.attributes
        )
    )
    statuses = ("realized", "existing", "exited") if adversarial else ("realized", "exited")
    membership = st.builds(_membership, timestamps(), st.sampled_from(statuses))
    # One activated audience always appears (so most profiles announce something); adversarial
    # profiles may carry the others too.
    activated = [a.id for a in activation.audiences]
    first = st.tuples(st.sampled_from(activated), membership)
    others: st.SearchStrategy[Any] = st.just({})
    if adversarial and len(activated) > 1:
        others = st.fixed_dictionaries({}, optional=dict.fromkeys(activated, membership))

    consent: st.SearchStrategy[Any] = st.just(_ABSENT)
    if activation.consent is not None:
        allowed = list(activation.consent.allow)
        consent = st.sampled_from(allowed)
        if adversarial:
            refused = [v for v in _CONSENT_OTHERS if v not in allowed]
            odd = [*refused, None, 0, 1, {"val": allowed[0]}, [allowed[0]], _ABSENT]
            consent = st.one_of(consent, consent, st.sampled_from(odd))

    extras: st.SearchStrategy[Any] = st.just(None)
    if adversarial:
        names = [
            (namespace, key, sdk_name)
            for namespace in [ns for ns in _NAMESPACES if ns not in mapped_namespaces]
            or ["ExtraNS"]
            for key in [k for k in _UNMAPPED_KEYS if k not in mapped_heads] or ["unmappedField"]
            for sdk_name in [n for n in _UNMAPPED_SDK if n not in sdk_names] or ["unmappedAttr2"]
        ]
        extras = st.tuples(
            st.integers(0, 63),  # which of the _X_* extras appear
            st.sampled_from(names),  # (namespace, XDM key, SDK attribute) that no mapping reads
            text_values(),  # their values
            st.integers(0, 2**64 - 1),  # an audience that is not activated (its id)
        )
    assemble = _Assembler(activation)
    strategy = st.builds(assemble, identities, attributes, first, others, consent, extras)
    # deferred: a short repr in Hypothesis' messages instead of the whole (very large) tree.
    return st.deferred(lambda: strategy)


class _Assembler:
    """Puts the drawn parts together into one profile (named, so Hypothesis' reprs stay short)."""

    def __init__(self, activation: Activation) -> None:
        self.namespaces = [m.source for m in activation.identities]
        self.sources = [split_path(a.source) for a in activation.attributes]
        self.consent = split_path(activation.consent.path) if activation.consent else None
        self.activated = frozenset(activation.audience_ids)

    def __repr__(self) -> str:
        return "assemble_profile"

    def __call__(
        self,
        identities: tuple[Any, ...],
        attributes: tuple[Any, ...],
        first: tuple[str, dict[str, str]],
        others: dict[str, Any],
        consent: Any,
        extras: tuple[Any, ...] | None,
    ) -> dict[str, Any]:
        bits, (namespace, xdm_key, sdk_key), text, other = extras or (0, ("", "", ""), "", 0)
        profile: dict[str, Any] = {}
        if bits & _X_XDM:
            profile[xdm_key] = {"note": text}
        identity_map: dict[str, Any] = {}
        if bits & _X_NAMESPACE:
            identity_map[namespace] = [{"id": text}]
        for name, entries in zip(self.namespaces, identities, strict=True):
            if entries is not _ABSENT:
                identity_map[name] = entries
        profile["identityMap"] = identity_map
        sdk: dict[str, Any] = {sdk_key: {"value": text}} if bits & _X_SDK else {}
        for path, value in zip(self.sources, attributes, strict=True):
            if name := sdk_attribute(path):
                if value is not _ABSENT:
                    sdk[name] = {"value": value}
                elif bits & _X_EMPTY_SDK:
                    sdk[name] = {}
            elif value is not _ABSENT:
                set_path(profile, path, value)
        if sdk or bits & _X_SDK_FORM:
            profile[SDK_ATTRIBUTES] = sdk
        if self.consent is not None and consent is not _ABSENT:
            set_path(profile, self.consent, consent)
        ups: dict[str, Any] = {}
        if bits & _X_AUDIENCE:
            unactivated = str(uuid.UUID(int=other))
            if unactivated not in self.activated:
                ups[unactivated] = dict(first[1])
        ups.update(others)
        ups[first[0]] = first[1]
        profile["segmentMembership"] = {"ups": ups}
        return profile


def payloads(activation: Activation) -> st.SearchStrategy[dict[str, Any]]:
    """Payload documents the connector renders for ``activation`` (non-adversarial profiles)."""
    from .render import Payload, Renderer

    renderer = Renderer(activation)

    def render(profile: dict[str, Any]) -> Any:
        result = renderer.build(profile)
        return result.document if isinstance(result, Payload) else None

    return profiles(activation, adversarial=False).map(render).filter(lambda doc: doc is not None)
