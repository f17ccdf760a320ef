"""Names and live strings cannot spoof any output: a cluster named with escape codes, a newline, a forged
"No changes." line, a GitHub workflow command, bidi controls, raw HTML and backticks shows as text everywhere."""

import json
import re

import pytest
from apply_helpers import IPTABLES_60S, PROJECT, cluster_id, live, seed, write_fleet

HOSTILE = "\x1b[2J\x1b[H::warning::pwned\nNo changes.\u202eevil\u2028<img src=x onerror=alert(1)>`|\r##[error]x"
COMMAND = re.compile(r"^\s*(::|##\[)", re.MULTILINE)


def assert_inert(text: str, markdown: bool = False) -> None:
    for raw in ("\x1b", "\u202e", "\u2028", "\r", "\x85"):
        assert raw not in text
    assert not COMMAND.search(text), COMMAND.search(text)
    assert not re.search(r"^No changes\.", text, re.MULTILINE)
    if markdown:  # HTML is shown as written inside code; outside it, it is escaped
        outside_code = re.sub(r"```.*?```|(`+).+?\1", "", text, flags=re.DOTALL)
        assert "<img" not in outside_code


def pinned(name: str = "alpha") -> dict:
    """A document pinning the id of the cluster whose live name is hostile: a plan error quoting the live name."""
    spec = {"project": PROJECT, "region": "GRA5", "id": cluster_id(1), "customization": {"kubeProxy": IPTABLES_60S}}
    return {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": {"name": name}, "spec": spec}


@pytest.fixture
def hostile(sandbox, tmp_path):
    seed(sandbox, live(1, HOSTILE))
    return write_fleet(tmp_path, pinned())


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_plan_shows_a_hostile_live_name_as_text(sandbox, run_ovhkube, hostile, fmt):
    result = run_ovhkube("plan", hostile, "--format", fmt, env=sandbox.env())

    assert result.returncode == 1
    assert_inert(result.stdout + result.stderr, markdown=fmt == "markdown")
    assert "pwned" in result.stdout and "evil" in result.stdout  # shown, escaped, not dropped
    if fmt == "json":
        assert "pwned" in json.loads(result.stdout)["changes"][0]["error"]


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "prometheus"])
def test_drift_shows_a_hostile_unmanaged_cluster_as_text(sandbox, run_ovhkube, tmp_path, fmt):
    seed(sandbox, live(1, HOSTILE), live(2, "alpha"))
    fleet = write_fleet(tmp_path, pinned() | {"spec": pinned()["spec"] | {"id": cluster_id(2)}})

    result = run_ovhkube("drift", fleet, "--unmanaged", "--format", fmt, env=sandbox.env())

    assert result.returncode == 2, result.stderr
    assert_inert(result.stdout + result.stderr, markdown=fmt == "markdown")
    assert "pwned" in result.stdout or fmt == "prometheus"  # the metrics name declared clusters only


def test_apply_of_a_plan_quoting_a_hostile_name_prints_it_as_text(sandbox, run_ovhkube, hostile):
    result = run_ovhkube("apply", hostile, "--auto-approve", env=sandbox.env())

    assert result.returncode == 1
    assert_inert(result.stdout + result.stderr)


def test_export_of_a_hostile_name_prints_it_as_text(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, HOSTILE))

    result = run_ovhkube("export", "--project", PROJECT, "--output", tmp_path / "out", env=sandbox.env())

    assert_inert(result.stdout + result.stderr)
    assert "pwned" in result.stderr  # the warning that the name breaks the file format names it


def test_validate_refuses_a_hostile_name_in_one_inert_line(run_ovhkube, tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text(json.dumps(pinned(HOSTILE)))  # JSON is YAML: the escapes make the raw characters

    result = run_ovhkube("validate", path)

    assert result.returncode == 1
    assert_inert(result.stdout + result.stderr)
    [line] = [line for line in (result.stdout + result.stderr).splitlines() if "metadata.name" in line]
    assert "must follow OVHcloud's cluster name rules" in line


@pytest.mark.parametrize("name", ["my_kube_cluster", "payments-prod-01", "a"])
def test_names_within_ovhcloud_rules_validate(run_ovhkube, tmp_path, name):
    path = tmp_path / "ok.yaml"
    path.write_text(json.dumps(pinned(name)))

    assert run_ovhkube("validate", path).returncode == 0


@pytest.mark.parametrize("name", ["1abc", "abc-", "a b", "x" * 65, "café"])
def test_names_outside_ovhcloud_rules_are_refused(run_ovhkube, tmp_path, name):
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps(pinned(name)))

    result = run_ovhkube("validate", path)

    assert result.returncode == 1
    assert "metadata.name: must follow OVHcloud's cluster name rules" in result.stdout + result.stderr
