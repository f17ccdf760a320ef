"""The branches that stop ovhkube from doing harm when the API answers badly, end to end through the CLI, a sandbox
and the lossy gateway (tests/lossy_gateway.py), which can lose, refuse (400) or "vanish" (404) chosen requests:
a create is never planned while a cluster of the project cannot be read; a create that cannot be made is an error
with its reason; a refused or unknowable reset or create sends nothing more; a cluster that cannot be read while
apply waits for it fails that cluster, saying why."""

import json

import pytest
from apply_helpers import (
    IPTABLES_60S,
    PROJECT,
    apply_json,
    cluster_id,
    clusters_by_name,
    live,
    seed,
    wanted,
    write_fleet,
)

CLUSTER = f"/kube/{cluster_id(1)}"
RESET = ("POST", "/reset")
CREATE = ("POST", "/kube")
LISTING = ("GET", "/kube")


def planned(run_ovhkube, fleet, env) -> tuple[int, list[dict]]:
    result = run_ovhkube("plan", fleet, "--format", "json", env=env)
    return result.returncode, json.loads(result.stdout)["changes"]


def test_a_cluster_of_the_project_that_cannot_be_read_stops_a_create(
    sandbox_factory, through_gateway, run_ovhkube, tmp_path
):
    sandbox = sandbox_factory(expand_lists=False)  # the project lists ids: each cluster is read on its own
    seed(sandbox, live(1, "alpha"))
    gateway, env = through_gateway(sandbox, {("GET", CLUSTER): ["vanished"] * 10})
    fleet = write_fleet(tmp_path, wanted("beta", mode="iptables"))

    code, [change] = planned(run_ovhkube, fleet, env)

    assert code == 1
    assert (change["action"], change["reason"], change["requests"]) == ("error", "unknown_if_exists", [])
    assert "cannot tell whether beta exists: 1 cluster(s) of the project could not be read" in change["error"]
    result, _ = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)
    assert result.returncode == 1 and gateway.count(*CREATE) == 0  # alpha might be beta renamed: no duplicate
    assert set(clusters_by_name(sandbox)) == {"alpha"}


@pytest.mark.parametrize(
    "spec, reason, message",
    [
        ({"id": cluster_id(9)}, "id_not_found", f":9: spec.id {cluster_id(9)} is not a cluster of project {PROJECT}"),
        ({"region": None}, "region_required", "the cluster does not exist and spec.region is required to create it"),
    ],
)
def test_a_create_that_cannot_be_made_is_an_error_with_its_reason(
    sandbox, run_ovhkube, tmp_path, spec, reason, message
):
    seed(sandbox, live(1, "alpha"))
    document = wanted("beta", mode="iptables")
    document["spec"] = {key: value for key, value in (document["spec"] | spec).items() if value is not None}

    fleet = write_fleet(tmp_path, document)
    code, [change] = planned(run_ovhkube, fleet, sandbox.env())

    assert code == 1
    where = fleet if message.startswith(":") else ""  # the line of spec.id; a missing region has none
    assert (change["action"], change["reason"], change["error"], change["requests"]) == (
        "error",
        reason,
        where + message,
        [],
    )


