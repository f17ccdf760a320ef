"""Effective cluster documents -> YAML for people and tools: what `ovhkube render` prints.

Each document is a Cluster with the ClusterDefaults that select it merged in, so the output is valid input for
validate and plan (and plans the same). Each value carries its source as a comment, as `helm template` and
`kustomize build` let a reader trace a value back. Scalars are written as JSON (a subset of YAML 1.2), so every
string is quoted and escaped: nothing from a file can break a line or the terminal.
"""

import json
import re
from typing import Any

from reconciler.files.load import Document
from reconciler.files.provenance import source_of

PLAIN_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]*$")
INDENT = "  "


def _text(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "))


# Plain keys that a YAML reader would take for something else than a string: null and booleans (YAML 1.1's yes/no
# included, for the readers that still use it), and anything that starts like a number.
NOT_A_STRING_WHEN_PLAIN = {"~", "null", "true", "false", "yes", "no", "on", "off", "y", "n"}


def _key(key: str) -> str:
    plain = PLAIN_KEY.match(key) and not key[0].isdigit() and key.lower() not in NOT_A_STRING_WHEN_PLAIN
    return key if plain else _text(key)


def _comment(text: str) -> str:
    return text if text.isprintable() else json.dumps(text)[1:-1]


def render_document(document: Document) -> str:
    """One effective cluster document, every value followed by `# FILE:LINE` (and the ClusterDefaults' name)."""
    data = document.data
    name, spec = data["metadata"]["name"], data["spec"]
    lines = [f"# cluster {_comment(name)} of project {_comment(spec['project'])}: {_comment(_where(document))}"]
    for defaults in getattr(document, "defaults", []):
        lines.append(f"# with ClusterDefaults {_comment(defaults.name)}: {_comment(defaults.source)}")
    lines += ["apiVersion: ovhkube/v1", "kind: Cluster"]
    for top in ("metadata", "spec"):
        lines.append(f"{top}:")
        _mapping(document, data[top], (top,), 1, lines)
    return "\n".join(lines) + "\n"


def _where(document: Document) -> str:
    return f"{document.file}:{document.line}"


def _mapping(document: Document, node: dict, path: tuple, depth: int, lines: list[str]) -> None:
    for key, value in node.items():
        here = path + (key,)
        prefix = f"{INDENT * depth}{_key(key)}:"
        if isinstance(value, dict) and value:
            lines.append(prefix)
            _mapping(document, value, here, depth + 1, lines)
        else:
            lines.append(f"{prefix} {_text(value)}  # {_comment(_source(document, here))}")


def _source(document: Document, path: tuple) -> str:
    written = source_of(document, path)
    return f'{written.source} (ClusterDefaults "{written.defaults}")' if written.defaults else written.source


def render_documents(documents: list[Document]) -> str:
    return "---\n".join(render_document(document) for document in documents)
