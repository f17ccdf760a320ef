"""The control plane in the file: updatePolicy, IP restrictions, OIDC, upgrades, and resets that lose none of them.

End to end: the CLI in a subprocess, the real ovh client, the sandbox over HTTP.
"""

import base64
import json
from urllib.parse import quote

import ovh
import pytest
import yaml
from apply_helpers import PROJECT, apply_json, cluster_id, clusters_by_name, live, seed, write_fleet

from reconciler.live.access import allows

PEM = b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n"
OIDC = {
    "issuerUrl": "https://login.example.com/realms/ops",
    "clientId": "kube",
    "caContent": base64.b64encode(PEM).decode(),
    "groupsClaim": ["groups"],
    "requiredClaim": ["team=ops"],
    "usernameClaim": "email",
}
OIDC_LIVE = {"issuerUrl": "https://sso.example.org", "clientId": "k8s", "signingAlgorithms": ["RS256"]}


def document(name: str, **spec) -> dict:
    return {
        "apiVersion": "ovhkube/v1",
        "kind": "Cluster",
        "metadata": {"name": name},
        "spec": {"project": PROJECT, "region": "GRA5", **spec},
    }


def plan_json(run_ovhkube, sandbox, fleet) -> tuple:
    result = run_ovhkube("plan", fleet, "--format", "json", env=sandbox.env())
    return result, json.loads(result.stdout) if result.stdout.startswith("{") else None


def apply_ok(run_ovhkube, sandbox, fleet) -> dict:
    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    return account


def empty_plan(run_ovhkube, sandbox, fleet) -> None:
    again = run_ovhkube("plan", fleet, "--detailed-exitcode", env=sandbox.env())
    assert again.returncode == 0, again.stdout + again.stderr


