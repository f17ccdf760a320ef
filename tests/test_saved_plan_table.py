"""The saved-plan check as a table: each forgery of a plan `plan --out` wrote -> the refusal that names it, with no
sandbox and no process (test_saved_plan_integrity.py proves end to end that a refusal sends nothing)."""

import json

import pytest
from apply_helpers import IPTABLES_30S, IPTABLES_60S, MORE_PLUGINS, PROJECT, cluster_id, live

from reconciler import __version__
from reconciler.live.read import LiveCluster, LiveResult
from reconciler.model import DesiredCluster, Lifecycle
from reconciler.plan.data import FORMAT_VERSION, Plan, PlanFileError
from reconciler.plan.planfile import read_plan_file
from reconciler.plan.planner import plan_cluster

RANGES = ["203.0.113.0/24", "198.51.100.7/32"]
OIDC = {"issuerUrl": "https://id.example.com", "clientId": "kube"}
PLACEHOLDER = "{id of the new cluster}"


def found(number: int, name: str) -> LiveResult:
    cluster = live(number, name)
    return LiveResult(found=LiveCluster(cluster, cluster["customization"], [], {}))


def wanted(name: str, **fields) -> DesiredCluster:
    return DesiredCluster(project=PROJECT, name=name, source="fleet.yaml:1", region="GRA5", **fields)


def saved_plan() -> dict:
    """alpha reset to ipvs, beta updated, fresh created with IP restrictions and OIDC, gamma unchanged."""
    reset = Lifecycle(allow_reset=True, worker_nodes_policy="reinstall")
    planned = [
        (wanted("alpha", kube_proxy_mode="ipvs", customization={"kubeProxy": {"ipvs": {"scheduler": "lc"}}},
                lifecycle=reset), found(1, "alpha")),
        (wanted("beta", customization={"apiServer": MORE_PLUGINS}), found(2, "beta")),
        (wanted("fresh", kube_proxy_mode="iptables", customization={"kubeProxy": IPTABLES_60S},
                ip_restrictions=tuple(RANGES), openid_connect=OIDC), LiveResult()),
        (wanted("gamma", kube_proxy_mode="iptables", customization={"kubeProxy": IPTABLES_30S}), found(3, "gamma")),
    ]  # fmt: skip
    return json.loads(Plan([plan_cluster(d, live) for d, live in planned], "sandbox").to_json())


def entry(plan: dict, name: str) -> dict:
    return next(change for change in plan["changes"] if change["cluster"]["name"] == name)


def edit_beta(plan: dict, block: str, value: dict, diff: list[tuple]) -> None:
    """beta's request and diff edited together, as a careful forger would."""
    beta = entry(plan, "beta")
    beta["requests"][0]["body"] = {block: value}
    beta["diff"] = [{"path": f"customization.{block}.{path}", "before": None, "after": after} for path, after in diff]


def forget_fingerprints(plan):
    for change in plan["changes"]:
        change.pop("live_fingerprint")


def repeat_the_create(plan):
    plan["changes"].append(json.loads(json.dumps(entry(plan, "fresh"))))
    plan["summary"]["create"] += 1


def reset_hidden_in_a_create(plan):
    fresh = entry(plan, "fresh")
    fresh["cluster"]["project"] = f"{PROJECT}/kube/{cluster_id(3)}/reset?x="
    fresh["requests"][0]["path"] = f"/cloud/project/{PROJECT}/kube/{cluster_id(3)}/reset?x=/kube"


def disable_node_restriction(plan):
    plugins = {"enabled": ["AlwaysPullImages"], "disabled": ["NodeRestriction"]}
    edit_beta(
        plan, "apiServer", {"admissionPlugins": plugins}, [(f"admissionPlugins.{k}", v) for k, v in plugins.items()]
    )


def rename_in_the_reset(plan):
    entry(plan, "alpha")["requests"][0]["body"]["name"] = "someone-else"


def update_turned_into_two_resets(plan):
    request = entry(plan, "beta")["requests"][0]
    request["method"], request["path"] = "POST", f"/cloud/project/{PROJECT}/kube/{cluster_id(2)}/reset"
    entry(plan, "beta")["requests"].append(dict(request))


def an_update_of_the_reset_kind(plan):
    entry(plan, "beta")["requests"][0]["kind"] = "reset"


def body_the_files_refuse(plan):
    edit_beta(plan, "kubeProxy", {"iptables": {"syncPeriod": "PT0S"}}, [("iptables.syncPeriod", "PT0S")])


def body_unlike_its_diff(plan):
    entry(plan, "fresh")["requests"][0]["body"]["customization"]["kubeProxy"]["iptables"]["syncPeriod"] = "PT45S"


def forged_summary(plan):
    plan["summary"]["reset"] = 0


def follow_up_on_a_real_cluster(plan):
    request = entry(plan, "fresh")["requests"][1]
    request["path"] = request["path"].replace(PLACEHOLDER, cluster_id(1))