def test_a_refused_reset_fails_the_cluster_and_resets_nothing(sandbox, through_gateway, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"))
    gateway, env = through_gateway(sandbox, {RESET: ["refused"]})
    fleet = write_fleet(tmp_path, wanted("alpha", mode="ipvs", allow_reset=True))

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 1
    [alpha] = account["clusters"]
    assert alpha["result"] == "failed" and alpha["reason"].startswith("the API refused the reset: POST")
    assert "400 Client::BadRequest" in alpha["reason"]
    assert len(alpha["requests"]) == 1  # refused is an answer: never sent again
    assert clusters_by_name(sandbox)["alpha"]["resets"] == 0


def test_a_lost_reset_whose_cluster_then_cannot_be_read_is_not_sent_again(
    sandbox, through_gateway, run_ovhkube, tmp_path
):
    seed(sandbox, live(1, "alpha"))
    # The fresh read before the POST passes; the reset is lost; the read that would tell whether it started fails.
    gateway, env = through_gateway(sandbox, {RESET: ["before"], ("GET", CLUSTER): [None, "vanished", "vanished"]})
    fleet = write_fleet(tmp_path, wanted("alpha", mode="ipvs", allow_reset=True))

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 1
    [alpha] = account["clusters"]
    assert alpha["result"] == "failed" and alpha["reason"].startswith("cannot tell whether the reset started")
    assert gateway.count(*RESET) == 0 and len(alpha["requests"]) == 1
    assert clusters_by_name(sandbox)["alpha"]["resets"] == 0


def test_a_refused_create_fails_the_cluster_and_creates_nothing(sandbox, through_gateway, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"))
    gateway, env = through_gateway(sandbox, {CREATE: ["refused"]})
    fleet = write_fleet(tmp_path, wanted("beta", mode="iptables"))

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 1
    [beta] = account["clusters"]
    assert beta["result"] == "failed" and beta["reason"].startswith("the API refused the creation: POST")
    assert "400 Client::BadRequest" in beta["reason"]
    assert set(clusters_by_name(sandbox)) == {"alpha"}


def test_a_lost_create_whose_project_then_cannot_be_listed_is_not_sent_again(
    sandbox, through_gateway, run_ovhkube, tmp_path
):
    seed(sandbox, live(1, "alpha"))
    # The plan's listing and the fresh one before the POST pass; the create is lost; the listing after it fails.
    gateway, env = through_gateway(sandbox, {CREATE: ["before"], LISTING: [None, None, "refused", "refused"]})
    fleet = write_fleet(tmp_path, wanted("beta", mode="iptables"))

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 1
    [beta] = account["clusters"]
    assert beta["result"] == "failed" and beta["reason"].startswith("cannot tell whether the cluster was created")
    assert gateway.count(*CREATE) == 0 and len(beta["requests"]) == 1
    assert set(clusters_by_name(sandbox)) == {"alpha"}


@pytest.mark.parametrize(
    "fault, reason",
    [
        ("vanished", f"cluster {cluster_id(1)} disappeared while waiting for READY"),
        ("refused", "cannot read the cluster while waiting for READY: "),
    ],
)
def test_a_cluster_that_cannot_be_read_while_waiting_fails_saying_why(
    sandbox, through_gateway, run_ovhkube, tmp_path, fault, reason
):
    seed(sandbox, live(1, "alpha"))
    # The plan's listing and the read before the write pass; the PUT goes through; the wait's reads (listings of the
    # project: one serves every cluster waiting in it) fail.
    gateway, env = through_gateway(sandbox, {LISTING: [None, None, fault, fault, fault]})
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 1
    [alpha] = account["clusters"]
    assert alpha["result"] == "failed" and alpha["reason"].startswith(reason), alpha["reason"]
    assert clusters_by_name(sandbox)["alpha"]["customization"]["kubeProxy"] == IPTABLES_60S  # sent once, as planned


@pytest.mark.parametrize("fault", ["vanished", "refused"])
def test_a_cluster_that_cannot_be_read_right_before_its_write_gets_nothing(
    sandbox, through_gateway, run_ovhkube, tmp_path, fault
):
    seed(sandbox, live(1, "alpha"))
    # The plan's listing passes; the one read right before the write does not hold the cluster, or fails.
    gateway, env = through_gateway(sandbox, {LISTING: [None, fault, fault, fault]})
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 1
    [alpha] = account["clusters"]
    assert alpha["result"] == "failed" and alpha["reason"].startswith("cannot read the cluster: "), alpha["reason"]
    assert alpha["requests"] == []
    assert clusters_by_name(sandbox)["alpha"]["customization"]["kubeProxy"] != IPTABLES_60S
