"""ovhkube is right on the real API's answers, not only on the sandbox's old guesses (docs/api-facts.md): each answer
of the survey, end to end through the CLI, the real `ovh` client and the sandbox answering it that way."""

import json

import pytest
import yaml
from apply_helpers import PROJECT, apply_json, cluster_id, clusters_by_name, live, seed, wanted, write_fleet

RESET = ("POST", "/reset")
BOTH_ON = {"admissionPlugins": {"enabled": ["AlwaysPullImages", "NodeRestriction"], "disabled": []}}


def plan(run_ovhkube, sandbox, fleet, *args):
    return run_ovhkube("plan", fleet, "--detailed-exitcode", *args, env=sandbox.env())


@pytest.mark.parametrize(
    "api_server",
    [{}, {"admissionPlugins": {"enabled": ["NodeRestriction"]}}, BOTH_ON],
    ids=["empty-block", "node-restriction-only", "both-listed"],
)
def test_a_cluster_created_without_api_server_plans_no_changes_for_what_means_the_default(
    sandbox, run_ovhkube, tmp_path, api_server
):
    # The API reads a cluster created without apiServer customization back as both plugins enabled (TF issue #959:
    # the Terraform provider shows a diff after every apply). Each spelling of "the default" means that.
    seed(sandbox)
    created = apply_json(
        run_ovhkube, sandbox, write_fleet(tmp_path, wanted("fresh", mode="iptables")), "--auto-approve"
    )[0]
    assert created.returncode == 0, created.stderr
    assert clusters_by_name(sandbox)["fresh"]["customization"]["apiServer"] == BOTH_ON

    result = plan(run_ovhkube, sandbox, write_fleet(tmp_path, wanted("fresh", mode="iptables", apiServer=api_server)))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes" in result.stdout


def test_turning_always_pull_images_off_is_a_change_and_reads_back_as_planned(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha", api_server=BOTH_ON))
    off = {"admissionPlugins": {"disabled": ["AlwaysPullImages"]}}
    fleet = write_fleet(tmp_path, wanted("alpha", apiServer=off))
    planned = plan(run_ovhkube, sandbox, fleet)
    assert planned.returncode == 2 and "AlwaysPullImages" in planned.stdout

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 0 and account["clusters"][0]["verified"], result.stderr
    assert clusters_by_name(sandbox)["alpha"]["customization"]["apiServer"]["admissionPlugins"] == {
        "enabled": ["NodeRestriction"],
        "disabled": ["AlwaysPullImages"],
    }
    assert plan(run_ovhkube, sandbox, fleet).returncode == 0


def test_disabling_node_restriction_is_a_validate_error_saying_why(run_ovhkube, tmp_path):
    fleet = write_fleet(tmp_path, wanted("alpha", apiServer={"admissionPlugins": {"disabled": ["NodeRestriction"]}}))

    result = run_ovhkube("validate", fleet)

    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() + result.stdout.splitlines() if "NodeRestriction" in line]
    assert len(lines) == 1 and lines[0].startswith(f"{fleet}:")
    assert "disabled[0]: NodeRestriction cannot be disabled: OVHcloud keeps it enabled" in lines[0]


def standard_cluster(**fields) -> dict:
    # A Standard cluster has a private network and its nodes subnet (OVHcloud's Standard plan guide).
    network = {"privateNetworkId": "pn-1", "nodesSubnetId": "6f3c1e2a-2222-4ccc-9ddd-000000000001"}
    return live(1, "cilium", **fields) | {"plan": "standard"} | network


def test_a_mode_change_on_a_standard_plan_cluster_is_an_error_and_never_a_reset(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, standard_cluster())
    fleet = write_fleet(tmp_path, wanted("cilium", mode="ipvs", allow_reset=True))

    planned = run_ovhkube("plan", fleet, "--format", "json", env=sandbox.env())
    applied = run_ovhkube("apply", fleet, "--auto-approve", env=sandbox.env())

    assert planned.returncode == 1
    [change] = json.loads(planned.stdout)["changes"]
    assert (change["action"], change["reason"], change["requests"]) == ("error", "mode_without_effect", [])
    assert "Standard-plan cluster: Cilium replaces kube-proxy" in change["error"]
    assert applied.returncode == 1
    shown = clusters_by_name(sandbox)["cilium"]
    assert (shown["resets"], shown["kubeProxyMode"]) == (0, "iptables")


