"""The examples: every desired-state file validates, the published schema accepts every document, and the
sandbox seed differs from the files in the ways the demo means to show."""

import json
import subprocess
import sys
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from reconciler.files.validate import load_desired

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
SEED = EXAMPLES / "sandbox-seed.yaml"
DESIRED_FILES = sorted(path for path in EXAMPLES.glob("*.yaml") if path != SEED)
FLEET = EXAMPLES / "fleet"
MODELINE = "# yaml-language-server: $schema=../schemas/cluster.schema.json"


def printed_schema() -> dict:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ovhkube"), "schema"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    return json.loads(result.stdout)


def test_every_example_validates_without_problems():
    loaded = load_desired([str(path) for path in DESIRED_FILES])
    assert loaded.problems == [] and loaded.warnings == []
    assert len(loaded.clusters) == 5


def test_the_readme_example_validates_without_problems(tmp_path):
    """A user starts by copying the README's example: it must be a valid file as it stands."""
    readme = (REPO / "README.md").read_text()
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "cluster.yaml"
    path.write_text(example)
    loaded = load_desired([str(path)])
    assert loaded.problems == [] and loaded.warnings == []
    (cluster,) = loaded.clusters
    assert [pool.name for pool in cluster.node_pools] == ["workers"]


def test_the_examples_folder_validates_and_says_it_skips_the_seed():
    loaded = load_desired([str(EXAMPLES)])
    assert loaded.ok
    assert str(SEED) in [p.file for p in loaded.warnings]
    assert all(p.message.startswith("skipped: not a desired-state file") for p in loaded.warnings)
    assert len(loaded.clusters) == 10  # 5 written out in full, 5 of the fleet/ built on ClusterDefaults
    assert loaded.defaults == 3


def test_the_fleet_example_has_defaults_per_environment_and_exceptions_that_win():
    loaded = load_desired([str(FLEET)])
    assert loaded.ok and loaded.warnings == []
    clusters = {c.name: c for c in loaded.clusters}
    assert {d.name for c in clusters.values() for d in c.defaults} == {"company", "production", "staging"}
    periods = {name: c.customization["kubeProxy"]["iptables"]["syncPeriod"] for name, c in clusters.items()}
    assert periods["market-eu-prod"] == "PT45S" and periods["market-eu-staging"] == "PT30S"
    assert periods["market-batch-prod"] == "PT2M"  # its own value wins
    plugins = clusters["market-cache-staging"].customization["apiServer"]["admissionPlugins"]
    assert plugins == {"enabled": ["NodeRestriction"], "disabled": ["AlwaysPullImages"]}
    for path in FLEET.glob("*.yaml"):
        assert path.read_text().splitlines()[0] == MODELINE.replace("../", "../../"), path
    waves = {c.name: c.wave for c in clusters.values()}
    assert waves == {
        "market-eu-prod": "canary",
        "market-ca-prod": "production",
        "market-batch-prod": "production",
        "market-eu-staging": "staging",
        "market-cache-staging": "staging",
    }


def test_every_example_file_points_editors_at_the_schema():
    for path in DESIRED_FILES:
        assert path.read_text().splitlines()[0] == MODELINE, path


def test_the_printed_schema_is_a_valid_2020_12_schema_that_accepts_every_example():
    schema = printed_schema()
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    files = DESIRED_FILES + sorted(FLEET.glob("*.yaml"))
    documents = [doc for path in files for doc in yaml.safe_load_all(path.read_text())]
    assert len(documents) == 14 and {d["kind"] for d in documents} == {"Cluster", "ClusterDefaults", "Rollout"}
    for document in documents:
        assert list(validator.iter_errors(document)) == []


def test_the_fleet_covers_what_the_demo_shows():
    clusters = load_desired([str(path) for path in DESIRED_FILES]).clusters
    assert len({c.project for c in clusters}) == 2
    assert {c.kube_proxy_mode for c in clusters} == {"iptables", "ipvs"}
    assert {"apiServer"} in [set(c.customization) for c in clusters]
    assert {"apiServer", "kubeProxy"} in [set(c.customization) for c in clusters]
    assert any(c.lifecycle.allow_reset for c in clusters)
    assert any("\n---\n" in path.read_text() for path in DESIRED_FILES)


def seed_clusters() -> dict:
    seed = yaml.safe_load(SEED.read_text())
    return {(p["serviceName"], c["name"]): c for p in seed["projects"] for c in p["clusters"]}


def test_the_seed_differs_from_the_files_in_the_ways_worth_showing():
    desired = {c.key: c for c in load_desired([str(EXAMPLES)]).clusters}
    live = seed_clusters()
    assert len(set(desired) - set(live)) == 1  # one to create
    assert len(set(live) - set(desired)) == 1  # one no file declares
    reset = [k for k in desired if k in live and desired[k].kube_proxy_mode not in (None, live[k]["kubeProxyMode"])]
    assert len(reset) == 1 and desired[reset[0]].lifecycle.allow_reset
    assert all(len(c["id"]) == 36 for c in live.values())
    assert "P0D" in SEED.read_text()  # the API's spelling of zero, to show semantic equality


def test_the_seed_loads_into_the_sandbox(tmp_path):
    state = tmp_path / "sandbox.sqlite3"
    ovhkube = str(Path(sys.executable).parent / "ovhkube")
    result = subprocess.run(
        [ovhkube, "sandbox", "seed", str(SEED), "--state", str(state)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    shown = subprocess.run([ovhkube, "sandbox", "show", "--state", str(state)], capture_output=True, text=True)
    ids = {c["id"] for p in json.loads(shown.stdout)["projects"] for c in p["clusters"]}
    assert ids == {c["id"] for c in seed_clusters().values()}  # fixed ids: demos are stable
