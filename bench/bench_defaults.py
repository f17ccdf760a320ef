"""`ovhkube validate` and `plan` of 1,000 clusters built on 10 ClusterDefaults documents, against the same fleet
written out in full (every cluster document holding its effective settings).

The fleet spans 50 projects of 20 clusters (the API's per-project cap), three regions and three environments;
each cluster is selected by four defaults documents (company, environment, region, project group) that write
different fields, and every tenth cluster has its own syncPeriod. Live state differs from the files on the
production clusters' syncPeriod, so the plan has updates to make. Whole processes, interleaved (defaults, full,
defaults, ...) so the shared machine's noise falls on both alike; medians. Goal: at most 1.2x the full fleet.
"""

import json
import subprocess
import tempfile
from pathlib import Path

import yaml

from bench.fleet import CLI, LOAD_NOTE, cluster_name, medians, project_id, sandbox_server, timed_run

CLUSTERS = 1000
PER_PROJECT = 20
PER_FILE = 100
RUNS = 7
GOAL_RATIO = 1.2
REGIONS = ("GRA7", "SBG5", "BHS5")
ENVS = {"production": "PT45S", "staging": "PT30S", "dev": "PT1M"}
PLUGINS = {"GRA7": ["AlwaysPullImages", "NodeRestriction"], "SBG5": ["NodeRestriction"], "BHS5": ["NodeRestriction"]}
PROJECTS = [project_id(index) for index in range(CLUSTERS // PER_PROJECT)]
GROUPS = [PROJECTS[0:17], PROJECTS[17:34], PROJECTS[34:]]
VERSIONS = ("1.31", "1.32", "1.31")


def clusters() -> list[dict]:
    """Identity, labels and exceptions of each cluster, with the effective settings the defaults give it."""
    fleet = []
    for index in range(CLUSTERS):
        project = PROJECTS[index // PER_PROJECT]
        env, region = list(ENVS)[index % 3], REGIONS[(index // 3) % 3]
        group = next(g for g, projects in enumerate(GROUPS) if project in projects)
        own = {"syncPeriod": "PT2M"} if index % 10 == 0 else {}
        fleet.append(
            {
                "name": cluster_name(index),
                "id": f"00000000-0000-4000-8000-{index:012d}",
                "project": project,
                "region": region,
                "env": env,
                "own": own,
                "effective": {
                    "version": VERSIONS[group],
                    "kubeProxyMode": "iptables",
                    "customization": {
                        "apiServer": {"admissionPlugins": {"enabled": PLUGINS[region]}},
                        "kubeProxy": {"iptables": {"minSyncPeriod": "PT1S", "syncPeriod": ENVS[env], **own}},
                    },
                },
            }
        )
    return fleet


def defaults_documents() -> list[dict]:
    def document(name: str, selector: dict, spec: dict) -> dict:
        return {
            "apiVersion": "ovhkube/v1",
            "kind": "ClusterDefaults",
            "metadata": {"name": name},
            **{"selector": selector, "spec": spec},
        }

    documents = [document("company", {}, {"kubeProxyMode": "iptables"})]
    for env, period in ENVS.items():
        tuning = {"kubeProxy": {"iptables": {"minSyncPeriod": "PT1S", "syncPeriod": period}}}
        documents.append(document(env, {"matchLabels": {"env": env}}, {"customization": tuning}))
    for region, plugins in PLUGINS.items():
        block = {"apiServer": {"admissionPlugins": {"enabled": plugins}}}
        documents.append(document(f"region-{region}", {"regions": [region]}, {"customization": block}))
    for group, projects in enumerate(GROUPS):
        documents.append(document(f"projects-{group}", {"projects": projects}, {"version": VERSIONS[group]}))
    return documents


def cluster_document(cluster: dict, full: bool) -> dict:
    spec = {"project": cluster["project"], "region": cluster["region"]}
    if full:
        spec |= cluster["effective"]
    elif cluster["own"]:
        spec["customization"] = {"kubeProxy": {"iptables": cluster["own"]}}
    metadata = {"name": cluster["name"], "labels": {"env": cluster["env"]}}
    return {"apiVersion": "ovhkube/v1", "kind": "Cluster", "metadata": metadata, "spec": spec}


def write_fleet(folder: Path, fleet: list[dict], full: bool) -> None:
    folder.mkdir(parents=True)
    if not full:
        (folder / "defaults.yaml").write_text(yaml.safe_dump_all(defaults_documents(), sort_keys=False))
    for start in range(0, len(fleet), PER_FILE):
        documents = [cluster_document(c, full) for c in fleet[start : start + PER_FILE]]
        (folder / f"clusters-{start:04d}.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))


def write_seed(path: Path, fleet: list[dict]) -> None:
    """Live state: the effective settings, except production's syncPeriod (PT30S live), so the plan updates."""
    projects: dict[str, list] = {}
    for cluster in fleet:
        live = json.loads(json.dumps(cluster["effective"]))
        if cluster["env"] == "production" and not cluster["own"]:
            live["customization"]["kubeProxy"]["iptables"]["syncPeriod"] = "PT30S"
        live["customization"]["apiServer"]["admissionPlugins"]["disabled"] = []
        entry = {"id": cluster["id"], "name": cluster["name"], "region": cluster["region"], "status": "READY"}
        projects.setdefault(cluster["project"], []).append(entry | live)
    seed = {"projects": [{"serviceName": name, "clusters": items} for name, items in projects.items()]}
    path.write_text(yaml.safe_dump(seed))


def same_plan(env: dict, first: Path, second: Path) -> int:
    """Both fleets plan the same actions and requests; the number of updates."""
    plans = []
    for folder in (first, second):
        result = subprocess.run(CLI + ["plan", str(folder), "--format", "json"], env=env, capture_output=True)
        plan = json.loads(result.stdout)
        plans.append([(c["cluster"], c["action"], c["requests"]) for c in plan["changes"]])
    if plans[0] != plans[1]:
        raise RuntimeError("the fleet with defaults and the fleet written out in full plan differently")
    return sum(action == "update" for _, action, _ in plans[0])


def run() -> str:
    fleet = clusters()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        with_defaults, written_out = root / "with-defaults", root / "written-out"
        write_fleet(with_defaults, fleet, full=False)
        write_fleet(written_out, fleet, full=True)
        write_seed(root / "seed.yaml", fleet)
        sizes = {
            name: sum(p.stat().st_size for p in path.iterdir())
            for name, path in (("defaults", with_defaults), ("full", written_out))
        }
        with sandbox_server(root / "state.sqlite3", root / "seed.yaml") as env:
            updates = same_plan(env, with_defaults, written_out)
            for command in (["validate"], ["plan", "--format", "json"]):
                runs: dict[str, list] = {"defaults": [], "full": []}
                for _ in range(RUNS):
                    for name, path in (("defaults", with_defaults), ("full", written_out)):
                        runs[name].append(timed_run([command[0], str(path), *command[1:]], env))
                got = {name: medians(items) for name, items in runs.items()}
                ratio = got["defaults"]["wall"] / got["full"]["wall"]
                verdict = "within" if ratio <= GOAL_RATIO else "OVER"
                full, ours = got["full"], got["defaults"]
                rows.append(
                    f"| `{' '.join(command)}` | {full['wall']:.2f} | {ours['wall']:.2f} "
                    f"| {ratio:.2f}x ({verdict} {GOAL_RATIO}x) | {full['cpu']:.2f} | {ours['cpu']:.2f} "
                    f"| {full['rss_mb']:.0f} / {ours['rss_mb']:.0f} |"
                )
    return "\n".join(
        [
            f"## defaults: {CLUSTERS} clusters on 10 ClusterDefaults against the same fleet written out in full",
            "",
            f"{CLUSTERS} clusters in {len(PROJECTS)} projects, {PER_FILE} documents a file; with defaults, each "
            "cluster document holds its identity and labels (every tenth also its own syncPeriod) and "
            "10 ClusterDefaults (company, 3 environments, 3 regions, 3 project groups) give the rest, four "
            "selecting each cluster. "
            f"Files: {sizes['defaults'] // 1024} KiB with defaults, {sizes['full'] // 1024} KiB written out. Both "
            f"plan the same {updates} updates (checked before timing). Whole processes against a local sandbox with "
            f"no added latency (the merge's cost is not hidden behind the network), interleaved, median of {RUNS}. "
            f"Goal: with defaults at most {GOAL_RATIO}x the fleet written out.",
            "",
            "| command | written out: wall (s) | with defaults: wall (s) | ratio | written out: CPU (s) "
            "| with defaults: CPU (s) | peak RSS (MB) |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            LOAD_NOTE,
        ]
    )
