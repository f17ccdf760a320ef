"""The CI examples: valid YAML, real actions and images, and every ovhkube command they run works as written."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
CI = REPO / "examples" / "ci"
GITHUB = [CI / "github" / f"ovhkube-{name}.yml" for name in ("plan", "apply", "drift")]  # the order they run in
GITLAB = CI / "gitlab" / ".gitlab-ci.yml"
CRONJOB = CI / "kubernetes" / "drift-cronjob.yaml"
HOOKS = REPO / ".pre-commit-hooks.yaml"

# Actions that exist, at the major versions the examples pin.
REAL_ACTIONS = {
    "actions/checkout@v4",
    "actions/setup-python@v5",
    "actions/upload-artifact@v4",
    "actions/github-script@v7",
    "marocchino/sticky-pull-request-comment@v2",
}
REAL_IMAGES = {"python:3.12-slim"}
PROJECT = "0123456789abcdef0123456789abcdef"
SHELL_OPERATORS = {";", "&&", "||", "|", ">", ">>", "<", "&"}


def load(path: Path):
    return yaml.safe_load(path.read_text())


def workflow(name: str) -> dict:
    return load(CI / "github" / f"ovhkube-{name}.yml")


def steps(document: dict) -> list[dict]:
    return [step for job in document["jobs"].values() for step in job["steps"]]


def triggers(document: dict) -> dict:
    return document.get("on", document.get(True))  # PyYAML reads a bare `on:` key as the boolean true


def test_github_workflows_are_jobs_of_real_actions():
    assert sorted((CI / "github").glob("*.yml")) == sorted(GITHUB)
    for path in GITHUB:
        document = load(path)
        for job in document["jobs"].values():
            assert job["runs-on"] == "ubuntu-latest"
            assert job["steps"], path
        used = {step["uses"] for step in steps(document) if "uses" in step}
        assert used <= REAL_ACTIONS, (path.name, used - REAL_ACTIONS)
        for step in steps(document):
            assert ("uses" in step) != ("run" in step), (path.name, step)


def test_plan_workflow_comments_once_and_keeps_the_plan():
    document = workflow("plan")
    assert "pull_request" in triggers(document)
    assert document["permissions"]["pull-requests"] == "write"
    by_use = {step.get("uses"): step for step in steps(document)}
    assert by_use["marocchino/sticky-pull-request-comment@v2"]["with"]["header"] == "ovhkube-plan"
    assert by_use["actions/upload-artifact@v4"]["with"]["path"] == "plan.json"
    scripts = " ".join(step.get("run", "") for step in steps(document))
    assert "ovhkube plan" in scripts and "--format markdown" in scripts and "--out plan.json" in scripts


def test_apply_workflow_runs_on_main_from_the_saved_plan_or_a_fresh_one():
    document = workflow("apply")
    assert triggers(document)["push"]["branches"] == ["main"]
    assert document["concurrency"]["cancel-in-progress"] is False
    scripts = " ".join(step.get("run", "") for step in steps(document))
    assert "ovhkube apply --plan" in scripts and "--auto-approve" in scripts


def test_drift_workflow_is_scheduled_and_opens_an_issue_on_exit_2():
    document = workflow("drift")
    assert triggers(document)["schedule"][0]["cron"]
    assert document["permissions"]["issues"] == "write"
    on_drift = [s for s in steps(document) if s.get("if") == "steps.drift.outputs.exitcode == '2'"]
    assert len(on_drift) == 1 and "issues.create" in on_drift[0]["with"]["script"]


def test_credentials_come_from_repository_secrets_only():
    for path in GITHUB:
        env = load(path)["env"]
        for key in ("OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"):
            assert env[key] == "${{ secrets." + key + " }}", path.name


def test_gitlab_pipeline_plans_merge_requests_applies_main_and_drifts_on_schedule():
    document = load(GITLAB)
    assert document["default"]["image"] in REAL_IMAGES
    assert document["stages"] == ["validate", "plan", "apply", "drift"]
    rules = {job: str(document[job]["rules"]) for job in ("plan", "apply", "drift")}
    assert "merge_request_event" in rules["plan"]
    assert "CI_DEFAULT_BRANCH" in rules["apply"]
    assert "schedule" in rules["drift"]
    assert document["drift"]["allow_failure"] == {"exit_codes": [2]}
    for job in ("validate", "plan", "apply", "drift"):
        assert document[job]["stage"] == job and document[job]["script"]


def test_kubernetes_cronjob_writes_the_metric_file_with_a_real_image():
    document = load(CRONJOB)
    assert (document["apiVersion"], document["kind"]) == ("batch/v1", "CronJob")
    pod = document["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["image"] in REAL_IMAGES
    assert "--format prometheus" in container["args"][0]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["textfile"]["hostPath"]["path"] == "/var/lib/node_exporter/textfile_collector"
    assert f"--out {mounts['textfile']}/" in container["args"][0]


def test_pre_commit_hook_validates_yaml_files():
    (hook,) = load(HOOKS)
    assert hook["id"] == "ovhkube-validate"
    assert (hook["entry"], hook["language"]) == ("ovhkube validate", "python")
    pattern = re.compile(hook["files"])
    assert pattern.search("clusters/prod.yaml") and pattern.search("clusters/lab.yml")
    assert not pattern.search("README.md")


# Every ovhkube command line the examples run, run for real against the sandbox.


def shell_scripts() -> list[tuple[str, str]]:
    scripts = [(p.name, step["run"]) for p in GITHUB for step in steps(load(p)) if "run" in step]
    gitlab = load(GITLAB)
    scripts += [
        (".gitlab-ci.yml", line) for job in ("validate", "plan", "apply", "drift") for line in gitlab[job]["script"]
    ]
    container = load(CRONJOB)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    scripts.append((CRONJOB.name, container["args"][0]))
    scripts.append((HOOKS.name, load(HOOKS)[0]["entry"] + " clusters/web.yaml"))
    return scripts


def ovhkube_commands(script: str) -> list[list[str]]:
    """The arguments of each `ovhkube ...` command in a shell script (up to a redirection or the next command)."""
    commands = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
        for index, token in enumerate(tokens):
            starts_command = index == 0 or tokens[index - 1] in SHELL_OPERATORS
            if starts_command and Path(token).name == "ovhkube":
                arguments = []
                for argument in tokens[index + 1 :]:
                    if argument in SHELL_OPERATORS:
                        break
                    arguments.append(argument)
                commands.append(arguments)
    return commands


def concrete(arguments: list[str], clusters: Path, workdir: Path) -> list[str]:
    """The example's placeholders made real: its cluster folder, its output folder, the saved plan."""
    replaced = []
    for argument in arguments:
        argument = argument.replace("$CLUSTERS", f"{clusters}/").replace("/textfile/", f"{workdir}/")
        argument = argument.replace("${{ steps.saved.outputs.plan }}", "plan.json")
        replaced.append(str(clusters) if argument == "/clusters" else argument)
    return replaced


