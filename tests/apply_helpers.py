"""Fleets for the apply tests: sandbox seeds and the desired-state files that go with them."""

import json

import yaml

PROJECT = "a1b2c3d4a1b2c3d4a1b2c3d4a1b2c3d4"
IPTABLES_30S = {"iptables": {"minSyncPeriod": "PT1S", "syncPeriod": "PT30S"}}
IPTABLES_60S = {"iptables": {"minSyncPeriod": "PT1S", "syncPeriod": "PT60S"}}
PLUGINS = {"admissionPlugins": {"enabled": ["NodeRestriction"], "disabled": ["AlwaysPullImages"]}}
MORE_PLUGINS = {"admissionPlugins": {"enabled": ["AlwaysPullImages", "NodeRestriction"], "disabled": []}}


def cluster_id(number: int) -> str:
    return f"6f3c1a52-2222-4c1e-9a55-{number:012d}"


def live(number: int, name: str, mode: str = "iptables", status: str = "READY", kube_proxy=None, api_server=None):
    """A seeded cluster: READY, iptables with a 30 s sync period, NodeRestriction on, unless told otherwise."""
    return {
        "id": cluster_id(number),
        "name": name,
        "region": "GRA5",
        "version": "1.31",
        "kubeProxyMode": mode,
        "status": status,
        "updatePolicy": "MINIMAL_DOWNTIME",
        "customization": {"apiServer": api_server or PLUGINS, "kubeProxy": kube_proxy or IPTABLES_30S},
    }


def seed(sandbox, *clusters) -> None:
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": list(clusters)}]})


def wanted(name: str, mode: str | None = None, allow_reset: bool = False, **customization) -> dict:
    """A desired-state document; keyword arguments are managed customization blocks (kubeProxy=..., apiServer=...)."""
    spec = {"project": PROJECT, "region": "GRA5"}
    if mode:
        spec["kubeProxyMode"] = mode
    if customization:
        spec["customization"] = customization
    if allow_reset:
        spec["lifecycle"] = {"allowReset": True, "workerNodesPolicy": "reinstall"}
    return {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": name}, "spec": spec}


def write_fleet(folder, *documents) -> str:
    path = folder / "fleet.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return str(path)


def writes(sandbox) -> list[tuple[str, str]]:
    """(method, path) of every request the sandbox got but reads: what a run changed, or tried to."""
    return [(r["method"], r["path"]) for r in sandbox.requests() if r["method"] != "GET"]


def clusters_by_name(sandbox) -> dict:
    return {c["name"]: c for project in sandbox.show()["projects"] for c in project["clusters"]}


def apply_json(run_ovhkube, sandbox, *args, **kwargs):
    """Run `apply ... --format json`; the result and the JSON account (None when stdout holds none)."""
    result = run_ovhkube("apply", *args, "--format", "json", env=kwargs.pop("env", None) or sandbox.env(), **kwargs)
    try:
        return result, json.loads(result.stdout)
    except ValueError:
        return result, None
