"""`indented(value)`: exactly `json.dumps(value, indent=2)`, in about 40% of its time.

With an indent, the standard library encodes in pure Python, one generator per container (its C encoder takes no
indent before Python 3.14): 22 ms for the JSON of a 1,000-cluster plan. This writer walks the value once, appending
to one list, and leaves every string to the same C escaping (`encode_basestring_ascii`); anything but the plain
types (str, dict, list, None, bool) goes through json.dumps itself, so numbers, subclasses and what JSON cannot
encode (a TypeError) come out as json.dumps has them. tests/test_indented_json.py holds it to json.dumps, byte for
byte. One difference, on values a plan never holds: a container that contains itself is a RecursionError here, a
ValueError there.
"""

import json
from json.encoder import encode_basestring_ascii

STEP = "  "
# What goes before a str key's value, by (first of its object?, the indent, the key): `{\n    "key": `. A plan
# repeats a few dozen keys at a few depths thousands of times; the bound keeps keys that never repeat from
# piling up.
_HEADS: dict[tuple[bool, str, str], str] = {}
_MAX_HEADS = 4096


def indented(value, level: int = 0) -> str:
    """`level`: the value sits that many steps in, as an item of a container written around it."""
    parts: list[str] = []
    _write(value, "\n" + STEP * level, parts.append)
    return "".join(parts)


def _write(value, indent: str, append) -> None:
    # In json's own order of checks: str, None, True, False, numbers, list or tuple, dict.
    kind = type(value)
    if kind is str:
        append(encode_basestring_ascii(value))
    elif kind is dict or (kind is not list and isinstance(value, dict)):
        if not value:
            append("{}")
            return
        inner = indent + STEP
        first = True
        for key, child in value.items():
            head = _HEADS.get((first, inner, key)) if type(key) is str else None
            if head is None:
                head = _head(first, inner, key)
            first = False
            if type(child) is str:  # most values: written here, without a call of their own
                append(head + encode_basestring_ascii(child))
            elif child is None:
                append(head + "null")
            else:
                append(head)
                _write(child, inner, append)
        append(indent + "}")
    elif kind is list or (isinstance(value, (list, tuple)) and not isinstance(value, str)):
        if not value:
            append("[]")
            return
        inner = indent + STEP
        opening = "[" + inner
        for child in value:
            append(opening)
            opening = "," + inner
            _write(child, inner, append)
        append(indent + "]")
    elif value is None:
        append("null")
    elif value is True:
        append("true")
    elif value is False:
        append("false")
    else:  # numbers, str subclasses (a StrEnum), and the TypeError of what JSON cannot hold
        append(json.dumps(value))


def _head(first: bool, inner: str, key) -> str:
    """What goes before the value of `key` in its object: kept for a str key (a bool key must not pass for 1)."""
    head = ("{" if first else ",") + inner + (encode_basestring_ascii(key) if type(key) is str else _key(key)) + ": "
    if type(key) is str:
        if len(_HEADS) >= _MAX_HEADS:
            _HEADS.clear()
        _HEADS[(first, inner, key)] = head
    return head


def _key(key) -> str:
    """A key that is not a plain str, as json.dumps writes it (1 -> "1", True -> "true"), or its TypeError."""
    return json.dumps({key: None})[1:-7]
