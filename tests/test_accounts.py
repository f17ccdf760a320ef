"""Accounts in the files: one plan, apply or drift over several accounts, each project read and written through its
own account's endpoint and credentials (a consumer key, or an OAuth2 service account as python-ovh 1.2 reads one);
Account documents checked with FILE:LINE problems; without them, everything as before."""

import json
import os

import pytest
import yaml
from apply_helpers import IPTABLES_60S, live
from jsonschema import Draft202012Validator

from reconciler.files.schema import PLAN_SCHEMA_NAME, load_schema
from reconciler.files.validate import load_desired
from reconciler.sandbox import (
    DEFAULT_APPLICATION_KEY,
    DEFAULT_APPLICATION_SECRET,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_CONSUMER_KEY,
)

EU_PROJECT = "e0000000000000000000000000000001"
CA_PROJECT = "ca000000000000000000000000000002"
EU_KEYS = {"EU_APP_KEY": DEFAULT_APPLICATION_KEY, "EU_APP_SECRET": DEFAULT_APPLICATION_SECRET}
EU_KEYS |= {"EU_CONSUMER_KEY": DEFAULT_CONSUMER_KEY}
CA_KEYS = {"CA_CLIENT_ID": DEFAULT_CLIENT_ID, "CA_CLIENT_SECRET": DEFAULT_CLIENT_SECRET}
PYTHON_OVH_NAMES = [f"OVH_{n}" for n in ("APPLICATION_KEY", "APPLICATION_SECRET", "CONSUMER_KEY", "CLIENT_ID")]
PYTHON_OVH_NAMES += ["OVH_CLIENT_SECRET", "OVH_ENDPOINT"]


def account(name: str, endpoint: str, projects: list[str], credentials: dict) -> dict:
    spec = {"endpoint": endpoint, "projects": projects, "credentials": credentials}
    return {"apiVersion": "ovhkube/v1", "kind": "Account", "metadata": {"name": name}, "spec": spec}


