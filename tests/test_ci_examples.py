"""The CI examples: valid YAML, real actions and images, and every ovhkube command they run works as written."""

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
CI = REPO / "examples" / "ci"
GITHUB = [CI / "github" / f"ovhkube-{name}.yml" for name in ("plan", "apply", "drift")]  # the order they run in
GITLAB = CI / "gitlab" / ".gitlab-ci.yml"
CRONJOB = CI / "kubernetes" / "drift-cronjob.yaml"
HOOKS = REPO / ".pre-commit-hooks.yaml"
RELEASE = REPO / ".github" / "workflows" / "release.yml"

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


def test_apply_workflow_applies_the_plan_reviewed_on_the_merged_pull_request_only():
    document = workflow("apply")
    assert triggers(document)["push"]["branches"] == ["main"]
    assert document["concurrency"] == {"group": "ovhkube-apply", "cancel-in-progress": False}  # serialised
    scripts = " ".join(step.get("run", "") for step in steps(document))
    assert "commits/$GITHUB_SHA/pulls" in scripts and "merged_at" in scripts  # found after a squash merge too
    assert 'ovhkube apply --plan reviewed/plan.json --verify-against "$CLUSTERS"' in scripts
    assert "--auto-approve" not in scripts  # never a plan nobody reviewed
    assert "exit 1" in scripts  # no pull request, or no plan: refused


def test_gitlab_applies_the_merge_request_plan_serialised():
    apply = load(GITLAB)["apply"]
    assert apply["resource_group"] == "ovhkube-apply"
    script = "\n".join(apply["script"])
    assert (
        "/merge_requests" in script and 'ovhkube apply --plan reviewed-plan.json --verify-against "$CLUSTERS"' in script
    )
    assert "--auto-approve" not in script


def test_drift_workflow_is_scheduled_and_opens_an_issue_on_exit_2():
    document = workflow("drift")
    assert triggers(document)["schedule"][0]["cron"]
    assert document["permissions"]["issues"] == "write"
    on_drift = [s for s in steps(document) if s.get("if") == "steps.drift.outputs.exitcode == '2'"]
    assert len(on_drift) == 1 and "issues.create" in on_drift[0]["with"]["script"]


CREDENTIALS = ("OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY")


def test_github_secrets_only_in_the_steps_that_call_the_api_read_only_but_for_apply():
    consumer_key = {
        "plan": "OVH_READ_ONLY_CONSUMER_KEY",
        "drift": "OVH_READ_ONLY_CONSUMER_KEY",
        "apply": "OVH_CONSUMER_KEY",
    }
    for name, key in consumer_key.items():
        document = workflow(name)
        assert "secrets." not in str(document.get("env", {})), name  # nothing workflow-wide
        for job in document["jobs"].values():
            assert "secrets." not in str(job.get("env", {})), name
        with_secrets = [step for step in steps(document) if "secrets." in str(step.get("env", {}))]
        assert len(with_secrets) == 1, name
        (step,) = with_secrets
        assert f"ovhkube {name}" in step["run"], name
        assert step["env"]["OVH_CONSUMER_KEY"] == "${{ secrets." + key + " }}"
        assert {k: v for k, v in step["env"].items() if k != "OVH_CONSUMER_KEY"} == {
            k: "${{ secrets." + k + " }}" for k in CREDENTIALS[:2]
        }
    assert workflow("apply")["jobs"]["apply"]["environment"] == "ovhcloud-production"


def test_gitlab_read_only_key_for_merge_requests_and_drift_write_key_for_apply():
    document = load(GITLAB)
    assert "OVH_CONSUMER_KEY" not in document["variables"]  # a project variable would override every job's
    keys = {job: document[job]["variables"]["OVH_CONSUMER_KEY"] for job in ("plan", "apply", "drift")}
    assert keys == {
        "plan": "$OVH_READ_ONLY_CONSUMER_KEY",
        "apply": "$OVH_WRITE_CONSUMER_KEY",
        "drift": "$OVH_READ_ONLY_CONSUMER_KEY",
    }
    header = GITLAB.read_text().split("stages:")[0]
    assert (
        "OVH_READ_ONLY_CONSUMER_KEY   rules of `ovhkube access-rules --read-only`: plan and drift (not protected)"
        in header
    )
    assert "OVH_WRITE_CONSUMER_KEY       rules of `ovhkube access-rules`: apply only (PROTECTED" in header


