"""`export --all-projects`: every project the credentials can see, one folder per project, ClusterDefaults only
where they remove lines, a schema modeline right from where each file lies, and a round trip that plans no
changes; per account with `--accounts`."""

import copy

import yaml
from apply_helpers import IPTABLES_30S, IPTABLES_60S, PLUGINS
from test_accounts import CA_CREDENTIALS, CA_KEYS, EU_CREDENTIALS, EU_KEYS, PYTHON_OVH_NAMES, account

PROJECTS = [f"{n:x}" * 32 for n in range(10, 16)]  # aaaa..., bbbb..., ffff...
IPVS_LC = {"ipvs": {"scheduler": "lc", "syncPeriod": "PT45S", "minSyncPeriod": "PT5S"}}


def live_cluster(number: int, name: str, region: str, kube_proxy: dict, mode: str = "iptables") -> dict:
    return {
        "id": f"6f3c1a52-2222-4c1e-9a55-{number:012d}",
        "name": name,
        "region": region,
        "version": "1.31",
        "kubeProxyMode": mode,
        "status": "READY",
        "updatePolicy": "MINIMAL_DOWNTIME",
        "customization": {"apiServer": PLUGINS, "kubeProxy": copy.deepcopy(kube_proxy)},
    }


def six_projects() -> dict:
    """Six projects: four clusters alike in the first (defaults pay), one alone, some of mixed settings, one empty."""
    alike = [live_cluster(n, f"web-{n}", "GRA5", IPTABLES_60S) for n in range(1, 5)]
    return {
        "projects": [
            {"serviceName": PROJECTS[0], "clusters": alike},
            {"serviceName": PROJECTS[1], "clusters": [live_cluster(11, "solo", "BHS5", IPTABLES_30S)]},
            {
                "serviceName": PROJECTS[2],
                "clusters": [
                    live_cluster(21, "a", "GRA7", IPTABLES_30S),
                    live_cluster(22, "b", "SBG5", {"ipvs": {"scheduler": "lc", "syncPeriod": "PT30S"}}, "ipvs"),
                ],
            },
            {"serviceName": PROJECTS[3], "clusters": [live_cluster(31, "c", "GRA9", IPTABLES_60S)]},
            {
                "serviceName": PROJECTS[4],
                "clusters": [live_cluster(n, f"de-{n}", "DE1", IPVS_LC, "ipvs") for n in (41, 42, 43)]
                + [live_cluster(n, f"uk-{n}", "UK1", IPTABLES_30S) for n in (44, 45, 46)],
            },
            {"serviceName": PROJECTS[5], "clusters": []},
        ]
    }


def test_export_all_projects_writes_a_folder_each_and_round_trips_to_no_changes(sandbox, run_ovhkube, tmp_path):
    sandbox.seed(six_projects())
    repo = tmp_path / "repo"
    (repo / "schemas").mkdir(parents=True)
    (repo / "schemas" / "cluster.schema.json").write_text("{}")
    output = repo / "clusters"

    exported = run_ovhkube("export", "--all-projects", "--output", output, env=sandbox.env())

    assert exported.returncode == 0, exported.stderr
    assert "exported 14 cluster(s) of 6 project(s)" in exported.stderr
    folders = {p.name: sorted(f.name for f in p.iterdir()) for p in output.iterdir()}
    assert set(folders) == set(PROJECTS[:5])  # the empty project has nothing to write
    # Clusters alike: the ClusterDefaults document removes lines, so it is written; a cluster alone: never.
    assert folders[PROJECTS[0]] == ["defaults.yaml", "web-1.yaml", "web-2.yaml", "web-3.yaml", "web-4.yaml"]
    assert folders[PROJECTS[1]] == ["solo.yaml"]
    # Two regions, three clusters each, alike within a region: defaults per region, selecting it.
    assert {"defaults-DE1.yaml", "defaults-UK1.yaml"} <= set(folders[PROJECTS[4]])
    de1 = yaml.safe_load((output / PROJECTS[4] / "defaults-DE1.yaml").read_text())
    assert de1["selector"] == {"projects": [PROJECTS[4]], "regions": ["DE1"]}
    assert de1["spec"]["kubeProxyMode"] == "ipvs" and "customization" in de1["spec"]
    for folder, names in folders.items():  # where written, it is shorter than the clusters written whole
        if "defaults.yaml" in names:
            written = sum(len((output / folder / name).read_text().splitlines()) for name in names)
            assert written < _whole_lines(run_ovhkube, sandbox, folder, tmp_path)
    for path in output.rglob("*.yaml"):
        assert path.read_text().startswith("# yaml-language-server: $schema=../../schemas/cluster.schema.json\n")
    web = yaml.safe_load((output / PROJECTS[0] / "web-1.yaml").read_text())
    assert "customization" not in web["spec"]  # moved to the defaults

    again = run_ovhkube("plan", output, "--detailed-exitcode", env=sandbox.env())

    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout


def test_export_all_projects_needs_an_output_folder_and_whole_projects(run_ovhkube, sandbox):
    no_output = run_ovhkube("export", "--all-projects", env=sandbox.env())
    assert no_output.returncode == 1 and "give --output FOLDER" in no_output.stderr
    both = run_ovhkube("export", "--all-projects", "--project", PROJECTS[0], "--output", "x", env=sandbox.env())
    assert both.returncode == 1 and "not with --project or --cluster" in both.stderr
    alone = run_ovhkube("export", "--accounts", "accounts.yaml", "--output", "x", env=sandbox.env())
    assert alone.returncode == 1 and "--accounts needs --all-projects" in alone.stderr
    assert "not with --project" not in alone.stderr


def test_export_all_projects_per_account(sandbox_factory, run_ovhkube, tmp_path):
    """Each account's credentials adopt what they see, under OUTPUT/ACCOUNT/PROJECT; the round trip, with the
    Account documents beside, plans no changes over both accounts."""
    eu, ca = sandbox_factory(), sandbox_factory()
    seed = six_projects()["projects"]
    eu.seed({"projects": seed[:2]})
    ca.seed({"projects": seed[2:4]})
    accounts = tmp_path / "accounts.yaml"
    documents = [
        account("eu", eu.url, PROJECTS[:2], EU_CREDENTIALS),
        account("ca", ca.url, PROJECTS[2:4], CA_CREDENTIALS),
    ]
    accounts.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    env = {k: v for k, v in eu.env().items() if k not in PYTHON_OVH_NAMES} | EU_KEYS | CA_KEYS
    output = tmp_path / "fleet"

    exported = run_ovhkube("export", "--all-projects", "--accounts", accounts, "--output", output, env=env)

    assert exported.returncode == 0, exported.stderr
    assert sorted(str(p.relative_to(output)) for p in output.glob("*/*")) == sorted(
        [f"eu/{PROJECTS[0]}", f"eu/{PROJECTS[1]}", f"ca/{PROJECTS[2]}", f"ca/{PROJECTS[3]}"]
    )
    again = run_ovhkube("plan", output, accounts, "--detailed-exitcode", env=env)
    assert again.returncode == 0, again.stdout + again.stderr


def _whole_lines(run_ovhkube, sandbox, project: str, tmp_path) -> int:
    """The lines of the project exported without defaults (export --project, one file per cluster)."""
    folder = tmp_path / f"whole-{project}"
    assert run_ovhkube("export", "--project", project, "--output", folder, env=sandbox.env()).returncode == 0
    return sum(len(path.read_text().splitlines()) for path in folder.iterdir())
