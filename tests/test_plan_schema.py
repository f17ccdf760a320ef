"""The plan JSON's published schema (`ovhkube schema --plan`, schemas/plan.schema.json) holds every plan ovhkube
makes: real plans of every action against the sandbox, printed and saved; and the plan cannot gain or lose a field
without the schema saying so."""

import json

import pytest
from jsonschema import Draft202012Validator

from reconciler.files.schema import PLAN_SCHEMA_NAME, load_schema
from reconciler.model import ClusterRef, DefaultsRef, ErrorReason
from reconciler.plan.data import FORMAT_VERSION, Action, Change, Connection, Plan
from reconciler.plan.diff import FieldChange
from reconciler.policy.check import Finding, PolicyCheck
from reconciler.steps import ClusterTarget, PoolTarget, Step, StepKind
from reconciler.windows import MaintenanceWindow
from tests.apply_helpers import IPTABLES_60S, PROJECT, cluster_id, live, wanted, write_fleet

SCHEMA = load_schema(PLAN_SCHEMA_NAME)
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(plan: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(plan)]


def test_the_schema_is_a_valid_2020_12_schema_of_this_plan_format():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["format_version"]["const"] == FORMAT_VERSION
    assert SCHEMA["$id"] == f"urn:ovhkube:schema:plan:{FORMAT_VERSION}"


def test_the_schema_names_every_action_reason_and_step_kind():
    change = SCHEMA["$defs"]["change"]["properties"]
    assert change["action"]["enum"] == [str(action) for action in Action]
    assert change["reason"]["enum"] == [None, *map(str, ErrorReason)]
    assert SCHEMA["$defs"]["request"]["properties"]["kind"]["enum"] == [str(kind) for kind in StepKind]
    assert list(SCHEMA["properties"]["summary"]["properties"]) == [str(action) for action in Action]


def fleet_seed(sandbox):
    pools = [{"name": "workers", "flavor": "b3-8", "desiredNodes": 2}]
    clusters = [
        live(0, "same"),
        live(1, "tuned"),
        live(2, "erased"),
        live(3, "upgraded"),
        live(4, "pooled") | {"nodePools": pools},
        live(5, "refused"),
    ]
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": clusters}]})


def fleet_files(tmp_path) -> str:
    tuned = wanted("tuned", kubeProxy=IPTABLES_60S)
    tuned["spec"]["ipRestrictions"] = ["203.0.113.0/24"]
    upgraded = wanted("upgraded")
    upgraded["spec"] |= {"version": "1.32", "lifecycle": {"allowUpgrade": True}}
    pooled = wanted("pooled")
    pooled["spec"]["nodePools"] = {
        "workers": {"desiredNodes": 3},
        "batch": {"flavorName": "b3-8", "desiredNodes": 1},
    }
    created = wanted("created", mode="iptables")
    defaults = {
        "apiVersion": "ovhkube/v1",
        "kind": "ClusterDefaults",
        "metadata": {"name": "fleet"},
        "selector": {"names": ["tun*"]},
        "spec": {"updatePolicy": "ALWAYS_UPDATE"},
    }
    return write_fleet(
        tmp_path,
        defaults,
        wanted("same"),
        tuned,
        wanted("erased", mode="ipvs", allow_reset=True),
        upgraded,
        pooled,
        wanted("refused", mode="ipvs"),
        created,
    )


def test_real_plans_of_every_action_hold_to_the_schema(sandbox, run_ovhkube, tmp_path):
    fleet_seed(sandbox)
    fleet = fleet_files(tmp_path)
    saved = tmp_path / "plan.json"
    result = run_ovhkube("plan", fleet, "--format", "json", "--out", saved, env=sandbox.env())
    assert result.returncode == 1, result.stderr  # "refused" is an error entry
    printed = json.loads(result.stdout)
    actions = {change["cluster"]["name"]: change["action"] for change in printed["changes"]}
    assert actions == {
        "same": "noop",
        "tuned": "update",
        "erased": "reset",
        "upgraded": "upgrade",
        "pooled": "update",
        "refused": "error",
        "created": "create",
    }
    kinds = {request["kind"] for change in printed["changes"] for request in change["requests"]}
    assert {"pool_create", "pool_update", "reset", "create", "upgrade", "ip_restrictions"} <= kinds
    assert printed["defaults"], "the ClusterDefaults' blast radius is in the plan"
    assert problems(printed) == []
    assert problems(json.loads(saved.read_text())) == []