def cluster(name: str, project: str) -> dict:
    spec = {"project": project, "region": "GRA5", "customization": {"kubeProxy": IPTABLES_60S}}
    return {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": name}, "spec": spec}


EU_CREDENTIALS = {
    "environment": {
        "applicationKey": "EU_APP_KEY",
        "applicationSecret": "EU_APP_SECRET",
        "consumerKey": "EU_CONSUMER_KEY",
    }
}
CA_CREDENTIALS = {"environment": {"clientId": "CA_CLIENT_ID", "clientSecret": "CA_CLIENT_SECRET"}}


@pytest.fixture
def two_accounts(sandbox_factory, tmp_path):
    """Two sandboxes standing for an EU account (consumer key) and a CA account (OAuth2 service account), each
    holding one project, and files that declare both accounts and a cluster in each project."""
    eu, ca = sandbox_factory(), sandbox_factory()
    eu.seed({"projects": [{"serviceName": EU_PROJECT, "clusters": [live(1, "web")]}]})
    ca.seed({"projects": [{"serviceName": CA_PROJECT, "clusters": [live(2, "shop")]}]})
    folder = tmp_path / "fleet"
    folder.mkdir()
    documents = [
        account("eu", eu.url, [EU_PROJECT], EU_CREDENTIALS),
        account("ca", ca.url, [CA_PROJECT], CA_CREDENTIALS),
    ]
    (folder / "accounts.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))
    clusters = [cluster("web", EU_PROJECT), cluster("shop", CA_PROJECT)]
    (folder / "clusters.yaml").write_text(yaml.safe_dump_all(clusters, sort_keys=False))
    # Only the accounts' own variables: python-ovh's OVH_* names are unset, so the default connection has none.
    env = {k: v for k, v in os.environ.items() if k not in PYTHON_OVH_NAMES}
    env |= (
        EU_KEYS | CA_KEYS | {"NO_COLOR": "1", "OVHKUBE_SETTLE_SECONDS": "1", "OVHKUBE_LOCK_FILE": str(tmp_path / "l")}
    )
    eu.forget_requests()
    ca.forget_requests()
    return eu, ca, folder, env


def paths_of(sandbox) -> set[str]:
    return {entry["path"] for entry in sandbox.requests() if entry["path"] != "/auth/time"}


def test_one_plan_and_apply_cover_two_accounts_each_project_through_its_own(two_accounts, run_ovhkube):
    eu, ca, folder, env = two_accounts

    planned = run_ovhkube("plan", folder, "--detailed-exitcode", env=env)

    assert planned.returncode == 2, planned.stderr
    assert "web" in planned.stdout and "shop" in planned.stdout
    assert paths_of(eu) and all(EU_PROJECT in path for path in paths_of(eu))
    assert paths_of(ca) and all(CA_PROJECT in path or path == "/auth/oauth2/token" for path in paths_of(ca))
    assert "/auth/oauth2/token" in paths_of(ca)  # the CA account's requests carry its service account's token
    assert ca.server.service_accounts.issued >= 1 and eu.server.service_accounts.issued == 0

    applied = run_ovhkube("apply", folder, "--auto-approve", env=env)

    assert applied.returncode == 0, applied.stdout + applied.stderr
    for sandbox, name in ((eu, "web"), (ca, "shop")):
        (project,) = sandbox.show()["projects"]
        (live_cluster,) = project["clusters"]
        assert live_cluster["name"] == name
        assert live_cluster["customization"]["kubeProxy"]["iptables"]["syncPeriod"] == "PT60S"
    again = run_ovhkube("plan", folder, "--detailed-exitcode", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    drift = run_ovhkube("drift", folder, env=env)
    assert drift.returncode == 0, drift.stdout + drift.stderr


def test_an_account_whose_variable_is_unset_is_one_line_naming_its_field(two_accounts, run_ovhkube):
    _, ca, folder, env = two_accounts
    del env["CA_CLIENT_SECRET"]

    result = run_ovhkube("plan", folder, env=env)

    assert result.returncode == 1
    assert 'account "ca" (' in result.stderr
    assert "not set: the environment variable(s) named by spec.credentials.environment.clientSecret" in result.stderr
    assert "Traceback" not in result.stderr and paths_of(ca) == set()


@pytest.mark.parametrize("host", ["192.0.2.10", "[2001:db8::1]", "sso.example.org"])
def test_an_oauth2_account_over_plain_http_off_this_machine_is_refused_before_sending(two_accounts, run_ovhkube, host):
    # The EU account talks plain HTTP to a loopback server first; the CA account's client secret would follow it
    # in clear to another host. It is refused before anything is sent, wherever OAUTHLIB_INSECURE_TRANSPORT is set.
    eu, _, folder, env = two_accounts
    documents = list(yaml.safe_load_all((folder / "accounts.yaml").read_text()))
    documents[1]["spec"]["endpoint"] = f"http://{host}:9/1.0"
    (folder / "accounts.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))
    env |= {"OAUTHLIB_INSECURE_TRANSPORT": "1"}

    result = run_ovhkube("plan", folder, env=env)

    assert result.returncode == 1, result.stdout + result.stderr
    assert 'account "ca" (' in result.stderr
    assert f"the endpoint http://{host}:9/1.0 is plain HTTP, which would send the OAuth2 client secret" in result.stderr
    assert "Traceback" not in result.stderr


PASTED = "ZmFrZS1zZWNyZXQtcGFzdGVk"  # a secret pasted where the name of its variable belongs


@pytest.mark.parametrize("pasted", [PASTED, PASTED + "+/="])
def test_a_secret_pasted_for_a_variable_name_is_never_printed(two_accounts, run_ovhkube, pasted):
    # Letters and digits pass the name pattern and are then an unset variable; other characters fail the pattern.
    _, ca, folder, env = two_accounts
    documents = list(yaml.safe_load_all((folder / "accounts.yaml").read_text()))
    documents[1]["spec"]["credentials"]["environment"]["clientSecret"] = pasted
    (folder / "accounts.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))

    checked = run_ovhkube("validate", folder)
    results = [run_ovhkube(command, folder, env=env) for command in ("plan", "drift")]

    assert checked.returncode == (0 if pasted.isalnum() else 1), checked.stdout
    assert PASTED not in checked.stdout + checked.stderr
    for result in results:
        assert result.returncode == 1, result.stdout + result.stderr
        assert PASTED not in result.stdout + result.stderr and "Traceback" not in result.stderr
        assert "spec.credentials.environment.clientSecret" in result.stdout + result.stderr
    assert paths_of(ca) == set()


def test_a_service_account_with_a_wrong_secret_is_refused_in_one_line_without_the_secret(two_accounts, run_ovhkube):
    _, _, folder, env = two_accounts
    env["CA_CLIENT_SECRET"] = "not-the-secret-0123"

    result = run_ovhkube("plan", folder, env=env)

    assert result.returncode == 1
    assert 'OAuth2 token refused for account "ca"' in result.stderr and "invalid_client" in result.stderr
    assert "not-the-secret-0123" not in result.stderr + result.stdout
    assert result.stderr.count("\n") == 1


def test_a_project_no_account_serves_goes_to_the_default_connection(two_accounts, sandbox_factory, run_ovhkube):
    eu, ca, folder, env = two_accounts
    other = sandbox_factory()
    other.seed({"projects": [{"serviceName": "0" * 32, "clusters": [live(3, "lab")]}]})
    (folder / "lab.yaml").write_text(yaml.safe_dump(cluster("lab", "0" * 32)))
    env |= {"OVH_ENDPOINT": other.url, "OVH_APPLICATION_KEY": DEFAULT_APPLICATION_KEY}
    env |= {"OVH_APPLICATION_SECRET": DEFAULT_APPLICATION_SECRET, "OVH_CONSUMER_KEY": DEFAULT_CONSUMER_KEY}

    result = run_ovhkube("plan", folder, "--detailed-exitcode", env=env)

    assert result.returncode == 2, result.stderr
    assert all("0" * 32 in entry["path"] for entry in other.requests() if entry["path"] != "/auth/time")
    assert all(EU_PROJECT in path for path in paths_of(eu))


def test_python_ovh_s_own_oauth2_variables_serve_the_default_connection(sandbox, run_ovhkube, tmp_path):
    """OVH_CLIENT_ID and OVH_CLIENT_SECRET, as python-ovh 1.2 reads them, without any Account document."""
    sandbox.seed({"projects": [{"serviceName": EU_PROJECT, "clusters": [live(1, "web")]}]})
    (tmp_path / "web.yaml").write_text(yaml.safe_dump(cluster("web", EU_PROJECT)))
    env = {k: v for k, v in sandbox.env().items() if k not in PYTHON_OVH_NAMES}
    env |= {"OVH_ENDPOINT": sandbox.url, "OVH_CLIENT_ID": DEFAULT_CLIENT_ID, "OVH_CLIENT_SECRET": DEFAULT_CLIENT_SECRET}

    result = run_ovhkube("plan", tmp_path / "web.yaml", "--detailed-exitcode", env=env)

    assert result.returncode == 2, result.stderr
    assert sandbox.server.service_accounts.issued == 1


def test_a_gateway_password_with_a_service_account_is_refused_in_one_line(sandbox, run_ovhkube, tmp_path):
    # A gateway's HTTP basic auth and the service account's bearer token are both the Authorization header.
    sandbox.seed({"projects": [{"serviceName": EU_PROJECT, "clusters": [live(1, "web")]}]})
    (tmp_path / "web.yaml").write_text(yaml.safe_dump(cluster("web", EU_PROJECT)))
    env = {k: v for k, v in sandbox.env().items() if k not in PYTHON_OVH_NAMES}
    endpoint = sandbox.url.replace("http://", "http://ops:hunter2@")
    env |= {"OVH_ENDPOINT": endpoint, "OVH_CLIENT_ID": DEFAULT_CLIENT_ID, "OVH_CLIENT_SECRET": DEFAULT_CLIENT_SECRET}

    result = run_ovhkube("plan", tmp_path / "web.yaml", env=env)

    assert result.returncode == 1, result.stderr
    assert "cannot be used with an OAuth2 service account" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr and sandbox.server.service_accounts.issued == 0


BAD_ACCOUNTS = [
    (
        {"endpoint": "ovh-eu", "projects": [EU_PROJECT], "credentials": {"environment": {"clientId": "A"}}},
        "11:7: spec.credentials.environment: give at least 2 of:",
    ),
    (
        {"endpoint": "ovh-cx", "projects": [EU_PROJECT], "credentials": CA_CREDENTIALS},
        '6:13: spec.endpoint: must be ovh-eu, ovh-ca, ovh-us, sandbox or an http(s)://.../1.0 URL; got "ovh-cx"',
    ),
    (
        {
            "endpoint": "ovh-eu",
            "projects": [EU_PROJECT],
            "credentials": {"environment": {"clientId": "a-b", "clientSecret": "S"}},
        },
        "spec.credentials.environment.clientId: must be the name of an environment variable",
    ),
    (
        {"endpoint": "ovh-eu", "projects": [EU_PROJECT], "credentials": {"configSection": "x", **CA_CREDENTIALS}},
        "spec.credentials: give one of: environment, configSection",
    ),
    (
        {
            "endpoint": "ovh-eu",
            "projects": [EU_PROJECT],
            "credentials": {"environment": {"applicationKey": "A", "clientId": "B"}},
        },
        "spec.credentials.environment: give applicationKey, applicationSecret and consumerKey (a consumer key), or "
        "clientId and clientSecret",
    ),
    (
        {"endpoint": "ovh-eu", "projects": [CA_PROJECT], "credentials": CA_CREDENTIALS},
        f'21:5: spec.projects[0]: project {CA_PROJECT} is already served by account "first" (',
    ),
]


@pytest.mark.parametrize(("spec", "expected"), BAD_ACCOUNTS)
def test_an_account_document_s_problems_are_located(tmp_path, spec, expected):
    first = account("first", "ovh-ca", [CA_PROJECT], CA_CREDENTIALS)
    second = {"apiVersion": "ovhkube/v1", "kind": "Account", "metadata": {"name": "second"}, "spec": spec}
    # The document that repeats a project is the one after the account that has it.
    ordered = [first, second] if "already served" in expected else [second, first]
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump_all([*ordered, cluster("web", CA_PROJECT)], sort_keys=False, width=1000))

    loaded = load_desired([str(path)])

    assert [str(problem) for problem in loaded.problems if expected in str(problem)], [str(p) for p in loaded.problems]
    assert all(str(problem).startswith(f"{path}:") for problem in loaded.problems)


def test_accounts_are_loaded_beside_the_clusters_and_never_hold_a_secret(tmp_path):
    path = tmp_path / "fleet.yaml"
    documents = [account("ca", "ovh-ca", [CA_PROJECT], CA_CREDENTIALS), cluster("web", CA_PROJECT)]
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))

    loaded = load_desired([str(path)])

    assert loaded.ok and [c.name for c in loaded.clusters] == ["web"]
    (ca,) = loaded.accounts
    assert (ca.name, ca.endpoint, ca.projects, ca.oauth2) == ("ca", "ovh-ca", (CA_PROJECT,), True)
    assert ca.variable("clientSecret") == "CA_CLIENT_SECRET"


def test_a_folder_of_accounts_only_has_no_clusters(tmp_path):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(account("ca", "ovh-ca", [CA_PROJECT], CA_CREDENTIALS)))
    loaded = load_desired([str(tmp_path)])
    assert [str(p) for p in loaded.problems] == [
        f"{tmp_path}: no Cluster documents, only Account documents: give the files or folder that hold the clusters too"
    ]


class Recording:
    """Stands for one account's Api: records the paths it was asked, has its own budget."""

    def __init__(self, label: str) -> None:
        self.endpoint_label, self.asked = label, []
        self.budget = type("Budget", (), {"close": lambda self: None, "refusals": 0, "waited": 0.0})()

    def get(self, path: str):
        self.asked.append(path)
        return []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/cloud/project/{EU_PROJECT}/kube", "eu"),
        (f"/cloud/project/{CA_PROJECT}/kube/6f3c/customization", "ca"),
        (f"/cloud/project/{'0' * 32}/kube", "default"),
        ("/cloud/project", "default"),
        (f"/cloud/project/{EU_PROJECT}?x=1", "eu"),
    ],
)
def test_each_request_goes_to_the_account_of_the_project_its_path_names(path, expected):
    from reconciler.live.accounts import AccountsApi

    apis = {name: Recording(name) for name in ("eu", "ca", "default")}
    routed = AccountsApi(
        {"eu": apis["eu"], "ca": apis["ca"]}, {EU_PROJECT: "eu", CA_PROJECT: "ca"}, apis["default"], None, True
    )

    routed.get(path)

    assert {name: api.asked for name, api in apis.items() if api.asked} == {expected: [path]}
    assert routed.endpoint_label == "accounts: ca=ca, eu=eu, default=default"


