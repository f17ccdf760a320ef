"""A plan that reads at fleet scale: what erases or drains first, identical changes as one group naming each cluster
once, set-valued settings as what is added and removed (an opening to the world said aloud), projects by their
description, and a markdown comment that keeps to the forge's limit.

End to end through the CLI, the real ovh client and the sandbox over HTTP; the grouping rules by tables.
"""

import json
from dataclasses import replace

import pytest

from reconciler.plan.data import Action, Change, ClusterRef
from reconciler.plan.diff import FieldChange
from reconciler.plan.groups import opens_to_the_world, reading_order, set_change
from reconciler.steps import PoolTarget, Step, StepKind

PROJECTS = ("a0" * 16, "b0" * 16)
DESCRIPTIONS = {PROJECTS[0]: "Payments EU", PROJECTS[1]: "Search staging"}
DEFAULTS_LINE = 12  # of syncPeriod in the defaults document below


def live(project_index: int, index: int, **extra) -> dict:
    return {
        "id": f"6f3c1a52-1111-4c1e-9a55-{project_index:04d}{index:08d}",
        "name": f"c{project_index}-{index:02d}",
        "region": "GRA5",
        "version": "1.31",
        "kubeProxyMode": "iptables",
        "status": "READY",
        "updatePolicy": "MINIMAL_DOWNTIME",
        "customization": {"kubeProxy": {"iptables": {"minSyncPeriod": "PT1S", "syncPeriod": "PT30S"}}},
    } | extra


def defaults(sync_period: str) -> str:
    return f"""\
apiVersion: ovhkube/v1
kind: ClusterDefaults
metadata:
  name: nonprod
selector:
  projects: [{PROJECTS[0]}, {PROJECTS[1]}]
spec:
  customization:
    kubeProxy:
      iptables:
        minSyncPeriod: PT1S
        syncPeriod: {sync_period}
"""


def cluster(project_index: int, index: int, own: str = "") -> str:
    return (
        f"apiVersion: ovhkube/v1\nkind: Cluster\nmetadata:\n  name: c{project_index}-{index:02d}\n"
        f"spec:\n  project: {PROJECTS[project_index]}\n  region: GRA5\n{own}"
    )


@pytest.fixture
def forty(sandbox, tmp_path):
    """40 clusters in 2 described projects, one ClusterDefaults selecting them all, its syncPeriod changed."""
    sandbox.seed(
        {
            "projects": [
                {
                    "serviceName": project,
                    "description": DESCRIPTIONS[project],
                    "clusters": [live(p, i) for i in range(20)],
                }
                for p, project in enumerate(PROJECTS)
            ]
        }
    )
    folder = tmp_path / "fleet"
    folder.mkdir()
    (folder / "defaults.yaml").write_text(defaults("PT45S"))
    (folder / "clusters.yaml").write_text("---\n".join(cluster(p, i) for p in range(2) for i in range(20)))
    return folder


def test_one_defaults_line_over_40_clusters_is_one_grouped_entry(forty, sandbox, run_ovhkube):
    markdown = run_ovhkube("plan", forty, "--format", "markdown", env=sandbox.env())
    text = run_ovhkube("plan", forty, env=sandbox.env())

    assert markdown.returncode == 0, markdown.stderr
    body = markdown.stdout
    assert body.count("<details") == 1 and body.count("```diff") == 1
    assert "<b>40 clusters</b>: update (1 change(s), the same on each)" in body
    origin = f'{forty / "defaults.yaml"}:{DEFAULTS_LINE} (ClusterDefaults "nonprod")'
    assert f'~ customization.kubeProxy.iptables.syncPeriod: "PT30S" -> "PT45S"  # {origin}' in body
    for p in range(2):
        for i in range(20):
            assert body.count(f"`c{p}-{i:02d}`") == 1  # each name once
    assert 'a0a0a0a0… "Payments EU"' in body and 'b0b0b0b0… "Search staging"' in body
    assert text.returncode == 0, text.stderr
    assert "# 40 clusters will be updated in place, each the same way:" in text.stdout
    assert '    a0a0a0a0… "Payments EU": c0-00, c0-01,' in text.stdout
    assert text.stdout.count("syncPeriod") == 1