def test_recipes_install_the_release_s_checked_wheel_from_one_version_variable():
    """The release's wheel and constraints, checked against its SHA256SUMS; the version written once per recipe (this
    one's), and nothing to hand-edit but the name of the repository that publishes the releases."""
    from reconciler import __version__

    for path in [*GITHUB, GITLAB]:
        text = path.read_text()
        assert "pip install ovhkube" not in text and "pip install --quiet ovhkube" not in text
        assert f'  OVHKUBE_VERSION: "{__version__}"\n' in text and text.count(__version__) == 1, path.name
        assert "  OVHKUBE_REPOSITORY: YOUR-ORG/ovhkube\n" in text and text.count("YOUR-ORG") == 1, path.name
        assert "sha256sum --check --ignore-missing SHA256SUMS" in text
        assert re.search(r"pip install (--quiet )?--constraint constraints\.txt \"\./", text)
        assert not re.search(r"REPLACE|REGISTRY|DIGEST|sha256:\.\.\.", text)
    cronjob = CRONJOB.read_text()
    assert f"image: ghcr.io/your-org/ovhkube:{__version__}\n" in cronjob
    assert f"rev: v{__version__}" in HOOKS.read_text()


def test_the_release_is_licensed_and_its_changelog_names_the_tag_the_workflow_expects():
    from reconciler import __version__

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and (REPO / "LICENSE").read_text().startswith("MIT License\n")
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(__version__)}\]", changelog, re.M)
    assert "annotated tag `vX.Y.Z`" in changelog
    release = RELEASE.read_text()
    assert 'test "$GITHUB_REF_NAME" = "v$version"' in release and 'grep -q "^## \\[$version\\]" CHANGELOG.md' in release
    uses = {step.get("uses") for step in steps(load(RELEASE))}
    assert {"docker/build-push-action@v6", "docker/login-action@v3"} <= uses  # the image
    assert "dist/SHA256SUMS" in release and "steps.image.outputs.digest" in release


def test_constraints_pin_every_runtime_dependency_within_the_project_s_bounds():
    from packaging.requirements import Requirement

    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    for dependency in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]:
        requirement = Requirement(dependency)
        pinned = pins.get(requirement.name.lower())
        assert pinned and requirement.specifier.contains(pinned), (dependency, pinned)