def test_without_a_default_connection_a_project_no_account_serves_is_an_error_saying_why():
    from reconciler.errors import AuthError
    from reconciler.live.accounts import AccountsApi

    routed = AccountsApi({"eu": Recording("eu")}, {EU_PROJECT: "eu"}, None, AuthError("missing API credentials"), True)

    with pytest.raises(AuthError, match=r"no Account document serves project 0{32}, and the default connection"):
        routed.get(f"/cloud/project/{'0' * 32}/kube")


def test_each_account_has_its_own_request_budget_and_account_of_requests(two_accounts, run_ovhkube):
    """-v accounts for each connection apart: each key's requests are paced and counted on their own."""
    eu, ca, folder, env = two_accounts

    planned = run_ovhkube("-v", "--max-requests-per-second", "50", "plan", folder, env=env)

    assert planned.returncode == 0, planned.stderr
    accounts = [line for line in planned.stderr.splitlines() if line.startswith("requests: ")]
    assert len(accounts) == 2, planned.stderr  # one line per account's connection, none for the unused default
    assert all("(GET " in line for line in accounts)
    eu_calls = [line for line in planned.stderr.splitlines() if line.startswith("api: GET /cloud/project/e0")]
    ca_calls = [line for line in planned.stderr.splitlines() if line.startswith("api: GET /cloud/project/ca")]
    assert eu_calls and ca_calls


