"""Answers that are not what the API describes are read errors naming the call and the field: a listing that lost
its body is never an empty project (a create of a cluster that exists), a wrong type never an internal error, and
a body far beyond any real answer is refused as it comes, not read whole.

The table checks reconciler/live/shapes.py alone; the rest runs the CLI against the sandbox over HTTP, through a
gateway (tests/lossy_gateway.py) that rewrites the answers.
"""

import json

import pytest
from apply_helpers import PROJECT, apply_json, cluster_id, clusters_by_name, live, seed, write_fleet
from conftest import SANDBOX_CREDENTIALS

from reconciler.commands.connect import open_api
from reconciler.commands.settings import Settings
from reconciler.live.shapes import MalformedAnswer, check_answer
from reconciler.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

LISTING = f"/cloud/project/{PROJECT}/kube"
CLUSTER = f"{LISTING}/{cluster_id(1)}"
POOL_ID = "6f3c1a52-3333-4c1e-9a55-000000000001"
OK_CLUSTER = {"id": cluster_id(1), "name": "alpha", "status": "READY", "customization": None}


@pytest.mark.parametrize(
    ("method", "path", "answer"),
    [
        ("GET", LISTING, []),
        ("GET", LISTING, [cluster_id(1), cluster_id(2)]),
        ("GET", LISTING, [OK_CLUSTER]),
        ("GET", CLUSTER, OK_CLUSTER | {"nextUpgradeVersions": None, "privateNetworkId": None}),
        ("GET", CLUSTER, OK_CLUSTER | {"customization": {"kubeProxy": {"ipvs": {"scheduler": "rr"}}}}),
        ("GET", f"{CLUSTER}/ipRestrictions", ["203.0.113.0/24"]),
        ("GET", f"{CLUSTER}/openIdConnect", {"issuerUrl": "https://a.example", "clientId": "k", "caContent": None}),
        ("GET", "/auth/time", 1795000000),
        ("PUT", f"{CLUSTER}/ipRestrictions", None),  # a write's answer is not used
        ("GET", f"{CLUSTER}/kubeconfig", "anything"),  # nor is a call ovhkube does not read
        (
            "GET",
            f"{CLUSTER}/nodepool",
            [{"id": POOL_ID, "name": "web", "desiredNodes": 3, "autoscaling": {"scaleDownUtilizationThreshold": 0.5}}],
        ),
    ],
)
def test_answers_as_the_api_describes_them_pass(method, path, answer):
    check_answer(method, path, answer, 200)


