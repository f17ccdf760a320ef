"""Derive the sandbox's contract (contract.json beside this module) from OVHcloud's API description of /cloud.

    python -m reconciler.sandbox.derive_contract DESCRIPTION.json [--commit SHA] [--out FILE]

DESCRIPTION is `internal/assets/api-schemas/cloud.json` of ovh/ovhcloud-cli (give `--commit`), or a subset of it
holding the Managed Kubernetes paths with a `source` naming the repository, path and commit it came from. The
contract keeps, for each path and method under /cloud/project/{serviceName}/kube and .../capabilities/kube: the
IAM actions, the request body's schema, the answer's schema and, for listings that have one, the expanded form's
item schema. No prose. Each schema is self-contained (references resolved in place), and three rules make it say
what the API means to the OpenAPI 3.0.3 validator the sandbox uses:
- `allOf: [$ref]` beside `nullable: true` (the description's idiom for a nullable reference) becomes the
  referenced schema, nullable, with null in its enum when it has one;
- an object with properties and no `additionalProperties` is closed: the API refuses a field it does not describe,
  and the sandbox never answers one;
- an answer without content is `null` (the API answers JSON null).
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

KUBE_PREFIXES = ("/cloud/project/{serviceName}/kube", "/cloud/project/{serviceName}/capabilities/kube")
# Keywords of a schema the contract keeps: what a validator reads. Prose, examples and x-* are dropped; readOnly
# too, since bodies and answers have a schema each.
KEPT_KEYWORDS = (
    "type", "format", "enum", "nullable", "required", "properties", "additionalProperties", "items",
    "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "pattern", "oneOf", "anyOf", "allOf",
)  # fmt: skip
METHODS = ("get", "post", "put", "delete")
DEFAULT_OUT = Path(__file__).with_name("contract.json")
SOURCE_REPO, SOURCE_PATH = "ovh/ovhcloud-cli", "internal/assets/api-schemas/cloud.json"


class Deriving:
    def __init__(self, description: dict):
        self.schemas: dict = description.get("components", {}).get("schemas", {})

    def resolve(self, reference: str, seen: tuple[str, ...]) -> dict:
        name = reference.removeprefix("#/components/schemas/")
        if name in seen:
            raise ValueError(f"a recursive schema: {' -> '.join((*seen, name))}")
        if name not in self.schemas:
            raise ValueError(f"{reference} names no schema of the description")
        return self.schema(self.schemas[name], (*seen, name))

    def schema(self, node: Any, seen: tuple[str, ...] = ()) -> Any:
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return self.resolve(node["$ref"], seen)
        parts = node.get("allOf")
        if (
            isinstance(parts, list)
            and len(parts) == 1
            and set(node) <= {"allOf", "description", "nullable", "readOnly"}
        ):
            inner = dict(self.schema(parts[0], seen))
            if node.get("nullable") is True:
                inner["nullable"] = True
                if "enum" in inner and None not in inner["enum"]:
                    inner["enum"] = [*inner["enum"], None]
            return inner
        derived: dict = {}
        for keyword in KEPT_KEYWORDS:
            if keyword not in node:
                continue
            value = node[keyword]
            if keyword == "properties":
                value = {name: self.schema(child, seen) for name, child in value.items()}
            elif keyword in ("items", "additionalProperties"):
                value = self.schema(value, seen)
            elif keyword in ("oneOf", "anyOf", "allOf"):
                value = [self.schema(child, seen) for child in value]
            derived[keyword] = value
        if "properties" in derived and "additionalProperties" not in derived:
            derived["additionalProperties"] = False
        return derived

    def component_named(self, flat_name: str) -> dict:
        """The schema an `x-expanded-response` names (`CloudKubeCluster` for cloud.kube.Cluster)."""
        for name in self.schemas:
            if name.replace(".", "").lower() == flat_name.lower():
                return self.resolve(name, ())
        raise ValueError(f"x-expanded-response {flat_name} names no schema of the description")

    def operation(self, operation: dict) -> dict:
        derived: dict = {
            "iam": [action["name"] for action in operation.get("x-iam-actions", []) if action.get("required", True)]
        }
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if body is not None:
            derived["body"] = self.schema(body)
        answer = operation.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
        derived["answer"] = self.schema(answer.get("schema"))
        if operation.get("x-expanded-response"):
            derived["expanded"] = self.component_named(operation["x-expanded-response"])
        return derived


def derive(description: dict, commit: str | None = None) -> dict:
    """The contract of a description (ValueError when it cannot be derived); `commit`: the ovhcloud-cli commit it
    comes from, where the description does not say (the original cloud.json has no `source`)."""
    source = description.get("source") or {"repo": SOURCE_REPO, "path": SOURCE_PATH}
    if commit:
        source = source | {"commit": commit}
    if not source.get("commit"):
        raise ValueError("which ovhcloud-cli commit it comes from is unknown: give --commit")
    deriving = Deriving(description)
    paths: dict = {}
    for path, item in sorted(description.get("paths", {}).items()):
        if not path.startswith(KUBE_PREFIXES):
            continue
        operations = {
            method.upper(): deriving.operation(item[method]) for method in METHODS if isinstance(item.get(method), dict)
        }
        if operations:
            paths[path] = operations
    if not paths:
        raise ValueError("no Managed Kubernetes path in the description")
    return {
        "source": {key: source.get(key) for key in ("repo", "path", "commit")},
        "openapi": description.get("openapi"),
        "paths": paths,
    }


def contract_text(contract: dict) -> str:
    """JSON with one line per operation's part (iam, body, answer, expanded): short, and a diff names what moved."""

    def line(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    paths = []
    for path, operations in contract["paths"].items():
        methods = []
        for method, parts in operations.items():
            fields = ",\n".join(f"    {line(key)}: {line(value)}" for key, value in parts.items())
            methods.append(f"   {line(method)}: {{\n{fields}\n   }}")
        paths.append(f"  {line(path)}: {{\n" + ",\n".join(methods) + "\n  }")
    head = f' "source": {line(contract["source"])},\n "openapi": {line(contract["openapi"])},\n'
    return "{\n" + head + ' "paths": {\n' + ",\n".join(paths) + "\n }\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("description", type=Path, help="the API description (cloud.json or its kube subset)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where to write it (default {DEFAULT_OUT})")
    parser.add_argument("--commit", help=f"the {SOURCE_REPO} commit of the description, where it does not say")
    args = parser.parse_args(argv)
    try:
        contract = derive(json.loads(args.description.read_text(encoding="utf-8")), args.commit)
    except (OSError, ValueError) as exc:
        print(f"error: {args.description}: {exc}", file=sys.stderr)
        return 1
    args.out.write_text(contract_text(contract), encoding="utf-8")
    count = sum(len(methods) for methods in contract["paths"].values())
    print(f"{args.out}: {len(contract['paths'])} paths, {count} operations", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