def writes_of(sandbox) -> list[tuple[str, str]]:
    """The writes to clusters (a service account's token is asked by a POST too)."""
    return [
        (e["method"], e["path"]) for e in sandbox.requests() if e["method"] != "GET" and e["path"].startswith("/cloud")
    ]


@pytest.mark.parametrize("given", ["--accounts", "--verify-against"])
def test_a_saved_plan_over_two_accounts_applies_each_project_through_its_own(two_accounts, run_ovhkube, given):
    """One plan over two accounts (a consumer key, an OAuth2 service account), saved, then applied exactly: each
    project read and written through its own endpoint, credentials and request budget."""
    eu, ca, folder, env = two_accounts
    saved = folder.parent / "plan.json"

    planned = run_ovhkube("plan", folder, "--out", saved, env=env)

    assert planned.returncode == 0, planned.stderr
    text = saved.read_text()
    plan = json.loads(text)
    assert plan["accounts"] == [  # which account served each project, by name and endpoint: never a credential
        {"account": "ca", "endpoint": ca.url, "projects": [CA_PROJECT]},
        {"account": "eu", "endpoint": eu.url, "projects": [EU_PROJECT]},
    ]
    assert list(Draft202012Validator(load_schema(PLAN_SCHEMA_NAME)).iter_errors(plan)) == []  # the published format
    assert not [value for value in [*EU_KEYS.values(), *CA_KEYS.values()] if value in text]
    assert not [name for name in [*EU_KEYS, *CA_KEYS] if name in text]
    assert f"apply --plan {saved} --accounts {folder / 'accounts.yaml'}" in planned.stderr
    eu.forget_requests()
    ca.forget_requests()
    accounts = folder / "accounts.yaml" if given == "--accounts" else folder

    applied = run_ovhkube("-v", "apply", "--plan", saved, given, accounts, env=env)

    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert writes_of(eu) == [("PUT", f"/cloud/project/{EU_PROJECT}/kube/{live(1, 'web')['id']}/customization")]
    assert writes_of(ca) == [("PUT", f"/cloud/project/{CA_PROJECT}/kube/{live(2, 'shop')['id']}/customization")]
    assert paths_of(eu) and all(EU_PROJECT in path for path in paths_of(eu))
    assert all(CA_PROJECT in path or path == "/auth/oauth2/token" for path in paths_of(ca))
    assert ca.server.service_accounts.issued >= 2 and eu.server.service_accounts.issued == 0  # plan's, apply's
    # One account of requests per connection: each key paced and counted on its own.
    assert len([line for line in applied.stderr.splitlines() if line.startswith("requests: ")]) == 2, applied.stderr
    for sandbox in (eu, ca):
        (project,) = sandbox.show()["projects"]
        (live_cluster,) = project["clusters"]
        assert live_cluster["customization"]["kubeProxy"]["iptables"]["syncPeriod"] == "PT60S"


