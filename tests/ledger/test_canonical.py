"""Tests for model_ledger_verify.canonical: RFC 8785 canonical JSON without floats."""

from __future__ import annotations

import enum
import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_ledger_verify.canonical import MAX_DEPTH, MAX_SAFE_INTEGER, CanonicalError, dumps, loads

# -- RFC 8785 examples -------------------------------------------------------------------------


def test_it_sorts_keys_by_utf16_code_units_as_in_rfc_8785() -> None:
    # RFC 8785 §3.2.3: U+1F600 is the surrogate pair D83D DE00, so it sorts before U+FB33
    # although its code point is larger.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    expected = "{" + ",".join(f'"{k}":"{value[k]}"'.replace("\r", "\\r") for k in keys) + "}"
    assert dumps(value) == expected.encode("utf-8")


def test_it_serialises_the_rfc_8785_example_without_its_numbers() -> None:
    # RFC 8785 §3.2.2 input and output, minus the "numbers" member that this ledger refuses.
    source = (
        b'{\n  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n'
        b'  "literals": [null, true, false]\n}'
    )
    expected = '{"literals":[null,true,false],"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    assert dumps(loads(source)) == expected.encode("utf-8")


def test_it_uses_only_the_required_escapes() -> None:
    assert dumps('"\\') == b'"\\"\\\\"'
    assert dumps("\b\f\n\r\t") == b'"\\b\\f\\n\\r\\t"'
    assert dumps("\x00\x01\x1f") == b'"\\u0000\\u0001\\u001f"'
    assert dumps("/\x7f\u2028\u00e9\U0001f600") == '"/\x7f\u2028\u00e9\U0001f600"'.encode()


def test_it_escapes_control_characters_with_lowercase_hex() -> None:
    assert dumps("\x1b\x0b") == b'"\\u001b\\u000b"'


def test_it_writes_literals_integers_and_containers_compactly() -> None:
    value = {"b": [1, -2, 0, True, False, None], "a": {}, "c": [], "d": (3, "x")}
    assert dumps(value) == b'{"a":{},"b":[1,-2,0,true,false,null],"c":[],"d":[3,"x"]}'
    assert dumps(MAX_SAFE_INTEGER) == b"9007199254740991"
    assert dumps(-MAX_SAFE_INTEGER) == b"-9007199254740991"


def test_it_writes_integer_subclasses_as_plain_numbers() -> None:
    class Level(enum.IntEnum):
        HIGH = 3

    assert dumps({"level": Level.HIGH}) == b'{"level":3}'


def test_it_sorts_nested_objects_too() -> None:
    assert dumps({"z": {"b": 1, "a": 2}, "a": [{"y": 1, "x": 2}]}) == (b'{"a":[{"x":2,"y":1}],"z":{"a":2,"b":1}}')


# -- dumps refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize("number", [0.5, 1.0, -0.0, math.nan, math.inf, -math.inf])
def test_it_rejects_floats_and_says_to_send_decimal_strings(number: float) -> None:
    with pytest.raises(CanonicalError, match=r"data\.metrics\.auc.*decimal strings"):
        dumps({"data": {"metrics": {"auc": number}}})


@pytest.mark.parametrize("number", [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, 10**30])
def test_it_rejects_integers_outside_the_safe_range(number: int) -> None:
    with pytest.raises(CanonicalError, match=r"data\.rows\[1\]"):
        dumps({"data": {"rows": [0, number]}})


def test_it_rejects_non_string_keys() -> None:
    for key in [1, None, True, ("a",), b"k"]:
        with pytest.raises(CanonicalError, match=r"data\.labels"):
            dumps({"data": {"labels": {key: "x"}}})


def test_it_rejects_lone_surrogates_in_strings_and_keys() -> None:
    with pytest.raises(CanonicalError, match=r"data\.note"):
        dumps({"data": {"note": "ok \ud800"}})
    with pytest.raises(CanonicalError, match=r"surrogate"):
        dumps({"data": {"\udfff": 1}})
    with pytest.raises(CanonicalError):
        dumps(["\udc00\ud800"])


@pytest.mark.parametrize("value", [Decimal("0.5"), b"bytes", bytearray(b"x"), {1, 2}, frozenset(), object(), 1j])
def test_it_rejects_types_json_cannot_carry(value: Any) -> None:
    with pytest.raises(CanonicalError, match=r"data\.x"):
        dumps({"data": {"x": value}})


def test_it_names_the_top_level_when_the_value_itself_is_bad() -> None:
    with pytest.raises(CanonicalError, match="top level"):
        dumps(1.5)


