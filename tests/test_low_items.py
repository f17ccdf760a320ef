"""The small ways outside input could end a run badly: each a clear line, never a crash or a Python word."""

import yaml
from test_export import BATCH, PLAIN, PROJECT

from reconciler.export.documents import file_names


def test_an_overlong_live_name_gets_a_safe_file_name_and_the_rest_are_exported(sandbox, run_ovhkube, tmp_path):
    long_name = "a" * 300
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": [dict(PLAIN, name=long_name), BATCH]}]})

    result = run_ovhkube("export", "--project", PROJECT, "--output", tmp_path / "out", env=sandbox.env())

    assert result.returncode == 0, result.stderr
    names = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert names == ["a" * 100 + ".yaml", "batch.yaml"]
    assert yaml.safe_load((tmp_path / "out" / names[0]).read_text())["metadata"]["name"] == long_name


def test_file_names_stay_short_and_distinct():
    assert file_names(["b" * 300, "b" * 301, "web"]) == ["b" * 100 + ".yaml", "b" * 100 + "-2.yaml", "web.yaml"]


def test_an_absurdly_small_request_rate_is_a_usage_error(sandbox, run_ovhkube, tmp_path):
    from apply_helpers import wanted, write_fleet

    fleet = write_fleet(tmp_path, wanted("web"))
    for rate in ("1e-320", "0.001", "inf"):
        result = run_ovhkube("--max-requests-per-second", rate, "plan", fleet, env=sandbox.env(), timeout=30)
        assert result.returncode == 1
        assert "--max-requests-per-second" in result.stderr and "at least 0.01" in result.stderr
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert sandbox.requests() == []


def test_an_ipv6_zone_index_is_refused_in_ip_restrictions(run_ovhkube, tmp_path):
    from apply_helpers import wanted, write_fleet

    document = wanted("web")
    document["spec"]["ipRestrictions"] = ["203.0.113.0/24", "fe80::1%eth0"]
    fleet = write_fleet(tmp_path, document)

    result = run_ovhkube("validate", fleet)

    assert result.returncode == 1
    assert "spec.ipRestrictions[1]: an IPv6 zone index (%...) names an interface of one machine" in result.stdout


def test_a_live_cluster_with_no_region_is_said_so_never_none(tmp_path):
    from apply_helpers import live, wanted, write_fleet

    from reconciler.files.validate import load_desired
    from reconciler.live.read import LiveCluster, LiveResult
    from reconciler.plan.planner import plan_cluster

    [desired] = load_desired([write_fleet(tmp_path, wanted("web"))]).clusters
    cluster = live(1, "web")
    del cluster["region"]

    change = plan_cluster(desired, LiveResult(found=LiveCluster.of(cluster)))

    assert change.reason == "region_mismatch" and "None" not in change.error
    assert change.error.endswith(
        "spec.region is GRA5 but the API gives no region for the cluster: a region never changes"
    )
