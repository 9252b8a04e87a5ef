"""The ledger's canonical JSON against the rfc8785 package, on generated values.

Leaves carry no floats, so neither do these values; they do carry every kind of text (control
characters, quotes and backslashes, non-BMP characters that sort differently in UTF-16), deep
nesting and integers on both sides of ±(2**53 - 1).
"""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from model_ledger_verify import canonical

SAFE = canonical.MAX_SAFE_INTEGER

texts = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),  # any scalar value, surrogates excluded
        st.sampled_from('"\\/\b\f\n\r\t\x00\x1f\x7f\u2028\u2029\ufeff\U0001f680\U00010000\uffff\ue000'),
    ),
    max_size=12,
)
integers = st.one_of(
    st.integers(min_value=-SAFE, max_value=SAFE),
    st.sampled_from([0, -1, SAFE, -SAFE, SAFE - 1, 2**31, -(2**31), 2**32 + 1]),
)
big_integers = st.one_of(st.integers(min_value=SAFE + 1), st.integers(max_value=-SAFE - 1))
json_values = st.recursive(
    st.none() | st.booleans() | integers | texts,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(texts, children, max_size=5),
    max_leaves=40,
)


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_the_ledger_encoder_writes_the_bytes_rfc8785_writes(value: object) -> None:
    expected = rfc8785.dumps(value)

    assert canonical.reference_dumps(value) == expected
    assert canonical.dumps(value) == expected


# Leaves as the service writes them: ASCII member names, any text and safe integers inside. These
# go through orjson's encoder (canonical._plain), which must write rfc8785's bytes.
plain_values = st.recursive(
    st.none() | st.booleans() | integers | texts,
    lambda children: (
        st.lists(children, max_size=5)
        | st.tuples(children, children)
        | st.dictionaries(st.text(alphabet=st.characters(max_codepoint=127), max_size=8), children, max_size=6)
    ),
    max_leaves=40,
)


@settings(max_examples=500, deadline=None)
@given(plain_values)
def test_plain_values_take_the_fast_encoder_and_write_rfc8785_bytes(value: object) -> None:
    assert canonical._plain(value, 0)
    assert canonical.dumps(value) == rfc8785.dumps(value)


def test_values_the_fast_encoder_would_order_or_write_differently_are_not_plain() -> None:
    assert not canonical._plain({"\ue000": 1, "\U00010000": 2}, 0)  # UTF-16 and code point orders differ
    assert not canonical._plain({"n": SAFE + 1}, 0)
    assert not canonical._plain([0.5], 0)
    assert canonical.dumps({"\ue000": 1, "\U00010000": 2}) == rfc8785.dumps({"\ue000": 1, "\U00010000": 2})


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(texts, json_values, min_size=2, max_size=8))
def test_members_are_ordered_by_utf16_code_units_as_rfc8785_orders_them(value: dict) -> None:
    assert canonical.dumps(value) == rfc8785.dumps(value)


@settings(max_examples=100, deadline=None)
@given(big_integers, st.sampled_from(["top", "member", "item"]))
def test_both_refuse_integers_beyond_the_safe_range(number: int, where: str) -> None:
    value = {"top": number, "member": {"k": number}, "item": [1, number]}[where]

    with pytest.raises(rfc8785.IntegerDomainError):
        rfc8785.dumps(value)
    with pytest.raises(canonical.CanonicalError):
        canonical.dumps(value)


@pytest.mark.parametrize("value", ["\ud800", {"k": "a\udfffb"}, {"\udc00": 1}, ["x", "\ud83d"]])
def test_both_refuse_lone_surrogates(value: object) -> None:
    # rfc8785 lets UnicodeEncodeError out for a key (sorting encodes it); both are ValueErrors.
    with pytest.raises(ValueError):
        rfc8785.dumps(value)
    with pytest.raises(canonical.CanonicalError, match="surrogate"):
        canonical.dumps(value)


def test_the_ledger_refuses_what_rfc8785_allows_and_names_where() -> None:
    # RFC 8785 serialises floats the ECMAScript way; a leaf carries none (decimal strings instead).
    assert rfc8785.dumps({"auc": 0.5}) == b'{"auc":0.5}'
    with pytest.raises(canonical.CanonicalError, match=r"float at data\.auc"):
        canonical.dumps({"data": {"auc": 0.5}})

    deep: object = 1
    for _ in range(canonical.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(canonical.CanonicalError, match="nests deeper"):
        canonical.dumps(deep)


def test_every_code_point_is_written_as_rfc8785_writes_it() -> None:
    for start in range(0, 0x110000, 0x1000):
        text = "".join(chr(c) for c in range(start, start + 0x1000) if not 0xD800 <= c <= 0xDFFF)
        assert canonical._plain({"text": text}, 0)
        assert canonical.dumps({"text": text}) == rfc8785.dumps({"text": text})
