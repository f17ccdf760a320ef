"""Bring desired and live customization to one comparable form, so values that mean the same compare equal.

Rules (docs/file-format.md, "Values that mean the same"): durations compare as seconds (`PT60S` = `PT1M`, `P0D` =
`PT0S`, as the API answers zero); an IPVS timeout of zero means "keep the system value", the same as absent; null,
absent, an empty list and an empty block are one thing inside a managed block. Admission plugins compare as each
plugin's effective state: a plugin not disabled is enabled, the API's default for both (a cluster without apiServer
customization reads back both enabled), so `apiServer: {}`, `enabled: [NodeRestriction]` and the API's read-back
are one value (the Terraform provider's perpetual diff, ovh/terraform-provider-ovh issue #959).

The result is flat: {"kubeProxy.iptables.syncPeriod": Decimal("30"), "apiServer.admissionPlugins.enabled":
("AlwaysPullImages", "NodeRestriction"), "apiServer.admissionPlugins.disabled": ()}; a key that is absent means
"not set".
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from reconciler.durations import to_seconds
from reconciler.model import ADMISSION_PLUGINS, DEFAULT_SYNC_PERIOD_SECONDS

DURATION_FIELDS = frozenset({"minSyncPeriod", "syncPeriod", "tcpFinTimeout", "tcpTimeout", "udpTimeout"})
ZERO_MEANS_UNSET = frozenset({"kubeProxy.ipvs.tcpFinTimeout", "kubeProxy.ipvs.tcpTimeout", "kubeProxy.ipvs.udpTimeout"})

# kube-proxy's own defaults (kubernetes pkg/proxy/apis/config/v1alpha1/defaults.go), named when a field is unset.
KUBE_PROXY_DEFAULTS = {
    "kubeProxy.iptables.syncPeriod": f"{DEFAULT_SYNC_PERIOD_SECONDS}s",
    "kubeProxy.iptables.minSyncPeriod": "1s",
    "kubeProxy.ipvs.syncPeriod": f"{DEFAULT_SYNC_PERIOD_SECONDS}s",
    "kubeProxy.ipvs.minSyncPeriod": "0s",
    "kubeProxy.ipvs.scheduler": "rr",
    "kubeProxy.ipvs.tcpTimeout": "the system value",
    "kubeProxy.ipvs.tcpFinTimeout": "the system value",
    "kubeProxy.ipvs.udpTimeout": "the system value",
}


def flatten(value: Any, prefix: str = "") -> dict:
    """Leaves of nested mappings by dotted path; lists are leaves. None and empty mappings leave nothing."""
    leaves: dict = {}
    _flatten_into(leaves, value, prefix)
    return leaves


def _flatten_into(leaves: dict, value: Any, prefix: str) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _flatten_into(leaves, child, f"{prefix}.{key}" if prefix else str(key))
    elif value is not None and value != []:
        leaves[prefix] = value


def _comparable(path: str, value: Any) -> Any:
    field = path.rsplit(".", 1)[-1]
    if isinstance(value, list):
        return tuple(sorted(set(value), key=str))  # order carries no meaning (the Terraform provider sorts them)
    if field in DURATION_FIELDS and isinstance(value, str):
        try:
            return to_seconds(value)
        except ValueError:
            return value  # not a duration we know: compare as text rather than guess
    return value


def effective_plugins(plugins: Any) -> dict:
    """{"enabled": [...], "disabled": [...]}: every plugin's state, those not disabled enabled (the API's default)."""
    plugins = plugins if isinstance(plugins, dict) else {}
    disabled = set(plugins.get("disabled") or ())
    known = list(ADMISSION_PLUGINS) + sorted(set(plugins.get("enabled") or ()) - set(ADMISSION_PLUGINS), key=str)
    return {
        "enabled": [plugin for plugin in known if plugin not in disabled],
        "disabled": [plugin for plugin in known if plugin in disabled] + sorted(disabled - set(known), key=str),
    }


def shown(block_name: str, block: Any) -> dict:
    """The leaves of a block as a person reads them: as written, but the admission plugins as their effective state
    (what `apiServer: {}` means is both plugins enabled, so a diff shows that rather than nothing)."""
    if block_name != "apiServer":
        return flatten(block, block_name)
    block = block if isinstance(block, dict) else {}
    leaves = flatten({key: value for key, value in block.items() if key != "admissionPlugins"}, block_name)
    for key, plugins in effective_plugins(block.get("admissionPlugins")).items():
        leaves[f"apiServer.admissionPlugins.{key}"] = plugins
    return leaves


def normalize(block_name: str, block: Any) -> dict:
    """The comparable leaves of one top-level customization block (`apiServer`, `kubeProxy`, ...)."""
    return comparable(shown(block_name, block))


def comparable(shown_leaves: dict) -> dict:
    """The comparable form of a block's leaves as `shown` gives them."""
    leaves = {}
    for path, raw in shown_leaves.items():
        value = _comparable(path, raw)
        if path in ZERO_MEANS_UNSET and value == Decimal(0):
            continue
        leaves[path] = value
    return leaves


DEFAULT_OIDC_SIGNING = ("RS256",)


def cidr_set(ranges: Iterable[str] | None) -> frozenset[str]:
    """IP restrictions by meaning: order and duplicates carry none, and an address is its /32 (or /128) range."""
    import ipaddress

    canonical = set()
    for text in ranges or ():
        try:
            canonical.add(ipaddress.ip_network(text, strict=False).with_prefixlen)
        except ValueError:
            canonical.add(str(text))  # not a range we know: compare as text rather than guess
    return frozenset(canonical)


def oidc_comparable(settings: dict | None) -> dict:
    """OIDC settings by meaning: unset = empty; claim and algorithm lists as sets."""
    comparable = {}
    for key, value in (settings or {}).items():
        if value in (None, "", []):
            continue
        comparable[key] = tuple(sorted(set(value), key=str)) if isinstance(value, list) else value
    if comparable:  # the API's default algorithm: left out and RS256 mean the same, whichever the API answers
        comparable.setdefault("signingAlgorithms", DEFAULT_OIDC_SIGNING)
    return comparable
