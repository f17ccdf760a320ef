"""OVHcloud's API description as the sandbox's contract (reconciler/sandbox/contract.json, derived by
reconciler.sandbox.derive_contract): derived again from a copy of the description, it is the committed one; every
body the description refuses gets the API's 400 from the sandbox, for every call ovhkube makes; and every answer of
every call the sandbox serves keeps to it (the suite's sandboxes check each answer too: tests/conftest.py)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from apply_helpers import PROJECT, cluster_id, live, seed

from reconciler.sandbox.contract import CONTRACT_PATH, contract
from reconciler.sandbox.derive_contract import derive
from reconciler.sandbox.server import CONTROL_PLANE_ROUTES, NODE_POOL_ROUTES, ROUTES
from reconciler.steps import POOL_KINDS, ClusterTarget, PoolTarget, Step, StepKind

DESCRIPTION = Path(__file__).parent / "data" / "ovh-cloud-kube-description.json"
KUBE = f"/cloud/project/{PROJECT}/kube"
CLUSTER = f"{KUBE}/{cluster_id(1)}"
POOL_ID = "0a0a0a0a-0000-4000-8000-000000000001"
OIDC = {"issuerUrl": "https://login.example.com", "clientId": "kubernetes"}
TEMPLATE = {
    "metadata": {"annotations": {}, "finalizers": [], "labels": {"team": "web"}},
    "spec": {"taints": [], "unschedulable": False},
}
# A body the description takes, for every call ovhkube makes that has one (and the node pool calls).
VALID_BODIES = {
    ("POST", KUBE): {"name": "fresh", "region": "GRA7", "kubeProxyMode": "ipvs", "updatePolicy": "NEVER_UPDATE"},
    ("POST", f"{CLUSTER}/reset"): {"name": "alpha", "kubeProxyMode": "ipvs", "workerNodesPolicy": "reinstall"},
    ("PUT", f"{CLUSTER}/customization"): {"kubeProxy": {"ipvs": {"scheduler": "rr", "syncPeriod": "PT30S"}}},
    ("PUT", f"{CLUSTER}/updatePolicy"): {"updatePolicy": "MINIMAL_DOWNTIME"},
    ("POST", f"{CLUSTER}/update"): {"strategy": "NEXT_MINOR"},
    ("PUT", f"{CLUSTER}/ipRestrictions"): {"ips": ["203.0.113.0/24"]},
    ("POST", f"{CLUSTER}/ipRestrictions"): {"ips": ["198.51.100.7"]},
    ("POST", f"{CLUSTER}/openIdConnect"): OIDC,
    ("PUT", f"{CLUSTER}/openIdConnect"): OIDC | {"signingAlgorithms": ["ES256"]},
    ("POST", f"{CLUSTER}/nodepool"): {"name": "extra", "flavorName": "b3-8", "desiredNodes": 1, "template": TEMPLATE},
    ("PUT", f"{CLUSTER}/nodepool/{POOL_ID}"): {"desiredNodes": 2, "autoscale": False},
    ("PUT", CLUSTER): {"name": "alpha-renamed", "updatePolicy": "ALWAYS_UPDATE"},
    ("PUT", f"{CLUSTER}/updateLoadBalancersSubnetId"): {
        "loadBalancersSubnetId": "7a4c2e9f-3333-4eee-afff-000000000001"
    },
    ("PUT", f"{CLUSTER}/privateNetworkConfiguration"): {
        "defaultVrackGateway": "10.0.0.1",
        "privateNetworkRoutingAsDefault": False,
    },
}


def test_the_contract_is_the_description_derived_again(tmp_path):
    out = tmp_path / "contract.json"
    command = [sys.executable, "-m", "reconciler.sandbox.derive_contract", str(DESCRIPTION), "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == CONTRACT_PATH.read_bytes()  # one command away from the next description
    data = json.loads(out.read_text())
    assert data["source"] == {
        "repo": "ovh/ovhcloud-cli",
        "path": "internal/assets/api-schemas/cloud.json",
        "commit": json.loads(DESCRIPTION.read_text())["source"]["commit"],
    }
    assert "description" not in out.read_text()  # no prose


def test_a_description_without_its_commit_is_refused_in_one_line(tmp_path):
    copied = json.loads(DESCRIPTION.read_text())
    del copied["source"]
    (tmp_path / "cloud.json").write_text(json.dumps(copied))
    command = [sys.executable, "-m", "reconciler.sandbox.derive_contract", str(tmp_path / "cloud.json")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"error: {tmp_path / 'cloud.json'}: {NO_COMMIT}"]
    assert derive(copied, commit="0" * 40)["source"]["commit"] == "0" * 40


NO_COMMIT = "which ovhcloud-cli commit it comes from is unknown: give --commit"


def nullable_fields(schema: dict) -> list[str]:
    return sorted(name for name, field in schema["properties"].items() if field.get("nullable"))


def test_the_contract_says_what_the_description_says_where_ovhkube_and_the_sandbox_had_it_wrong():
    served = contract()
    create = served.operation("POST", KUBE)
    assert nullable_fields(create.body) == ["customization", "ipAllocationPolicy", "plan", "updatePolicy"]
    assert nullable_fields(served.operation("POST", f"{CLUSTER}/reset").body) == []
    assert "required" not in served.operation("PUT", f"{CLUSTER}/openIdConnect").body
    assert served.operation("PUT", f"{CLUSTER}/updatePolicy").iam == ("publicCloudProject:apiovh:kube/updatePolicy",)
    for method in ("PUT", "POST"):
        assert served.operation(method, f"{CLUSTER}/ipRestrictions").answer["type"] == "array"
    assert served.operation("POST", f"{CLUSTER}/openIdConnect").answer["properties"].keys() >= {"issuerUrl"}
    version = served.operation("POST", f"{CLUSTER}/reset").body["properties"]["version"]
    assert version["enum"] == ["1.31", "1.32", "1.33", "1.34", "1.35"]


def bad_variants(schema: dict, body: dict) -> list[tuple[str, dict, str]]:
    """(kind, body, the problem the sandbox must name), made from the contract's schema of the call's body."""
    variants = [("unknown field", body | {"notAField": 1}, "notAField: unknown field")]
    name, field = next((n, f) for n, f in schema["properties"].items() if n in body)
    wrong = 12345 if field.get("type") == "string" else "not-a-list-or-object"
    if field.get("type") not in ("string", "array", "object", "integer", "boolean"):
        wrong = {"an": "object"}
    variants.append(("wrong type", body | {name: wrong}, f"{name}: "))
    for enum_name, enum_field in schema["properties"].items():
        if "enum" in enum_field:
            variants.append(
                ("outside an enum", body | {enum_name: "NOT-A-VALUE"}, f'{enum_name}: "NOT-A-VALUE" is not')
            )
            break
    for required in schema.get("required", []):
        variants.append(("missing required", {k: v for k, v in body.items() if k != required}, f"{required}: required"))
    return variants


CASES = [
    pytest.param(method, path, kind, bad, named, id=f"{method} {path.removeprefix(KUBE) or '/'}: {kind}")
    for (method, path), body in VALID_BODIES.items()
    for kind, bad, named in bad_variants(contract().operation(method, path).body, body)
]


def test_every_request_ovhkube_makes_with_a_body_is_among_those_refused_above():
    # A step kind added to steps.py whose call takes a body must be given a body here, so the 400s above cover it.
    with_body = set()
    for kind in StepKind:
        pool_id = None if kind is StepKind.POOL_CREATE else POOL_ID
        target = (
            PoolTarget(PROJECT, cluster_id(1), pool_id) if kind in POOL_KINDS else ClusterTarget(PROJECT, cluster_id(1))
        )
        step = Step(kind, target)
        operation = contract().operation(step.method, step.path)
        assert operation is not None, f"{kind}: {step.method} {step.path} is not in the API's description"
        if operation.body is not None:
            with_body.add((operation.method, operation.template))
    tested = {(method, contract().template_of(path)) for method, path in VALID_BODIES}
    assert with_body <= tested, with_body - tested


def test_every_kind_of_refusal_is_exercised_somewhere():
    kinds = {case.values[2] for case in CASES}
    assert kinds == {"unknown field", "wrong type", "outside an enum", "missing required"}


@pytest.fixture(scope="module")
def shared_sandbox(tmp_path_factory):
    from conftest import RunningSandbox

    running = RunningSandbox(tmp_path_factory.mktemp("contract") / "sandbox.sqlite3")
    seed(running, live(1, "alpha") | {"nodePools": [{"id": POOL_ID, "name": "workers", "flavorName": "b3-8"}]})
    yield running
    running.stop()


@pytest.mark.parametrize(("method", "path", "kind", "body", "named"), CASES)
def test_a_body_the_description_refuses_gets_the_apis_400(shared_sandbox, method, path, kind, body, named):
    before = shared_sandbox.show()
    response = shared_sandbox.client().raw_call(method, path, data=body)
    answer = response.json()
    assert response.status_code == 400, answer
    assert answer["class"] == "Client::BadRequest" and named in answer["message"], answer
    assert response.headers["X-Ovh-QueryID"]
    assert shared_sandbox.show() == before  # refused whole: nothing changed


def test_the_valid_bodies_are_taken(sandbox):
    # The variants above differ from these by one problem each: these are taken (so the 400 is that problem's).
    seed(sandbox, live(1, "alpha") | {"nodePools": [{"id": POOL_ID, "name": "workers", "flavorName": "b3-8"}]})
    for (method, path), body in VALID_BODIES.items():
        assert contract().operation(method, path).body_problems(body) == [], (method, path)


def served_calls() -> set[tuple[str, str]]:
    """(method, contract path) of every call the sandbox serves."""
    calls = set()
    for pattern, methods in ROUTES + CONTROL_PLANE_ROUTES + NODE_POOL_ROUTES:
        example = re.sub(r"\(\[\^/\]\+\)", "x", pattern.pattern)
        for method in methods:
            operation = contract().operation(method, example)
            assert operation is not None, f"{method} {pattern.pattern} is served but not in the API's description"
            calls.add((method, operation.template))
    return calls


def test_every_answer_of_every_call_the_sandbox_serves_keeps_to_the_description(sandbox):
    network = {"privateNetworkId": "pn-1", "nodesSubnetId": "6f3c1e2a-2222-4ccc-9ddd-000000000001"}
    seed(
        sandbox, live(1, "alpha") | network | {"nodePools": [{"id": POOL_ID, "name": "workers", "flavorName": "b3-8"}]}
    )
    client, walked, answers = sandbox.client(), set(), []

    def call(method: str, path: str, body=None, headers=None) -> object:
        response = client.raw_call(method, path, data=body, headers=headers)
        assert response.status_code == 200, (method, path, response.text)
        walked.add((method, contract().template_of(path.split("?", 1)[0])))
        answer = response.json()
        expanded = bool(headers)
        answers.append((method, path, expanded, answer))
        return answer

    expanded = {"X-Pagination-Mode": "CachedObjectList-Pages"}
    call("GET", KUBE)
    call("GET", KUBE, headers=expanded)
    call("GET", CLUSTER)
    call("GET", f"{CLUSTER}/customization")
    call("PUT", f"{CLUSTER}/customization", VALID_BODIES[("PUT", f"{CLUSTER}/customization")])
    call("PUT", f"{CLUSTER}/updatePolicy", {"updatePolicy": "ALWAYS_UPDATE"})
    call("POST", f"{CLUSTER}/update", {"strategy": "LATEST_PATCH"})
    call(
        "PUT",
        f"{CLUSTER}/updateLoadBalancersSubnetId",
        {"loadBalancersSubnetId": "7a4c2e9f-3333-4eee-afff-000000000001"},
    )
    call("GET", f"{CLUSTER}/privateNetworkConfiguration")
    call("PUT", f"{CLUSTER}/privateNetworkConfiguration", {"defaultVrackGateway": "10.0.0.1"})
    call("PUT", f"{CLUSTER}/ipRestrictions", {"ips": ["203.0.113.0/24", "198.51.100.7"]})
    call("POST", f"{CLUSTER}/ipRestrictions", {"ips": ["192.0.2.0/28"]})
    call("GET", f"{CLUSTER}/ipRestrictions")
    call("DELETE", f"{CLUSTER}/ipRestrictions/192.0.2.0%2F28")
    call("POST", f"{CLUSTER}/openIdConnect", OIDC)
    call("GET", f"{CLUSTER}/openIdConnect")
    call("PUT", f"{CLUSTER}/openIdConnect", {"clientId": "k8s-2"})
    call("DELETE", f"{CLUSTER}/openIdConnect")
    call("GET", f"{CLUSTER}/flavors")
    call("GET", KUBE.removesuffix("/kube") + "/capabilities/kube/flavors?region=GRA5")
    call("GET", f"{CLUSTER}/nodepool")
    call("GET", f"{CLUSTER}/nodepool", headers=expanded)
    call("POST", f"{CLUSTER}/nodepool", VALID_BODIES[("POST", f"{CLUSTER}/nodepool")])
    call("GET", f"{CLUSTER}/nodepool/{POOL_ID}")
    call("GET", f"{CLUSTER}/nodepool/{POOL_ID}/nodes")
    call("PUT", f"{CLUSTER}/nodepool/{POOL_ID}", {"desiredNodes": 2})
    call("DELETE", f"{CLUSTER}/nodepool/{POOL_ID}")
    call("PUT", CLUSTER, {"name": "alpha-renamed", "updatePolicy": "ALWAYS_UPDATE"})
    call("POST", f"{CLUSTER}/kubeconfig")
    call("POST", f"{CLUSTER}/kubeconfig/reset")
    call("POST", f"{CLUSTER}/reset", {"name": "alpha", "kubeProxyMode": "ipvs", "customization": {}})
    call("POST", KUBE, {"region": "GRA7", "customization": None, "plan": None})
    call("DELETE", CLUSTER)

    assert walked == served_calls()  # a call the sandbox starts to serve must be walked here too
    for method, path, expanded, answer in answers:
        operation = contract().operation(method, path.split("?")[0])
        assert operation.answer_problems(answer, expanded) == [], (method, path)
    put_ips, post_ips = (a for m, p, _, a in answers if p.endswith("/ipRestrictions") and m in ("PUT", "POST"))
    assert (put_ips, post_ips) == (
        ["203.0.113.0/24", "198.51.100.7"],
        ["203.0.113.0/24", "198.51.100.7", "192.0.2.0/28"],
    )
    posted_oidc = next(a for m, p, _, a in answers if m == "POST" and p.endswith("/openIdConnect"))
    assert posted_oidc == OIDC | {"signingAlgorithms": ["RS256"]}


def test_an_answer_that_breaks_the_description_is_a_500_naming_the_field(sandbox):
    # The suite's sandboxes hold every answer to the description: one that breaks it fails the test that got it.
    seed(sandbox, live(1, "alpha"))
    with sandbox.server.state.write() as conn:  # the stored cluster, changed behind the sandbox's back
        stored = sandbox.server.state.cluster(PROJECT, cluster_id(1), conn)
        stored.data["status"] = "SLEEPING"
        type(sandbox.server.state).save_cluster(conn, stored)
    response = sandbox.client().raw_call("GET", CLUSTER)
    assert response.status_code == 500
    assert 'status: "SLEEPING" is not one of' in response.json()["message"]


def test_the_sandboxs_own_enums_are_the_descriptions():
    from reconciler.sandbox import facts

    served = contract()
    create = served.operation("POST", KUBE).body["properties"]
    cluster = served.operation("GET", CLUSTER).answer["properties"]
    ipvs = create["customization"]["properties"]["kubeProxy"]["properties"]["ipvs"]["properties"]
    plugins = create["customization"]["properties"]["apiServer"]["properties"]["admissionPlugins"]["properties"]
    oidc = served.operation("POST", f"{CLUSTER}/openIdConnect").body["properties"]
    reset = served.operation("POST", f"{CLUSTER}/reset").body["properties"]
    assert set(facts.VERSIONS) == set(create["version"]["enum"]) == set(facts.PATCH_LEVELS)
    assert set(facts.KUBE_PROXY_MODES) == set(create["kubeProxyMode"]["enum"])
    assert set(facts.UPDATE_POLICIES) == set(create["updatePolicy"]["enum"]) - {None}
    assert set(facts.STATUSES) == set(cluster["status"]["enum"])
    assert set(facts.IPVS_SCHEDULERS) == set(ipvs["scheduler"]["enum"]) - {None}
    assert set(facts.ADMISSION_PLUGINS) == set(plugins["enabled"]["items"]["enum"])
    assert set(facts.OIDC_SIGNING_ALGORITHMS) == set(oidc["signingAlgorithms"]["items"]["enum"])
    assert set(facts.WORKER_NODES_POLICIES) == set(reset["workerNodesPolicy"]["enum"])
    assert max(create["version"]["enum"], key=lambda v: tuple(map(int, v.split(".")))) == facts.NEWEST_VERSION
