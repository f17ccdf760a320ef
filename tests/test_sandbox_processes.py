"""The sandbox as separate processes: `sandbox serve`, concurrent writers, restarts, seed and show."""

import json
import os
import re
import subprocess
import sys
import threading
from contextlib import contextmanager

import ovh
import pytest

from reconciler.commands.connect import register_endpoint

PROJECT = "0123456789abcdef0123456789abcdef"
KUBE = f"/cloud/project/{PROJECT}/kube"
CLI = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())"]


def cluster_id(number: int) -> str:
    return f"6f3c1a52-0000-4c1e-9a55-{number:012d}"


def fleet_seed(count: int) -> dict:
    clusters = [{"id": cluster_id(n), "name": f"c{n}", "region": "GRA5"} for n in range(count)]
    return {"projects": [{"serviceName": PROJECT, "clusters": clusters}]}


@contextmanager
def serve_process(state, *options, env=None):
    process = subprocess.Popen(
        [*CLI, "sandbox", "serve", "--port", "0", "--state", str(state), "--transition-seconds", "0", *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline().rstrip("\n")
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+/1\.0)", first_line)
        died = process.poll() is not None
        assert match, f"first line {first_line!r}, stderr: {process.stderr.read() if died else ''}"
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()


def client_for(url: str) -> ovh.Client:
    return ovh.Client(register_endpoint(url), "sandbox-ak", "sandbox-as", "sandbox-ck")


def put_in_threads(jobs) -> list[BaseException]:
    """Run (url, path, body) PUTs at once, one thread each; returns the errors."""
    errors, barrier = [], threading.Barrier(len(jobs))

    def put(url, path, body):
        client = client_for(url)
        client.get("/auth/time", _need_auth=False)
        client._time_delta = 0
        barrier.wait()
        try:
            client.call("PUT", path, body)
        except Exception as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=put, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def period(number: int) -> dict:
    return {"kubeProxy": {"iptables": {"syncPeriod": f"PT{number + 1}S"}}}


def plugins(number: int) -> dict:
    """Each plugin's state, as the API answers it: AlwaysPullImages off for odd numbers."""
    off = ["AlwaysPullImages"] if number % 2 else []
    enabled = [plugin for plugin in ("AlwaysPullImages", "NodeRestriction") if plugin not in off]
    return {"apiServer": {"admissionPlugins": {"enabled": enabled, "disabled": off}}}


DEFAULT_PLUGINS = plugins(0)  # both enabled: what a cluster without apiServer customization answers


def test_serve_prints_its_url_first_and_stops_on_sigterm(tmp_path):
    with serve_process(tmp_path / "s.sqlite3") as (process, url):
        assert client_for(url).get("/auth/time", _need_auth=False) > 0
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_50_concurrent_puts_from_threads_lose_no_write(sandbox):
    sandbox.seed(fleet_seed(50))
    errors = put_in_threads([(sandbox.url, f"{KUBE}/{cluster_id(n)}/customization", period(n)) for n in range(50)])
    assert errors == []
    clusters = sandbox.show()["projects"][0]["clusters"]
    assert [c["customization"] for c in clusters] == [period(n) | DEFAULT_PLUGINS for n in range(50)]


def test_two_processes_writing_the_same_clusters_lose_no_write(tmp_path, sandbox_factory):
    state = tmp_path / "shared.sqlite3"
    sandbox_factory(state=state).seed(fleet_seed(50))
    # Both blocks survive under the default reading of a customization PUT, whatever the suite's mode.
    keep = {name: value for name, value in os.environ.items() if name != "OVHKUBE_SANDBOX_PUT_REPLACES_CUSTOMIZATION"}
    with serve_process(state, env=keep) as (_, first), serve_process(state, env=keep) as (_, second):
        # Each cluster gets two PUTs at once, one per process, of different blocks: both must survive.
        jobs = [(first, f"{KUBE}/{cluster_id(n)}/customization", period(n)) for n in range(50)]
        jobs += [(second, f"{KUBE}/{cluster_id(n)}/customization", plugins(n)) for n in range(50)]
        errors = put_in_threads(jobs)
    assert errors == []
    clusters = sandbox_factory(state=state).show()["projects"][0]["clusters"]
    assert [c["customization"] for c in clusters] == [period(n) | plugins(n) for n in range(50)]


def test_a_restart_keeps_the_state(tmp_path, run_ovhkube):
    state = tmp_path / "s.sqlite3"
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(fleet_seed(1)))
    path = f"{KUBE}/{cluster_id(0)}"
    with serve_process(state, "--seed", str(seed_file)) as (_, url):
        client_for(url).call("PUT", f"{path}/customization", period(7))
        client_for(url).post(f"{path}/reset", name="c0", kubeProxyMode="iptables", customization=period(7))
    with serve_process(state) as (_, url):
        cluster = client_for(url).get(path)
    assert cluster["customization"] == period(7) | DEFAULT_PLUGINS and cluster["kubeProxyMode"] == "iptables"
    shown = json.loads(run_ovhkube("sandbox", "show", "--state", state).stdout)
    assert shown["projects"][0]["clusters"][0]["resets"] == 1