def follow_up_in_another_project(plan):
    request = entry(plan, "fresh")["requests"][2]
    request["path"] = request["path"].replace(PROJECT, "f" * 32)


def follow_up_not_its_diff(plan):
    entry(plan, "fresh")["requests"][1]["body"]["ips"] = ["0.0.0.0/0"]


def oidc_put_in_place_of_post(plan):
    entry(plan, "fresh")["requests"][2]["method"] = "PUT"


def one_more_follow_up(plan):
    path = entry(plan, "fresh")["requests"][2]["path"]
    entry(plan, "fresh")["requests"].append({"kind": "oidc_delete", "method": "DELETE", "path": path, "body": None})


def reset_on_another_mode(plan):
    entry(plan, "alpha")["requests"][0]["body"]["kubeProxyMode"] = "iptables"


# Refused as not what ovhkube wrote: "refused, the plan is not as ovhkube wrote it: ..." and the reason.
FORGED = {
    forget_fingerprints: "without a live_fingerprint",
    repeat_the_create: "the same cluster as changes[2]",
    reset_hidden_in_a_create: "is not a project id",
    disable_node_restriction: "NodeRestriction cannot be disabled",
    rename_in_the_reset: 'body.name is "someone-else" where the entry makes "alpha"',
    update_turned_into_two_resets: "2 request(s) where it makes 1",
    an_update_of_the_reset_kind: 'kind "reset" where it makes "put_customization"',
    body_the_files_refuse: "syncPeriod: must be greater than 0",
    body_unlike_its_diff: "body.customization is",
    forged_summary: "does not count its entries",
    follow_up_on_a_real_cluster: (
        f'path ".../{cluster_id(1)}/ipRestrictions" where it makes ".../{PLACEHOLDER}/ipRestrictions"'
    ),
    follow_up_in_another_project: (
        f'path ".../{"f" * 32}/kube/{PLACEHOLDER}/openIdConnect" where it makes ".../{PROJECT}/kube/'
    ),
    follow_up_not_its_diff: 'body.ips is ["0.0.0.0/0"] where the entry makes ["203.0.113.0/24", "198.51.100.7/32"]',
    oidc_put_in_place_of_post: 'method "PUT" where it makes "POST"',
    one_more_follow_up: "4 request(s) where it makes 3",
    reset_on_another_mode: 'body.kubeProxyMode is "iptables" where the entry makes "ipvs"',
}


def read(tmp_path, plan: dict | str):
    path = tmp_path / "plan.json"
    path.write_text(plan if isinstance(plan, str) else json.dumps(plan, indent=2))
    return path, read_plan_file(str(path))


@pytest.mark.parametrize("forge", FORGED, ids=lambda forge: forge.__name__)
def test_each_forgery_is_refused_with_its_reason(tmp_path, forge):
    plan = saved_plan()
    forge(plan)

    with pytest.raises(PlanFileError) as refused:
        read(tmp_path, plan)

    message = str(refused.value)
    assert message.startswith(f"{tmp_path / 'plan.json'}: refused, the plan is not as ovhkube wrote it: ")
    assert FORGED[forge] in message and "\n" not in message


def test_the_plan_as_written_passes_every_check(tmp_path):
    _, plan = read(tmp_path, saved_plan())

    assert [change.action for change in plan.changes] == ["reset", "update", "create", "noop"]


# (edit, the one line: the field, and FILE:LINE where the field has a line)
MALFORMED = {
    "name-a-number": (
        lambda plan: entry(plan, "beta")["cluster"].update(name=7),
        "cluster.name: must be a string, not 7",
    ),
    "requests-an-object": (lambda plan: entry(plan, "beta").update(requests={}), ".requests: must be a list"),
    "huge-integer": (lambda plan: entry(plan, "beta").update(live_fingerprint=10**200), "more than 100 digits"),
    "action": (lambda plan: entry(plan, "beta").update(action="explode"), '.action: unknown action "explode"'),
    "reason": (lambda plan: entry(plan, "beta").update(reason="why"), '.reason: unknown reason "why"'),
    "cluster-field": (
        lambda plan: entry(plan, "beta")["cluster"].update({"x\ny": 1}),
        '.cluster: unknown field "x\\ny"',
    ),
    "defaults": (
        lambda plan: entry(plan, "beta").update(defaults=[{"source": "a.yaml:1"}]),
        ".defaults[0].name: missing",
    ),
    "step-kind": (lambda plan: entry(plan, "beta")["requests"][0].update(kind="drop"), 'unknown step kind "drop"'),
    "no-step-kind": (lambda plan: entry(plan, "beta")["requests"][0].pop("kind"), ".requests[0].kind: missing"),
    "tool": (lambda plan: plan.update(tool_version=["0.1"]), f'made by ovhkube ["0.1"] (plan format {FORMAT_VERSION})'),
    "format-3": (lambda plan: plan.update(format_version="3"), "(plan format 3); this is ovhkube"),
}