def test_it_rejects_nesting_that_is_too_deep_or_cyclic() -> None:
    deep: list[Any] = []
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(CanonicalError, match="deeper"):
        dumps(deep)
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(CanonicalError, match="cyclic"):
        dumps(cyclic)


# -- loads -------------------------------------------------------------------------------------


def test_it_loads_what_it_dumps() -> None:
    value = {"v": 1, "data": {"é": ["\u2028", None, True, -5]}, "s": "\x00\n\U0001f600"}
    assert loads(dumps(value)) == value


def test_it_accepts_non_canonical_bytes_that_dumps_then_normalises() -> None:
    data = b'{ "b" : 1,\n "a" : "\\u00e9" }'
    assert loads(data) == {"b": 1, "a": "\u00e9"}
    assert dumps(loads(data)) != data
    assert dumps(loads(data)) == '{"a":"\u00e9","b":1}'.encode()


@pytest.mark.parametrize(
    "data",
    [b"1.0", b"1e3", b"1E+3", b"-0.0", b'{"auc":0.87}', b"[1,2.5]"],
)
def test_it_rejects_numbers_with_a_fraction_or_exponent(data: bytes) -> None:
    with pytest.raises(CanonicalError, match="decimal strings"):
        loads(data)


@pytest.mark.parametrize("data", [b"NaN", b"[Infinity]", b'{"x":-Infinity}'])
def test_it_rejects_nan_and_infinity(data: bytes) -> None:
    with pytest.raises(CanonicalError):
        loads(data)


def test_it_rejects_duplicate_keys() -> None:
    with pytest.raises(CanonicalError, match="duplicate"):
        loads(b'{"a":1,"a":1}')
    with pytest.raises(CanonicalError, match="duplicate"):
        loads(b'{"x":{"k":1,"\\u006b":2}}')


@pytest.mark.parametrize("data", [b'"\xff"', b'"\xc3"', b'"\xed\xa0\x80"', b'"\xc0\xaf"', '"é"'.encode("latin-1")])
def test_it_rejects_invalid_utf8(data: bytes) -> None:
    with pytest.raises(CanonicalError, match="UTF-8"):
        loads(data)


@pytest.mark.parametrize(
    "data",
    [b"", b"{", b'{"a":1} {}', b"[1,]", b"'x'", b'"tab\there"', b"\xef\xbb\xbf{}", b"01"],
)
def test_it_rejects_text_that_is_not_one_json_value(data: bytes) -> None:
    with pytest.raises(CanonicalError):
        loads(data)


def test_it_rejects_unsafe_integers_when_loading() -> None:
    with pytest.raises(CanonicalError):
        loads(b"9007199254740992")
    with pytest.raises(CanonicalError):
        loads(b"[-" + b"9" * 5000 + b"]")
    assert loads(b"-9007199254740991") == -MAX_SAFE_INTEGER


def test_it_rejects_lone_surrogate_escapes_when_loading() -> None:
    with pytest.raises(CanonicalError, match="surrogate"):
        loads(b'{"a":"\\ud800"}')
    with pytest.raises(CanonicalError, match="surrogate"):
        loads(b'{"\\udc00":1}')
    assert loads(b'"\\ud83d\\ude00"') == "\U0001f600"


def test_it_rejects_nesting_that_is_too_deep_when_loading() -> None:
    with pytest.raises(CanonicalError):
        loads(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    with pytest.raises(CanonicalError):
        loads(b"[" * 100_000 + b"]" * 100_000)
    assert loads(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None


def test_it_rejects_input_that_is_not_bytes() -> None:
    with pytest.raises(CanonicalError):
        loads('{"a":1}')  # type: ignore[arg-type]


def test_it_detects_non_canonical_bytes_by_round_trip() -> None:
    for data in [b'{"b":1,"a":2}', b'{"a": 2}', b'"\\u00e9"', b'"\\/"', b"-0", b'"\\u001F"']:
        assert dumps(loads(data)) != data
    for data in [b'{"a":2,"b":1}', '"\u00e9"'.encode(), b'"\\u001f"', b"0"]:
        assert dumps(loads(data)) == data


# -- properties --------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    st.text(),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=8), children, max_size=5),
    ),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_it_round_trips_and_is_deterministic(value: Any) -> None:
    data = dumps(value)
    assert dumps(value) == data
    assert loads(data) == value
    assert dumps(loads(data)) == data


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(max_size=6), st.integers(0, 9), min_size=2, max_size=8))
def test_it_ignores_insertion_order(value: dict[str, int]) -> None:
    reordered = dict(reversed(list(value.items())))
    assert dumps(reordered) == dumps(value)
    assert list(loads(dumps(value))) == sorted(value, key=lambda k: k.encode("utf-16-be"))
