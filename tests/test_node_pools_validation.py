"""spec.nodePools offline: the shapes and meaning rules, each problem at its FILE:LINE, the desired model, and
ClusterDefaults giving pool settings (never a deletion)."""

import pytest

from reconciler.cli import main
from reconciler.files.validate import load_desired
from reconciler.model import DesiredPool

PROJECT = "0123456789abcdef0123456789abcdef"


def cluster_text(pools: str, extra: str = "", region: str = "GRA7") -> str:  # one zone: no private network needed
    return (
        "apiVersion: ovhkube/v1\nkind: Cluster\nmetadata:\n  name: web\nspec:\n"
        f"  project: {PROJECT}\n  region: {region}\n{extra}  nodePools:\n{pools}"
    )


def problems_of(tmp_path, pools: str, extra: str = "") -> list[str]:
    path = tmp_path / "c.yaml"
    path.write_text(cluster_text(pools, extra))
    loaded = load_desired([str(path)])
    return [str(problem).removeprefix(f"{path}:") for problem in loaded.problems + loaded.warnings]


@pytest.mark.parametrize(
    ("pools", "expected"),
    [
        ("    workers: {flavorName: b3-8, desiredNodes: 3}\n", []),
        (
            "    workers: {flavorName: B3 8}\n",
            ['9:27: spec.nodePools.workers.flavorName: must be a flavor name such as b3-8 or c3-16; got "B3 8"'],
        ),
        ("    Workers: {}\n", ['9:5: spec.nodePools: "Workers" is not a node pool name']),
        (
            "    workers: {minNodes: 3, desiredNodes: 2, maxNodes: 5}\n",
            ["9:42: spec.nodePools.workers.desiredNodes: must not be below minNodes (3); got 2"],
        ),
        (
            "    workers: {desiredNodes: 6, maxNodes: 5}\n",
            ["9:29: spec.nodePools.workers.desiredNodes: must not be above maxNodes (5); got 6"],
        ),
        (
            "    workers: {minNodes: 6, maxNodes: 5}\n",
            ["9:25: spec.nodePools.workers.minNodes: must not be above maxNodes (5); got 6"],
        ),
        ("    workers: {desiredNodes: -1}\n", ["9:29: spec.nodePools.workers.desiredNodes: must be 0 or more; got -1"]),
        (
            "    workers: {desiredNodes: 2.5}\n",
            ["9:29: spec.nodePools.workers.desiredNodes: expected integer, got a number (2.5)"],
        ),
        (
            "    workers: {desiredNodes: 2.0}\n",
            ["9:29: spec.nodePools.workers.desiredNodes: must be a whole number written without a decimal point: 2"],
        ),
        (
            "    workers:\n      autoscaling: {scaleDownUnneededTimeSeconds: 600.0}\n",
            [
                "10:51: spec.nodePools.workers.autoscaling.scaleDownUnneededTimeSeconds: must be a whole number "
                "written without a decimal point: 600"
            ],
        ),
        (
            "    workers: {antiAffinity: true, desiredNodes: 6}\n",
            ["9:49: spec.nodePools.workers.desiredNodes: an anti-affinity pool holds at most 5 nodes; got 6"],
        ),
        (
            "    workers:\n      autoscaling: {scaleDownUtilizationThreshold: 1.5}\n",
            [
                "10:52: spec.nodePools.workers.autoscaling.scaleDownUtilizationThreshold: must be between 0 and 1; "
                "got 1.5"
            ],
        ),
        (
            "    workers:\n      template:\n        spec:\n          taints: [{key: a, value: b, effect: NoRun}]\n",
            [
                "12:47: spec.nodePools.workers.template.spec.taints[0].effect: must be one of: NoSchedule, "
                'PreferNoSchedule, NoExecute; got "NoRun"'
            ],
        ),
        (
            "    workers:\n      template:\n        spec:\n          taints:\n"
            "            - {key: dedicated, effect: NoSchedule}\n            - {key: dedicated, effect: NoSchedule}\n",
            [
                '14:15: spec.nodePools.workers.template.spec.taints[1]: a taint with key "dedicated" and effect '
                "NoSchedule is already listed"
            ],
        ),
        (
            "    workers:\n      template:\n        metadata:\n          labels: {'-tier': web, 'a/b/c': x}\n",
            [
                "12:29: spec.nodePools.workers.template.metadata.labels.-tier: must be a Kubernetes key: an optional "
                "DNS prefix and /, then 63 characters at most of letters, digits, -, _ and ., a letter or digit "
                'first and last; got "-tier"',
                "12:43: spec.nodePools.workers.template.metadata.labels.a/b/c: must be a Kubernetes key: an optional "
                "DNS prefix and /, then 63 characters at most of letters, digits, -, _ and ., a letter or digit "
                'first and last; got "a/b/c"',
            ],
        ),
        (
            "    workers:\n      template:\n        metadata:\n          labels: {tier: 'web app'}\n",
            [
                "12:26: spec.nodePools.workers.template.metadata.labels.tier: must be a Kubernetes label value: "
                "empty, or 63 characters at most of letters, digits, -, _ and ., a letter or digit first and last; "
                'got "web app"'
            ],
        ),
        ("    workers:\n      template:\n        metadata:\n          annotations: {example.com/note: 'a b'}\n", []),
        (
            "    workers: {availabilityZones: [gra7-a, gra7-b]}\n",
            ["9:34: spec.nodePools.workers.availabilityZones: one zone per pool (the API takes only one); got 2"],
        ),
        (
            "    workers: {availabilityZones: [eu-west-gra-a]}\n",
            [
                "9:35: spec.nodePools.workers.availabilityZones[0]: is not a zone of region GRA7 (its zones "
                'are gra7-a, -b, ...); got "eu-west-gra-a"'
            ],
        ),
        (
            "    old: {delete: true, flavorName: b3-8}\n",
            ["9:37: spec.nodePools.old.flavorName: nothing else may be written in a pool marked delete: true"],
        ),
        (
            "    workers: {autoscale: true, desiredNodes: 3, pinDesiredNodes: true}\n",
            [
                "9:46: warning: spec.nodePools.workers.desiredNodes: is pinned while autoscale is true: every apply "
                "will move it back, fighting the autoscaler"
            ],
        ),
        (
            "    workers: {desiredNodes: 3, pinDesiredNodes: true}\n",
            ["9:49: warning: spec.nodePools.workers.pinDesiredNodes: has no effect unless autoscale is true"],
        ),
        ("    workers: {autoscale: on}\n", ["9:26: spec.nodePools.workers.autoscale: expected true or false, got a"]),
    ],
)
def test_pool_rules_each_at_its_line(tmp_path, pools, expected):
    found = problems_of(tmp_path, pools)
    assert len(found) == len(expected), found
    for problem, start in zip(found, expected, strict=True):
        assert problem.startswith(start), problem