def test_a_managed_kube_proxy_block_on_a_standard_plan_cluster_is_warned_about(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, standard_cluster())
    fleet = write_fleet(tmp_path, wanted("cilium", kubeProxy={"iptables": {"syncPeriod": "PT60S"}}))

    result = run_ovhkube("plan", fleet, "--format", "json", env=sandbox.env())

    [change] = json.loads(result.stdout)["changes"]
    assert change["action"] == "update"
    assert any("no effect on a Standard-plan cluster" in warning for warning in change["warnings"])


def test_export_writes_no_kube_proxy_settings_for_a_standard_plan_cluster(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, standard_cluster(), live(2, "classic"))

    result = run_ovhkube("export", "--project", PROJECT, env=sandbox.env())

    assert result.returncode == 0, result.stderr
    specs = {d["metadata"]["name"]: d["spec"] for d in yaml.safe_load_all(result.stdout)}
    assert "kubeProxyMode" not in specs["cilium"] and "kubeProxy" not in specs["cilium"].get("customization", {})
    assert specs["classic"]["kubeProxyMode"] == "iptables" and "kubeProxy" in specs["classic"]["customization"]
    (tmp_path / "exported.yaml").write_text(result.stdout)
    assert plan(run_ovhkube, sandbox, tmp_path / "exported.yaml").returncode == 0


@pytest.mark.parametrize("reset_status", ["REDEPLOYING", "RESETTING"])
def test_a_reset_whose_answer_is_lost_is_followed_whichever_status_it_shows(
    sandbox_factory, through_gateway, run_ovhkube, tmp_path, reset_status
):
    # The reset guide shows REDEPLOYING, the status enum has RESETTING; the new mode shows only once it is over.
    sandbox = sandbox_factory(transition_seconds=1.5, reset_status=reset_status)
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", mode="ipvs", allow_reset=True))
    gateway, env = through_gateway(sandbox, {RESET: ["after"]})
    env = {**env, "OVHKUBE_CREATED_VISIBLE_SECONDS": "10"}
    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 0, result.stderr
    assert "the reset started: following it, not sending it again" in result.stderr
    assert gateway.count(*RESET) == 1 and account["clusters"][0]["verified"]
    assert clusters_by_name(sandbox)["alpha"]["resets"] == 1


def test_a_new_cluster_that_answers_404_for_a_while_is_waited_for(sandbox_factory, run_ovhkube, tmp_path):
    sandbox = sandbox_factory(create_hidden_seconds=3, transition_seconds=1)
    seed(sandbox)
    fleet = write_fleet(tmp_path, wanted("fresh", mode="iptables", kubeProxy={"iptables": {"syncPeriod": "PT60S"}}))
    env = sandbox.env(OVHKUBE_CREATED_VISIBLE_SECONDS="10")  # the bound (120 s by default), above the 3 s

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 0, result.stderr
    assert "not visible yet (404 right after its creation)" in result.stderr
    assert account["clusters"][0]["result"] == "done" and account["clusters"][0]["verified"]
    assert [c["name"] for c in sandbox.show()["projects"][0]["clusters"]] == ["fresh"]


def test_a_wrong_secret_gets_the_credentials_hint_and_is_never_echoed(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha"))

    result = run_ovhkube("plan", fleet, env=sandbox.env(OVH_APPLICATION_SECRET="not-the-secret"))

    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "400 INVALID_SIGNATURE" in output and "OVH_APPLICATION_SECRET" in output
    assert "not-the-secret" not in output


def test_an_iam_refusal_names_the_missing_action(sandbox_factory, run_ovhkube, tmp_path):
    action = "publicCloudProject:apiovh:kube/customization/edit"
    sandbox = sandbox_factory(iam_denied=(action,))
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy={"iptables": {"syncPeriod": "PT60S"}}))

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 1
    reason = account["clusters"][0]["reason"]
    assert "403 Client::Forbidden" in reason and f"no IAM policy grants {action}" in reason
    assert "OVH_APPLICATION_SECRET" not in reason  # the credentials are right: no credentials hint


def test_a_refusal_by_the_keys_access_rules_names_the_action_and_the_rule_that_grants_it(
    sandbox_factory, run_ovhkube, tmp_path
):
    # The permission is the API description's x-iam-actions name: kube/updatePolicy, no /edit.
    action = "publicCloudProject:apiovh:kube/updatePolicy"
    sandbox = sandbox_factory(access_rules_denied=(action,))
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(
        tmp_path, wanted("alpha") | {"spec": wanted("alpha")["spec"] | {"updatePolicy": "NEVER_UPDATE"}}
    )

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 1
    reason = account["clusters"][0]["reason"]
    rule = '{"method": "PUT", "path": "/cloud/project/*/kube/*/updatePolicy"}'
    assert f"the consumer key's access rules do not allow {action} ({rule} in `ovhkube access-rules`)" in reason
    printed = run_ovhkube("access-rules").stdout
    assert json.loads(rule) in json.loads(printed)["accessRules"]  # the rule named is one the command prints
    assert clusters_by_name(sandbox)["alpha"]["updatePolicy"] == "MINIMAL_DOWNTIME"