@pytest.fixture
def in_sync_repository(sandbox, run_ovhkube, tmp_path):
    """A repository checkout whose clusters/ folder matches the sandbox (made with export)."""
    cluster = {
        "name": "web",
        "region": "GRA7",
        "version": "1.31",
        "kubeProxyMode": "ipvs",
        "customization": {"kubeProxy": {"ipvs": {"scheduler": "rr", "syncPeriod": "PT30S"}}},
    }
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": [cluster]}]})
    exported = run_ovhkube("export", "--project", PROJECT, "--output", tmp_path / "clusters", env=sandbox.env())
    assert exported.returncode == 0, exported.stderr
    return tmp_path


def test_every_ovhkube_command_in_the_examples_runs_as_written(in_sync_repository, sandbox, run_ovhkube):
    workdir = in_sync_repository
    ran = []
    for source, script in shell_scripts():
        for arguments in ovhkube_commands(script):
            arguments = concrete(arguments, workdir / "clusters", workdir)
            result = run_ovhkube(*arguments, env=sandbox.env(), cwd=workdir)
            assert result.returncode == 0, (source, arguments, result.stdout, result.stderr)
            ran.append((source, arguments[0]))
    assert {command for _, command in ran} == {"validate", "plan", "apply", "drift"}
    assert {source for source, _ in ran} == {
        "ovhkube-plan.yml",
        "ovhkube-apply.yml",
        "ovhkube-drift.yml",
        ".gitlab-ci.yml",
        CRONJOB.name,
        HOOKS.name,
    }
    assert (workdir / "ovhkube_drift.prom").read_text().startswith("# HELP ovhkube_cluster_drift ")