def test_each_setting_left_out_is_never_read_nor_touched(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha") | {"ipRestrictions": ["198.51.100.0/24"], "openIdConnect": OIDC_LIVE})
    fleet = write_fleet(tmp_path, document("alpha", kubeProxyMode="iptables"))

    result = run_ovhkube("plan", fleet, "-v", "--detailed-exitcode", env=sandbox.env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "ipRestrictions" not in result.stderr and "openIdConnect" not in result.stderr  # not even read
    alpha = clusters_by_name(sandbox)["alpha"]
    assert alpha["ipRestrictions"] == ["198.51.100.0/24"] and alpha["openIdConnect"] == OIDC_LIVE


def test_written_settings_are_enforced_each_by_its_own_request(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"), live(2, "beta") | {"ipRestrictions": ["198.51.100.0/24"], "openIdConnect": OIDC})
    fleet = write_fleet(
        tmp_path,
        document("alpha", updatePolicy="NEVER_UPDATE", ipRestrictions=["203.0.113.0/24"], openIdConnect=OIDC),
        document("beta", ipRestrictions=[], openIdConnect={"enabled": False}),
    )

    _, plan = plan_json(run_ovhkube, sandbox, fleet)

    alpha, beta = plan["changes"]
    base = f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}"
    assert [(r["method"], r["path"]) for r in alpha["requests"]] == [
        ("PUT", f"{base}/ipRestrictions"),
        ("POST", f"{base}/openIdConnect"),
        ("PUT", f"{base}/updatePolicy"),  # entering NEVER_UPDATE: last
    ]
    assert {d["path"] for d in alpha["diff"]} == {"updatePolicy", "ipRestrictions", "openIdConnect"}
    assert [r["method"] for r in beta["requests"]] == ["PUT", "DELETE"]
    assert beta["requests"][0]["body"] == {"ips": []}
    text = run_ovhkube("plan", fleet, env=sandbox.env()).stdout
    assert '~ updatePolicy: "MINIMAL_DOWNTIME" -> "NEVER_UPDATE"' in text
    assert "PUT ipRestrictions; POST openIdConnect; PUT updatePolicy" in text

    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", saved, env=sandbox.env()).returncode == 0
    result, _ = apply_json(run_ovhkube, sandbox, "--plan", saved)  # the saved plan's whole check takes it
    assert result.returncode == 0, result.stdout + result.stderr
    granted = json.loads(run_ovhkube("access-rules").stdout)["accessRules"]
    made = [(entry["method"], entry["path"].removeprefix("/1.0")) for entry in sandbox.requests()]
    assert [call for call in made if call[1] != "/auth/time" and not allows(granted, *call)] == []

    now = clusters_by_name(sandbox)
    assert now["alpha"]["updatePolicy"] == "NEVER_UPDATE"
    assert now["alpha"]["ipRestrictions"] == ["203.0.113.0/24"]
    assert now["alpha"]["openIdConnect"] == OIDC | {"signingAlgorithms": ["RS256"]}
    assert now["beta"]["ipRestrictions"] is None and now["beta"]["openIdConnect"] is None
    assert now["beta"]["updatePolicy"] == "MINIMAL_DOWNTIME"  # not written: untouched
    empty_plan(run_ovhkube, sandbox, fleet)


def test_ip_restrictions_compare_by_meaning(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha") | {"ipRestrictions": ["10.0.0.1/32", "203.0.113.0/24"]})
    fleet = write_fleet(tmp_path, document("alpha", ipRestrictions=["203.0.113.0/24", "10.0.0.1", "10.0.0.1"]))

    empty_plan(run_ovhkube, sandbox, fleet)


def test_oidc_fields_change_in_place_and_the_default_algorithm_is_no_change(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha") | {"openIdConnect": OIDC_LIVE})
    written = {key: value for key, value in OIDC_LIVE.items() if key != "signingAlgorithms"}
    empty_plan(run_ovhkube, sandbox, write_fleet(tmp_path, document("alpha", openIdConnect=written)))

    fleet = write_fleet(tmp_path, document("alpha", openIdConnect=written | {"clientId": "kube"}))
    _, plan = plan_json(run_ovhkube, sandbox, fleet)
    [change] = plan["changes"]
    [entry] = change["diff"]
    assert (entry["path"], entry["before"], entry["after"]) == ("openIdConnect.clientId", "k8s", "kube")
    assert [r["method"] for r in change["requests"]] == ["PUT"]
    apply_ok(run_ovhkube, sandbox, fleet)
    assert clusters_by_name(sandbox)["alpha"]["openIdConnect"]["clientId"] == "kube"


def test_drift_and_export_cover_the_control_plane(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha") | {"ipRestrictions": ["203.0.113.0/24"], "openIdConnect": OIDC_LIVE})
    out = tmp_path / "exported"
    exported = run_ovhkube("export", "--project", PROJECT, "--output", out, env=sandbox.env())
    assert exported.returncode == 0, exported.stderr
    spec = yaml.safe_load((out / "alpha.yaml").read_text())["spec"]
    assert spec["updatePolicy"] == "MINIMAL_DOWNTIME" and spec["ipRestrictions"] == ["203.0.113.0/24"]
    assert spec["openIdConnect"] == OIDC_LIVE
    empty_plan(run_ovhkube, sandbox, out)

    client = sandbox.client()
    base = f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}"
    client.put(f"{base}/ipRestrictions", ips=["0.0.0.0/0"])
    client.put(f"{base}/updatePolicy", updatePolicy="ALWAYS_UPDATE")
    result = run_ovhkube("drift", out, "--format", "json", env=sandbox.env())

    assert result.returncode == 2, result.stdout + result.stderr
    [cluster] = json.loads(result.stdout)["clusters"]
    assert {f["path"]: f["live"] for f in cluster["fields"]} == {
        "updatePolicy": "ALWAYS_UPDATE",
        "ipRestrictions": ["0.0.0.0/0"],
    }


def test_an_upgrade_of_two_minors_takes_two_steps_in_one_apply(sandbox_factory, run_ovhkube, tmp_path):
    sandbox = sandbox_factory(transition_seconds=0.3)
    seed(sandbox, live(1, "alpha") | {"updatePolicy": "NEVER_UPDATE"})
    spec = {"version": "1.33", "lifecycle": {"allowUpgrade": True}}
    refused = write_fleet(tmp_path, document("alpha", **spec))

    result, plan = plan_json(run_ovhkube, sandbox, refused)
    assert result.returncode == 1
    assert "NEVER_UPDATE; set spec.updatePolicy to MINIMAL_DOWNTIME or ALWAYS_UPDATE" in plan["changes"][0]["error"]

    fleet = write_fleet(tmp_path, document("alpha", updatePolicy="MINIMAL_DOWNTIME", **spec))
    text = run_ovhkube("plan", fleet, env=sandbox.env()).stdout
    assert "will be UPGRADED" in text and "!!! UPGRADE: 2 minor upgrade(s)" in text
    assert "Plan: 0 to create, 0 to update, 1 to upgrade, 0 to reset, 0 to delete." in text
    assert "PUT updatePolicy; POST update NEXT_MINOR; POST update NEXT_MINOR" in text  # the policy first

    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", saved, env=sandbox.env()).returncode == 0
    result, account = apply_json(run_ovhkube, sandbox, "--plan", saved)

    assert result.returncode == 0, result.stdout + result.stderr
    [alpha] = account["clusters"]
    assert [r["body"] for r in alpha["requests"]] == [
        {"updatePolicy": "MINIMAL_DOWNTIME"},
        {"strategy": "NEXT_MINOR"},
        {"strategy": "NEXT_MINOR"},
    ]
    assert alpha["verified"] and account["summary"]["upgraded"] == 1
    assert clusters_by_name(sandbox)["alpha"]["version"].startswith("1.33.")
    empty_plan(run_ovhkube, sandbox, fleet)


def test_an_upgrade_needs_allow_upgrade_and_latest_patch_follows_the_minor(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha") | {"version": "1.31.1", "isUpToDate": False})
    gated = write_fleet(tmp_path, document("alpha", version="1.31", lifecycle={"patch": "latest"}))
    result, plan = plan_json(run_ovhkube, sandbox, gated)
    assert result.returncode == 1
    assert "set spec.lifecycle.allowUpgrade: true" in plan["changes"][0]["error"]

    fleet = write_fleet(
        tmp_path, document("alpha", version="1.31", lifecycle={"patch": "latest", "allowUpgrade": True})
    )
    account = apply_ok(run_ovhkube, sandbox, fleet)

    assert account["clusters"][0]["requests"][0]["body"] == {"strategy": "LATEST_PATCH"}
    alpha = clusters_by_name(sandbox)["alpha"]
    assert alpha["isUpToDate"] is True and alpha["version"] == "1.31.4"
    empty_plan(run_ovhkube, sandbox, fleet)


def test_a_mode_change_reset_keeps_ip_restrictions_oidc_and_update_policy(sandbox, run_ovhkube, tmp_path):
    restrictions = ["203.0.113.0/24", "198.51.100.7/32"]
    seed(
        sandbox,
        live(1, "alpha") | {"updatePolicy": "NEVER_UPDATE", "ipRestrictions": restrictions, "openIdConnect": OIDC},
    )
    lifecycle = {"allowReset": True, "workerNodesPolicy": "reinstall"}
    fleet = write_fleet(
        tmp_path,
        document("alpha", kubeProxyMode="ipvs", ipRestrictions=restrictions, openIdConnect=OIDC, lifecycle=lifecycle),
    )

    _, plan = plan_json(run_ovhkube, sandbox, fleet)
    [change] = plan["changes"]
    assert change["action"] == "reset"
    reset, *after = change["requests"]
    assert reset["body"]["updatePolicy"] == "NEVER_UPDATE"
    assert [(r["method"], r["path"].rsplit("/", 1)[-1], r["body"]) for r in after] == [
        ("PUT", "ipRestrictions", {"ips": restrictions}),
        ("POST", "openIdConnect", OIDC),
    ]

    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", saved, env=sandbox.env()).returncode == 0
    result, account = apply_json(run_ovhkube, sandbox, "--plan", saved)

    assert result.returncode == 0, result.stdout + result.stderr
    assert account["clusters"][0]["verified"]
    alpha = clusters_by_name(sandbox)["alpha"]
    assert alpha["resets"] == 1 and alpha["kubeProxyMode"] == "ipvs"
    assert alpha["updatePolicy"] == "NEVER_UPDATE" and alpha["ipRestrictions"] == restrictions
    assert alpha["openIdConnect"] == OIDC | {"signingAlgorithms": ["RS256"]}
    client, base = sandbox.client(), f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}"
    assert client.get(f"{base}/ipRestrictions") == restrictions
    assert client.get(f"{base}/openIdConnect") == alpha["openIdConnect"]
    assert client.get(base)["updatePolicy"] == "NEVER_UPDATE"


def test_sandbox_control_plane_calls_answer_like_the_api(sandbox):
    seed(sandbox, live(1, "alpha") | {"updatePolicy": "NEVER_UPDATE"})
    client, base = sandbox.client(), f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}"

    with pytest.raises(ovh.exceptions.ResourceConflictError, match="because of policy NEVER_UPDATE"):
        client.post(f"{base}/update", strategy="NEXT_MINOR")
    with pytest.raises(ovh.exceptions.ResourceNotFoundError):  # no OIDC configured
        client.get(f"{base}/openIdConnect")
    client.post(f"{base}/ipRestrictions", ips=["203.0.113.0/24"])
    assert clusters_by_name(sandbox)["alpha"]["status"] == "READY"  # transition_seconds=0
    client.post(f"{base}/ipRestrictions", ips=["198.51.100.0/24", "203.0.113.0/24"])  # appends
    client.delete(f"{base}/ipRestrictions/{quote('203.0.113.0/24', safe='')}")
    assert client.get(f"{base}/ipRestrictions") == ["198.51.100.0/24"]
    client.post(f"{base}/openIdConnect", issuerUrl="https://sso.example.org", clientId="k8s")
    with pytest.raises(ovh.exceptions.ResourceConflictError):  # one configuration per cluster
        client.post(f"{base}/openIdConnect", issuerUrl="https://sso.example.org", clientId="k8s")
    client.post(f"{base}/reset", name="alpha", kubeProxyMode="ipvs")
    after = clusters_by_name(sandbox)["alpha"]
    assert after["ipRestrictions"] is None and after["openIdConnect"] is None
    assert after["updatePolicy"] == "ALWAYS_UPDATE"  # left out of the reset body


def test_a_saved_plan_whose_upgrade_steps_were_edited_is_refused_whole(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, document("alpha", version="1.32", lifecycle={"allowUpgrade": True}))
    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", saved, env=sandbox.env()).returncode == 0
    data = json.loads(saved.read_text())
    steps = data["changes"][0]["requests"]
    steps.append(dict(steps[0]))  # one more minor than the reviewed diff says
    saved.write_text(json.dumps(data))

    result, _ = apply_json(run_ovhkube, sandbox, "--plan", saved)

    assert result.returncode == 1
    assert "2 request(s) where it makes 1" in result.stderr
    assert clusters_by_name(sandbox)["alpha"]["version"].startswith("1.31.")


def test_a_policy_that_enters_never_update_goes_after_the_upgrade(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"))
    spec = {"version": "1.32", "updatePolicy": "NEVER_UPDATE", "lifecycle": {"allowUpgrade": True}}
    fleet = write_fleet(tmp_path, document("alpha", **spec))

    _, plan = plan_json(run_ovhkube, sandbox, fleet)

    [change] = plan["changes"]
    assert change["action"] == "upgrade"
    assert [r["path"].rsplit("/", 1)[-1] for r in change["requests"]] == ["update", "updatePolicy"]
    apply_ok(run_ovhkube, sandbox, fleet)
    alpha = clusters_by_name(sandbox)["alpha"]
    assert alpha["version"].startswith("1.32.") and alpha["updatePolicy"] == "NEVER_UPDATE"


def test_a_reset_puts_back_the_ip_restrictions_the_file_asks_for(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha") | {"ipRestrictions": ["198.51.100.0/24"]})
    lifecycle = {"allowReset": True}
    spec = {"kubeProxyMode": "ipvs", "ipRestrictions": ["203.0.113.0/24"], "openIdConnect": {"enabled": False}}
    fleet = write_fleet(tmp_path, document("alpha", lifecycle=lifecycle, **spec))

    _, plan = plan_json(run_ovhkube, sandbox, fleet)

    [change] = plan["changes"]
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in change["requests"]] == [
        ("POST", "reset"),
        ("PUT", "ipRestrictions"),  # the file's list; no OIDC to put back: the file enforces none
    ]
    assert change["requests"][1]["body"] == {"ips": ["203.0.113.0/24"]}
    apply_ok(run_ovhkube, sandbox, fleet)
    assert clusters_by_name(sandbox)["alpha"]["ipRestrictions"] == ["203.0.113.0/24"]
    empty_plan(run_ovhkube, sandbox, fleet)


def test_a_saved_reset_whose_put_back_values_were_edited_sends_nothing(sandbox, run_ovhkube, tmp_path):
    # The IP restrictions, OIDC and untouched customization a reset puts back are live values, not in the diff (the
    # file holds them as they are): the offline check takes them as stored, so apply compares them with the cluster
    # (which the fingerprint vouches for).
    seed(sandbox, live(1, "alpha") | {"ipRestrictions": ["203.0.113.0/24"], "openIdConnect": OIDC_LIVE})
    kept = {"ipRestrictions": ["203.0.113.0/24"], "openIdConnect": OIDC_LIVE}
    fleet = write_fleet(tmp_path, document("alpha", kubeProxyMode="ipvs", lifecycle={"allowReset": True}, **kept))
    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", saved, env=sandbox.env()).returncode == 0
    data = json.loads(saved.read_text())
    reset, restrictions, oidc = data["changes"][0]["requests"]
    restrictions["body"]["ips"] = ["0.0.0.0/0"]
    oidc["body"]["issuerUrl"] = "https://attacker.example"
    saved.write_text(json.dumps(data))

    assert run_ovhkube("show", saved).returncode == 0  # nothing offline tells them apart
    result, account = apply_json(run_ovhkube, sandbox, "--plan", saved)

    assert result.returncode == 1
    assert "send values the cluster does not have (ipRestrictions, openIdConnect.issuerUrl)" in result.stdout
    alpha = clusters_by_name(sandbox)["alpha"]
    assert alpha["resets"] == 0 and alpha["kubeProxyMode"] == "iptables"
    assert alpha["ipRestrictions"] == ["203.0.113.0/24"]
    assert alpha["openIdConnect"]["issuerUrl"] == OIDC_LIVE["issuerUrl"]


def test_a_saved_upgrade_whose_starting_version_was_edited_sends_nothing(sandbox, run_ovhkube, tmp_path):
    # The steps are rebuilt from the diff's `before`, which nothing offline can check: a plan that says 1.29 -> 1.32
    # for a cluster on 1.31 would take it to 1.34, past the file, for good.
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, document("alpha", version="1.32", lifecycle={"allowUpgrade": True}))
    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", saved, env=sandbox.env()).returncode == 0
    data = json.loads(saved.read_text())
    [change] = data["changes"]
    change["diff"][0]["before"] = "1.29"
    change["requests"] *= 3
    saved.write_text(json.dumps(data))

    assert run_ovhkube("show", saved).returncode == 0  # consistent with its own diff
    result, _ = apply_json(run_ovhkube, sandbox, "--plan", saved)

    assert result.returncode == 1
    assert "upgrades from version 1.29, but the cluster runs 1.31" in result.stdout
    assert clusters_by_name(sandbox)["alpha"]["version"].startswith("1.31.")


def test_a_saved_update_whose_whole_bodies_were_edited_outside_the_diff_sends_nothing(sandbox, run_ovhkube, tmp_path):
    # An OIDC PUT sends the whole configuration and a customization PUT whole blocks, though the diff names one field
    # of each: the fields beside it are live values that only apply can check.
    seed(sandbox, live(1, "alpha") | {"openIdConnect": OIDC_LIVE})
    oidc = OIDC_LIVE | {"clientId": "k8s-2"}
    kube_proxy = {"iptables": {"minSyncPeriod": "PT1S", "syncPeriod": "PT45S"}}
    fleet = write_fleet(tmp_path, document("alpha", openIdConnect=oidc, customization={"kubeProxy": kube_proxy}))
    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", saved, env=sandbox.env()).returncode == 0
    data = json.loads(saved.read_text())
    [change] = data["changes"]
    assert sorted(entry["path"] for entry in change["diff"]) == [
        "customization.kubeProxy.iptables.syncPeriod",
        "openIdConnect.clientId",
    ]
    customization, oidc_put = change["requests"]
    customization["body"]["kubeProxy"]["iptables"]["minSyncPeriod"] = "PT30S"
    oidc_put["body"]["issuerUrl"] = "https://attacker.example"
    saved.write_text(json.dumps(data))

    result, _ = apply_json(run_ovhkube, sandbox, "--plan", saved)

    assert result.returncode == 1
    expected = "(customization.kubeProxy.iptables.minSyncPeriod, openIdConnect.issuerUrl): a hand-edited plan?"
    assert expected in result.stdout
    alpha = clusters_by_name(sandbox)["alpha"]
    assert alpha["openIdConnect"]["clientId"] == "k8s" and alpha["openIdConnect"]["issuerUrl"] == OIDC_LIVE["issuerUrl"]
    result, _ = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")  # as planned: applied
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_create_sends_the_update_policy_and_sets_the_ip_restrictions_and_oidc_in_the_same_apply(
    sandbox, run_ovhkube, tmp_path
):
    seed(sandbox, live(1, "other"))
    spec = {"updatePolicy": "NEVER_UPDATE", "ipRestrictions": ["203.0.113.0/24"], "openIdConnect": OIDC}
    fleet = write_fleet(tmp_path, document("fresh", kubeProxyMode="iptables", **spec), document("other"))
    saved = tmp_path / "plan.json"

    result = run_ovhkube("plan", fleet, "--out", saved, env=sandbox.env())

    assert result.returncode == 0, result.stderr
    assert '+ updatePolicy: "NEVER_UPDATE"' in result.stdout
    assert "next apply sets them" not in result.stdout and "Plan: 1 to create, 0 to update" in result.stdout
    result, _ = apply_json(run_ovhkube, sandbox, "--plan", saved)  # the saved plan's whole check takes the fields
    assert result.returncode == 0, result.stdout + result.stderr
    fresh = clusters_by_name(sandbox)["fresh"]
    assert fresh["updatePolicy"] == "NEVER_UPDATE" and fresh["ipRestrictions"] == ["203.0.113.0/24"]
    assert fresh["openIdConnect"] == OIDC | {"signingAlgorithms": ["RS256"]}
    empty_plan(run_ovhkube, sandbox, fleet)
