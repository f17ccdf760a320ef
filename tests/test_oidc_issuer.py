"""OIDC issuer URLs are checked as the Kubernetes API server checks them, each problem at its FILE:LINE, and a
password in a URL is never printed nor saved."""

import json

import pytest
from apply_helpers import PROJECT, apply_json, live, seed, write_fleet

from reconciler.apply.verify import unmet
from reconciler.files.control_plane import issuer_problem
from reconciler.live.read import LiveCluster
from reconciler.plan.diff import FieldChange

PASSWORD = "hunter2-in-the-url"


@pytest.mark.parametrize(
    "url, problem",
    [
        ("https://login.example.com/realms/ops", None),
        ("https://login.example.com:8443/", None),
        ("https://[2001:db8::1]:8443/realms/ops", None),
        ("https://bücher.example/", None),
        ("https://login.example.com/?", None),  # an empty query is no query, for Kubernetes too
        ("http://login.example.com", "must be an https URL"),
        (f"https://ci:{PASSWORD}@login.example.com", "must not contain a username or password"),
        ("https://@login.example.com", "must not contain a username or password"),
        ("https://login.example.com/?realm=ops", "must not contain a query"),
        ("https://login.example.com/#ops", "must not contain a fragment"),
        ("https://login.example.com:99999/", "has an invalid port"),
        ("https://login.example.com:https/", "has an invalid port"),
        ("https://login.example.com:0/", "has an invalid port"),
        ("https://login example.com/", "must not contain spaces or control characters"),
        ("https://login.example.com/\trealm", "must not contain spaces or control characters"),
        ("https://login%20example.com/", "has a character no host name holds"),
        ("https://[::1/", "is not a URL; "),
        ("https:///realms/ops", "has no host"),
    ],
)
def test_issuer_urls_as_kubernetes_takes_them(url, problem):
    said = issuer_problem(url)
    assert (said or "").startswith(problem or ""), said
    assert (said is None) == (problem is None)
    assert PASSWORD not in (said or "")


def _file(tmp_path, issuer: str) -> str:
    path = tmp_path / "web.yaml"
    path.write_text(
        "apiVersion: ovhkube/v1\nkind: Cluster\nmetadata:\n  name: web\nspec:\n"
        f"  project: {PROJECT}\n  region: GRA5\n  openIdConnect:\n    issuerUrl: {issuer}\n    clientId: kube\n"
    )
    return str(path)


@pytest.mark.parametrize(
    "issuer, message",
    [
        (f"https://ci:{PASSWORD}@login.example.com", "must not contain a username or password"),
        ("https://login.example.com/?realm=ops", "must not contain a query"),
        ("https://login.example.com/#ops", "must not contain a fragment"),
        ("https://login.example.com:70000", "has an invalid port"),
        ('"https://login example.com"', "must not contain spaces or control characters"),
    ],
)
def test_a_bad_issuer_is_one_error_at_its_line_and_no_password_is_printed_nor_saved(
    sandbox, run_ovhkube, tmp_path, issuer, message
):
    seed(sandbox, live(1, "web"))
    path = _file(tmp_path, issuer)
    plan_file = tmp_path / "plan.json"

    checked = run_ovhkube("validate", path)
    planned = run_ovhkube("-v", "plan", path, "--out", plan_file, env=sandbox.env())

    assert checked.returncode == 1 and f"{path}:9:16: spec.openIdConnect.issuerUrl: {message}" in checked.stdout
    assert planned.returncode == 1 and f"{path}:9:16: spec.openIdConnect.issuerUrl: {message}" in planned.stderr
    assert not plan_file.exists()
    everything = checked.stdout + checked.stderr + planned.stdout + planned.stderr
    assert PASSWORD not in everything


