"""Planning a cluster's node pools, desired x live -> changes, by tables (no process, no HTTP)."""

import pytest

from reconciler.model import DesiredPool, Lifecycle
from reconciler.plan.node_pools import (
    PoolChange,
    PoolChangeKind,
    matching_pool,
    plan_pools,
    replacement_name,
    whole_template,
)

FLAVORS = frozenset({"b3-8", "b3-16", "b3-32", "c3-16"})
TEMPLATE = {
    "metadata": {"annotations": {"a": "1"}, "finalizers": ["x/y"], "labels": {"tier": "web"}},
    "spec": {"taints": [{"key": "k", "value": "", "effect": "NoSchedule"}], "unschedulable": False},
}


def live_pool(name="workers", **fields):
    return {
        "id": f"id-{name}",
        "name": name,
        "flavor": "b3-8",
        "desiredNodes": 3,
        "minNodes": 0,
        "maxNodes": 100,
        "autoscale": False,
        "autoscaling": {
            "scaleDownUnneededTimeSeconds": 600,
            "scaleDownUnreadyTimeSeconds": 1200,
            "scaleDownUtilizationThreshold": 0.5,
        },
        "antiAffinity": False,
        "monthlyBilled": False,
        "availabilityZones": [],
        "attachFloatingIps": {"enabled": False},
        "template": TEMPLATE,
        "status": "READY",
    } | fields


def plan(fields, live=None, lifecycle=None, **pool):
    pools = (DesiredPool("workers", fields, **pool),)
    return plan_pools(pools, [live_pool()] if live is None else live, lifecycle or Lifecycle(), FLAVORS)


def test_a_label_only_template_sends_the_whole_template_with_only_the_labels_changed():
    (change,) = plan({"template": {"metadata": {"labels": {"tier": "api"}}}}).changes
    assert change.kind is PoolChangeKind.UPDATE and change.pool_id == "id-workers"
    assert change.body == {"template": TEMPLATE | {"metadata": TEMPLATE["metadata"] | {"labels": {"tier": "api"}}}}
    assert change.diff == (("nodePools.workers.template.metadata.labels", {"tier": "web"}, {"tier": "api"}),)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"template": {"metadata": {"labels": {"tier": "web"}}}},
        {"template": {"spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]}}},  # value left out = ""
        {"template": {"metadata": {"finalizers": ["x/y"]}, "spec": {"unschedulable": False}}},
        {"flavorName": "b3-8", "availabilityZones": [], "antiAffinity": False, "monthlyBilled": False},
        {"desiredNodes": 3, "minNodes": 0, "maxNodes": 100, "attachFloatingIps": {"enabled": False}},
        {"autoscaling": {"scaleDownUtilizationThreshold": 0.50}},
    ],
)
def test_what_means_the_same_plans_nothing(fields):
    assert plan(fields).changes == ()


def test_an_update_carries_only_the_keys_that_differ():
    (change,) = plan({"desiredNodes": 5, "maxNodes": 100, "autoscaling": {"scaleDownUnneededTimeSeconds": 300}}).changes
    assert change.body == {
        "desiredNodes": 5,
        "autoscaling": {
            "scaleDownUnneededTimeSeconds": 300,
            "scaleDownUnreadyTimeSeconds": 1200,
            "scaleDownUtilizationThreshold": 0.5,
        },
    }


@pytest.mark.parametrize(
    ("fields", "live", "pinned", "body", "warned"),
    [
        ({"autoscale": True, "desiredNodes": 2}, {"autoscale": True, "desiredNodes": 7}, False, None, False),
        ({"desiredNodes": 2}, {"autoscale": True, "desiredNodes": 7}, False, None, False),  # live autoscale owns it
        (
            {"autoscale": True, "desiredNodes": 2},
            {"autoscale": True, "desiredNodes": 7},
            True,
            {"desiredNodes": 2},
            True,
        ),
        (
            {"autoscale": False, "desiredNodes": 2},
            {"autoscale": True},
            False,
            {"desiredNodes": 2, "autoscale": False},
            False,
        ),
    ],
)
def test_with_autoscale_on_desired_nodes_belongs_to_the_autoscaler_unless_pinned(fields, live, pinned, body, warned):
    found = plan(fields, [live_pool(**live)], pin_desired_nodes=pinned)
    assert [change.body for change in found.changes] == ([body] if body else [])
    assert bool(found.warnings) is warned


def test_a_flavor_change_is_refused_without_the_replace_permission():
    found = plan({"flavorName": "b3-16"})
    assert found.changes == ()
    assert found.refused == (
        "nodePools.workers: flavorName b3-8 -> b3-16 cannot change in place; replacing the pool (a new one, then the "
        "old one deleted) needs lifecycle.allowPoolReplace: true",
    )


def test_a_replace_creates_the_next_generation_keeping_every_live_setting_the_file_leaves_out():
    found = plan({"flavorName": "b3-16"}, lifecycle=Lifecycle(allow_pool_replace=True))
    (change,) = found.changes
    assert (change.kind, change.pool_id) == (PoolChangeKind.REPLACE, "id-workers")
    assert change.body == {
        "name": "workers-r1",
        "flavorName": "b3-16",
        "antiAffinity": False,
        "monthlyBilled": False,
        "availabilityZones": [],
        "minNodes": 0,
        "maxNodes": 100,
        "autoscale": False,
        "desiredNodes": 3,
        "attachFloatingIps": {"enabled": False},
        "autoscaling": live_pool()["autoscaling"],
        "template": TEMPLATE,
    }
    assert change.diff == (("nodePools.workers.flavorName", "b3-8", "b3-16"),)


AUTOSCALED = {"autoscale": True, "minNodes": 1, "maxNodes": 10, "desiredNodes": 7}  # the autoscaler's 7


