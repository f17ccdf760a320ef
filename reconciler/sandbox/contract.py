"""OVHcloud's API description as the sandbox's contract: every request body is checked against it, and every answer
can be (tests turn that on). The contract is contract.json beside this module, derived from the description by
reconciler.sandbox.derive_contract; it is generic over its paths: a call the sandbox starts to serve is checked
with no code here.

Checks are made by openapi-schema-validator (OpenAPI 3.0.3 semantics): a body as a write (OAS30WriteValidator), an
answer as a read (OAS30ReadValidator). Formats the library does not know are the sandbox's own facts: `duration`
(reconciler.sandbox.facts), `ip-block` and `ipv4-block` (an address or a range, as ipaddress reads it).
"""

import ipaddress
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import FormatChecker, ValidationError
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, oas30_format_checker

from reconciler.sandbox.facts import duration_seconds

CONTRACT_PATH = Path(__file__).with_name("contract.json")
FORMAT_WORDS = {
    "duration": "an ISO 8601 duration such as PT30S",
    "ip-block": "an IP address or range",
    "ipv4-block": "an IPv4 address or range",
    "uuid": "a UUID",
    "date-time": "an RFC 3339 date-time",
}
_TYPE_WORDS = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}


def _ip_block(version: int | None):
    def check(value: object) -> bool:
        if not isinstance(value, str):
            return True  # the type is another keyword's business
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            return False
        return version is None or network.version == version

    return check


def _format_checker() -> FormatChecker:
    checker = FormatChecker()
    checker.checkers = dict(oas30_format_checker.checkers)
    checker.checks("duration")(lambda value: not isinstance(value, str) or duration_seconds(value) is not None)
    checker.checks("ip-block")(_ip_block(None))
    checker.checks("ipv4-block")(_ip_block(4))
    return checker


FORMATS = _format_checker()


def shown(value: object) -> str:
    """A value in a message as JSON writes it ("nft", null, [1]), not as Python's repr ('nft', None)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _where(path: tuple, name: str | int | None = None) -> str:
    text = ""
    for part in (*path, *(() if name is None else (name,))):
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(body)"


def _problems(error: ValidationError) -> Iterator[str]:
    """One line per problem, `path: message`, worded as the sandbox always has."""
    path, value, keyword = tuple(error.absolute_path), error.instance, error.validator
    schema: Any = error.schema
    wanted: Any = error.validator_value
    if keyword == "additionalProperties" and isinstance(value, dict):
        known = schema.get("properties", {})
        yield from (f"{_where(path, name)}: unknown field" for name in value if name not in known)
    elif keyword == "required" and isinstance(value, dict):
        yield from (f"{_where(path, name)}: required" for name in wanted if name not in value)
    elif value is None:
        yield f"{_where(path)}: must not be null"
    elif keyword == "enum":
        choices = ", ".join(str(choice) for choice in wanted if choice is not None)
        yield f"{_where(path)}: {shown(value)} is not one of {choices}"
    elif keyword == "type":
        wanted = {"object": "an object", "array": "a list", "integer": "a whole number", "boolean": "a boolean"}
        expected = wanted.get(str(error.validator_value), f"a {error.validator_value}")
        yield f"{_where(path)}: expected {expected}, got {_TYPE_WORDS.get(type(value), 'a number')}"
    elif keyword == "format":
        words = FORMAT_WORDS.get(str(error.validator_value), f"a {error.validator_value}")
        yield f"{_where(path)}: {shown(value)} is not {words}"
    else:
        yield f"{_where(path)}: {error.message}"


def problems_of(validator: Any, value: object) -> list[str]:
    seen: dict[str, None] = {}  # in order, once: null fails both `nullable` and `type`
    for error in sorted(validator.iter_errors(value), key=lambda e: [str(part) for part in e.absolute_path]):
        seen.update(dict.fromkeys(_problems(error)))
    return list(seen)


@dataclass(frozen=True)
class Operation:
    """One method of one path of the contract."""

    method: str
    template: str  # the contract's path, `{serviceName}` and all
    iam: tuple[str, ...]
    body: Any  # the body's schema; None: the call takes none
    answer: Any  # the answer's schema; None: JSON null
    expanded: Any  # a listing's expanded item schema; None: no expanded form

    def body_problems(self, body: object) -> list[str]:
        """What the API would refuse in this body (400), one line each; [] when it takes it."""
        if self.body is None:
            return [] if body in (None, {}) else ["(body): this call takes no body"]
        return problems_of(_validator(OAS30WriteValidator, json.dumps(self.body)), body)

    def answer_problems(self, answer: object, expanded: bool = False) -> list[str]:
        """Where an answer of the sandbox breaks the contract; [] when it keeps it."""
        schema = {"type": "array", "items": self.expanded} if expanded else self.answer
        if schema is None:
            return [] if answer is None else [f"(answer): expected null, got {shown(answer)[:80]}"]
        return problems_of(_validator(OAS30ReadValidator, json.dumps(schema)), answer)


@cache
def _validator(kind: type, schema_json: str) -> Any:
    return kind(json.loads(schema_json), format_checker=FORMATS)


class Contract:
    def __init__(self, data: dict):
        self.source: dict = data["source"]
        self.operations: dict[tuple[str, str], Operation] = {}
        self._patterns: list[tuple[re.Pattern, str]] = []
        for template, methods in data["paths"].items():
            for method, parts in methods.items():
                iam = tuple(parts.get("iam", ()))
                operation = Operation(
                    method, template, iam, parts.get("body"), parts.get("answer"), parts.get("expanded")
                )
                self.operations[(method, template)] = operation
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            self._patterns.append((re.compile(pattern), template))
        # A literal segment wins over a parameter where two templates match the same path.
        self._patterns.sort(key=lambda item: item[1].count("{"))

    def template_of(self, path: str) -> str | None:
        """The contract's path that `path` (without /1.0, without query) is an instance of."""
        return next((template for pattern, template in self._patterns if pattern.fullmatch(path)), None)

    def operation(self, method: str, path: str) -> Operation | None:
        template = self.template_of(path)
        return None if template is None else self.operations.get((method, template))


@cache
def contract() -> Contract:
    """The contract the sandbox keeps (loaded once per process)."""
    return Contract(json.loads(CONTRACT_PATH.read_text(encoding="utf-8")))