def test_a_password_in_a_live_issuer_is_in_no_plan_plan_file_nor_drift_report(sandbox, run_ovhkube, tmp_path):
    secret = {"issuerUrl": f"https://ci:{PASSWORD}@sso.example.org", "clientId": "k8s"}
    seed(sandbox, live(1, "web") | {"openIdConnect": secret})
    path = _file(tmp_path, "https://login.example.com/realms/ops")
    plan_file = tmp_path / "plan.json"

    for fmt in ("text", "markdown", "json"):
        planned = run_ovhkube("-v", "plan", path, "--format", fmt, "--out", plan_file, env=sandbox.env())
        assert planned.returncode == 0, planned.stderr
        shown = planned.stdout + planned.stderr + plan_file.read_text()
        assert "https://sso.example.org" in planned.stdout and PASSWORD not in shown
    for fmt in ("text", "markdown", "json", "prometheus"):
        drifted = run_ovhkube("-v", "drift", path, "--format", fmt, env=sandbox.env())
        assert drifted.returncode == 2, drifted.stderr
        assert PASSWORD not in drifted.stdout + drifted.stderr


@pytest.mark.parametrize("manages", [False, True])
def test_a_password_in_a_live_issuer_is_in_no_reset_plan_nor_apply_account(sandbox, run_ovhkube, tmp_path, manages):
    # A reset wipes OIDC: unmanaged, it is refused naming what it would lose; managed, the file's OIDC is put back.
    secret = {"issuerUrl": f"https://ci:{PASSWORD}@sso.example.org", "clientId": "k8s"}
    seed(sandbox, live(1, "web") | {"openIdConnect": secret})
    spec: dict = {"project": PROJECT, "region": "GRA5", "kubeProxyMode": "ipvs", "lifecycle": {"allowReset": True}}
    if manages:
        spec["openIdConnect"] = {"issuerUrl": "https://login.example.com", "clientId": "kube"}
    document = {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": "web"}, "spec": spec}
    path = write_fleet(tmp_path, document)
    plan_file = tmp_path / "plan.json"

    shown = ""
    for fmt in ("text", "markdown", "json"):
        planned = run_ovhkube("-v", "plan", path, "--format", fmt, "--out", plan_file, env=sandbox.env())
        assert planned.returncode == (0 if manages else 1), planned.stdout + planned.stderr
        shown += planned.stdout + planned.stderr + plan_file.read_text()
    if not manages:
        assert "spec.openIdConnect:" in shown and "https://sso.example.org" in shown
        assert "user:password@" in shown  # the user is told the live URL holds one that the file cannot
    for fmt in ("text", "json", "prometheus"):
        drifted = run_ovhkube("-v", "drift", path, "--format", fmt, env=sandbox.env())
        shown += drifted.stdout + drifted.stderr
    applied, account = apply_json(run_ovhkube, sandbox, path, "--auto-approve")
    shown += applied.stdout + applied.stderr
    assert applied.returncode == (0 if manages else 1), applied.stdout + applied.stderr
    assert PASSWORD not in shown


@pytest.mark.parametrize(
    "path, after",
    [
        ("openIdConnect", {"issuerUrl": "https://login.example.com", "clientId": "kube"}),
        ("openIdConnect.issuerUrl", "https://login.example.com"),
    ],
)
def test_an_unmet_oidc_reports_the_live_issuer_without_its_password(path, after):
    # What apply's verification found live goes into its account: never a URL's password.
    secret = {"issuerUrl": f"https://ci:{PASSWORD}@sso.example.org", "clientId": "kube"}
    found = unmet([FieldChange(path, None, after)], LiveCluster({"id": "x"}, {}, openid_connect=secret))

    assert len(found) == 1 and PASSWORD not in json.dumps(found) and "https://sso.example.org" in json.dumps(found)


def test_export_writes_a_live_issuer_without_its_password_and_says_so(sandbox, run_ovhkube, tmp_path):
    # Exported files go to git: the password, which Kubernetes refuses in an issuer anyway, is not written there.
    secret = {"issuerUrl": f"https://ci:{PASSWORD}@sso.example.org/realms/ops", "clientId": "k8s"}
    seed(sandbox, live(1, "web") | {"openIdConnect": secret})

    exported = run_ovhkube("export", "--project", PROJECT, "--output", tmp_path / "out", env=sandbox.env())

    assert exported.returncode == 0, exported.stderr
    written = (tmp_path / "out" / "web.yaml").read_text()
    assert PASSWORD not in written + exported.stdout + exported.stderr
    assert "issuerUrl: https://sso.example.org/realms/ops" in written
    assert "spec.openIdConnect.issuerUrl: the live URL holds a username or password" in exported.stderr
    assert "will not validate" not in exported.stderr
    assert run_ovhkube("validate", tmp_path / "out").returncode == 0