@pytest.mark.parametrize(
    "fields, live, pinned, size",
    [
        ({}, {}, False, 3),  # the file leaves the size out: the live one
        ({"desiredNodes": 5}, {}, False, 5),  # managed by the file (no autoscaler): the file's
        ({"autoscale": True, "desiredNodes": 2}, AUTOSCALED, False, 7),  # the autoscaler's, not a new pool's start
        ({"desiredNodes": 2}, AUTOSCALED, False, 7),  # autoscale on live, left out of the file
        ({"autoscale": True, "desiredNodes": 2}, AUTOSCALED, True, 2),  # pinned: the file's
        ({"minNodes": 5}, {}, False, 5),  # the live size, within the file's bounds
        ({"maxNodes": 2}, {}, False, 2),
    ],
)
def test_a_replacement_starts_at_the_live_size_where_the_file_does_not_manage_it(fields, live, pinned, size):
    found = plan(
        {"flavorName": "b3-16"} | fields,
        live=[live_pool(**live)],
        lifecycle=Lifecycle(allow_pool_replace=True),
        pin_desired_nodes=pinned,
    )
    (change,) = found.changes
    assert change.body["desiredNodes"] == size


def test_a_replacement_keeps_the_live_tuning_and_shows_what_else_the_file_changes():
    live = live_pool(autoscaling={"scaleDownUnneededTimeSeconds": 300, "scaleDownUtilizationThreshold": 0.7})
    live["attachFloatingIps"] = {"enabled": True}
    fields = {"flavorName": "b3-16", "autoscaling": {"scaleDownUtilizationThreshold": 0.4}, "maxNodes": 50}
    (change,) = plan(fields, live=[live], lifecycle=Lifecycle(allow_pool_replace=True)).changes
    assert change.body["autoscaling"] == {"scaleDownUnneededTimeSeconds": 300, "scaleDownUtilizationThreshold": 0.4}
    assert change.body["attachFloatingIps"] == {"enabled": True}
    assert change.diff == (
        ("nodePools.workers.flavorName", "b3-8", "b3-16"),
        ("nodePools.workers.maxNodes", 100, 50),
        ("nodePools.workers.autoscaling.scaleDownUtilizationThreshold", 0.7, 0.4),
    )


def test_a_flavor_the_cluster_does_not_offer_is_an_error_before_any_request():
    assert plan({"flavorName": "b3-99"}, live=[], lifecycle=Lifecycle(allow_pool_replace=True)).errors == (
        'nodePools.workers.flavorName: "b3-99" is not a flavor this cluster offers',
    )


def test_a_missing_pool_is_created_and_one_without_flavor_cannot_be():
    (change,) = plan({"flavorName": "c3-16", "template": {"metadata": {"labels": {"a": "b"}}}}, live=[]).changes
    assert change == PoolChange(
        PoolChangeKind.CREATE,
        "workers",
        None,
        {
            "name": "workers",
            "flavorName": "c3-16",
            "template": whole_template(None, {"metadata": {"labels": {"a": "b"}}}),
        },
        (("nodePools.workers", None, change.body),),
    )
    assert plan({"desiredNodes": 2}, live=[]).errors == (
        "nodePools.workers: no such pool live, and the file gives no flavorName to create it",
    )


def test_delete_is_explicit_and_gated_and_undeclared_pools_are_never_touched():
    others = [live_pool(), live_pool("karpenter-abc")]
    assert plan({}, live=others, delete=True).refused[0].endswith("needs lifecycle.allowPoolDelete: true")
    (change,) = plan({}, live=others, delete=True, lifecycle=Lifecycle(allow_pool_delete=True)).changes
    assert (change.kind, change.pool_id) == (PoolChangeKind.DELETE, "id-workers")
    assert plan({}, live=[live_pool("karpenter-abc")], delete=True).changes == ()


def test_a_pool_stands_for_its_newest_generation():
    live = [live_pool("workers-r1"), live_pool("workers-r2"), live_pool("workers-x")]
    assert matching_pool("workers", live)["name"] == "workers-r2"
    assert replacement_name("workers", live) == "workers-r3"
    # Both live: a replacement stopped before the old pool was deleted; the new one is the pool.
    assert matching_pool("workers", [live_pool("workers"), live_pool("workers-r1")])["name"] == "workers-r1"
    assert matching_pool("workers", [live_pool("workers-x")]) is None
    # A pool the files declare under its own name is never taken for a replacement.
    both = [live_pool("workers"), live_pool("workers-r1")]
    assert matching_pool("workers", both, frozenset({"workers", "workers-r1"}))["name"] == "workers"


def test_what_an_interrupted_replacement_left_is_finished_not_replaced_again():
    live = [live_pool("workers", flavor="b3-8"), live_pool("workers-r1", flavor="b3-16")]
    allowed = Lifecycle(allow_pool_replace=True)
    (change,) = plan({"flavorName": "b3-16"}, live=live, lifecycle=allowed).changes
    assert (change.kind, change.pool_id, change.replacement) == (PoolChangeKind.FINISH, "id-workers", "workers-r1")
    assert plan({"flavorName": "b3-16"}, live=live).refused[0].endswith("needs lifecycle.allowPoolReplace: true")
    # The file moved again meanwhile: the newest is replaced, and the oldest deleted after it; still no -r1 twice.
    changes = plan({"flavorName": "b3-32"}, live=live, lifecycle=allowed).changes
    assert [(c.kind, c.pool_id) for c in changes] == [
        (PoolChangeKind.REPLACE, "id-workers-r1"), (PoolChangeKind.FINISH, "id-workers"),
    ]  # fmt: skip
    assert changes[0].body["name"] == "workers-r2"
