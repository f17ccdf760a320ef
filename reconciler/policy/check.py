"""Policies on the plan: Rego files evaluated over the plan JSON, conftest's way.

The convention (docs/policies.md): every `*.rego` file under the folder (`*_test.rego` left out, as opa and conftest
keep tests there), any package; the input is the plan JSON exactly as `plan --format json` prints it (its schema:
`ovhkube schema --plan`); each package's `deny` and `warn` rules give a set of messages. A message is a string,
about the plan as a whole, or an object `{"msg": ..., "cluster": NAME}` (and `"project": ID` where names repeat
across projects), about that cluster. A denial makes plan exit 1 and apply refuse the plan; a warning is shown only.
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.escape import quoted
from reconciler.policy.engine import Module, PolicyError, evaluate

RULES = ("deny", "warn")
_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*$", re.MULTILINE)
SHOWN = 60  # characters of a rule's odd value quoted in an error


@dataclass(frozen=True)
class Finding:
    rule: str  # deny | warn
    package: str  # the Rego package whose rule gave it (conftest's namespace)
    message: str
    cluster: str | None = None  # the cluster's name; None: about the plan as a whole
    project: str | None = None  # where the message names it

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "package": self.package,
            "msg": self.message,
            "cluster": self.cluster,
            "project": self.project,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Finding":
        return cls(data["rule"], data["package"], data["msg"], data.get("cluster"), data.get("project"))


@dataclass(frozen=True)
class PolicyCheck:
    """What a policy set said of a plan, and which set it was: the folder as given and a digest of its files."""

    folder: str
    digest: str  # sha256 of every file's path (relative to the folder) and content
    files: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def denials(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.rule == "deny"]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.rule == "warn"]

    def to_dict(self) -> dict:
        return {
            "folder": self.folder,
            "digest": self.digest,
            "files": list(self.files),
            "denied": len(self.denials),
            "findings": [finding.to_dict() for finding in self.findings],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "PolicyCheck":
        findings = tuple(Finding.from_dict(item) for item in data["findings"])
        return cls(data["folder"], data["digest"], tuple(data["files"]), findings)


@dataclass(frozen=True)
class PolicySet:
    folder: str
    modules: list[Module]
    digest: str

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(module.name for module in self.modules)


def load_policies(folder: str) -> PolicySet:
    """Every policy file under `folder`, in name order; PolicyError when there is none to read."""
    root = Path(folder)
    if not root.is_dir():
        raise PolicyError(f"--policy {folder}: not a folder")
    paths = sorted(p for p in root.rglob("*.rego") if p.is_file() and not p.name.endswith("_test.rego"))
    if not paths:
        raise PolicyError(f"--policy {folder}: no *.rego file in it")
    digest = hashlib.sha256()
    modules = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"{path}: cannot read it: {getattr(exc, 'strerror', None) or exc}") from None
        line = every_with_not(text)
        if line:
            raise PolicyError(f"{path}:{line}: {EVERY_WITH_NOT}")
        relative = path.relative_to(root).as_posix()
        digest.update(f"{len(relative)}:{relative}{len(text.encode())}:".encode() + text.encode())
        modules.append(Module(str(path), text))
    return PolicySet(folder, modules, f"sha256:{digest.hexdigest()}")


# regopy 1.5.2 holds `every x in xs { not p(x) }` whatever xs holds, so a rule such as `not all_closed(ranges)` would
# never deny. Refused rather than evaluated wrongly; `not` in a rule the body calls is evaluated right.
EVERY_WITH_NOT = (
    "`every` with `not` in its body is refused: regopy 1.5.2, the engine ovhkube runs policies with, holds it whatever "
    "its body says; write `not any_bad(xs)` with `any_bad(xs) if { some x in xs; bad(x) }`"
)
_STRING_OR_COMMENT = re.compile(r'"(?:\\.|[^"\\\n])*"|`[^`]*`|#[^\n]*')
# The keyword, as `every x in` or `every k, v in` opens it: not `future.keywords.every` (its import) nor `input.every`.
_EVERY = re.compile(r"(?<![.\w])every\s+[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)?\s+in\b")
_DOMAIN_BRACE = re.compile(r"\bin\s*$")  # `every x in {1, 2} {`: the first brace opens a set, not the body


def every_with_not(text: str) -> int | None:
    """The line of the first `every` whose body (its braces) holds a `not`, outside strings and comments."""
    code = _STRING_OR_COMMENT.sub(lambda found: "\n" * found.group().count("\n") or '""', text)
    for found in _EVERY.finditer(code):
        body = _body(code, found.start() + len("every"))
        if body and re.search(r"\bnot\b", code[body[0] : body[1]]):
            return code.count("\n", 0, found.start()) + 1
    return None


def _body(code: str, start: int) -> tuple[int, int] | None:
    """Where the braces of the `every` whose header starts at `start` open and close (past a set in its domain)."""
    depth, index, opened = 0, start, None
    while index < len(code):
        char = code[index]
        if char == "{" and depth == 0 and opened is None and not _DOMAIN_BRACE.search(code, start, index):
            opened, depth = index + 1, 1
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if opened is not None and depth == 0:
                return opened, index
        index += 1
    return (opened, len(code)) if opened is not None else None


def check(policies: PolicySet, plan_json: str) -> PolicyCheck:
    """The findings of every package's deny and warn rules over the plan JSON (without its own `policy` key)."""
    packages = _packages(policies.modules)
    queries = [f"data.{package}.{rule}" for package in packages for rule in RULES]
    values = evaluate(policies.modules, plan_json, queries)
    findings = []
    for package in packages:
        for rule in RULES:
            findings += _findings(values[f"data.{package}.{rule}"], rule, package, policies.modules)
    return PolicyCheck(policies.folder, policies.digest, policies.files, tuple(findings))