def test_the_model_holds_what_each_pool_writes_and_nothing_else(tmp_path):
    pools = (
        "    workers:\n      template: {metadata: {labels: {tier: web}}}\n"
        "    batch: {flavorName: c3-16, autoscale: true, desiredNodes: 2, pinDesiredNodes: true}\n"
        "    old: {delete: true}\n"
    )
    path = tmp_path / "c.yaml"
    path.write_text(cluster_text(pools, "  lifecycle: {allowPoolReplace: true, allowPoolDelete: true}\n"))
    (cluster,) = load_desired([str(path)]).clusters
    assert cluster.node_pools == (
        DesiredPool("workers", {"template": {"metadata": {"labels": {"tier": "web"}}}}),
        DesiredPool("batch", {"flavorName": "c3-16", "autoscale": True, "desiredNodes": 2}, pin_desired_nodes=True),
        DesiredPool("old", {}, delete=True),
    )
    assert cluster.lifecycle.allow_pool_replace and cluster.lifecycle.allow_pool_delete


def test_a_cluster_without_node_pools_declares_none(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(cluster_text("").replace("  nodePools:\n", ""))
    (cluster,) = load_desired([str(path)]).clusters
    assert cluster.node_pools == ()


DEFAULTS = (
    "apiVersion: ovhkube/v1\nkind: ClusterDefaults\nmetadata:\n  name: pools\nselector: {}\nspec:\n"
    "  nodePools:\n    workers: {flavorName: b3-8, template: {metadata: {labels: {tier: web}}}}\n"
)


def test_cluster_defaults_give_pool_settings_and_the_cluster_own_value_wins(tmp_path):
    (tmp_path / "defaults.yaml").write_text(DEFAULTS)
    (tmp_path / "c.yaml").write_text(cluster_text("    workers: {desiredNodes: 2, flavorName: b3-16}\n"))
    (cluster,) = load_desired([str(tmp_path)]).clusters
    (pool,) = cluster.node_pools
    assert pool.fields == {
        "flavorName": "b3-16",
        "template": {"metadata": {"labels": {"tier": "web"}}},
        "desiredNodes": 2,
    }


def test_cluster_defaults_cannot_delete_a_pool(tmp_path):
    (tmp_path / "defaults.yaml").write_text(DEFAULTS.replace("flavorName: b3-8,", "delete: true,"))
    (tmp_path / "c.yaml").write_text(cluster_text("    workers: {}\n"))
    loaded = load_desired([str(tmp_path)])
    assert [str(p).split(": ", 1)[1] for p in loaded.problems] == [
        "spec.nodePools.workers.delete: a permission is refused in ClusterDefaults: what can erase or upgrade a "
        "cluster is allowed cluster by cluster, in the cluster's own document"
    ]


def test_a_pool_problem_merged_from_defaults_is_said_at_the_defaults_line(tmp_path):
    (tmp_path / "defaults.yaml").write_text(DEFAULTS.replace("labels: {tier: web}", "labels: {tier: 'a b'}"))
    (tmp_path / "c.yaml").write_text(cluster_text("    workers: {desiredNodes: 2}\n"))
    (problem,) = load_desired([str(tmp_path)]).problems
    assert (problem.file, problem.line) == (str(tmp_path / "defaults.yaml"), 8)
    assert problem.message.endswith('got "a b" (in the effective settings of cluster web)')


def test_validate_prints_one_line_per_pool_problem_and_exits_1(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(cluster_text("    workers: {minNodes: 3, desiredNodes: 2}\n    batch: {flavorName: 'b3 8'}\n"))
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{path}:9:42: spec.nodePools.workers.desiredNodes: must not be below minNodes (3)")
    assert out[1].startswith(f"{path}:10:25: spec.nodePools.batch.flavorName: ")