def test_gitlab_pipeline_plans_merge_requests_applies_main_and_drifts_on_schedule():
    document = load(GITLAB)
    assert document["default"]["image"] in REAL_IMAGES
    assert document["stages"] == ["validate", "plan", "apply", "drift"]
    rules = {job: str(document[job]["rules"]) for job in ("plan", "apply", "drift")}
    assert "merge_request_event" in rules["plan"]
    assert "CI_DEFAULT_BRANCH" in rules["apply"]
    assert "schedule" in rules["drift"]
    assert document["drift"]["allow_failure"] == {"exit_codes": [2]}
    workflow_rules = document["workflow"]["rules"]  # merge-request pipelines, and no duplicate branch pipeline
    assert workflow_rules[0] == {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}
    assert workflow_rules[1] == {"if": "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "when": "never"}
    for job in ("validate", "plan", "apply", "drift"):
        assert document[job]["stage"] == job and document[job]["script"]


def pod_of(cronjob: dict) -> dict:
    return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def test_kubernetes_cronjob_is_a_valid_cronjob_by_the_kubernetes_schema():
    import kubernetes_validate

    assert kubernetes_validate.validate(load(CRONJOB), "1.31", strict=True) == "1.31"


def restricted_violations(pod: dict) -> list[str]:
    """Pod Security Standards, level "restricted" (kubernetes.io/docs/concepts/security/pod-security-standards),
    the checks a pod spec can fail; [] when it passes."""
    found = []
    allowed_volumes = {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= allowed_volumes:
            found.append(f"volume {volume['name']}: {kinds - allowed_volumes}")
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            found.append(key)
    pod_context = pod.get("securityContext", {})
    for container in pod.get("initContainers", []) + pod["containers"]:
        name, context = container["name"], container.get("securityContext", {})
        if context.get("privileged"):
            found.append(f"{name}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation must be false")
        if "ALL" not in context.get("capabilities", {}).get("drop", []):
            found.append(f"{name}: capabilities must drop ALL")
        if set(context.get("capabilities", {}).get("add", [])) - {"NET_BIND_SERVICE"}:
            found.append(f"{name}: adds capabilities")
        if not context.get("runAsNonRoot", pod_context.get("runAsNonRoot")):
            found.append(f"{name}: runAsNonRoot")
        if context.get("runAsUser", pod_context.get("runAsUser")) == 0:
            found.append(f"{name}: runAsUser 0")
        seccomp = context.get("seccompProfile", pod_context.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{name}: seccompProfile")
        if any(port.get("hostPort") for port in container.get("ports", [])):
            found.append(f"{name}: hostPort")
    return found


def test_kubernetes_cronjob_runs_under_pod_security_restricted():
    pod = pod_of(load(CRONJOB))
    assert restricted_violations(pod) == []
    hostile = json.loads(json.dumps(pod))
    hostile["volumes"].append({"name": "textfile", "hostPath": {"path": "/var/lib/node_exporter"}})
    del hostile["initContainers"][1]["securityContext"]
    assert len(restricted_violations(hostile)) == 3  # the check itself can fail


def test_kubernetes_cronjob_gets_the_whole_tree_from_git_sync_and_pushes_metrics():
    pod = pod_of(load(CRONJOB))
    assert pod["restartPolicy"] == "Never"
    git_sync, drift = pod["initContainers"]
    assert git_sync["image"].startswith("registry.k8s.io/git-sync/git-sync:v4.")
    assert "--one-time" in git_sync["args"] and "--root=/git" in git_sync["args"]
    assert drift["args"][0].startswith(
        "ovhkube drift /git/repo/clusters --unmanaged --format prometheus --out /metrics/"
    )
    assert '[ "$code" -eq 0 ] || [ "$code" -eq 2 ]' in drift["args"][0]  # drift is a result; 1 fails the job
    (push,) = pod["containers"]
    assert "@/metrics/ovhkube_drift.prom" in push["args"] and "/metrics/job/ovhkube_drift" in push["args"][-1]
    assert all(set(volume) == {"name", "emptyDir"} for volume in pod["volumes"])  # no ConfigMap, no hostPath


def check_jsonschema(schema: str, *paths: Path) -> subprocess.CompletedProcess:
    """check-jsonschema with a schema it ships (vendored), and no network: a proxy that does not exist."""
    offline = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    command = [str(Path(sys.executable).parent / "check-jsonschema"), "--builtin-schema", schema, *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, env=offline, timeout=120)


def test_recipes_pass_the_vendored_github_and_gitlab_schemas_offline(tmp_path):
    for schema, paths in (("vendor.github-workflows", [*GITHUB, RELEASE]), ("vendor.gitlab-ci", [GITLAB])):
        result = check_jsonschema(schema, *paths)
        assert result.returncode == 0, (result.stdout, result.stderr)
    broken = tmp_path / "broken.yml"  # the validator does fail, offline, on a recipe gone wrong
    broken.write_text(yaml.safe_dump(workflow("apply") | {"concurrency": {"group": ["not", "a string"]}}))
    assert check_jsonschema("vendor.github-workflows", broken).returncode == 1


def test_pre_commit_hook_checks_the_whole_tree_not_only_the_staged_files():
    (hook,) = load(HOOKS)
    assert hook["id"] == "ovhkube-validate"
    assert (hook["entry"], hook["language"], hook["args"]) == ("ovhkube validate", "python", ["."])
    assert hook["pass_filenames"] is False  # staged files alone would miss a cluster declared twice across files
    pattern = re.compile(hook["files"])
    assert pattern.search("clusters/prod.yaml") and pattern.search("clusters/lab.yml")
    assert not pattern.search("README.md")


def test_pre_commit_hook_catches_a_cross_file_duplicate_and_skips_other_yaml(run_ovhkube, tmp_path):
    """The hook as pre-commit runs it (entry + args, in the repository's top folder)."""
    (hook,) = load(HOOKS)
    cluster = f"apiVersion: ovhkube/v1\nkind: Cluster\nmetadata: {{name: web}}\nspec: {{project: {PROJECT}}}\n"
    (tmp_path / "clusters").mkdir()
    (tmp_path / "clusters" / "web.yaml").write_text(cluster)
    (tmp_path / ".gitlab-ci.yml").write_text("stages: [test]\n")
    (tmp_path / "deploy.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {}\n")
    arguments = shlex.split(hook["entry"])[1:] + hook["args"]

    clean = run_ovhkube(*arguments, cwd=tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout == "1 file, 1 cluster: valid, 2 files skipped (not desired-state files; -v lists them)\n"
    listed = run_ovhkube("-v", *arguments, cwd=tmp_path)
    assert (
        "deploy.yaml:1:1: warning: skipped" in listed.stdout and ".gitlab-ci.yml:1:1: warning: skipped" in listed.stdout
    )

    (tmp_path / "clusters" / "copy.yaml").write_text(cluster)  # the same cluster in a second file
    duplicate = run_ovhkube(*arguments, cwd=tmp_path)
    assert duplicate.returncode == 1
    assert 'cluster "web" of project' in duplicate.stdout and "is already declared at" in duplicate.stdout


# Every ovhkube command line the examples run, run for real against the sandbox.


def shell_scripts() -> list[tuple[str, str]]:
    scripts = [(p.name, step["run"]) for p in GITHUB for step in steps(load(p)) if "run" in step]
    gitlab = load(GITLAB)
    scripts += [
        (".gitlab-ci.yml", line) for job in ("validate", "plan", "apply", "drift") for line in gitlab[job]["script"]
    ]
    drift = pod_of(load(CRONJOB))["initContainers"][1]
    scripts.append((CRONJOB.name, drift["args"][0]))
    hook = load(HOOKS)[0]
    scripts.append((HOOKS.name, " ".join([hook["entry"], *hook["args"]])))
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
        argument = argument.replace("$CLUSTERS", f"{clusters}/").replace("/metrics/", f"{workdir}/")
        argument = {"reviewed/plan.json": "plan.json", "reviewed-plan.json": "plan.json"}.get(argument, argument)
        replaced.append(str(clusters) if argument == "/git/repo/clusters" else argument)
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


# The apply recipe applies the plan the plan recipe saved (its artifact): the plan recipe runs first on its repository.
RUNS_AFTER = {"ovhkube-apply.yml": "ovhkube-plan.yml"}


@pytest.mark.parametrize("source", sorted({source for source, _ in shell_scripts()}))
def test_every_ovhkube_command_in_the_examples_runs_as_written(source, in_sync_repository, sandbox, run_ovhkube):
    """Each recipe on a repository of its own (the recipes run in parallel; the commands of one recipe in order)."""
    workdir = in_sync_repository
    sources = [RUNS_AFTER[source], source] if source in RUNS_AFTER else [source]
    scripts = [script for wanted in sources for name, script in shell_scripts() if name == wanted]
    ran = []
    for script in scripts:
        for arguments in ovhkube_commands(script):
            arguments = concrete(arguments, workdir / "clusters", workdir)
            result = run_ovhkube(*arguments, env=sandbox.env(), cwd=workdir)
            assert result.returncode == 0, (source, arguments, result.stdout, result.stderr)
            ran.append(arguments[0])
    assert ran, f"{source} runs no ovhkube command"
    if any("ovhkube_drift.prom" in script for script in scripts):
        assert (workdir / "ovhkube_drift.prom").read_text().startswith("# HELP ovhkube_cluster_drift ")


def test_the_examples_run_every_command_from_every_recipe():
    ran = {(source, arguments[0]) for source, script in shell_scripts() for arguments in ovhkube_commands(script)}
    assert {command for _, command in ran} == {"validate", "plan", "apply", "drift"}
    assert {source for source, _ in ran} == {
        "ovhkube-plan.yml",
        "ovhkube-apply.yml",
        "ovhkube-drift.yml",
        ".gitlab-ci.yml",
        CRONJOB.name,
        HOOKS.name,
    }


def test_the_image_runs_the_checkout_s_wheel_as_a_non_root_user():
    """The Dockerfile the CronJob's image comes from (no Docker daemon in CI: its instructions are checked)."""
    text = (REPO / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    final = stages[-1]
    pinned = re.compile(r"python:3\.12-slim@(sha256:[0-9a-f]{64})\b")  # the base image by digest, in both stages
    assert all(pinned.match(stage) for stage in stages) and "python -m build --wheel" in stages[0]
    (digest,) = {pinned.match(stage)[1] for stage in stages}
    assert f"python:3.12-slim@{digest}" in (REPO / "docs" / "ci.md").read_text()  # the digest the docs say how to check
    assert "COPY --from=build /dist/ /dist/" in final
    assert "pip install --no-cache-dir --constraint /dist/constraints.txt /dist/*.whl" in final  # pinned dependencies
    (user,) = re.findall(r"^USER (\S+)$", final, flags=re.M)
    assert all(part.isdigit() and int(part) != 0 for part in user.split(":"))  # numeric: runAsNonRoot can check it
    assert '\nENTRYPOINT ["ovhkube"]\n' in final
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".ovhkube", "dist"} <= ignored  # no local state or secrets in the build context
    assert pod_of(load(CRONJOB))["securityContext"]["runAsUser"] == int(user.split(":")[0])
