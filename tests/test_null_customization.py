"""A cluster object may answer `customization: null` (the schema has it nullable on the cluster; null means {}).
The sandbox serves it with `null_customization`; plan, drift, export and apply must then behave exactly as
against a cluster that answers the empty customization."""

import json
import re

from apply_helpers import PROJECT, cluster_id, write_fleet

# Nothing customized: the sandbox stores no customization for these.
BARE = [
    {"id": cluster_id(n), "name": name, "region": "GRA5", "version": "1.31", "kubeProxyMode": "iptables"}
    for n, name in ((1, "quiet"), (2, "tuned"))
]


def document(name: str, customization: dict) -> dict:
    spec = {"project": PROJECT, "region": "GRA5", "kubeProxyMode": "iptables", "customization": customization}
    return {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": name}, "spec": spec}


def what_ovhkube_does(sandbox, run_ovhkube, fleet, exported) -> dict:
    """Plan, drift, export, apply, plan again: what a user sees of each."""
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": BARE}]})
    env = sandbox.env()
    seen = {}
    for name, args in (("plan", ["plan", fleet, "--detailed-exitcode"]), ("drift", ["drift", fleet])):
        result = run_ovhkube(*args, env=env)
        shown = re.sub(r"Checked \S+ against \S+", "Checked", result.stdout)  # the time and the sandbox's URL
        seen[name] = (result.returncode, shown)
    result = run_ovhkube("export", "--project", PROJECT, "--output", exported, env=env)
    assert result.returncode == 0, result.stderr
    seen["export"] = {path.name: path.read_text() for path in sorted(exported.rglob("*.yaml"))}
    result = run_ovhkube("apply", fleet, "--auto-approve", "--format", "json", env=env)
    account = json.loads(result.stdout)
    seen["apply"] = (
        result.returncode,
        [(c["cluster"]["name"], c["result"], c["verified"]) for c in account["clusters"]],
    )
    again = run_ovhkube("plan", fleet, "--detailed-exitcode", env=env)
    seen["plan again"] = again.returncode
    return seen


def test_a_null_customization_plans_drifts_exports_and_applies_as_an_empty_one(sandbox_factory, run_ovhkube, tmp_path):
    nulls = sandbox_factory(null_customization=True)
    nulls.seed({"projects": [{"serviceName": PROJECT, "clusters": BARE}]})
    client = nulls.client()
    assert client.get(f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}")["customization"] is None
    expanded = {"X-Pagination-Mode": "CachedObjectList-Pages"}  # how ovhkube lists a project
    listed = client.raw_call("GET", f"/cloud/project/{PROJECT}/kube", headers=expanded).json()
    assert [cluster["customization"] for cluster in listed] == [None, None]
    fleet = write_fleet(
        tmp_path,
        document("quiet", {"apiServer": {}, "kubeProxy": {}}),  # "no customization", enforced: nothing to do
        document("tuned", {"kubeProxy": {"iptables": {"syncPeriod": "PT60S"}}}),
    )

    with_null = what_ovhkube_does(nulls, run_ovhkube, fleet, tmp_path / "null")
    as_empty = what_ovhkube_does(sandbox_factory(), run_ovhkube, fleet, tmp_path / "empty")

    assert with_null == as_empty
    assert with_null["plan"][0] == 2 and "1 to update" in with_null["plan"][1]
    assert with_null["drift"][0] == 2
    assert with_null["apply"] == (0, [("quiet", "unchanged", False), ("tuned", "done", True)])
    assert with_null["plan again"] == 0