def _packages(modules: list[Module]) -> list[str]:
    packages: dict[str, None] = {}
    for module in modules:
        match = _PACKAGE.search(module.text)
        if match is None:
            raise PolicyError(f"{module.name}:1: no package line: a Rego file starts with `package NAME`")
        packages.setdefault(match.group(1))
    return list(packages)


def _findings(value: Any, rule: str, package: str, modules: list[Module]) -> list[Finding]:
    if value is None:
        return []
    where = _rule_line(rule, package, modules)
    if not isinstance(value, list):
        raise PolicyError(
            f"{where}: {package}.{rule} is {quoted(value, SHOWN)}, not a set of messages: write "
            f"`{rule} contains msg if {{ ... }}` (Rego v1, as OPA 1.0 reads it)"
        )
    found = []
    for item in value:
        if isinstance(item, str):
            found.append(Finding(rule, package, item))
            continue
        message = item.get("msg") if isinstance(item, dict) else None
        cluster = item.get("cluster") if isinstance(item, dict) else None
        project = item.get("project") if isinstance(item, dict) else None
        if not isinstance(message, str) or not all(isinstance(v, str | None) for v in (cluster, project)):
            raise PolicyError(
                f"{where}: {package}.{rule} gives {quoted(item, SHOWN)}: a message is a string, or an object "
                f'{{"msg": TEXT, "cluster": NAME}} ("project": ID optional)'
            )
        found.append(Finding(rule, package, message, cluster, project))
    return found


def _rule_line(rule: str, package: str, modules: list[Module]) -> str:
    """FILE:LINE of the rule's first definition in the package (the folder's first file of it otherwise)."""
    mine = [m for m in modules if (match := _PACKAGE.search(m.text)) and match.group(1) == package]
    for module in mine:
        for number, line in enumerate(module.text.splitlines(), start=1):
            if re.match(rf"\s*{rule}\b", line):
                return f"{module.name}:{number}"
    return mine[0].name if mine else package
