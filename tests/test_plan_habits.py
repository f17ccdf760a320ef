"""Terraform habits around plan: the command that applies a saved plan, `show` of a saved plan (offline), the
warning under --target, and the hint for a long option typed with one dash."""

import json
import os
import shlex
import subprocess
import sys

from apply_helpers import IPTABLES_60S, MORE_PLUGINS, live, seed, wanted, write_fleet


def two_updates(sandbox, tmp_path) -> str:
    seed(sandbox, live(1, "alpha"), live(2, "beta"))
    return write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S), wanted("beta", apiServer=MORE_PLUGINS))


def no_credentials() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("OVH_")} | {"NO_COLOR": "1"}


def test_plan_out_says_the_command_that_applies_exactly_that_plan_and_it_does(sandbox, run_ovhkube, tmp_path):
    fleet = two_updates(sandbox, tmp_path)
    plan_file = tmp_path / "my plan.json"

    planned = run_ovhkube(
        "--endpoint", sandbox.url, "plan", fleet, "--out", plan_file, "--format", "json", env=sandbox.env()
    )

    assert planned.returncode == 0, planned.stderr
    json.loads(planned.stdout)  # stdout stays one JSON document: the advice is on stderr
    said = planned.stderr.splitlines()
    command = said[said.index(f"Saved the plan to {plan_file}. To apply exactly this plan, run:") + 1].strip()
    assert command == f"ovhkube --endpoint {sandbox.url} apply --plan {shlex.quote(str(plan_file))}"
    applied = run_ovhkube(*shlex.split(command)[1:], env=sandbox.env())
    assert applied.returncode == 0, applied.stderr
    assert "Apply complete: 0 created, 2 updated, 0 upgraded, 0 reset, 0 failed." in applied.stdout


def test_show_renders_a_saved_plan_in_each_format_with_no_api_and_no_credentials(sandbox, run_ovhkube, tmp_path):
    fleet = two_updates(sandbox, tmp_path)
    plan_file = tmp_path / "plan.json"
    planned = run_ovhkube("plan", fleet, "--out", plan_file, env=sandbox.env())
    sandbox.stop()  # no API from here on

    text = run_ovhkube("show", plan_file, env=no_credentials())
    as_json = run_ovhkube("show", plan_file, "--format", "json", env=no_credentials())
    markdown = run_ovhkube("show", plan_file, "--format", "markdown", env=no_credentials())

    assert (text.returncode, as_json.returncode, markdown.returncode) == (0, 0, 0), text.stderr + as_json.stderr
    assert text.stdout.startswith(f"Saved plan {plan_file}: made ")
    assert text.stdout.split("\n\n", 1)[1] == planned.stdout  # the plan as plan printed it
    assert json.loads(as_json.stdout) == json.loads(plan_file.read_text())
    assert markdown.stdout.startswith(
        "### ovhkube plan: 0 to create, 2 to update, 0 to upgrade, 0 to reset, 0 to delete."
    )


def test_show_of_a_file_that_is_not_a_plan_is_one_error_line(run_ovhkube, tmp_path):
    (tmp_path / "x.json").write_text("{}")
    result = run_ovhkube("show", tmp_path / "x.json", env=no_credentials())
    assert result.returncode == 1
    assert result.stderr == f"error: {tmp_path / 'x.json'}: not a plan: the JSON object has no format_version\n"


def test_target_in_effect_is_a_warning(sandbox, run_ovhkube, tmp_path):
    fleet = two_updates(sandbox, tmp_path)
    result = run_ovhkube("plan", fleet, "--target", "alpha", env=sandbox.env())
    assert result.returncode == 0
    assert "warning: --target is in effect: 1 of 2 cluster(s) are looked at" in result.stderr
    assert "beta" not in result.stdout
    untargeted = run_ovhkube("plan", fleet, env=sandbox.env())
    assert "--target" not in untargeted.stderr


def test_a_long_option_with_one_dash_gets_a_hint(run_ovhkube, tmp_path):
    result = run_ovhkube("plan", tmp_path, "-target", "alpha", env=no_credentials())
    assert result.returncode == 1
    assert "hint: long options take two dashes: --target, not -target" in result.stderr


def test_shell_completion_completes_commands_and_options(run_ovhkube):
    def complete(words: str) -> list[str]:
        env = no_credentials() | {
            "_OVHKUBE_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        }
        result = run_ovhkube(env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert complete("ovhkube pl") == ["plan"]
    assert "--detailed-exitcode" in complete("ovhkube plan --d")
    # The script is for the shell ovhkube runs from (typer finds it among its parent processes): run it from bash,
    # whatever runs the tests.
    command = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())", "--show-completion"]
    script = subprocess.run(
        ["bash", "-c", '"$@"; exit $?', "bash", *command],
        capture_output=True,
        text=True,
        env=no_credentials(),
        timeout=60,
    )
    assert "complete -o default -F _ovhkube_completion ovhkube" in script.stdout, script.stderr


def test_a_reviewed_plan_is_applied_only_if_the_files_now_plan_the_same(sandbox, run_ovhkube, tmp_path):
    """The CD job after a squash merge: the reviewed plan, checked against the files now on main."""
    fleet = two_updates(sandbox, tmp_path)
    reviewed = tmp_path / "reviewed.json"
    assert run_ovhkube("plan", fleet, "--out", reviewed, env=sandbox.env()).returncode == 0
    before = sandbox.show()

    main = tmp_path / "main"
    main.mkdir()
    write_fleet(main, wanted("alpha", kubeProxy=IPTABLES_60S), wanted("beta"))  # beta's change is not on main
    moved_on = run_ovhkube("apply", "--plan", reviewed, "--verify-against", main, env=sandbox.env())
    assert moved_on.returncode == 1
    assert f"the files in {main} plan other changes than the saved plan for 1 cluster(s): " in moved_on.stderr
    assert "/beta. Nothing was changed" in moved_on.stderr
    assert sandbox.show() == before

    same = tmp_path / "same"
    same.mkdir()  # the same documents in another order and file: the same requests
    write_fleet(same, wanted("beta", apiServer=MORE_PLUGINS), wanted("alpha", kubeProxy=IPTABLES_60S))
    applied = run_ovhkube("apply", "--plan", reviewed, "--verify-against", same, env=sandbox.env())
    assert applied.returncode == 0, applied.stderr
    assert f"A fresh plan of {same} does exactly what the saved plan does." in applied.stderr
    assert "Apply complete: 0 created, 2 updated, 0 upgraded, 0 reset, 0 failed." in applied.stdout
