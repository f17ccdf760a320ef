"""Policies on the plan, evaluated by the real engine (regopy) with no sandbox: the deny/warn convention, messages
about a cluster or the whole plan, the example policies on plans built in memory, and every way a policy folder can
be wrong, each as one line naming the file (and the line where the engine gives one)."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.model import ClusterRef
from reconciler.plan.data import Action, Change, Plan
from reconciler.policy.check import Finding, check, every_with_not, load_policies
from reconciler.policy.engine import PolicyError
from reconciler.policy.on_plan import checked
from reconciler.windows import MaintenanceWindow
from tests.apply_helpers import PROJECT

REPO_EXAMPLES = str(Path(__file__).resolve().parent.parent / "examples")

PROD = {"env": "production"}
WINDOW = MaintenanceWindow(("Sat",), "02:00", "PT4H", "UTC")


def change(name: str, action: Action, labels=None, **fields) -> Change:
    ref = ClusterRef(PROJECT, name, f"6f3c1a52-0000-4c1e-9a55-{len(name):012d}", "GRA5")
    return Change(ref, action, "fleet.yaml:1", labels=labels or {}, **fields)


def write(folder, **files: str):
    """A policy folder: each keyword a file NAME.rego (names with a dot come as a mapping)."""
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / (name if "." in name else f"{name}.rego")).write_text(text)
    return str(folder)


def test_the_example_policies_deny_a_reset_in_production_and_nowhere_else():
    plan = Plan(
        [
            change("shop-prod", Action.RESET, PROD, ip_restrictions=("203.0.113.0/24",)),
            change("shop-staging", Action.RESET, {"env": "staging"}),
            change("api-prod", Action.UPDATE, PROD, ip_restrictions=("198.51.100.0/24",)),
        ],
        "sandbox",
    )
    found = checked(plan, REPO_EXAMPLES + "/policies").policy
    assert found.denials == [
        Finding(
            "deny",
            "main",
            "no reset in production: shop-prod is labelled env=production, and a reset erases all its Kubernetes data",
            "shop-prod",
            PROJECT,
        )
    ]
    assert found.warnings == [] and len(found.files) == 4


@pytest.mark.parametrize(
    ("entry", "denied"),
    [
        (change("a", Action.UPGRADE, PROD, ip_restrictions=("203.0.113.0/24",)), ["no upgrade outside a maintenance"]),
        (change("a", Action.UPGRADE, PROD, ip_restrictions=("203.0.113.0/24",), maintenance_window=WINDOW), []),
        (change("a", Action.UPGRADE, {"env": "dev"}), []),
        (change("a", Action.NOOP, PROD), ["a is production: its API server needs an IP allow-list"]),
        (change("a", Action.NOOP, PROD, ip_restrictions=()), ["a is production: its API server needs an IP allow"]),
        (change("a", Action.NOOP, PROD, ip_restrictions=("0.0.0.0/0",)), ["a is production: its API server needs"]),
        (change("a", Action.NOOP, PROD, ip_restrictions=("203.0.113.0/24",)), []),
    ],
)
def test_the_example_policies_on_upgrades_and_allow_lists(entry, denied):
    found = checked(Plan([entry], "sandbox"), REPO_EXAMPLES + "/policies").policy
    assert len(found.denials) == len(denied)
    for finding, start in zip(found.denials, denied, strict=True):
        assert finding.message.startswith(start) and finding.cluster == "a"


def test_a_deferred_change_gets_a_warning_that_does_not_deny():
    entry = change(
        "a", Action.UPGRADE, PROD, ip_restrictions=("203.0.113.0/24",), maintenance_window=WINDOW,
        deferred_until="2026-12-12T02:00:00Z",
    )  # fmt: skip
    found = checked(Plan([entry], "sandbox"), REPO_EXAMPLES + "/policies").policy
    assert found.denials == []
    assert [w.message for w in found.warnings] == [
        "upgrade of a waits for its maintenance window: it starts after 2026-12-12T02:00:00Z"
    ]


def test_messages_are_strings_about_the_plan_or_objects_about_a_cluster_in_any_package(tmp_path):
    folder = write(
        tmp_path / "p",
        **{
            "count.rego": 'package main\nimport rego.v1\ndeny contains "too many resets" if {\n'
            '  count([c | some c in input.changes; c.action == "reset"]) > 1\n}\n',
            "names.rego": "package team.naming\nimport rego.v1\n"
            'warn contains {"cluster": c.cluster.name, "msg": "name without a team prefix"} if {\n'
            '  some c in input.changes\n  not startswith(c.cluster.name, "team-")\n}\n',
            "names_test.rego": "package team.naming\nthis is not even Rego, and it is never read\n",
        },
    )
    plan = Plan([change("a", Action.RESET), change("team-b", Action.RESET)], "sandbox")
    found = checked(plan, folder).policy
    assert found.findings == (
        Finding("deny", "main", "too many resets"),
        Finding("warn", "team.naming", "name without a team prefix", "a"),
    )
    assert [f.split("/")[-1] for f in found.files] == ["count.rego", "names.rego"]


def test_the_input_is_the_plan_json_as_printed(tmp_path):
    folder = write(
        tmp_path / "p",
        echo="package main\nimport rego.v1\nwarn contains json.marshal(input) if { true }\n",
    )
    plan = Plan([change("a", Action.UPDATE, PROD)], "sandbox")
    [seen] = checked(plan, folder).policy.warnings
    assert json.loads(seen.message) == json.loads(plan.to_json())


def test_the_digest_follows_the_files_not_the_folder_name(tmp_path):
    one = write(tmp_path / "one", a="package main\n")
    two = write(tmp_path / "two", a="package main\n")
    assert load_policies(one).digest == load_policies(two).digest
    (tmp_path / "two" / "a.txt").write_text("package main\n")  # not a .rego file: not read
    (tmp_path / "two" / "b.rego").write_text("package main\n")
    assert load_policies(one).digest != load_policies(two).digest


BAD = {
    "a syntax error": (
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  some c in input.changes\n  c.action == \n}\n",
        "bad.rego:6:12: Invalid boolean operator",
    ),
    "Rego v0 rules, which OPA 1.0 refuses": (
        'package main\ndeny[msg] {\n  msg := "x"\n}\n',
        'bad.rego:2: main.deny is {"x": true}, not a set of messages: write `deny contains msg if { ... }` (Rego v1',
    ),
    "a message of another shape": (
        'package main\nimport rego.v1\n\ndeny contains {"cluster": 1} if { true }\n',
        'bad.rego:4: main.deny gives {"cluster": 1}: a message is a string, or an object {"msg": TEXT',
    ),
    "a function that does not exist": (
        'package main\nimport rego.v1\n\ndeny contains "x" if {\n  nosuchthing(1)\n}\n',
        "bad.rego:5: Function not found: nosuchthing",
    ),
    "no package": ("deny := 1\n", "bad.rego:1: no package line"),
    # regopy holds it whatever its body says: such a policy would never deny.
    "`every` with `not` in its body": (
        'package main\nimport rego.v1\n\nclosed(ips) if {\n  every ip in ips {\n    not ip in {"0.0.0.0/0"}\n  }\n}\n',
        "bad.rego:5: `every` with `not` in its body is refused: regopy 1.5.2",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_policy_is_one_line_naming_its_file_and_line(case, tmp_path, capfd):
    text, expected = BAD[case]
    folder = write(tmp_path / "p", **{"bad.rego": text})
    with pytest.raises(PolicyError) as raised:
        checked(Plan([change("a", Action.UPDATE)], "sandbox"), folder)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(folder + "/") and message[len(folder) + 1 :].startswith(expected)
    out, err = capfd.readouterr()
    assert out == err == ""  # what the engine prints from C++ never reaches the terminal


def test_a_folder_with_no_policy_is_an_error(tmp_path):
    with pytest.raises(PolicyError, match="no \\*.rego file in it"):
        load_policies(write(tmp_path / "empty"))
    with pytest.raises(PolicyError, match="not a folder"):
        load_policies(str(tmp_path / "missing"))


def test_findings_survive_the_saved_plan(tmp_path):
    from reconciler.plan.data import plan_from_dict

    folder = write(
        tmp_path / "p", d='package main\nimport rego.v1\ndeny contains {"cluster": "a", "msg": "no"} if {true}\n'
    )
    plan = checked(Plan([change("a", Action.UPDATE)], "sandbox"), folder)
    again = plan_from_dict(json.loads(plan.to_json()))
    assert again.policy == plan.policy
    assert check(load_policies(folder), replace(again, policy=None).to_json()) == plan.policy


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("f(r) if { every x in r { not x in {1} } }", 1),
        ("f(r) if { every x in r { x != 1 } }", None),
        ("f(r) if {\n  every x in {1, 2} {\n    not x == 3\n  }\n}", 2),  # past the set in its domain
        ("f(r) if { every x in {1, 2} { x == 3 } }\nopen if { not f(1) }", None),  # a `not` outside it
        ('# every x in r { not x }\nm := "every x { not }"', None),  # in a comment, in a string
        ('f(r) if { every k, v in {"a": 1} { not v == 2 } }', 1),
        ("every_cluster if { not x }", None),  # a name, not the keyword
        ("f(r) if { every x in r { y := [z | some z in x; not z] } }", 1),  # in a comprehension of its body
        ("import future.keywords.every\nimport future.keywords.in\nd if { not f(1) }", None),  # its import
        ("xs := input.every\nd if { not f(1) }", None),  # a field named every
        ("f(r) if {\n  every x in r {\n    not x\n  }\n}\nimport future.keywords.every", 2),
    ],
)
def test_every_with_not_in_its_body_is_found_where_it_is(text, line):
    assert every_with_not(text) == line


def test_every_with_not_is_what_regopy_holds_wrongly():
    """The reason for the refusal: were regopy to mend it, this fails and the refusal can go."""
    from reconciler.policy.engine import Module, evaluate

    text = (
        'package main\nimport rego.v1\n\nclosed if {\n  every ip in input.ips {\n    not ip in {"0.0.0.0/0"}\n  }\n}\n'
    )
    assert evaluate([Module("a.rego", text)], '{"ips": ["0.0.0.0/0"]}', ["data.main.closed"]) == {
        "data.main.closed": True
    }
