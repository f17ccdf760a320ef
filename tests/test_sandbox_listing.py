"""The project listing as the real API answers it (ids, or full objects a page at a time), the 20-clusters limit,
and the request log that counts what a client sends."""

import json

import ovh
import pytest
import requests

from reconciler.commands.connect import register_endpoint
from tests.test_sandbox_processes import PROJECT, cluster_id, fleet_seed, serve_process

KUBE = f"/cloud/project/{PROJECT}/kube"
EXPANDED = {"X-Pagination-Mode": "CachedObjectList-Pages"}


def listing(sandbox, headers: dict) -> requests.Response:
    client = sandbox.client()
    return client.raw_call("GET", KUBE, headers=dict(headers))


def test_the_plain_listing_answers_ids_in_creation_order(sandbox):
    sandbox.seed(fleet_seed(3))
    assert sandbox.client().get(KUBE) == [cluster_id(n) for n in range(3)]


def test_the_expanded_listing_answers_the_cluster_objects_with_their_customization(sandbox):
    seed = fleet_seed(2)
    seed["projects"][0]["clusters"][0]["customization"] = {"kubeProxy": {"iptables": {"minSyncPeriod": "PT0S"}}}
    sandbox.seed(seed)
    answer = listing(sandbox, EXPANDED | {"X-Pagination-Size": "5000", "Pragma": "no-cache"})
    assert answer.status_code == 200 and answer.headers["X-Pagination-Elements"] == "2"
    objects = answer.json()
    client = sandbox.client()
    assert objects == [client.get(f"{KUBE}/{cluster_id(n)}") for n in range(2)]
    assert objects[0]["customization"]["kubeProxy"] == {"iptables": {"minSyncPeriod": "P0D"}}  # as GET answers it
    assert objects[1]["customization"] == {  # never set: the API default, both admission plugins enabled
        "apiServer": {"admissionPlugins": {"enabled": ["AlwaysPullImages", "NodeRestriction"], "disabled": []}}
    }


def test_the_expanded_listing_pages_from_one(sandbox):
    sandbox.seed(fleet_seed(5))
    pages = [
        listing(sandbox, EXPANDED | {"X-Pagination-Size": "2", "X-Pagination-Number": str(n)}) for n in (1, 2, 3, 4)
    ]
    assert [[c["id"] for c in page.json()] for page in pages] == [
        [cluster_id(0), cluster_id(1)], [cluster_id(2), cluster_id(3)], [cluster_id(4)], [],
    ]  # fmt: skip
    assert {page.headers["X-Pagination-Elements"] for page in pages} == {"5"}


@pytest.mark.parametrize("header", ["X-Pagination-Size", "X-Pagination-Number"])
@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_a_bad_pagination_header_is_a_bad_request(sandbox, header, value):
    sandbox.seed(fleet_seed(1))
    answer = listing(sandbox, EXPANDED | {header: value})
    assert answer.status_code == 400 and answer.json()["class"] == "Client::BadRequest"


def test_a_sandbox_without_the_expanded_form_answers_ids_whatever_the_headers(sandbox_factory):
    sandbox = sandbox_factory(expand_lists=False)
    sandbox.seed(fleet_seed(2))
    answer = listing(sandbox, EXPANDED | {"X-Pagination-Size": "5000"})
    assert answer.json() == [cluster_id(0), cluster_id(1)] and "X-Pagination-Elements" not in answer.headers


def test_a_project_holds_at_most_20_clusters(sandbox):
    sandbox.seed(fleet_seed(19))
    client = sandbox.client()
    client.post(KUBE, region="GRA5", name="twentieth")
    with pytest.raises(ovh.exceptions.BadParametersError, match=r"Maximum number .* \(20\)"):
        client.post(KUBE, region="GRA5", name="twenty-first")
    assert len(client.get(KUBE)) == 20


def test_the_limit_can_be_changed(sandbox_factory):
    sandbox = sandbox_factory(max_clusters_per_project=1)
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": []}]})
    client = sandbox.client()
    client.post(KUBE, region="GRA5")
    with pytest.raises(ovh.exceptions.BadParametersError):
        client.post(KUBE, region="GRA5")


def test_the_request_log_has_a_line_per_request_answered(sandbox):
    sandbox.seed(fleet_seed(1))
    sandbox.forget_requests()
    client = sandbox.client()
    client.get(KUBE)
    client.raw_call("GET", KUBE, headers=dict(EXPANDED))
    with pytest.raises(ovh.exceptions.ResourceNotFoundError):
        client.get(f"{KUBE}/nope")
    logged = sandbox.requests()
    assert [(e["method"], e["path"], e["status"], e["expanded"]) for e in logged] == [
        ("GET", "/auth/time", 200, False),  # python-ovh learns the clock once
        ("GET", KUBE, 200, False),
        ("GET", KUBE, 200, True),
        ("GET", f"{KUBE}/nope", 404, False),
    ]
    assert all(isinstance(e["time"], float) for e in logged)


def test_serve_takes_the_options_on_its_command_line(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(fleet_seed(1)))
    log = tmp_path / "requests.jsonl"
    options = ("--seed", str(seed), "--request-log", str(log), "--no-expanded-lists", "--max-clusters-per-project", "1")
    with serve_process(tmp_path / "state.sqlite3", *options) as (_, url):
        client = ovh.Client(register_endpoint(url), "sandbox-ak", "sandbox-as", "sandbox-ck")
        assert client.raw_call("GET", KUBE, headers=dict(EXPANDED)).json() == [cluster_id(0)]
        with pytest.raises(ovh.exceptions.BadParametersError):
            client.post(KUBE, region="GRA5")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["method"], e["status"], e["expanded"]) for e in lines][-2:] == [
        ("GET", 200, False),
        ("POST", 400, False),
    ]