def test_a_plan_with_no_change_holds_to_the_schema(sandbox, run_ovhkube, tmp_path):
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": [live(0, "same")]}]})
    result = run_ovhkube("plan", write_fleet(tmp_path, wanted("same")), "--format", "json", env=sandbox.env())
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["summary"]["noop"] == 1 and problems(plan) == []


def full_change() -> Change:
    """A change with every field set, as no single plan needs."""
    ref = ClusterRef(PROJECT, "alpha", cluster_id(1), "GRA5", renamed_from="alpha-old")
    return Change(
        cluster=ref,
        action=Action.ERROR,
        source="f.yaml:1",
        diff=[FieldChange("kubeProxyMode", "iptables", "ipvs", "f.yaml:7", "fleet")],
        steps=[
            Step(StepKind.RENAME, ClusterTarget(PROJECT, ref.id), {"name": "alpha"}),
            Step(StepKind.RESET, ClusterTarget(PROJECT, ref.id), {"kubeProxyMode": "ipvs"}),
            Step(StepKind.POOL_DELETE, PoolTarget(PROJECT, ref.id, "pool-1"), None),
        ],
        live_fingerprint="abc",
        warnings=["w"],
        error="e",
        status="READY",
        defaults=[DefaultsRef("fleet", "d.yaml:1")],
        reason=ErrorReason.RESET_NOT_ALLOWED,
        ahead=[FieldChange("version", "1.32", "1.31", "f.yaml:8")],
        labels={"env": "prod"},
        maintenance_window=MaintenanceWindow(("Sat", "Sun"), "02:00", "PT4H", "Europe/Paris"),
        deferred_until="2026-12-12T01:00:00Z",
        ip_restrictions=("203.0.113.0/24",),
    )


def closed_objects(schema, where="#"):
    """Every object schema (one with properties) and whether it refuses other fields."""
    if isinstance(schema, dict):
        if "properties" in schema:
            yield where, schema.get("additionalProperties") is False
        for key, child in schema.items():
            yield from closed_objects(child, f"{where}/{key}")
    elif isinstance(schema, list):
        for index, child in enumerate(schema):
            yield from closed_objects(child, f"{where}/{index}")


def test_every_object_of_the_schema_is_closed():
    assert [where for where, closed in closed_objects(SCHEMA) if not closed] == []


def test_a_field_the_plan_gains_fails_until_the_schema_describes_it():
    accounts = (Connection("eu", "ovh-eu", (PROJECT,)), Connection(None, "sandbox", ()))
    policy = PolicyCheck(
        "policies", "sha256:" + "0" * 64, ("policies/a.rego",), (Finding("deny", "main", "no", "alpha", PROJECT),)
    )
    plan = json.loads(Plan([full_change()], "sandbox", accounts=accounts, policy=policy).to_json())
    assert problems(plan) == []
    assert set(plan) == set(SCHEMA["properties"])
    policy_schema = SCHEMA["properties"]["policy"]["oneOf"][1]
    assert set(plan["policy"]) == set(policy_schema["properties"])
    assert set(plan["policy"]["findings"][0]) == set(policy_schema["properties"]["findings"]["items"]["properties"])
    assert set(plan["changes"][0]) == set(SCHEMA["$defs"]["change"]["properties"])
    plan["changes"][0]["rollout"] = {"wave": 1}  # what a new field of the plan, undescribed, looks like
    plan["summary"]["deferred"] = 0
    assert sorted(problems(plan)) == [
        "changes/0: Additional properties are not allowed ('rollout' was unexpected)",
        "summary: Additional properties are not allowed ('deferred' was unexpected)",
    ]


@pytest.mark.parametrize("field", ["action", "cluster", "requests"])
def test_a_plan_missing_a_field_fails(field):
    plan = json.loads(Plan([full_change()], "sandbox").to_json())
    del plan["changes"][0][field]
    assert problems(plan) == [f"changes/0: '{field}' is a required property"]