def _rewrite_accounts(folder, change) -> None:
    documents = list(yaml.safe_load_all((folder / "accounts.yaml").read_text()))
    change(documents)
    (folder / "accounts.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))


def _renamed(documents: list[dict]) -> None:
    documents[1]["metadata"]["name"] = "canada"


def _moved(documents: list[dict]) -> None:
    documents[0]["spec"]["projects"] = [EU_PROJECT, CA_PROJECT]
    documents[1]["spec"]["projects"] = ["ca000000000000000000000000000003"]


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        (
            "no accounts",
            'project ca000000000000000000000000000002 was planned through account "ca" ("http://127.0.0.1:',
        ),
        ("renamed", 'was planned through account "ca" ("http://127.0.0.1:{ca}/1.0"), now account "canada" ('),
        ("moved", 'was planned through account "ca" ("http://127.0.0.1:{ca}/1.0"), now account "eu" ('),
    ],
)
def test_a_saved_plan_whose_accounts_differ_now_is_refused_before_anything_is_sent(
    two_accounts, run_ovhkube, how, expected
):
    eu, ca, folder, env = two_accounts
    saved = folder.parent / "plan.json"
    assert run_ovhkube("plan", folder, "--out", saved, env=env).returncode == 0
    if how != "no accounts":
        _rewrite_accounts(folder, _renamed if how == "renamed" else _moved)
    eu.forget_requests()
    ca.forget_requests()
    given = [] if how == "no accounts" else ["--accounts", folder / "accounts.yaml"]

    refused = run_ovhkube("apply", "--plan", saved, *given, env=env)

    assert refused.returncode == 1, refused.stdout + refused.stderr
    port = ca.url.split(":")[-1].split("/")[0]
    assert "error: the plan does not match the accounts given now: " in refused.stderr
    assert expected.format(ca=port) in refused.stderr
    if how == "no accounts":
        assert 'now the default connection ("ovh-eu")' in refused.stderr
    assert "Give the Account documents the plan was made with (--accounts PATH); nothing was changed" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert eu.requests() == [] and ca.requests() == []


def test_a_plan_made_without_accounts_is_refused_with_them(sandbox, run_ovhkube, tmp_path):
    sandbox.seed({"projects": [{"serviceName": EU_PROJECT, "clusters": [live(1, "web")]}]})
    (tmp_path / "web.yaml").write_text(yaml.safe_dump(cluster("web", EU_PROJECT)))
    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", tmp_path / "web.yaml", "--out", saved, env=sandbox.env()).returncode == 0
    (tmp_path / "accounts.yaml").write_text(yaml.safe_dump(account("eu", sandbox.url, [EU_PROJECT], EU_CREDENTIALS)))
    sandbox.forget_requests()

    refused = run_ovhkube("apply", "--plan", saved, "--accounts", tmp_path / "accounts.yaml", env=sandbox.env())

    assert refused.returncode == 1, refused.stderr
    assert f"project {EU_PROJECT} was planned through the default connection (" in refused.stderr
    assert f'now account "eu" ("{sandbox.url}")' in refused.stderr
    assert "The plan was made without Account documents: apply it without them; nothing was changed" in refused.stderr
    assert sandbox.requests() == []