@pytest.mark.parametrize(
    ("method", "path", "answer", "said"),
    [
        ("GET", LISTING, None, "expected a list of clusters, got null (or no answer at all)"),
        ("GET", LISTING, {"clusters": []}, 'expected a list of clusters, got {"clusters": []}'),
        ("GET", LISTING, "alpha", 'expected a list of clusters, got "alpha"'),
        ("GET", LISTING, [{"status": "READY"}], "[0].id: a cluster without its id"),
        ("GET", LISTING, [{"id": cluster_id(1)}], "[0].name: a cluster without its name"),
        ("GET", LISTING, [OK_CLUSTER, cluster_id(2)], "[1]: expected an object, got"),
        ("GET", LISTING, [cluster_id(1), ""], "[1]: an empty cluster id"),
        ("GET", LISTING, [OK_CLUSTER | {"name": ["alpha"]}], '[0].name: expected a string, got ["alpha"]'),
        ("GET", CLUSTER, ["alpha"], 'the answer: expected an object, got ["alpha"]'),
        ("GET", CLUSTER, 7, "the answer: expected an object, got 7"),
        ("GET", CLUSTER, OK_CLUSTER | {"customization": []}, "customization: expected an object, got []"),
        (
            "GET",
            CLUSTER,
            OK_CLUSTER | {"customization": {"kubeProxy": {"iptables": {"syncPeriod": 30}}}},
            "customization.kubeProxy.iptables.syncPeriod: expected a string, got 30",
        ),
        ("GET", CLUSTER, OK_CLUSTER | {"isUpToDate": "yes"}, 'isUpToDate: expected true or false, got "yes"'),
        ("GET", CLUSTER, OK_CLUSTER | {"version": None}, "version: expected a string, got null"),
        ("POST", LISTING, "created", 'the answer: expected an object, got "created"'),
        ("GET", f"{CLUSTER}/ipRestrictions", None, "expected a list, got null"),
        ("GET", f"{CLUSTER}/ipRestrictions", "203.0.113.0/24", 'expected a list, got "203.0.113.0/24"'),
        ("GET", f"{CLUSTER}/openIdConnect", [], "the answer: expected an object, got []"),
        ("GET", f"{CLUSTER}/openIdConnect", {"issuerUrl": 1}, "issuerUrl: expected a string, got 1"),
        ("GET", "/auth/time", {"time": 1}, 'the answer: expected an integer, got {"time": 1}'),
        ("GET", "/auth/time", True, "the answer: expected an integer, got true"),
        ("GET", f"{CLUSTER}/nodepool", {"pools": []}, 'the answer: expected a list, got {"pools": []}'),
        ("GET", f"{CLUSTER}/nodepool", [{"desiredNodes": "3"}], '[0].desiredNodes: expected an integer, got "3"'),
        ("GET", f"{CLUSTER}/nodepool", [{"id": POOL_ID, "name": ""}], "[0].name: a node pool without its name"),
        ("GET", f"{CLUSTER}/nodepool", [{"name": "web"}], "[0].id: a node pool without its id"),
        ("GET", f"{CLUSTER}/nodepool/p1", {"id": "p1"}, "name: a node pool without its name"),
        ("POST", f"{CLUSTER}/nodepool", {"name": "web"}, "id: a node pool without its id"),
        (
            "GET",
            f"{CLUSTER}/nodepool/p1",
            {"template": {"metadata": {"labels": {"tier": 1}}}},
            "template.metadata.labels.tier: expected a string, got 1",
        ),
        ("GET", f"{CLUSTER}/flavors", [{"name": "b3-8", "ram": "8"}], '[0].ram: expected an integer, got "8"'),
    ],
)
def test_answers_of_another_shape_name_the_call_and_the_field(method, path, answer, said):
    with pytest.raises(MalformedAnswer) as raised:
        check_answer(method, path, answer, 200)
    assert said in str(raised.value)
    assert str(raised.value).startswith(f"{method} {path}: 200: the answer is not what the API describes: ")
    assert raised.value.ambiguous  # a 2xx that cannot be used: a create behind it may have happened


def test_the_sandbox_s_answers_are_of_the_described_shapes(sandbox, monkeypatch):
    """Every call the check knows, answered by the sandbox (node pools and flavors included), passes it: the
    emulator and the check agree on the description."""
    for name, value in SANDBOX_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    pool = {"id": POOL_ID, "name": "web", "flavor": "b3-8", "desiredNodes": 2, "status": "READY"}
    seed(sandbox, live(1, "alpha") | {"nodePools": [pool], "openIdConnect": {"issuerUrl": "https://a.example"}})
    with open_api(Settings(endpoint=sandbox.url)) as api:
        api.get(LISTING)
        api.get_with_headers(LISTING, {"X-Pagination-Mode": "CachedObjectList-Pages"})
        for suffix in ("", "/customization", "/ipRestrictions", "/nodepool", f"/nodepool/{POOL_ID}", "/flavors"):
            api.get(CLUSTER + suffix)


def rewrite(change):
    """A gateway fault that rewrites the JSON answer with `change(answer)`."""

    def fault(status: int, payload: bytes) -> tuple[int, bytes]:
        return status, json.dumps(change(json.loads(payload))).encode()

    fault.__name__ = "rewritten"
    return fault


def no_content(status: int, payload: bytes) -> tuple[int, bytes]:
    return 204, b""


LISTINGS = {
    "dropped": "dropped",
    "an object": rewrite(lambda answer: {"clusters": answer}),
    "an empty 204": no_content,
    "items without id and name": rewrite(lambda answer: [{"status": c["status"]} for c in answer]),
    "a name that is a list": rewrite(lambda answer: [c | {"name": [c["name"]]} for c in answer]),
    "ids and objects mixed": rewrite(lambda answer: [*answer, "6f3c1a52-2222-4c1e-9a55-000000000009"]),
}
SAID = {
    "dropped": "expected a list of clusters, got null",
    "an object": 'expected a list of clusters, got {"clusters":',
    "an empty 204": "expected a list of clusters, got null",
    "items without id and name": "[0].id: a cluster without its id",
    "a name that is a list": '[0].name: expected a string, got ["alpha"]',
    "ids and objects mixed": "[1]: expected an object, got",
}


