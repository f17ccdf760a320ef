"""The exit-code contract, every command: 0 ok, 2 only for changes or drift, 1 for every error (usage errors
included: a typo in a cron job must never read as drift), 130 on Ctrl-C. cli.main(argv) returns the code."""

import re
from pathlib import Path

import pytest
import typer

from reconciler.cli import app, main
from reconciler.errors import ExitCode

REPO = Path(__file__).resolve().parent.parent


def every_command() -> list[list[str]]:
    """The path of every command the CLI registers (`plan`, `sandbox serve`, ...): a new command is tested too."""
    found = []

    def walk(group, path):
        for name, command in sorted(group.commands.items()):
            if hasattr(command, "commands"):
                walk(command, [*path, name])
            else:
                found.append([*path, name])

    walk(typer.main.get_command(app), [])
    return found


# With their usual arguments too, so the unknown option is the only thing wrong.
COMMANDS = every_command() + [
    ["plan", "examples", "--detailed-exitcode"],
    ["drift", "examples"],
    ["validate", "examples"],
]


def test_every_command_is_found():
    assert {"validate", "plan", "apply", "drift", "export", "show"} <= {" ".join(path) for path in every_command()}
    assert ["sandbox", "serve"] in every_command()


def test_the_codes_scripts_rely_on():
    assert (ExitCode.OK, ExitCode.ERROR, ExitCode.CHANGES, ExitCode.DRIFT) == (0, 1, 2, 2)
    assert (ExitCode.INTERRUPTED, ExitCode.TERMINATED) == (130, 143)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_an_unknown_option_is_an_error_not_a_change(command, capsys):
    assert main([*command, "--detailed-exitcod"]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert "No such option: --detailed-exitcod" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["plan"], "Missing argument"),
        (["drift"], "Missing argument"),
        (["validate"], "Missing argument"),
        (["drift", "examples", "--format", "prometheus2"], "Invalid value"),
        (["plan", "examples", "--parallelism", "0"], "Invalid value"),
        (["plan", "examples", "--detailed-exitcode=2"], "does not take a value"),
        (["apply", "examples", "--timeout", "soon"], "Invalid value"),
        (["export"], "give --project PROJECT (or --all-projects --output FOLDER)"),
        (["plna", "examples"], "No such command"),
        ([], "Usage"),
    ],
)
def test_every_usage_error_exits_1_with_its_message(argv, message, capsys):
    assert main(argv) == ExitCode.ERROR
    captured = capsys.readouterr()
    assert message in captured.out + captured.err


def test_a_user_error_is_one_line_and_1(capsys):
    assert main(["apply"]) == ExitCode.ERROR
    assert capsys.readouterr().err == (
        "error: nothing to apply: give PATH... (files or folders), or --plan FILE (from plan --out)\n"
    )


def test_an_api_error_is_one_line_and_1(capsys, monkeypatch, tmp_path):
    for key in ("OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET", "OVH_CONSUMER_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)  # no ovh.conf here
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["--endpoint", "ovh-eu", "drift", str(REPO / "examples")]) == ExitCode.ERROR
    err = capsys.readouterr().err.splitlines()
    assert (
        err[-1].startswith("error: missing API credentials for ovh-eu")
        and len([line for line in err if line.startswith("error:")]) == 1
    )


def test_help_and_version_exit_0(capsys):
    assert main(["--version"]) == ExitCode.OK
    assert re.fullmatch(r"ovhkube \d+\.\d+\.\d+\n", capsys.readouterr().out)
    assert main(["drift", "--help"]) == ExitCode.OK


def test_the_real_process_exits_1_on_a_typo(run_ovhkube):
    result = run_ovhkube("drift", "examples", "--unmanged")
    assert result.returncode == 1 and "No such option" in result.stderr


def test_tests_run_the_cli_for_its_exit_code():
    """main() returns the code: a subprocess that runs main() without SystemExit would exit 0 whatever happened."""
    careless = "import main; " + "main()"
    assert [path.name for path in (REPO / "tests").glob("*.py") if careless in path.read_text()] == []
