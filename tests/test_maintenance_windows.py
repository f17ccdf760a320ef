"""Maintenance windows as tables: when a window is open and when it next opens (time zones, midnight, daylight
saving), which planned changes it holds (disruptive ones only) and what apply decides at a given instant. The
clock is a value here; tests/test_maintenance_windows_e2e.py moves it with OVHKUBE_NOW."""

from datetime import UTC, datetime

import pytest
from apply_helpers import IPTABLES_60S, PROJECT, live

from reconciler.apply.cluster import deferral
from reconciler.live.read import LiveCluster, LiveResult
from reconciler.model import DesiredCluster, DesiredPool, Lifecycle
from reconciler.plan.data import Action
from reconciler.plan.planner import plan_cluster
from reconciler.windows import DAYS, MaintenanceWindow, window_problem

WEEKEND_PARIS = MaintenanceWindow(("Sat", "Sun"), "02:00", "PT4H", "Europe/Paris")
LATE_NIGHT_UTC = MaintenanceWindow(("Fri",), "23:00", "PT4H", "UTC")  # runs past midnight into Saturday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# 2026-12-12 is a Saturday; Paris is UTC+1 in December, UTC+2 in summer.
OPEN_CASES = [
    (WEEKEND_PARIS, "2026-12-12T01:00:00+00:00", True),  # Sat 02:00 Paris: opens
    (WEEKEND_PARIS, "2026-12-12T04:59:59+00:00", True),  # Sat 05:59:59 Paris
    (WEEKEND_PARIS, "2026-12-12T05:00:00+00:00", False),  # Sat 06:00 Paris: closed
    (WEEKEND_PARIS, "2026-12-12T00:59:59+00:00", False),  # Sat 01:59:59 Paris
    (WEEKEND_PARIS, "2026-12-14T01:30:00+00:00", False),  # Monday
    (WEEKEND_PARIS, "2026-07-11T00:30:00+00:00", True),  # a summer Saturday, 02:30 Paris (UTC+2)
    (WEEKEND_PARIS, "2026-07-11T04:30:00+00:00", False),  # 06:30 Paris in summer
    (LATE_NIGHT_UTC, "2026-12-11T23:30:00+00:00", True),  # Friday night
    (LATE_NIGHT_UTC, "2026-12-12T02:59:00+00:00", True),  # Saturday, still Friday's window
    (LATE_NIGHT_UTC, "2026-12-12T03:00:00+00:00", False),
    (LATE_NIGHT_UTC, "2026-12-12T23:30:00+00:00", False),  # Saturday night: no window
]


@pytest.mark.parametrize(("window", "instant", "expected"), OPEN_CASES)
def test_when_a_window_is_open(window, instant, expected):
    assert window.is_open(at(instant)) is expected


NEXT_CASES = [
    (WEEKEND_PARIS, "2026-12-14T10:00:00+00:00", "2026-12-19T01:00:00+00:00"),  # Monday -> next Saturday
    (WEEKEND_PARIS, "2026-12-12T06:00:00+00:00", "2026-12-13T01:00:00+00:00"),  # Saturday after -> Sunday
    (WEEKEND_PARIS, "2026-12-12T01:30:00+00:00", "2026-12-13T01:00:00+00:00"),  # open now -> the next one
    # Daylight saving starts on Sunday 2027-03-28 at 02:00 Paris: 02:00 does not exist that day, so the window opens
    # when the clocks read 03:00 (UTC 01:00), as zoneinfo resolves the gap; Saturday before was UTC+1.
    (WEEKEND_PARIS, "2027-03-27T06:00:00+00:00", "2027-03-28T01:00:00+00:00"),
    (LATE_NIGHT_UTC, "2026-12-12T03:00:00+00:00", "2026-12-18T23:00:00+00:00"),
]


@pytest.mark.parametrize(("window", "instant", "expected"), NEXT_CASES)
def test_when_a_window_next_opens(window, instant, expected):
    assert window.next_opening(at(instant)) == at(expected)


def test_a_window_is_said_on_its_own_clock():
    opens = WEEKEND_PARIS.next_opening(at("2026-12-14T10:00:00+00:00"))
    assert WEEKEND_PARIS.local(opens) == "Sat 2026-12-19 02:00 Europe/Paris"
    assert WEEKEND_PARIS.describe() == "Sat,Sun 02:00 for PT4H (Europe/Paris)"


@pytest.mark.parametrize(
    ("window", "problem"),
    [
        (MaintenanceWindow(("Sat",), "02:00", "PT4H", "UTC"), None),
        (MaintenanceWindow(("Someday",), "02:00", "PT4H", "UTC"), "days must be some of Mon, Tue"),
        (MaintenanceWindow(("Sat",), "2:00", "PT4H", "UTC"), 'start "2:00" is no HH:MM'),
        (MaintenanceWindow(("Sat",), "02:00", "P8D", "UTC"), 'duration "P8D" is not from PT1M to P7D'),
        (MaintenanceWindow(("Sat",), "02:00", "PT4H", "Nowhere/Land"), 'unknown time zone "Nowhere/Land"'),
    ],
)
def test_a_window_read_back_from_a_saved_plan_is_checked(window, problem):
    found = window_problem(window)
    assert found is None if problem is None else problem in found