@pytest.mark.parametrize(("edit", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_plan_is_one_line_naming_the_field(tmp_path, edit, message):
    plan = saved_plan()
    edit(plan)

    with pytest.raises(PlanFileError) as refused:
        read(tmp_path, plan)

    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert str(refused.value).startswith(str(tmp_path / "plan.json"))


def test_a_plan_of_the_previous_format_is_made_again(tmp_path):
    previous = str(int(FORMAT_VERSION) - 1)
    plan = saved_plan() | {"format_version": previous}

    with pytest.raises(PlanFileError) as refused:
        read(tmp_path, plan)

    message = str(refused.value)
    assert f"(plan format {previous}); this is ovhkube {__version__} (plan format {FORMAT_VERSION})" in message
    assert message.endswith("make the plan again with this version")


def test_a_key_twice_in_one_object_refuses_the_plan_at_that_objects_line(tmp_path):
    # A second "requests" after the first: Python keeps the last, a reviewer reading the file sees the first.
    text = json.dumps(saved_plan(), indent=2).replace('"requests": [', '"requests": [], "requests": [', 1)

    with pytest.raises(PlanFileError) as refused:
        read(tmp_path, text)

    message = str(refused.value)
    line = int(message.split(f"{tmp_path / 'plan.json'}:")[1].split(":")[0])
    assert message.endswith(': not a plan file: the object here holds the key "requests" twice')
    assert text.splitlines()[line - 1].strip() == "{"  # the entry holding it


OTHER = "ca" * 16
EU = {"account": "eu", "endpoint": "ovh-eu", "projects": [PROJECT]}

# A plan made with Account documents: each project's connection named once, never anything but name and endpoint.
ACCOUNTS_MALFORMED = {
    "not-a-list": ({}, ": accounts: must be a list of connections"),
    "secret": ([EU | {"consumerKey": "ck"}], ': accounts[0]: unknown field "consumerKey"'),
    "account-a-number": ([EU | {"account": 7}], "accounts[0].account: must be a string or null, not 7"),
    "no-projects": ([{"account": "eu", "endpoint": "ovh-eu"}], "accounts[0].projects: missing"),
    "unlisted": ([EU | {"projects": [OTHER]}], f'accounts: no connection is named for project "{PROJECT}"'),
    "twice": ([EU, EU | {"account": "ca"}], f"accounts: project {PROJECT} is listed under two connections"),
    "same-account": ([EU, EU | {"projects": [OTHER]}], 'accounts: account "eu" is listed twice'),
    "not-a-project": ([EU | {"projects": [PROJECT, "../x"]}], 'accounts: "../x" is not a project id'),
}


@pytest.mark.parametrize(("accounts", "message"), ACCOUNTS_MALFORMED.values(), ids=ACCOUNTS_MALFORMED.keys())
def test_a_plan_s_accounts_name_each_project_s_connection_once(tmp_path, accounts, message):
    plan = saved_plan() | {"accounts": accounts}

    with pytest.raises(PlanFileError) as refused:
        read(tmp_path, plan)

    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_a_plan_made_with_accounts_reads_back_its_connections(tmp_path):
    from reconciler.plan.data import Connection

    default = {"account": None, "endpoint": "ovh-ca", "projects": [OTHER]}
    _, plan = read(tmp_path, saved_plan() | {"accounts": [EU, default]})

    assert plan.accounts == (Connection("eu", "ovh-eu", (PROJECT,)), Connection(None, "ovh-ca", (OTHER,)))
    assert json.loads(plan.to_json())["accounts"] == [EU, default]


@pytest.mark.parametrize(
    ("endpoint", "now", "refused"),
    [
        ("ovh-eu", [("eu", "ovh-eu", (PROJECT,))], None),
        ("ovh-eu", [("eu", "ovh-ca", (PROJECT,))], 'through account "eu" ("ovh-eu"), now account "eu" ("ovh-ca")'),
        ("ovh-eu", [], 'through account "eu" ("ovh-eu"), now the default connection ("ovh-eu")'),
        (
            "ovh-eu",
            [("europe", "ovh-eu", (PROJECT,))],
            'through account "eu" ("ovh-eu"), now account "europe" ("ovh-eu")',
        ),
    ],
)
def test_each_project_of_a_saved_plan_goes_through_the_account_it_was_planned_through(endpoint, now, refused):
    from reconciler.errors import UserError
    from reconciler.plan.data import Connection, plan_from_dict
    from reconciler.plan.planfile import refuse_other_connections

    plan = plan_from_dict(saved_plan() | {"accounts": [EU]})
    given = [Connection(*account) for account in now]

    if refused is None:
        refuse_other_connections(plan, endpoint, given)
        return
    with pytest.raises(UserError) as error:
        refuse_other_connections(plan, endpoint, given)
    assert f"the plan does not match the accounts given now: project {PROJECT} was planned {refused}" in str(
        error.value
    )