def test_seed_then_show_round_trips(tmp_path, run_ovhkube):
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text(
        f"""projects:
  - serviceName: {PROJECT}
    clusters:
      - {{name: my-super-cluster, region: GRA5, version: "1.31", kubeProxyMode: iptables, status: READY,
         customization: {{kubeProxy: {{iptables: {{syncPeriod: PT30S, minSyncPeriod: PT0S}}}}}}}}
      - {{name: other, region: BHS5, status: ERROR, resets: 2, customization: null}}
"""
    )
    seeded = run_ovhkube("sandbox", "seed", seed_file, "--state", tmp_path / "a.sqlite3")
    assert seeded.returncode == 0, seeded.stderr
    first = json.loads(run_ovhkube("sandbox", "show", "--state", tmp_path / "a.sqlite3").stdout)
    clusters = first["projects"][0]["clusters"]
    assert clusters[0]["version"] == "1.31.4" and clusters[0]["resets"] == 0
    assert clusters[0]["customization"]["kubeProxy"]["iptables"]["minSyncPeriod"] == "P0D"
    assert (clusters[1]["status"], clusters[1]["resets"], clusters[1]["customization"]) == ("ERROR", 2, DEFAULT_PLUGINS)
    (tmp_path / "shown.json").write_text(json.dumps(first))
    assert run_ovhkube("sandbox", "seed", tmp_path / "shown.json", "--state", tmp_path / "b.sqlite3").returncode == 0
    again = json.loads(run_ovhkube("sandbox", "show", "--state", tmp_path / "b.sqlite3").stdout)
    assert again == first


def test_a_bad_seed_gets_one_line_per_problem_and_changes_nothing(tmp_path, run_ovhkube):
    state = tmp_path / "s.sqlite3"
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text(
        """projects:
  - serviceName: p1
    clusters:
      - {name: a, kubeProxyMode: nftables}
      - {name: b, region: GRA5, version: "1.x", colour: blue}
"""
    )
    result = run_ovhkube("sandbox", "seed", seed_file, "--state", state)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"error: {seed_file}: projects[0].clusters[0].region: required",
        f'error: {seed_file}: projects[0].clusters[0].kubeProxyMode: "nftables" is not one of iptables, ipvs',
        f'error: {seed_file}: projects[0].clusters[1].version: "1.x" is not a version such as 1.31 or 1.31.4',
        f"error: {seed_file}: projects[0].clusters[1].colour: unknown field",
    ]


@pytest.mark.parametrize("content", ["projects: [", "just text", "projects:\n  - clusters: []\n"])
def test_unreadable_seeds_are_one_line_errors(tmp_path, run_ovhkube, content):
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text(content)
    result = run_ovhkube("sandbox", "seed", seed_file, "--state", tmp_path / "s.sqlite3")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_seed_with_a_yaml_syntax_error_names_its_line_not_pyyamls_unicode_string(tmp_path, run_ovhkube):
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text("projects:\n  - serviceName: [a\n    clusters: []\n")
    result = run_ovhkube("sandbox", "seed", seed_file, "--state", tmp_path / "s.sqlite3")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {seed_file}:3:13: not valid YAML: while parsing a flow sequence ")
    assert "<unicode string>" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_show_without_a_state_is_an_error(tmp_path, run_ovhkube):
    result = run_ovhkube("sandbox", "show", "--state", tmp_path / "none.sqlite3")
    assert result.returncode == 1 and "no sandbox state" in result.stderr
