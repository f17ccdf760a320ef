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


def _request_line_answer(url: str, line: bytes) -> bytes:
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(line + b"\r\nHost: sandbox\r\n\r\n")
        return connection.recv(4096).split(b"\r\n", 1)[0]


def test_the_sandbox_answers_a_malformed_request_line_with_a_400(sandbox):
    for line in (b"GET  HTTP/1.1", b"GET * HTTP/1.1", b"GET http://elsewhere/1.0/auth/time HTTP/1.1", b"GARBAGE"):
        assert _request_line_answer(sandbox.url, line).startswith(b"HTTP/1.1 400 "), line
    assert _request_line_answer(sandbox.url, b"GET /1.0/auth/time HTTP/1.1") == b"HTTP/1.1 200 OK"


def test_a_corrupt_sandbox_state_or_a_stray_ovhkube_file_is_one_clear_line(run_ovhkube, tmp_path):
    import os

    from apply_helpers import wanted, write_fleet

    fleet = write_fleet(tmp_path, wanted("web"))
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_text("this is no database\n" * 100)
    (tmp_path / ".ovhkube").write_text("a file where the folder goes\n")
    stray = str(tmp_path / ".ovhkube" / "sandbox.sqlite3")
    environment = dict(os.environ, OVHKUBE_LOCK_FILE=str(tmp_path / ".ovhkube" / "apply.lock"))

    runs = [
        (("--endpoint", "sandbox", "plan", fleet), corrupt, f"error: {corrupt} is not a sandbox state"),
        (("sandbox", "show", "--state", corrupt), corrupt, f"error: {corrupt} is not a sandbox state"),
        (("sandbox", "seed", fleet, "--state", corrupt), corrupt, f"error: {corrupt} is not a sandbox state"),
        (("--endpoint", "sandbox", "plan", fleet), stray, f"{tmp_path / '.ovhkube'} is a file, not a folder"),
        (("--endpoint", "sandbox", "apply", fleet), stray, f"{tmp_path / '.ovhkube'} is a file, not a folder"),
    ]
    for args, state, said in runs:
        result = run_ovhkube(*args, env=dict(environment, OVHKUBE_SANDBOX_STATE=str(state)), timeout=60)
        assert result.returncode == 1, (args, result.stderr)
        assert said in result.stderr and "internal error" not in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_live_pool_named_as_a_generation_of_thousands_of_digits_is_another_pool(sandbox, run_ovhkube, tmp_path):
    # NAME-rN names a replacement ovhkube made; an N of 5,000 digits was an internal error (int() refuses 4,300).
    from apply_helpers import live, seed, wanted, write_fleet

    odd = "workers-r" + "9" * 5000
    seed(sandbox, live(1, "web") | {"nodePools": [{"name": odd, "flavor": "b3-8", "desiredNodes": 2}]})
    document = wanted("web")
    document["spec"]["nodePools"] = {"workers": {"flavorName": "b3-8", "desiredNodes": 2}}

    result = run_ovhkube("plan", write_fleet(tmp_path, document), "--detailed-exitcode", env=sandbox.env())

    assert result.returncode == 2, result.stderr  # "workers" is created; the odd pool is not its generation
    assert "+ nodePools.workers:" in result.stdout and "internal error" not in result.stderr


def test_a_listing_that_gives_no_region_is_said_so_end_to_end(sandbox, through_gateway, run_ovhkube, tmp_path):
    import json

    from apply_helpers import live, seed, wanted, write_fleet

    seed(sandbox, live(1, "web"))
    fleet = write_fleet(tmp_path, wanted("web"))

    def no_region(status: int, payload: bytes) -> tuple[int, bytes]:
        return status, json.dumps([{k: v for k, v in c.items() if k != "region"} for c in json.loads(payload)]).encode()

    _, env = through_gateway(sandbox, {("GET", "/kube"): [no_region] * 5})

    result = run_ovhkube("plan", fleet, env=env)

    assert result.returncode == 1
    assert "spec.region is GRA5 but the API gives no region for the cluster: a region never changes" in result.stdout
    assert "None" not in result.stdout + result.stderr
