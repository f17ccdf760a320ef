"""Bring desired and live customization to one comparable form, so values that mean the same compare equal.

Rules (DESIGN.md "Semantic equality"): durations compare as seconds (`PT60S` = `PT1M`, `P0D` = `PT0S`); an IPVS
timeout of zero means "keep the system value", the same as absent; plugin lists are sets; null, absent, an empty
list and an empty block are one thing inside a managed block.

The result is flat: {"kubeProxy.iptables.syncPeriod": Decimal("30"), "apiServer.admissionPlugins.enabled":
("AlwaysPullImages",)}; a key that is absent means "not set".
"""

from decimal import Decimal

from reconciler.durations import to_seconds

DURATION_FIELDS = frozenset({"minSyncPeriod", "syncPeriod", "tcpFinTimeout", "tcpTimeout", "udpTimeout"})
ZERO_MEANS_UNSET = frozenset({"kubeProxy.ipvs.tcpFinTimeout", "kubeProxy.ipvs.tcpTimeout", "kubeProxy.ipvs.udpTimeout"})

# kube-proxy's own defaults (kubernetes pkg/proxy/apis/config/v1alpha1/defaults.go), named when a field is unset.
DEFAULT_SYNC_PERIOD_SECONDS = 30  # in both modes
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


def flatten(value, prefix: str = "") -> dict:
    """Leaves of nested mappings by dotted path; lists are leaves. None and empty mappings leave nothing."""
    if isinstance(value, dict):
        leaves = {}
        for key, child in value.items():
            leaves.update(flatten(child, f"{prefix}.{key}" if prefix else str(key)))
        return leaves
    if value is None or value == []:
        return {}
    return {prefix: value}


def _comparable(path: str, value):
    field = path.rsplit(".", 1)[-1]
    if isinstance(value, list):
        return tuple(sorted(set(value), key=str))
    if field in DURATION_FIELDS and isinstance(value, str):
        try:
            return to_seconds(value)
        except ValueError:
            return value  # not a duration we know: compare as text rather than guess
    return value


def normalize(block_name: str, block) -> dict:
    """The comparable leaves of one top-level customization block (`apiServer`, `kubeProxy`, ...)."""
    leaves = {}
    for path, raw in flatten(block, block_name).items():
        value = _comparable(path, raw)
        if path in ZERO_MEANS_UNSET and value == Decimal(0):
            continue
        leaves[path] = value
    return leaves
