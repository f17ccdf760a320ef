"""Rego, evaluated by regopy (rego-cpp: OPA's Rego in C++, with Python bindings), and its errors as one line.

The library reports a module it cannot parse as a RegoError whose text is an S-expression naming the module and a
byte offset (`(error 8:bad.rego|89|2 (errormsg 24:Invalid boolean operator) ...)`), and prints the same error to
the process's standard output from C++; an error met while evaluating comes back as the query's output, sometimes
without a place. Everything the library writes is kept off the terminal, and every error becomes
`FILE:LINE:COL: message` where the library gives a place, `FILE: message` where it does not.
"""

import json
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

ENGINE = "regopy"
_LENGTH_PREFIXED = re.compile(r"\((error|errormsg) (\d+):")


class PolicyError(ValueError):
    """Policies that cannot be used; the message is one line, FILE:LINE:COL: where the engine says where."""


@dataclass(frozen=True)
class Module:
    name: str  # how messages name it: its path as given
    text: str


def evaluate(modules: list[Module], input_json: str, queries: list[str]) -> dict[str, Any]:
    """Each query's value (None: undefined) over `input_json`, with every module loaded; PolicyError otherwise."""
    try:
        from regopy import Interpreter, RegoError
    except ImportError:  # an install without it (a wheel whose platform regopy has no build for)
        raise PolicyError(f"--policy needs the {ENGINE} package (pip install {ENGINE})") from None
    with _quiet():
        return _in_worker(lambda: _run(Interpreter, RegoError, modules, input_json, queries))


def _in_worker(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`work()` in a thread of its own while this one waits: the engine runs in C++, where Python handles no signal
    until it returns, so a policy that runs for hours would not stop on Ctrl-C or SIGTERM. The engine releases the
    interpreter lock, so this thread runs the signal handlers; a stopped engine is left to end with the process."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as exc:  # handed to the waiting thread as it is
            outcome.append((False, exc))

    worker = threading.Thread(target=run, name="rego", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.1)
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def _run(interpreter_type: Any, error_type: Any, modules: list[Module], input_json: str, queries: list[str]) -> dict:
    from regopy.rego_shared import rego_free_output, rego_output_ok, rego_output_string, rego_query

    interpreter = interpreter_type()
    for module in modules:
        try:
            interpreter.add_module(module.name, module.text)
        except error_type as exc:
            raise PolicyError(_located(str(exc), modules) or f"{module.name}: {_first_line(str(exc))}") from None
    interpreter.set_input_term(input_json)
    values: dict[str, Any] = {}
    for query in queries:
        try:
            output = rego_query(interpreter._impl, query)
        except error_type as exc:
            raise PolicyError(_located(str(exc), modules) or _unlocated(str(exc), modules)) from None
        try:
            ok, text = rego_output_ok(output), rego_output_string(output)
        finally:
            rego_free_output(output)
        values[query] = _value(ok, text, modules)
    return values


def _value(ok: bool, text: str, modules: list[Module]) -> Any:
    if ok and text == "undefined":
        return None
    if ok and not text.lstrip().startswith("("):
        expressions = json.loads(text).get("expressions") or [None]
        return expressions[0]
    raise PolicyError(_located(text, modules) or _unlocated(text, modules))


def _located(report: str, modules: list[Module]) -> str | None:
    """`FILE:LINE:COL: message` from the engine's S-expression, where it names a module and an offset."""
    found = dict(_length_prefixed(report))
    name, message = found.get("error"), found.get("errormsg")
    module = next((m for m in modules if m.name == name), None)
    place = re.search(rf"\(error \d+:{re.escape(name or '')}\|(\d+)\|", report)
    if module is None or not message or place is None:
        return None
    offset = place.group(1)
    before = module.text.encode("utf-8")[: int(offset)].decode("utf-8", "replace")
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    return f"{name}:{line}:{column}: {message}"


def _length_prefixed(report: str) -> Iterator[tuple[str, str]]:
    """(tag, text) of each `(error N:TEXT` and `(errormsg N:TEXT`: N characters of text, which may hold anything."""
    for match in _LENGTH_PREFIXED.finditer(report):
        start = match.end()
        yield match.group(1), report[start : start + int(match.group(2))]


def _unlocated(report: str, modules: list[Module]) -> str:
    """An evaluation error without a place: its message, at the first line that names what it is about where the
    message names it (a function not found), else at the policy folder's files."""
    message = dict(_length_prefixed(report)).get("errormsg") or "the policy engine failed to evaluate the policies"
    name = message.rsplit(": ", 1)[-1].split(".")[-1] if ": " in message else ""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        for module in modules:
            for number, line in enumerate(module.text.splitlines(), start=1):
                if re.search(rf"\b{re.escape(name)}\s*\(", line):
                    return f"{module.name}:{number}: {message}"
    where = modules[0].name if len(modules) == 1 else ", ".join(m.name for m in modules[:3])
    return f"{where}: {message} (the engine gives no line)"


def _first_line(report: str) -> str:
    return dict(_length_prefixed(report)).get("errormsg") or report.strip().splitlines()[0]


@contextmanager
def _quiet() -> Iterator[None]:
    """Standard output and error of the whole process sent aside while the engine runs: it prints its errors from
    C++, beside the exception that carries them."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as aside:
        try:
            os.dup2(aside.fileno(), 1)
            os.dup2(aside.fileno(), 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