# --- what the planner holds back ---------------------------------------------------------------------------------

MONDAY = at("2026-12-14T10:00:00+00:00")
SATURDAY_NIGHT = at("2026-12-12T02:00:00+00:00")  # 03:00 in Paris: open


def desired(**fields) -> DesiredCluster:
    lifecycle = fields.pop("lifecycle", Lifecycle())
    return DesiredCluster(
        project=PROJECT,
        name="alpha",
        source="fleet.yaml:1",
        lifecycle=Lifecycle(**vars(lifecycle) | {"maintenance_window": WEEKEND_PARIS}),
        **fields,
    )


def found(pools=None, **changed) -> LiveResult:
    cluster = live(1, "alpha") | changed
    return LiveResult(found=LiveCluster(cluster, cluster["customization"], [], {}, pools, frozenset({"b3-8", "b3-16"})))


POOL = {"id": "pool-1", "name": "workers", "flavor": "b3-8", "desiredNodes": 2, "status": "READY"}
PLANNED = {
    "a reset": (desired(kube_proxy_mode="ipvs", lifecycle=Lifecycle(allow_reset=True)), found(), Action.RESET, True),
    "an upgrade": (desired(version="1.32", lifecycle=Lifecycle(allow_upgrade=True)), found(), Action.UPGRADE, True),
    "a pool replaced": (
        desired(
            node_pools=(DesiredPool("workers", {"flavorName": "b3-16"}),),
            lifecycle=Lifecycle(allow_pool_replace=True),
        ),
        found(pools=[POOL]),
        Action.UPDATE,
        True,
    ),
    "a pool deleted": (
        desired(node_pools=(DesiredPool("workers", delete=True),), lifecycle=Lifecycle(allow_pool_delete=True)),
        found(pools=[POOL]),
        Action.UPDATE,
        True,
    ),
    "an update in place": (desired(customization={"kubeProxy": IPTABLES_60S}), found(), Action.UPDATE, False),
    "a pool resized": (
        desired(node_pools=(DesiredPool("workers", {"desiredNodes": 3}),)),
        found(pools=[POOL]),
        Action.UPDATE,
        False,
    ),
}


@pytest.mark.parametrize("case", PLANNED)
def test_only_a_disruptive_change_is_held_by_the_window(case):
    wanted, result, action, disruptive = PLANNED[case]
    outside = plan_cluster(wanted, result, now=MONDAY)
    inside = plan_cluster(wanted, result, now=SATURDAY_NIGHT)
    assert outside.action is inside.action is action
    if disruptive:
        assert outside.maintenance_window == inside.maintenance_window == WEEKEND_PARIS
        assert outside.deferred_until == "2026-12-19T01:00:00Z"
        assert inside.deferred_until is None
        assert outside.steps == inside.steps  # the plan keeps what a later apply inside the window sends
    else:
        assert outside.maintenance_window is outside.deferred_until is None
        assert deferral(outside, MONDAY) is None


def test_apply_starts_a_held_change_only_while_its_window_is_open():
    wanted, result, _, _ = PLANNED["a reset"]
    planned_inside = plan_cluster(wanted, result, now=SATURDAY_NIGHT)
    assert deferral(planned_inside, SATURDAY_NIGHT) is None
    after_it_closed = deferral(planned_inside, at("2026-12-12T05:00:00+00:00"))
    assert after_it_closed == (
        "deferred until Sun 2026-12-13 02:00 Europe/Paris (2026-12-13T01:00:00Z): outside its maintenance window "
        "Sat,Sun 02:00 for PT4H (Europe/Paris); nothing was sent"
    )
    planned_outside = plan_cluster(wanted, result, now=MONDAY)
    assert deferral(planned_outside, MONDAY) is not None
    assert deferral(planned_outside, at("2026-12-19T01:00:00+00:00")) is None  # the window it waited for


def test_the_schemas_name_the_days_the_windows_know():
    from reconciler.files.schema import PLAN_SCHEMA_NAME, load_schema

    lifecycle = load_schema()["$defs"]["specFields"]["properties"]["lifecycle"]["properties"]
    assert lifecycle["maintenanceWindow"]["properties"]["days"]["items"]["enum"] == list(DAYS)
    plan_window = load_schema(PLAN_SCHEMA_NAME)["$defs"]["maintenanceWindow"]["properties"]
    assert plan_window["days"]["items"]["enum"] == list(DAYS)
