"""Desired-state documents from live clusters: how a team adopts ovhkube for clusters that already exist.

A document says what the cluster is now, in the form a person would write: the mode, only the customization
blocks that carry settings (a block with nothing set is left out, so ovhkube does not manage it; admission plugins
all in the API's default state, both enabled, count as nothing set), durations in the one canonical spelling,
plugin lists sorted, IPVS timeouts of zero left out (zero means "keep the system
value", the same as absent). Standard-plan clusters get no kubeProxyMode and no kubeProxy block (Cilium replaces
kube-proxy there). Planned against the same live state, an exported file gives no changes.
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.durations import canonical, to_seconds
from reconciler.escape import quoted, without_userinfo
from reconciler.export.node_pools import exported_pools
from reconciler.model import (
    CILIUM,
    IP_ALLOCATION_FIELDS,
    IP_ALLOCATION_POLICY,
    NETWORK_CONFIGURATION,
    NETWORK_IDS,
    NETWORK_ROUTING,
    OIDC_FIELDS,
)
from reconciler.plan.normalize import DURATION_FIELDS, ZERO_MEANS_UNSET, effective_plugins
from reconciler.plan.planner import STANDARD_PLAN
from reconciler.versions import major_minor

SCHEMA_IN_REPO = Path("schemas") / "cluster.schema.json"
FALLBACK_SCHEMA_REFERENCE = "../schemas/cluster.schema.json"  # the layout the README and examples use
# Every customization field the file format knows, by block; anything else is left out (and named in a warning).
KNOWN_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "apiServer": {"admissionPlugins": ("enabled", "disabled")},
    "kubeProxy": {
        "iptables": ("minSyncPeriod", "syncPeriod"),
        "ipvs": ("minSyncPeriod", "scheduler", "syncPeriod", "tcpFinTimeout", "tcpTimeout", "udpTimeout"),
    },
}


@dataclass
class ExportedCluster:
    name: str
    document: dict
    warnings: list[str] = field(default_factory=list)


def export_cluster(
    project: str, cluster: dict, customization: dict | None, parts: dict | None = None
) -> ExportedCluster:
    """The desired-state document that matches this live cluster as it is. `parts`: its IP restrictions and OIDC
    as read (each written only when set: like an empty customization block, an unset one is left unmanaged), and
    its node pools (`nodePools`, the listing; every pool written whole)."""
    warnings: list[str] = []
    parts = parts or {}
    spec = {"project": project, "region": cluster.get("region"), "id": cluster.get("id")}
    if cluster.get("version"):
        spec["version"] = major_minor(cluster["version"])
    standard = cluster.get("plan") == STANDARD_PLAN
    if not standard:  # Standard clusters run Cilium: kube-proxy settings have no effect there, so none is written
        spec["kubeProxyMode"] = cluster.get("kubeProxyMode")
    live_blocks = {key: value for key, value in (customization or {}).items() if not (standard and key == "kubeProxy")}
    blocks = exported_customization(live_blocks, warnings)
    spec["plan"] = cluster.get("plan")
    spec["updatePolicy"] = cluster.get("updatePolicy")
    spec.update(exported_network(dict(cluster)))
    cilium = _pruned((customization or {}).get(CILIUM)) if standard else None
    blocks_cilium = {CILIUM: cilium} if cilium else {}
    if parts.get("ipRestrictions"):
        spec["ipRestrictions"] = sorted(set(parts["ipRestrictions"]))
    oidc = {key: value for key, value in (parts.get("openIdConnect") or {}).items() if key in OIDC_FIELDS}
    if oidc:
        written = {key: sorted(set(v)) if isinstance(v, list) else v for key, v in oidc.items()}
        issuer = written.get("issuerUrl")
        if isinstance(issuer, str) and without_userinfo(issuer) != issuer:  # files go to git: no secret there
            written["issuerUrl"] = without_userinfo(issuer)
            warnings.append(
                "spec.openIdConnect.issuerUrl: the live URL holds a username or password, which Kubernetes refuses "
                "and a file must not keep: written without it (plan shows that as a change)"
            )
        spec["openIdConnect"] = written
    if blocks or blocks_cilium:
        spec["customization"] = blocks | blocks_cilium
    if parts.get("nodePools"):
        spec["nodePools"] = exported_pools(parts["nodePools"])
    spec["lifecycle"] = {"allowReset": False}
    status = cluster.get("status")
    if status and status != "READY":
        warnings.append(f"the cluster is {status}, not READY: its settings may be about to change; export it again")
    document = {
        "apiVersion": "ovhkube/v1",
        "kind": "Cluster",
        "metadata": {"name": cluster.get("name")},
        "spec": {key: value for key, value in spec.items() if value is not None},
    }
    warnings += [f"the file will not validate: {problem}" for problem in _invalid(document)]
    return ExportedCluster(cluster.get("name", ""), document, warnings)


def exported_network(cluster: dict) -> dict:
    """spec.privateNetwork and spec.ipAllocationPolicy as the cluster has them: each field written where set."""
    spec: dict[str, Any] = {}
    network = {name: cluster.get(api) for name, api in NETWORK_IDS.items() if cluster.get(api)}
    routing = cluster.get(NETWORK_CONFIGURATION) or {}
    for name, api in NETWORK_ROUTING.items():
        if routing.get(api) not in (None, ""):
            network[name] = routing[api]
    if network:
        spec["privateNetwork"] = network
    ranges = {name: value for name, value in (cluster.get(IP_ALLOCATION_POLICY) or {}).items() if value}
    if ranges and cluster.get("plan") == STANDARD_PLAN:
        spec[IP_ALLOCATION_POLICY] = {name: ranges[name] for name in IP_ALLOCATION_FIELDS if name in ranges}
    return spec


def _pruned(value: Any) -> Any:
    """Nulls and empty blocks left out: the API answers unset fields as null."""
    if isinstance(value, dict):
        kept = {key: _pruned(child) for key, child in value.items()}
        return {key: child for key, child in kept.items() if child not in (None, {})}
    return value


def _invalid(document: dict) -> list[str]:
    """What `ovhkube validate` would refuse in the document: a live value outside what the file format accepts
    (say, a minSyncPeriod longer than kube-proxy's default syncPeriod) is written as it is, and said."""
    from reconciler.files.load import Document
    from reconciler.files.validate import meaning_problems_of, schema_problems_of

    checked = Document("", 1, 1, document)
    problems = list(schema_problems_of(checked)) or meaning_problems_of(checked)
    return [f"{problem.path}: {problem.message}" for problem in problems if problem.is_error]


def exported_customization(customization: dict, warnings: list[str]) -> dict:
    """The managed blocks that carry at least one setting, each written canonically."""
    blocks = {}
    for block, sections in KNOWN_FIELDS.items():
        live_block = customization.get(block) or {}
        if block == "apiServer":
            live_block = _plugins_as_set(live_block)
        exported = {}
        for section, names in sections.items():
            values = {}
            for name, raw in (live_block.get(section) or {}).items():
                path = f"{block}.{section}.{name}"
                if name not in names:
                    warnings.append(f"customization.{path} is left out: the file format does not know it")
                    continue
                written = _written(path, raw, warnings)
                if written is not None:
                    values[name] = written
            if values:
                exported[section] = values
        unknown = sorted(set(live_block) - set(sections))
        warnings += [f"customization.{block}.{name} is left out: the file format does not know it" for name in unknown]
        if exported:
            blocks[block] = exported
    return blocks


def _plugins_as_set(api_server: dict) -> dict:
    """The admission plugins as the file means them: nothing where every plugin is in the API's default state (both
    enabled: what a cluster never customized reads back), else each plugin's state, both lists."""
    if "admissionPlugins" not in api_server:
        return api_server
    state = effective_plugins(api_server["admissionPlugins"])
    if not state["disabled"]:
        return {key: value for key, value in api_server.items() if key != "admissionPlugins"}
    return api_server | {"admissionPlugins": state}


def _written(path: str, raw: Any, warnings: list[str]) -> Any:
    """A live value as the file writes it; None where it means "not set"."""
    if raw is None or (raw == [] and path != "apiServer.admissionPlugins.enabled"):
        return None  # (an empty enabled list, next to a disabled one, says "none enabled": kept)
    if isinstance(raw, list):
        return sorted(set(raw), key=str)
    if path.rsplit(".", 1)[-1] in DURATION_FIELDS and isinstance(raw, str):
        try:
            seconds = to_seconds(raw)
        except ValueError:
            warnings.append(f"customization.{path} is {quoted(raw)}, not a duration ovhkube knows: written as it is")
            return raw
        if path in ZERO_MEANS_UNSET and seconds == 0:
            return None
        return canonical(seconds)
    return raw


class _ExportDumper(yaml.SafeDumper):
    """Block style for mappings, flow style for lists (`enabled: [AlwaysPullImages, NodeRestriction]`)."""


def _string(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    # A string that would read back as something else ("1.31", "true", an all-digit id) gets double quotes.
    plain_tag = dumper.resolve(yaml.ScalarNode, text, (True, False))
    style = '"' if plain_tag != "tag:yaml.org,2002:str" else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_ExportDumper.add_representer(
    list, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)
_ExportDumper.add_representer(str, _string)


def to_yaml(document: dict, schema_reference: str) -> str:
    # PyYAML writes a bidi control (U+202E) as is, even in double quotes: a live string holding one would read
    # reversed in a review. Such a file is written in ASCII, every non-ASCII character as an escape.
    readable = all(text.isprintable() for text in _strings(document))
    body = yaml.dump(document, Dumper=_ExportDumper, sort_keys=False, default_flow_style=False, allow_unicode=readable)
    return f"# yaml-language-server: $schema={schema_reference}\n{body}"


def _strings(value: Any) -> Any:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _strings(key)
            yield from _strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child)
    elif isinstance(value, str):
        yield value


def to_stream(texts: list[str]) -> str:
    """Documents as one multi-document YAML stream."""
    return "---\n".join(texts)


def schema_reference(folder: str) -> str:
    """The schema as an editor finds it from files in `folder`: relative to the repository that holds the folder."""
    start = Path(folder).resolve()
    for candidate in (start, *start.parents):
        if (candidate / SCHEMA_IN_REPO).is_file():
            return os.path.relpath(candidate / SCHEMA_IN_REPO, start)
    return FALLBACK_SCHEMA_REFERENCE


MAX_STEM = 100  # characters of a cluster's name kept in its file's name


def file_names(names: list[str]) -> list[str]:
    """One file name per cluster name: `<name>.yaml`, made safe for any file system, never twice the same."""
    taken: set[str] = set()
    result = []
    for name in names:
        # Cut well below the 255 bytes a file name may hold: one overlong live name must not fail the whole export.
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name)[:MAX_STEM].strip(".-") or "cluster"
        candidate, number = f"{stem}.yaml", 2
        while candidate.lower() in taken:  # case-insensitive file systems (macOS) would merge Foo and foo
            candidate, number = f"{stem}-{number}.yaml", number + 1
        taken.add(candidate.lower())
        result.append(candidate)
    return result
