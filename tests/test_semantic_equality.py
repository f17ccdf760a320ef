"""Values that mean the same compare equal, so a plan right after an apply is empty (no perpetual diffs)."""

import pytest

from reconciler.plan.diff import diff_customization

EQUAL = [
    ("PT60S = PT1M", {"iptables": {"syncPeriod": "PT60S"}}, {"iptables": {"syncPeriod": "PT1M"}}),
    ("PT60S = PT0H1M0S", {"iptables": {"syncPeriod": "PT60S"}}, {"iptables": {"syncPeriod": "PT0H1M0S"}}),
    ("PT0S = P0D", {"ipvs": {"minSyncPeriod": "PT0S"}}, {"ipvs": {"minSyncPeriod": "P0D"}}),
    ("P1D = PT24H", {"ipvs": {"syncPeriod": "P1D"}}, {"ipvs": {"syncPeriod": "PT24H"}}),
    ("zero IPVS timeout = absent", {"ipvs": {"tcpTimeout": "PT0S", "udpTimeout": "P0D"}}, {"ipvs": {}}),
    (
        "null = absent",
        {"iptables": {"syncPeriod": "PT30S", "minSyncPeriod": None}},
        {"iptables": {"syncPeriod": "PT30S"}},
    ),
    ("empty block = absent block", {"iptables": {}, "ipvs": None}, {}),
    ("null live block = empty", {}, None),
]


@pytest.mark.parametrize(("case", "desired", "live"), EQUAL, ids=[case[0] for case in EQUAL])
def test_same_meaning_gives_no_change(case, desired, live):
    assert diff_customization({"kubeProxy": desired}, {"kubeProxy": live}, ["kubeProxy"]) == []


def test_plugin_lists_compare_as_sets():
    desired = {"apiServer": {"admissionPlugins": {"enabled": ["NodeRestriction", "AlwaysPullImages"]}}}
    live = {"apiServer": {"admissionPlugins": {"enabled": ["AlwaysPullImages", "NodeRestriction"], "disabled": []}}}
    assert diff_customization(desired, live, ["apiServer"]) == []


def test_a_real_change_shows_values_as_written():
    desired = {"kubeProxy": {"iptables": {"syncPeriod": "PT2M"}}}
    live = {"kubeProxy": {"iptables": {"syncPeriod": "PT60S", "minSyncPeriod": "PT1S"}}}
    changes = {c.path: (c.before, c.after, c.sign) for c in diff_customization(desired, live, ["kubeProxy"])}
    assert changes == {
        "customization.kubeProxy.iptables.syncPeriod": ("PT60S", "PT2M", "~"),
        "customization.kubeProxy.iptables.minSyncPeriod": ("PT1S", None, "-"),
    }


def test_nonzero_ipvs_timeout_differs_from_zero():
    desired = {"kubeProxy": {"ipvs": {"tcpTimeout": "PT10S"}}}
    live = {"kubeProxy": {"ipvs": {"tcpTimeout": "P0D"}}}
    [change] = diff_customization(desired, live, ["kubeProxy"])
    assert (change.path, change.before, change.after) == ("customization.kubeProxy.ipvs.tcpTimeout", "P0D", "PT10S")


def test_unmanaged_block_is_never_compared():
    desired = {"kubeProxy": {}}
    live = {"apiServer": {"admissionPlugins": {"enabled": ["AlwaysPullImages"]}}, "kubeProxy": {}}
    assert diff_customization(desired, live, desired.keys()) == []
