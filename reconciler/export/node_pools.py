"""Live node pools as the file writes them: every setting, the template whole, so the round trip plans no change.

With autoscale on, desiredNodes belongs to the autoscaler and is left out (the plan would not compare it anyway).
Zones are written where the pool has one; counts, tuning and the template always.
"""

from reconciler.model import POOL_AUTOSCALING_FIELDS


def exported_pool(pool: dict) -> dict:
    written: dict = {"flavorName": pool.get("flavor")}
    autoscale = bool(pool.get("autoscale"))
    if not autoscale:
        written["desiredNodes"] = pool.get("desiredNodes")
    written |= {"minNodes": pool.get("minNodes"), "maxNodes": pool.get("maxNodes"), "autoscale": autoscale}
    tuning = pool.get("autoscaling") or {}
    written["autoscaling"] = {key: tuning[key] for key in POOL_AUTOSCALING_FIELDS if tuning.get(key) is not None}
    written["antiAffinity"] = bool(pool.get("antiAffinity"))
    written["monthlyBilled"] = bool(pool.get("monthlyBilled"))
    if pool.get("availabilityZones"):
        written["availabilityZones"] = list(pool["availabilityZones"])
    written["attachFloatingIps"] = {"enabled": bool((pool.get("attachFloatingIps") or {}).get("enabled"))}
    template = pool.get("template") or {}
    metadata, spec = template.get("metadata") or {}, template.get("spec") or {}
    taints = [
        {key: taint[key] for key in ("key", "value", "effect") if taint.get(key) not in (None, "")}
        for taint in spec.get("taints") or []
        if isinstance(taint, dict)
    ]
    written["template"] = {
        "metadata": {
            "labels": dict(metadata.get("labels") or {}),
            "annotations": dict(metadata.get("annotations") or {}),
            "finalizers": sorted(metadata.get("finalizers") or []),
        },
        "spec": {"taints": taints, "unschedulable": bool(spec.get("unschedulable"))},
    }
    return {key: value for key, value in written.items() if value is not None and value != {}}


def exported_pools(pools: list[dict]) -> dict:
    """{name: pool} of every live pool, in the listing's order."""
    return {str(pool.get("name")): exported_pool(pool) for pool in pools}