def test_a_reset_comes_first_expanded_with_what_it_erases(forty, sandbox, run_ovhkube):
    reset = "  kubeProxyMode: ipvs\n  lifecycle: {allowReset: true, workerNodesPolicy: reinstall}\n"
    clusters = [cluster(p, i, reset if (p, i) == (1, 19) else "") for p in range(2) for i in range(20)]
    (forty / "clusters.yaml").write_text("---\n".join(clusters))

    markdown = run_ovhkube("plan", forty, "--format", "markdown", env=sandbox.env()).stdout
    text = run_ovhkube("plan", forty, env=sandbox.env()).stdout

    sections = markdown.split("<details")[1:]
    assert len(sections) == 2
    assert sections[0].startswith(" open><summary><b>c1-19</b>") and "ALL KUBERNETES DATA WILL BE ERASED" in markdown
    assert "<b>39 clusters</b>" in sections[1]
    assert text.startswith("# c1-19 (b0b0b0b0…/") and "!!! ALL KUBERNETES DATA WILL BE ERASED" in text.splitlines()[1]


def test_an_upgrade_comes_after_the_reset_and_before_the_group_expanded_with_its_drain(forty, sandbox, run_ovhkube):
    reset = "  kubeProxyMode: ipvs\n  lifecycle: {allowReset: true, workerNodesPolicy: reinstall}\n"
    upgrade = '  version: "1.32"\n  lifecycle: {allowUpgrade: true}\n'
    own = {(1, 19): reset, (0, 3): upgrade}
    (forty / "clusters.yaml").write_text(
        "---\n".join(cluster(p, i, own.get((p, i), "")) for p in range(2) for i in range(20))
    )

    markdown = run_ovhkube("plan", forty, "--format", "markdown", env=sandbox.env()).stdout
    text = run_ovhkube("plan", forty, env=sandbox.env()).stdout

    sections = markdown.split("<details")[1:]
    assert [s.split("</b>")[0].split("<b>")[1] for s in sections] == ["c1-19", "c0-03", "38 clusters"]
    assert sections[1].startswith(" open><summary><b>c0-03</b>") and '-> "1.32"  # ' in sections[1]
    assert (
        '> - `c0-03` (a0a0a0a0… "Payments EU"): UPGRADE: one minor upgrade; every node is drained and replaced'
        in markdown
    )
    headlines = [line for line in text.splitlines() if line.startswith("# ")]
    assert [line.split(" (")[0] for line in headlines] == [
        "# c1-19",
        "# c0-03",
        "# 38 clusters will be updated in place, each the same way:",
    ]
    assert "  !!! UPGRADE: one minor upgrade; every node is drained and replaced" in text


def test_each_project_description_is_one_get_counted_and_json_reads_none(forty, sandbox, run_ovhkube):
    sandbox.forget_requests()
    text = run_ovhkube("plan", forty, "-v", env=sandbox.env())
    gets = [r["path"] for r in sandbox.requests() if r["path"] in {f"/cloud/project/{p}" for p in PROJECTS}]
    sandbox.forget_requests()
    as_json = run_ovhkube("plan", forty, "--format", "json", env=sandbox.env())

    assert sorted(gets) == [f"/cloud/project/{p}" for p in PROJECTS]
    assert "requests: 5 (GET 5)" in text.stderr  # two listings, two descriptions, and the signed clock
    assert not [r for r in sandbox.requests() if r["path"] in {f"/cloud/project/{p}" for p in PROJECTS}]
    assert "Payments EU" not in as_json.stdout


