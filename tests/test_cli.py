"""The CLI's global options: before or after the command, --version, verbose logging without secrets."""

import os
import re

import pytest

from reconciler.cli import hoist_global_options

PROJECT = "0123456789abcdef0123456789abcdef"
FILE = f"""\
apiVersion: ovhkube/v1
kind: Cluster
metadata: {{name: alpha}}
spec: {{project: {PROJECT}, region: GRA5}}
"""


def test_global_options_move_in_front_of_the_command_with_their_values():
    argv = ["plan", "x.yaml", "-v", "--endpoint", "sandbox", "--out=p.json", "--no-color", "--", "-v"]
    assert hoist_global_options(argv) == [
        "-v",
        "--endpoint",
        "sandbox",
        "--no-color",
        "plan",
        "x.yaml",
        "--out=p.json",
        "--",
        "-v",
    ]
    assert hoist_global_options(["--endpoint=ovh-ca", "drift", "d"]) == ["--endpoint=ovh-ca", "drift", "d"]


def test_endpoint_and_verbose_after_the_command_log_each_call_and_no_secret(sandbox, run_ovhkube, tmp_path):
    sandbox.seed({"projects": [{"serviceName": PROJECT, "clusters": []}]})
    path = tmp_path / "alpha.yaml"
    path.write_text(FILE)
    env = sandbox.env(OVH_ENDPOINT="http://127.0.0.1:9/1.0")  # wrong on purpose: the option must win
    result = run_ovhkube("plan", str(path), "--endpoint", sandbox.url, "-v", env=env)
    assert result.returncode == 0, result.stderr
    assert re.search(rf"api: GET /cloud/project/{PROJECT}/kube 200 \d+ ms", result.stderr)
    for secret in ("sandbox-as", "sandbox-ck"):
        assert secret not in result.stderr + result.stdout


def test_version_and_help(run_ovhkube):
    version = run_ovhkube("--version")
    assert version.returncode == 0 and re.fullmatch(r"ovhkube \d+\.\d+\.\d+\n", version.stdout)
    usage = run_ovhkube("plan", "--help")
    assert usage.returncode == 0 and "--detailed-exitcode" in usage.stdout


@pytest.mark.parametrize(
    "command", [["plan"], ["apply"], ["drift"], ["export"], ["validate"], ["show"], ["access-rules"], ["render"]]
)
def test_help_names_what_each_option_takes_not_a_python_type(run_ovhkube, command):
    usage = run_ovhkube(*command, "--help", env={**os.environ, "COLUMNS": "160"})
    options = [line for line in usage.stdout.splitlines() if re.match(r"[│|]\s+--", line)]
    assert options, usage.stdout
    assert not [line for line in options if re.search(r"<(str|list\[str\]|float|int)>", line)], usage.stdout
    assert "{paths}" not in usage.stdout


def test_an_unknown_command_is_a_usage_error_without_a_traceback(run_ovhkube):
    result = run_ovhkube("plna")
    assert result.returncode == 1 and "No such command" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["validate", "plan", "apply", "drift"])
def test_an_input_with_no_cluster_documents_is_an_error_naming_the_paths(sandbox, run_ovhkube, tmp_path, command):
    """A job whose files did not arrive must fail, not report "no changes" or "in sync" forever."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "seed.yaml").write_text("projects: []\n")  # only another tool's YAML
    args = [command, str(tmp_path / "empty"), str(tmp_path / "other"), str(tmp_path / "missing")]
    result = run_ovhkube(*args, *(["--auto-approve"] if command == "apply" else []), env=sandbox.env())
    assert result.returncode == 1, result.stdout + result.stderr
    printed = result.stdout + result.stderr
    for name in ("empty", "other", "missing"):
        assert f"{tmp_path / name}: " in printed
    assert "Traceback" not in printed


def test_values_typed_on_the_command_line_are_quoted_as_json_in_errors_not_as_python_reprs(run_ovhkube, tmp_path):
    (tmp_path / "a.yaml").write_text(FILE)
    access = run_ovhkube("access-rules", "--project", "")
    export = run_ovhkube("export", "--project", 'it"s')
    conformance = run_ovhkube("sandbox", "conformance", "--project", PROJECT, "--write-cluster", "x")
    endpoint = run_ovhkube("--endpoint", "ovh-mars", "plan", tmp_path / "a.yaml")

    assert [r.returncode for r in (access, export, conformance, endpoint)] == [1, 1, 1, 1]
    project_id = "is not a Public Cloud project id (32 lowercase hexadecimal characters)"
    assert access.stderr == f'error: --project "" {project_id}\n'
    assert export.stderr == f'error: --project "it\\"s" {project_id}\n'
    assert conformance.stderr == 'error: --write-cluster "x" is not a cluster id (a lowercase UUID)\n'
    assert endpoint.stderr.startswith('error: unknown endpoint "ovh-mars": use ovh-eu, ')


def test_plan_lists_file_problems_and_warnings_in_one_order_by_file_and_line_as_validate_does(
    sandbox, run_ovhkube, tmp_path
):
    head = FILE.replace("spec: {project: " + PROJECT + ", region: GRA5}\n", "spec:\n  project: " + PROJECT + "\n")
    (tmp_path / "a.yaml").write_text(head + "  region: gra\n  lifecycle: {workerNodesPolicy: delete}\n")

    plan = run_ovhkube("plan", tmp_path / "a.yaml", env=sandbox.env())
    validate = run_ovhkube("validate", tmp_path / "a.yaml")

    assert (plan.returncode, validate.returncode) == (1, 1)
    listed = [
        f'{tmp_path}/a.yaml:6:11: spec.region: must be an OVHcloud region in capitals, e.g. GRA5; got "gra"',
        f"{tmp_path}/a.yaml:7:34: warning: spec.lifecycle.workerNodesPolicy: has no effect unless allowReset is true "
        "(it only applies to a reset)",
    ]
    assert plan.stderr.splitlines() == listed + ["error: 1 problem(s) in the files; no cluster was read from the API"]
    assert validate.stdout.splitlines() == listed + ["1 error in 1 file, 1 warning"]
