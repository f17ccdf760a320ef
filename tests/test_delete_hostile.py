"""A cluster delete the API answers but does not make: a 200 it then loses (`dropped`), or a 404 for a cluster that
is there (`vanished`). apply fails the cluster once the settle window shows it is still not DELETING, says so,
never sends the DELETE again and never reports it done; it used to wait out the whole --timeout (30 minutes)."""

import pytest
from apply_helpers import apply_json, clusters_by_name, live, seed, write_fleet
from test_delete import CLUSTER, doomed


@pytest.mark.parametrize("fault", ["dropped", "vanished"])
def test_a_delete_answered_but_not_made_fails_within_the_settle_window(
    tmp_path, sandbox_factory, through_gateway, run_ovhkube, fault
):
    sandbox = sandbox_factory(transition_seconds=1)
    seed(sandbox, live(1, "legacy"))
    gateway, env = through_gateway(sandbox, {("DELETE", CLUSTER): [fault]})
    fleet = write_fleet(tmp_path, doomed("legacy"))
    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", env=env, timeout=60)
    assert result.returncode == 1, result.stderr
    [outcome] = account["clusters"]
    assert outcome["result"] == "failed"
    assert outcome["reason"].startswith("the API answered the delete, but the cluster is still READY, not DELETING")
    assert "the delete was not sent again" in outcome["reason"]
    assert gateway.count("DELETE", CLUSTER) == 0 and "legacy" in clusters_by_name(sandbox)
    assert "done, verified" not in result.stderr
