"""A yes/no check of a document against the schema, compiled once into plain closures.

Nearly every document is valid, and jsonschema costs more to import and run than reading the YAML. So
validation asks this check first and runs jsonschema (for its located, explained errors) only on documents
this check rejects. It knows only the keywords the schema uses; any other keyword makes `compile_check`
return None, and then jsonschema checks every document. tests/test_validation.py holds it to jsonschema's
verdict on generated documents.
"""

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[object], bool]

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    # JSON Schema's integer is a value, not a spelling: 2.0 is one (the meaning rules refuse it where it matters).
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}
_ANNOTATIONS = {"$schema", "$id", "$defs", "$comment", "title", "description"}
_OBJECT_KEYWORDS = {"properties", "additionalProperties", "required"}
_REF = "#/$defs/"


class _Unsupported(Exception):
    pass


def compile_check(schema: dict) -> Check | None:
    """A function document -> valid?, or None if the schema uses a keyword this module does not know."""
    try:
        return _compile(schema, schema.get("$defs", {}))
    except _Unsupported:
        return None


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1."""
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _unique(items: list) -> bool:
    try:
        return len({(isinstance(item, bool), item) for item in items}) == len(items)
    except TypeError:  # unhashable items (lists, mappings): compare pairwise
        return not any(_same(a, b) for i, a in enumerate(items) for b in items[:i])


def _compile(schema: dict, defs: dict) -> Check:
    checks: list[Check] = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS or keyword in _OBJECT_KEYWORDS or keyword in ("then", "else"):
            continue
        checks.append(_keyword(keyword, value, defs) if keyword != "if" else _condition(schema, defs))
    if _OBJECT_KEYWORDS & schema.keys():
        checks.append(_object(schema, defs))

    def check(value: Any) -> bool:
        return all(each(value) for each in checks)

    return check


def _keyword(keyword: str, value: Any, defs: dict) -> Check:
    if keyword == "type":
        tests = [_TYPES[name] for name in (value if isinstance(value, list) else [value])]
        return lambda v: any(test(v) for test in tests)
    if keyword == "enum":
        return lambda v: any(_same(v, choice) for choice in value)
    if keyword == "const":
        return lambda v: _same(v, value)
    if keyword == "pattern":
        search = re.compile(value).search
        return lambda v: not isinstance(v, str) or search(v) is not None
    if keyword == "minLength":
        return lambda v: not isinstance(v, str) or len(v) >= value
    if keyword == "uniqueItems":
        return lambda v: not (value and isinstance(v, list)) or _unique(v)
    if keyword == "minimum":  # applies to numbers only, as in JSON Schema
        return lambda v: not _TYPES["number"](v) or v >= value
    if keyword == "minItems":
        return lambda v: not isinstance(v, list) or len(v) >= value
    if keyword == "minProperties":
        return lambda v: not isinstance(v, dict) or len(v) >= value
    if keyword == "maxProperties":
        return lambda v: not isinstance(v, dict) or len(v) <= value
    if keyword == "items":
        item = _compile(value, defs)
        return lambda v: not isinstance(v, list) or all(item(x) for x in v)
    if keyword == "$ref" and value.startswith(_REF):
        return _compile(defs[value[len(_REF) :]], defs)
    if keyword == "allOf":
        parts = [_compile(part, defs) for part in value]
        return lambda v: all(part(v) for part in parts)
    if keyword == "not":
        inner = _compile(value, defs)
        return lambda v: not inner(v)
    if keyword == "propertyNames":
        name = _compile(value, defs)
        return lambda v: not isinstance(v, dict) or all(name(key) for key in v)
    raise _Unsupported(keyword)


def _condition(schema: dict, defs: dict) -> Check:
    """if / then / else: the document kinds share one schema this way."""
    condition = _compile(schema["if"], defs)
    then, otherwise = (_compile(schema.get(name, {}), defs) for name in ("then", "else"))
    return lambda v: then(v) if condition(v) else otherwise(v)


def _nothing(value: Any) -> bool:
    return False


def _object(schema: dict, defs: dict) -> Check:
    properties = {name: _compile(sub, defs) for name, sub in schema.get("properties", {}).items()}
    required = schema.get("required", [])
    extra = schema.get("additionalProperties", True)
    extra_check = None if extra is True else _nothing if extra is False else _compile(extra, defs)

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        if any(name not in value for name in required):
            return False
        for name, item in value.items():
            sub = properties.get(name, extra_check)
            if sub is not None and not sub(item):
                return False
        return True

    return check