def two_clusters_one_to_create(sandbox, tmp_path) -> str:
    seed(sandbox, live(1, "alpha"))
    documents = [
        {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": name}, "spec": {"project": PROJECT}}
        | {"spec": {"project": PROJECT, "region": "GRA5", "kubeProxyMode": "iptables"}}
        for name in ("alpha", "beta")
    ]
    return write_fleet(tmp_path, *documents)


@pytest.mark.parametrize("shape", LISTINGS, ids=list(LISTINGS))
def test_a_listing_not_as_described_is_a_read_error_never_an_empty_project(
    sandbox, through_gateway, run_ovhkube, tmp_path, shape
):
    fleet = two_clusters_one_to_create(sandbox, tmp_path)
    gateway, env = through_gateway(sandbox, {("GET", "/kube"): [LISTINGS[shape]] * 50})

    plan = run_ovhkube("plan", fleet, "--format", "json", env=env)
    result, _ = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert plan.returncode == 1, plan.stdout + plan.stderr
    changes = json.loads(plan.stdout)["changes"]
    assert [(c["cluster"]["name"], c["action"], c["reason"]) for c in changes] == [
        ("alpha", "error", "read_failed"),
        ("beta", "error", "read_failed"),  # not a create: alpha exists, so beta may too
    ]
    for change in changes:
        assert f"cannot list the clusters of project {PROJECT}: GET /cloud/project/{PROJECT}/kube" in change["error"]
        assert SAID[shape] in change["error"]
    assert result.returncode == 1 and "internal error" not in result.stdout + result.stderr
    assert gateway.count("POST", "/kube") == 0
    assert list(clusters_by_name(sandbox)) == ["alpha"]


OBJECT = f"/kube/{cluster_id(1)}"
UNKNOWN = "unknown_if_exists"  # the one cluster of the project could not be read: alpha may or may not be it


@pytest.mark.parametrize(
    ("suffix", "change", "said", "reason"),
    [
        (OBJECT, lambda answer: answer["name"], 'the answer: expected an object, got "alpha"', UNKNOWN),
        (OBJECT, lambda answer: [answer], "the answer: expected an object, got [{", UNKNOWN),
        (OBJECT, lambda answer: 7, "the answer: expected an object, got 7", UNKNOWN),
        (OBJECT, lambda answer: answer | {"name": ["alpha"]}, "name: expected a string", UNKNOWN),
        (OBJECT, lambda answer: answer | {"customization": "none"}, "customization: expected an", UNKNOWN),
        ("/ipRestrictions", lambda answer: "203.0.113.0/24", 'expected a list, got "203.0.113.0/24"', "read_failed"),
        ("/openIdConnect", lambda answer: [answer], "the answer: expected an object, got [{", "read_failed"),
    ],
    ids=["string", "list", "number", "name-list", "customization-string", "ranges-string", "oidc-list"],
)
def test_a_wrong_type_in_an_answer_is_an_error_naming_the_call_and_the_field(
    sandbox_factory, through_gateway, run_ovhkube, tmp_path, suffix, change, said, reason
):
    # The listing answers ids only, so each cluster is read by a GET of its own; the file manages the IP
    # restrictions and OIDC, so they are read too.
    sandbox = sandbox_factory(expand_lists=False)
    seed(sandbox, live(1, "alpha") | {"openIdConnect": {"issuerUrl": "https://sso.example.org", "clientId": "k8s"}})
    spec = {"project": PROJECT, "ipRestrictions": [], "openIdConnect": {"enabled": False}}
    fleet = write_fleet(
        tmp_path, {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": "alpha"}, "spec": spec}
    )
    _, env = through_gateway(sandbox, {("GET", suffix): [rewrite(change)] * 20})

    plan = run_ovhkube("plan", fleet, "--format", "json", env=env)
    result, _ = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert plan.returncode == 1, plan.stdout + plan.stderr
    [entry] = json.loads(plan.stdout)["changes"]
    assert entry["action"] == "error" and entry["reason"] == reason
    assert f"GET /cloud/project/{PROJECT}/kube/{cluster_id(1)}" in entry["error"] and said in entry["error"]
    assert result.returncode == 1
    assert "internal error" not in plan.stdout + plan.stderr + result.stdout + result.stderr
    assert clusters_by_name(sandbox)["alpha"]["openIdConnect"] is not None  # nothing was sent


def test_a_clock_answer_of_the_wrong_type_names_the_call(sandbox, through_gateway, run_ovhkube, tmp_path):
    fleet = two_clusters_one_to_create(sandbox, tmp_path)
    _, env = through_gateway(sandbox, {("GET", "/auth/time"): [rewrite(lambda answer: {"time": answer})] * 5})

    result = run_ovhkube("plan", fleet, env=env)

    assert result.returncode == 1
    assert "GET /auth/time: 200: the answer is not what the API describes: the answer: expected an integer" in (
        result.stderr
    )
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("oauth2", [False, True], ids=["consumer-key", "oauth2"])
def test_an_answer_without_end_is_refused_once_past_the_cap_naming_the_call(
    sandbox, through_gateway, run_ovhkube, tmp_path, oauth2
):
    # python-ovh sends an OAuth2 service account's calls through a session of its own: the cap holds there too.
    fleet = two_clusters_one_to_create(sandbox, tmp_path)
    gateway, env = through_gateway(sandbox, {("GET", "/kube"): ["endless"] * 5})
    if oauth2:
        env = {k: v for k, v in env.items() if not k.startswith("OVH_") or k == "OVH_ENDPOINT"}
        env |= {"OVH_CLIENT_ID": DEFAULT_CLIENT_ID, "OVH_CLIENT_SECRET": DEFAULT_CLIENT_SECRET}

    plan = run_ovhkube("plan", fleet, "--format", "json", env=env)

    assert plan.returncode == 1, plan.stdout + plan.stderr
    changes = json.loads(plan.stdout)["changes"]
    assert all(c["action"] == "error" for c in changes)
    assert f"GET /cloud/project/{PROJECT}/kube: 200: the answer is larger than 16 MiB" in changes[0]["error"]
    # Read as it came and dropped past the cap: not the gateway's 400 MiB (socket buffers hold a few MiB more).
    assert gateway.streamed < 64 * 2**20


def test_a_wrong_type_while_apply_waits_fails_that_cluster_naming_the_call(
    sandbox, through_gateway, run_ovhkube, tmp_path
):
    # The plan's listing and the one read right before the write are as described; the polls after the write
    # answer names that are lists.
    seed(sandbox, live(1, "alpha"))
    spec = {"project": PROJECT, "updatePolicy": "ALWAYS_UPDATE"}
    fleet = write_fleet(
        tmp_path, {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": "alpha"}, "spec": spec}
    )
    listed_badly = rewrite(lambda answer: [c | {"name": [c["name"]]} for c in answer])
    _, env = through_gateway(sandbox, {("GET", "/kube"): [None, None] + [listed_badly] * 20})

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 1, result.stdout + result.stderr
    (alpha,) = account["clusters"]
    assert alpha["result"] == "failed"
    assert (
        f"GET /cloud/project/{PROJECT}/kube: 200: the answer is not what the API describes: [0].name"
        in (alpha["reason"])
    )
    assert "internal error" not in result.stdout + result.stderr
    assert clusters_by_name(sandbox)["alpha"]["updatePolicy"] == "ALWAYS_UPDATE"  # the write itself went through


def _every_value_swapped(value, swaps=(None, 0, 1.5, True, "x", [], ["x"], {}, {"k": "v"})):
    """`value` with each value inside it in turn replaced by each of `swaps`."""
    yield value
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in list(children):
        for swapped in [*swaps, *_every_value_swapped(child, swaps)]:
            copy = dict(value) if isinstance(value, dict) else list(value)
            copy[key] = swapped
            yield copy


FULL_POOL = {
    "id": "p1",
    "name": "web",
    "desiredNodes": 3,
    "availabilityZones": ["eu-west-par-a"],
    "attachFloatingIps": {"enabled": False},
    "autoscaling": {"scaleDownUtilizationThreshold": 0.5},
    "template": {"metadata": {"labels": {"tier": "web"}, "finalizers": []}, "spec": {"taints": [{"key": "k"}]}},
}
FULL_CLUSTER = OK_CLUSTER | {
    "version": "1.31.2",
    "isUpToDate": True,
    "nextUpgradeVersions": ["1.32"],
    "privateNetworkConfiguration": {"defaultVrackGateway": "10.0.0.1", "privateNetworkRoutingAsDefault": None},
    "customization": {
        "apiServer": {"admissionPlugins": {"enabled": ["NodeRestriction"], "disabled": []}},
        "kubeProxy": {"ipvs": {"scheduler": "rr", "syncPeriod": "PT30S"}},
    },
}


@pytest.mark.parametrize(
    ("path", "answer"),
    [
        (LISTING, [FULL_CLUSTER, FULL_CLUSTER | {"id": cluster_id(2)}]),
        (CLUSTER, FULL_CLUSTER),
        (f"{CLUSTER}/nodepool", [FULL_POOL]),
    ],
)
def test_every_answer_one_value_off_is_refused_exactly_when_the_described_shape_says_so(path, answer):
    """check_answer's quick yes/no check and the walk that names the field agree on every variant: a value of each
    other type at every place of a full answer."""
    from reconciler.live.shapes import NODE_POOL, SHAPES, _listing_problem, _missing, _problem

    for variant in _every_value_swapped(answer):
        if path == LISTING:
            expected = _listing_problem(variant)
        elif path == CLUSTER:
            expected = _problem(variant, SHAPES["cluster"], "") or _missing(variant, "")
        else:
            expected = _problem(variant, [NODE_POOL], "") or next(
                filter(None, (_missing(pool, f"[{i}]", "a node pool") for i, pool in enumerate(variant))), None
            )
        try:
            check_answer("GET", path, variant, 200)
            said = None
        except MalformedAnswer as exc:
            said = str(exc).split("the answer is not what the API describes: ", 1)[1]
        assert said == expected, variant


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda pools: [{k: v for k, v in p.items() if k != "name"} for p in pools], "[0].name: a node pool without"),
        (lambda pools: [p | {"name": ""} for p in pools], "[0].name: a node pool without its name"),
        (lambda pools: [{k: v for k, v in p.items() if k != "id"} for p in pools], "[0].id: a node pool without"),
    ],
    ids=["no-name", "empty-name", "no-id"],
)
def test_a_pool_listing_with_pools_that_cannot_be_named_never_creates_a_pool_again(
    sandbox, through_gateway, run_ovhkube, tmp_path, change, said
):
    # A pool found by neither name nor id would read as missing: the plan created "workers" a second time.
    seed(sandbox, live(1, "alpha") | {"nodePools": [{"name": "workers", "flavor": "b3-8", "desiredNodes": 2}]})
    spec = {"project": PROJECT, "nodePools": {"workers": {"flavorName": "b3-8", "desiredNodes": 2}}}
    fleet = write_fleet(
        tmp_path, {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": "alpha"}, "spec": spec}
    )
    gateway, env = through_gateway(sandbox, {("GET", "/nodepool"): [rewrite(change)] * 20})

    plan = run_ovhkube("plan", fleet, "--format", "json", env=env)
    result, _ = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert plan.returncode == 1, plan.stdout + plan.stderr
    [entry] = json.loads(plan.stdout)["changes"]
    assert (entry["action"], entry["reason"]) == ("error", "read_failed")
    assert f"GET /cloud/project/{PROJECT}/kube/{cluster_id(1)}/nodepool: 200: the answer is not what" in entry["error"]
    assert said in entry["error"]
    assert result.returncode == 1 and "internal error" not in result.stdout + result.stderr
    assert gateway.count("POST", "/nodepool") == 0


def counted(count: str, change=lambda answer: answer):
    """A gateway fault: the listing rewritten by `change`, its answer header counting `count` objects."""

    def fault(status: int, payload: bytes) -> tuple[int, bytes, dict]:
        return status, json.dumps(change(json.loads(payload))).encode(), {"X-Pagination-Elements": count}

    return fault


PAGES = {
    "fewer than counted": (counted("2", lambda answer: answer[1:]), 'X-Pagination-Elements counts "2" but its pages'),
    "pages without end": (  # every page answered as the first
        counted("999999", lambda answer: [OK_CLUSTER]),
        'counts "999999" and 20 pages, still coming, hold 20',
    ),
    "a count of 5,000 digits": (
        counted("9" * 5000, lambda answer: []),
        'counts "9999999999999999... but its pages hold 0',
    ),
}


@pytest.mark.parametrize("shape", PAGES, ids=list(PAGES))
def test_a_listing_whose_pages_contradict_their_count_is_a_read_error(
    sandbox, through_gateway, run_ovhkube, tmp_path, shape
):
    # Page 1 answered as counting more than the clusters it holds: a cluster left out would be created again.
    fleet = two_clusters_one_to_create(sandbox, tmp_path)
    fault, said = PAGES[shape]
    gateway, env = through_gateway(sandbox, {("GET", "/kube"): [fault] * 100})

    plan = run_ovhkube("plan", fleet, "--format", "json", env=env)
    result, _ = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert plan.returncode == 1, plan.stdout + plan.stderr
    changes = json.loads(plan.stdout)["changes"]
    assert [(c["action"], c["reason"]) for c in changes] == [("error", "read_failed")] * 2
    assert (
        said in changes[1]["error"]
        and f"GET /cloud/project/{PROJECT}/kube: 200: the answer is not" in (changes[1]["error"])
    )
    assert result.returncode == 1 and "internal error" not in plan.stderr + result.stdout + result.stderr
    assert gateway.count("POST", "/kube") == 0 and list(clusters_by_name(sandbox)) == ["alpha"]
    assert gateway.count("GET", "/kube") <= 2 * 20  # plan and apply: each at most 20 pages


def test_a_pool_listing_that_counts_more_pools_than_it_holds_creates_none(
    sandbox, through_gateway, run_ovhkube, tmp_path
):
    seed(sandbox, live(1, "alpha") | {"nodePools": [{"name": "workers", "flavor": "b3-8", "desiredNodes": 2}]})
    spec = {"project": PROJECT, "nodePools": {"workers": {"flavorName": "b3-8", "desiredNodes": 2}}}
    fleet = write_fleet(
        tmp_path, {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": "alpha"}, "spec": spec}
    )
    gateway, env = through_gateway(sandbox, {("GET", "/nodepool"): [counted("1", lambda pools: [])] * 20})

    plan = run_ovhkube("plan", fleet, "--format", "json", env=env)
    result, _ = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    [entry] = json.loads(plan.stdout)["changes"]
    assert (entry["action"], entry["reason"]) == ("error", "read_failed")
    assert 'X-Pagination-Elements counts "1" but its pages hold 0' in entry["error"]
    assert result.returncode == 1 and "internal error" not in result.stdout + result.stderr
    assert gateway.count("POST", "/nodepool") == 0


@pytest.mark.parametrize(
    ("length", "code"),
    [("9" * 5000, 1), ("\u00b2", 0)],
    ids=["5000-digits", "superscript-two"],
)
def test_a_content_length_of_any_text_is_a_length_or_none_never_an_internal_error(
    sandbox, through_gateway, run_ovhkube, tmp_path, length, code
):
    # A length of 5,000 digits says the answer is past the cap: refused at once. '²' is no number: the body
    # is read, and capped, as it comes. Both were an internal error (ValueError).
    seed(sandbox, live(1, "alpha"))
    spec = {"project": PROJECT, "kubeProxyMode": "iptables"}
    fleet = write_fleet(
        tmp_path, {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": "alpha"}, "spec": spec}
    )

    def lying(status: int, payload: bytes) -> tuple[int, bytes, dict]:
        return status, payload, {"Content-Length": length}

    _, env = through_gateway(sandbox, {("GET", "/kube"): [lying] * 5})

    plan = run_ovhkube("plan", fleet, "--detailed-exitcode", env=env)

    assert plan.returncode == code, plan.stdout + plan.stderr
    assert "internal error" not in plan.stderr
    if code:
        assert f"GET /cloud/project/{PROJECT}/kube: 200: the answer is larger than 16 MiB" in plan.stdout
