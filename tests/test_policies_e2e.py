"""`plan --policy DIR` and `apply --policy DIR` end to end, the CLI against the sandbox: a policy that denies resets
in production fails the plan at that cluster with the policy's message, the same plan passes once the policy is
removed, a saved plan is checked again by apply, and bad Rego is one line."""

import json
import shutil
from pathlib import Path

from apply_helpers import apply_json, clusters_by_name, live, seed, wanted, write_fleet
from jsonschema import Draft202012Validator

from reconciler.files.schema import PLAN_SCHEMA_NAME, load_schema

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"
DENIAL = "no reset in production: alpha is labelled env=production, and a reset erases all its Kubernetes data"


def policies(tmp_path, *names: str) -> Path:
    """A policy folder holding these example policies (and what they share)."""
    folder = tmp_path / "policies"
    folder.mkdir(exist_ok=True)
    for name in ("production", *names):
        shutil.copy(EXAMPLES / f"{name}.rego", folder)
    return folder


def production_reset(sandbox, tmp_path) -> str:
    seed(sandbox, live(1, "alpha"), live(2, "beta"))
    alpha = wanted("alpha", mode="ipvs", allow_reset=True)
    alpha["metadata"]["labels"] = {"env": "production"}
    beta = wanted("beta", mode="ipvs", allow_reset=True)
    beta["metadata"]["labels"] = {"env": "staging"}
    return write_fleet(tmp_path, alpha, beta)


def test_a_policy_denying_resets_in_production_fails_the_plan_at_that_cluster(sandbox, run_ovhkube, tmp_path):
    fleet = production_reset(sandbox, tmp_path)
    folder = policies(tmp_path, "no_reset_in_production")

    denied = run_ovhkube("plan", fleet, "--policy", folder, env=sandbox.env())
    assert denied.returncode == 1, denied.stderr
    assert f"  DENIED   alpha (a1b2c3d4…/{live(1, 'alpha')['id']}): [main] {DENIAL}" in denied.stdout
    assert "Policies (" in denied.stdout and "2 files" in denied.stdout and "): 1 denied" in denied.stdout
    assert "beta" not in denied.stdout.split("Policies (")[1].split("Plan:")[0]  # staging may be reset
    markdown = run_ovhkube("plan", fleet, "--policy", folder, "--format", "markdown", env=sandbox.env())
    assert markdown.returncode == 1
    assert "> [!CAUTION]" in markdown.stdout and "apply refuses this plan.**" in markdown.stdout
    assert "> - `alpha` (a1b2c3d4…): \\[main\\] no reset in production: alpha is labelled env=production" in (
        markdown.stdout
    )
    as_json = run_ovhkube("plan", fleet, "--policy", folder, "--format", "json", env=sandbox.env())
    plan = json.loads(as_json.stdout)
    assert plan["policy"]["denied"] == 1
    assert plan["policy"]["findings"] == [
        {
            "rule": "deny",
            "package": "main",
            "msg": DENIAL,
            "cluster": "alpha",
            "project": plan["changes"][0]["cluster"]["project"],
        }
    ]
    assert list(Draft202012Validator(load_schema(PLAN_SCHEMA_NAME)).iter_errors(plan)) == []

    (folder / "no_reset_in_production.rego").unlink()  # the same plan, the policy removed
    passed = run_ovhkube("plan", fleet, "--policy", folder, "--detailed-exitcode", env=sandbox.env())
    assert passed.returncode == 2, passed.stdout + passed.stderr  # changes, and no denial
    assert "): passed" in passed.stdout and "DENIED" not in passed.stdout
    assert run_ovhkube("plan", fleet, env=sandbox.env()).returncode == 0


def test_apply_checks_a_saved_plan_again_and_refuses_a_denied_one(sandbox, run_ovhkube, tmp_path):
    fleet = production_reset(sandbox, tmp_path)
    folder = policies(tmp_path, "no_reset_in_production")
    saved = tmp_path / "plan.json"
    made = run_ovhkube("plan", fleet, "--policy", folder, "--out", saved, env=sandbox.env())
    assert made.returncode == 1
    assert f"apply checks it again, given them (--policy {folder})" in made.stderr

    sandbox.forget_requests()
    unchecked = run_ovhkube("apply", "--plan", saved, env=sandbox.env())
    assert unchecked.returncode == 1
    assert "the plan was checked by the policies of" in unchecked.stderr and "give them with --policy DIR" in (
        unchecked.stderr
    )
    refused = run_ovhkube("apply", "--plan", saved, "--policy", folder, env=sandbox.env())
    assert refused.returncode == 1
    assert DENIAL in refused.stderr
    assert refused.stderr.strip().endswith(
        "error: 1 policy denial(s) (alpha): nothing was applied. Fix the files or the policies, and plan again."
    )
    assert [r for r in sandbox.requests() if r["method"] != "GET"] == []  # refused before anything was sent

    (folder / "no_reset_in_production.rego").unlink()
    result, account = apply_json(run_ovhkube, sandbox, "--plan", saved, "--policy", folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "note: the policies changed since the plan was made" in result.stderr
    assert account["summary"]["reset"] == 2
    assert clusters_by_name(sandbox)["alpha"]["kubeProxyMode"] == "ipvs"


def test_apply_of_the_files_with_a_denying_policy_sends_nothing(sandbox, run_ovhkube, tmp_path):
    fleet = production_reset(sandbox, tmp_path)
    folder = policies(tmp_path, "no_reset_in_production")
    sandbox.forget_requests()
    result = run_ovhkube("apply", fleet, "--auto-approve", "--policy", folder, env=sandbox.env())
    assert result.returncode == 1
    assert f"[main] {DENIAL}" in result.stdout
    assert "error: 1 policy denial(s) (alpha): nothing was applied" in result.stderr
    assert [r for r in sandbox.requests() if r["method"] != "GET"] == []


def test_bad_rego_is_one_line_naming_the_file_and_line(sandbox, run_ovhkube, tmp_path):
    fleet = production_reset(sandbox, tmp_path)
    folder = policies(tmp_path)
    (folder / "broken.rego").write_text("package main\nimport rego.v1\n\ndeny contains msg if {\n  msg := \n}\n")
    result = run_ovhkube("plan", fleet, "--policy", folder, env=sandbox.env())
    assert result.returncode == 1
    assert result.stderr == f"error: policy: {folder}/broken.rego:5:7: Invalid assignment operator\n"
    assert "Traceback" not in result.stdout + result.stderr
    missing = run_ovhkube("plan", fleet, "--policy", tmp_path / "nowhere", env=sandbox.env())
    assert missing.returncode == 1
    assert missing.stderr == f"error: policy: --policy {tmp_path / 'nowhere'}: not a folder\n"