@pytest.mark.parametrize("iam_denied", [(), ("publicCloudProject:apiovh:get",)])
def test_a_project_without_a_readable_description_is_shown_by_its_id(
    sandbox_factory, run_ovhkube, tmp_path, iam_denied
):
    sandbox = sandbox_factory(iam_denied=iam_denied)  # no description in the seed; or its GET refused: the plan goes on
    sandbox.seed({"projects": [{"serviceName": PROJECTS[0], "clusters": [live(0, 0)]}]})
    (tmp_path / "c.yaml").write_text(cluster(0, 0, "  updatePolicy: ALWAYS_UPDATE\n"))

    result = run_ovhkube("plan", tmp_path / "c.yaml", env=sandbox.env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# c0-00 (a0a0a0a0…/6f3c1a52-1111-4c1e-9a55-000000000000) will be updated")


def test_an_allow_list_change_shows_what_is_added_and_removed_and_an_opening_to_the_world(
    sandbox, run_ovhkube, tmp_path
):
    sandbox.seed(
        {
            "projects": [
                {
                    "serviceName": PROJECTS[0],
                    "clusters": [live(0, 0) | {"ipRestrictions": ["203.0.113.0/24", "198.51.100.0/24"]}],
                }
            ]
        }
    )
    own = "  ipRestrictions: [198.51.100.0/24, 0.0.0.0/0]\n"
    (tmp_path / "c.yaml").write_text(cluster(0, 0, own))

    text = run_ovhkube("plan", tmp_path / "c.yaml", env=sandbox.env()).stdout
    markdown = run_ovhkube("plan", tmp_path / "c.yaml", "--format", "markdown", env=sandbox.env()).stdout

    assert '~ ipRestrictions: +"0.0.0.0/0", -"203.0.113.0/24"' in text
    assert "!!! ipRestrictions: 0.0.0.0/0 OPENS THE API SERVER TO THE WHOLE INTERNET !!!" in text
    assert "> [!CAUTION]\n> **1 cluster(s) opened to anyone:**" in markdown
    assert "OPENS THE API SERVER TO THE WHOLE INTERNET" in markdown.split("<details")[1]


def test_the_comment_keeps_to_the_forge_limit_and_says_where_the_full_plan_is(sandbox, run_ovhkube, tmp_path):
    sandbox.seed({"projects": [{"serviceName": PROJECTS[0], "clusters": [live(0, i) for i in range(20)]}]})
    # Each cluster its own syncPeriod: nothing to group, 20 sections.
    periods = [
        f"  customization: {{kubeProxy: {{iptables: {{minSyncPeriod: PT1S, syncPeriod: PT{31 + i}S}}}}}}\n"
        for i in range(20)
    ]
    (tmp_path / "c.yaml").write_text("---\n".join(cluster(0, i, periods[i]) for i in range(20)))

    full = run_ovhkube(
        "plan", tmp_path / "c.yaml", "--format", "markdown", "--comment-limit", "gitlab", env=sandbox.env()
    )
    cut = run_ovhkube("plan", tmp_path / "c.yaml", "--format", "markdown", "--comment-limit", "3000", env=sandbox.env())
    wrong = run_ovhkube("plan", tmp_path / "c.yaml", "--format", "markdown", "--comment-limit", "10", env=sandbox.env())

    assert full.stdout.count("<details>") == 20 and "not shown" not in full.stdout
    assert len(cut.stdout) <= 3000 and cut.stdout.count("<details>") < 20
    assert "more cluster(s) not shown: the comment would pass its limit of 3,000 characters" in cut.stdout
    assert "The full plan is in the job's artifact" in cut.stdout
    assert wrong.returncode == 1 and "--comment-limit" in wrong.stderr and "gitlab" in wrong.stderr


# The rules, by tables


def update(name: str, *diff: FieldChange, warnings: tuple[str, ...] = ()) -> Change:
    ref = ClusterRef(PROJECTS[0], name, "6f3c1a52-1111-4c1e-9a55-000000000000")
    return Change(ref, Action.UPDATE, f"{name}.yaml:1", list(diff), warnings=list(warnings))


def replaced_pool(name: str, *diff: FieldChange) -> Change:
    change = update(name, *diff)
    target = PoolTarget(PROJECTS[0], change.cluster.id, "old-pool")
    return replace(change, steps=[Step(StepKind.POOL_CREATE, target, {}), Step(StepKind.POOL_DELETE, target)])


SYNC = FieldChange("customization.kubeProxy.iptables.syncPeriod", "PT30S", "PT45S", "d.yaml:9", "nonprod")


@pytest.mark.parametrize(
    ("changes", "groups"),
    [
        ([update("a", SYNC), update("b", SYNC)], [["a", "b"]]),
        ([update("a", SYNC), update("b", SYNC, warnings=("busy",))], [["a"], ["b"]]),
        (
            [update("a", SYNC), update("b", FieldChange(SYNC.path, "PT20S", "PT45S", "d.yaml:9", "nonprod"))],
            [["a"], ["b"]],
        ),
        # The same change written in each cluster's own file: one group all the same.
        (
            [
                update("a", FieldChange(SYNC.path, "PT30S", "PT45S", "a.yaml:9")),
                update("b", FieldChange(SYNC.path, "PT30S", "PT45S", "b.yaml:9")),
            ],
            [["a", "b"]],
        ),
        (
            [update("a", SYNC), Change(ClusterRef(PROJECTS[0], "r", "x"), Action.RESET, "r.yaml:1"), update("b", SYNC)],
            [["r"], ["a", "b"]],
        ),
        # What deletes, erases, then drains: in that order, each on its own, before any group.
        (
            [
                update("a", SYNC),
                Change(ClusterRef(PROJECTS[0], "u", "x"), Action.UPGRADE, "u.yaml:1"),
                Change(ClusterRef(PROJECTS[0], "r", "y"), Action.RESET, "r.yaml:1"),
                Change(ClusterRef(PROJECTS[0], "d", "z"), Action.DELETE, "d.yaml:1"),
                update("b", SYNC),
            ],
            [["d"], ["r"], ["u"], ["a", "b"]],
        ),
        # A pool replaced (its old pool deleted) reads like a reset: first, on its own.
        ([update("a", SYNC), replaced_pool("p", SYNC), update("b", SYNC)], [["p"], ["a", "b"]]),
    ],
)
def test_reading_order(changes, groups):
    assert [[c.cluster.name for c in g.changes] for g in reading_order(changes)] == groups


@pytest.mark.parametrize(
    ("path", "before", "after", "added", "removed", "alarm"),
    [
        ("ipRestrictions", ["10.0.0.0/8"], ["10.0.0.0/8", "0.0.0.0/0"], ["0.0.0.0/0"], [], "0.0.0.0/0 OPENS"),
        ("ipRestrictions", ["10.0.0.0/8"], ["::/0"], ["::/0"], ["10.0.0.0/8"], "::/0 OPENS"),
        ("ipRestrictions", ["10.0.0.0/8"], [], [], ["10.0.0.0/8"], "ANYONE MAY REACH"),
        ("ipRestrictions", ["198.51.100.7"], ["198.51.100.7/32", "10.0.0.0/8"], ["10.0.0.0/8"], [], None),
        (
            "customization.apiServer.admissionPlugins.enabled",
            ["NodeRestriction"],
            ["AlwaysPullImages", "NodeRestriction"],
            ["AlwaysPullImages"],
            [],
            None,
        ),
    ],
)
def test_set_valued_settings(path, before, after, added, removed, alarm):
    change = FieldChange(path, before, after)
    members = set_change(change)
    assert members is not None and (members.added, members.removed) == (added, removed)
    said = opens_to_the_world(change)
    assert (said is None) if alarm is None else (alarm in said)


def test_a_json_plan_is_unchanged_by_the_grouping(forty, sandbox, run_ovhkube):
    plan = json.loads(run_ovhkube("plan", forty, "--format", "json", env=sandbox.env()).stdout)
    assert len(plan["changes"]) == 40 and plan["summary"]["update"] == 40