def test_the_403_of_a_refused_permission_carries_both_detail_fields(sandbox_factory):
    rules, iam = "publicCloudProject:apiovh:kube/get", "publicCloudProject:apiovh:kube/reset"
    sandbox = sandbox_factory(access_rules_denied=(rules,), iam_denied=(iam,))
    seed(sandbox, live(1, "alpha"))
    base = f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}"
    answers = []
    for method, body in (("GET", None), ("POST", {"name": "alpha"})):
        response = sandbox.client().raw_call(method, base + ("" if method == "GET" else "/reset"), data=body)
        answers.append((response.status_code, response.json()))
    assert answers == [
        (403, FORBIDDEN | {"details": {"unauthorizedActionsByAuthentication": rules, "unauthorizedActionsByIAM": ""}}),
        (403, FORBIDDEN | {"details": {"unauthorizedActionsByAuthentication": "", "unauthorizedActionsByIAM": iam}}),
    ]


FORBIDDEN = {"class": "Client::Forbidden", "message": "User not granted for this request"}


def test_an_expired_project_says_so(sandbox, run_ovhkube, tmp_path):
    sandbox.seed({"projects": [{"serviceName": PROJECT, "expired": True, "clusters": [live(1, "alpha")]}]})

    result = run_ovhkube("plan", write_fleet(tmp_path, wanted("alpha")), env=sandbox.env())

    assert result.returncode == 1
    assert "460" in result.stdout + result.stderr
    assert "Public Cloud service has expired" in result.stdout + result.stderr


@pytest.mark.parametrize("busy_class", ["ServiceOnlyOneModification", "ServiceLocked"])
def test_one_modification_at_a_time_is_waited_out_like_not_ready(sandbox_factory, run_ovhkube, tmp_path, busy_class):
    sandbox = sandbox_factory(busy_writes=2, busy_class=busy_class)
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy={"iptables": {"syncPeriod": "PT60S"}}))

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 0, result.stderr
    assert f"busy (409 {busy_class}): waiting for READY before sending again" in result.stderr
    assert [r["error"]["status"] if r["error"] else None for r in account["clusters"][0]["requests"]] == [
        409,
        409,
        None,
    ]
    assert clusters_by_name(sandbox)["alpha"]["customization"]["kubeProxy"]["iptables"]["syncPeriod"] == "PT60S"
    assert cluster_id(1) == clusters_by_name(sandbox)["alpha"]["id"]


def test_a_lost_create_answer_on_a_cluster_not_visible_yet_is_adopted_not_repeated(
    sandbox_factory, through_gateway, run_ovhkube, tmp_path
):
    # The create went through, its answer was lost, and the new cluster is not listed for 3 s: apply looks for it
    # as long as a new cluster may stay invisible (OVHKUBE_CREATED_VISIBLE_SECONDS, 120 s) before sending it again.
    sandbox = sandbox_factory(create_hidden_seconds=3, transition_seconds=1)
    seed(sandbox)
    fleet = write_fleet(tmp_path, wanted("fresh", mode="iptables"))
    gateway, env = through_gateway(sandbox, {("POST", "/kube"): ["after"]})
    env = {**env, "OVHKUBE_CREATED_VISIBLE_SECONDS": "10"}
    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env)

    assert result.returncode == 0, result.stderr
    assert "adopting it, not creating it again" in result.stderr
    assert [c["name"] for c in sandbox.show()["projects"][0]["clusters"]] == ["fresh"]
    assert account["clusters"][0]["verified"]


def test_an_iam_refusal_to_read_is_said_once_naming_the_action(sandbox_factory, run_ovhkube, tmp_path):
    action = "publicCloudProject:apiovh:kube/get"
    sandbox = sandbox_factory(iam_denied=(action,))
    seed(sandbox, live(1, "alpha"), live(2, "beta"))

    result = run_ovhkube("plan", write_fleet(tmp_path, wanted("alpha"), wanted("beta")), env=sandbox.env())

    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert output.count(f"no IAM policy grants {action}") == 1, output
