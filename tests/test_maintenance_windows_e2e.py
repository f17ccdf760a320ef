"""Maintenance windows end to end, the CLI against the sandbox with the clock set by OVHKUBE_NOW (tests only): a
reset planned outside its window is deferred, apply leaves it alone, and a later apply inside the window makes it;
a plan made inside the window and applied after it closed starts nothing."""

import json

import pytest
from apply_helpers import IPTABLES_60S, apply_json, clusters_by_name, live, seed, wanted, write_fleet, writes

WINDOW = {"days": ["Sat", "Sun"], "start": "02:00", "duration": "PT4H", "timeZone": "Europe/Paris"}
MONDAY = "2026-12-14T10:00:00Z"
SATURDAY_3AM_PARIS = "2026-12-12T02:00:00Z"
SATURDAY_7AM_PARIS = "2026-12-12T06:00:00Z"


def windowed_reset(tmp_path, **extra) -> str:
    document = wanted("alpha", mode="ipvs", allow_reset=True)
    document["spec"]["lifecycle"]["maintenanceWindow"] = WINDOW
    document["spec"] |= extra
    return write_fleet(tmp_path, document, wanted("beta", kubeProxy=IPTABLES_60S))


def test_a_reset_outside_its_window_is_deferred_then_made_by_an_apply_inside_it(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"), live(2, "beta"))
    fleet = windowed_reset(tmp_path)

    planned = run_ovhkube("plan", fleet, env=sandbox.env(OVHKUBE_NOW=MONDAY))
    assert planned.returncode == 0, planned.stderr
    assert (
        ">>> DEFERRED until Sat 2026-12-19 02:00 Europe/Paris (2026-12-19T01:00:00Z): outside its maintenance window "
        "Sat,Sun 02:00 for PT4H (Europe/Paris); apply leaves it alone until then" in planned.stdout
    )
    assert "(0 unchanged, 1 deferred to a maintenance window)" in planned.stdout
    markdown = run_ovhkube("plan", fleet, "--format", "markdown", env=sandbox.env(OVHKUBE_NOW=MONDAY)).stdout
    assert r"(**deferred until 2026\-12\-19T01:00:00Z**: its maintenance window)" in markdown
    saved = tmp_path / "monday.json"
    assert run_ovhkube("plan", fleet, "--out", saved, env=sandbox.env(OVHKUBE_NOW=MONDAY)).returncode == 0
    entry = json.loads(saved.read_text())["changes"][0]
    assert (entry["action"], entry["deferred_until"], entry["maintenance_window"]) == (
        "reset",
        "2026-12-19T01:00:00Z",
        WINDOW,
    )

    sandbox.forget_requests()
    result, account = apply_json(run_ovhkube, sandbox, "--plan", saved, env=sandbox.env(OVHKUBE_NOW=MONDAY))
    assert result.returncode == 0, result.stdout + result.stderr
    alpha, beta = account["clusters"]
    assert alpha["result"] == "deferred" and alpha["requests"] == []
    assert alpha["reason"].startswith("deferred until Sat 2026-12-19 02:00 Europe/Paris")
    assert beta["result"] == "done"  # an update in place is not held by anyone's window
    assert account["summary"]["deferred"] == 1 and account["summary"]["reset"] == 0
    assert {path.split("/")[5] for _, path in writes(sandbox)} == {live(2, "beta")["id"]}  # beta's only
    assert clusters_by_name(sandbox)["alpha"]["kubeProxyMode"] == "iptables"
    # A scheduled apply of the files (cron, in CD) on a later Monday: still deferred, said in the account.
    text = run_ovhkube("apply", fleet, "--auto-approve", env=sandbox.env(OVHKUBE_NOW=MONDAY))
    assert text.returncode == 0, text.stdout + text.stderr
    assert "alpha    reset   deferred" in text.stdout
    assert "Apply complete: 0 created, 0 updated, 0 upgraded, 0 reset, 0 failed, 1 deferred to their maintenance " in (
        text.stdout
    )

    # The same apply once the window is open: the reset goes out.
    inside, account = apply_json(
        run_ovhkube, sandbox, fleet, "--auto-approve", env=sandbox.env(OVHKUBE_NOW=SATURDAY_3AM_PARIS)
    )
    assert inside.returncode == 0, inside.stdout + inside.stderr
    assert account["summary"]["reset"] == 1 and account["summary"]["deferred"] == 0
    alpha = clusters_by_name(sandbox)["alpha"]
    assert (alpha["kubeProxyMode"], alpha["resets"]) == ("ipvs", 1)
    again = run_ovhkube("plan", fleet, "--detailed-exitcode", env=sandbox.env(OVHKUBE_NOW=MONDAY))
    assert again.returncode == 0, again.stdout


def test_a_deferred_saved_plan_applied_again_inside_the_window_makes_the_reset(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"))
    document = wanted("alpha", mode="ipvs", allow_reset=True)
    document["spec"]["lifecycle"]["maintenanceWindow"] = WINDOW
    saved = tmp_path / "plan.json"
    planned = run_ovhkube("plan", write_fleet(tmp_path, document), "--out", saved, env=sandbox.env(OVHKUBE_NOW=MONDAY))
    assert planned.returncode == 0, planned.stderr
    first, account = apply_json(run_ovhkube, sandbox, "--plan", saved, env=sandbox.env(OVHKUBE_NOW=MONDAY))
    assert first.returncode == 0 and account["clusters"][0]["result"] == "deferred"
    later, account = apply_json(run_ovhkube, sandbox, "--plan", saved, env=sandbox.env(OVHKUBE_NOW=SATURDAY_3AM_PARIS))
    assert later.returncode == 0, later.stdout + later.stderr
    assert account["clusters"][0]["result"] == "done" and clusters_by_name(sandbox)["alpha"]["resets"] == 1


def test_a_plan_made_inside_the_window_and_applied_after_it_closed_starts_nothing(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"), live(2, "beta"))
    fleet = windowed_reset(tmp_path)
    saved = tmp_path / "plan.json"
    planned = run_ovhkube("plan", fleet, "--out", saved, env=sandbox.env(OVHKUBE_NOW=SATURDAY_3AM_PARIS))
    assert planned.returncode == 0, planned.stderr
    assert "starts only inside its maintenance window Sat,Sun 02:00 for PT4H (Europe/Paris), open when planned" in (
        planned.stdout
    )
    assert json.loads(saved.read_text())["changes"][0]["deferred_until"] is None

    sandbox.forget_requests()
    late = sandbox.env(OVHKUBE_NOW=SATURDAY_7AM_PARIS)
    result, account = apply_json(run_ovhkube, sandbox, "--plan", saved, env=late)
    assert result.returncode == 0, result.stdout + result.stderr
    assert account["clusters"][0]["result"] == "deferred"
    assert "deferred until Sun 2026-12-13 02:00 Europe/Paris" in account["clusters"][0]["reason"]
    assert all("/reset" not in path for _, path in writes(sandbox))
    assert clusters_by_name(sandbox)["alpha"]["resets"] == 0


def test_cluster_defaults_give_a_fleet_its_window(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"))
    defaults = {
        "apiVersion": "ovhkube/v1",
        "kind": "ClusterDefaults",
        "metadata": {"name": "weekends"},
        "selector": {},
        "spec": {"lifecycle": {"maintenanceWindow": WINDOW}},
    }
    fleet = write_fleet(tmp_path, defaults, wanted("alpha", mode="ipvs", allow_reset=True))
    result = run_ovhkube("plan", fleet, "--format", "json", env=sandbox.env(OVHKUBE_NOW=MONDAY))
    assert result.returncode == 0, result.stderr
    [alpha] = json.loads(result.stdout)["changes"]
    assert alpha["maintenance_window"] == WINDOW and alpha["deferred_until"] == "2026-12-19T01:00:00Z"


def test_a_window_badly_written_is_one_line_per_problem(run_ovhkube, tmp_path):
    document = wanted("alpha")
    document["spec"]["lifecycle"] = {
        "maintenanceWindow": {"days": ["Saturday"], "start": "2am", "duration": "PT0S", "timeZone": "Paris"}
    }
    result = run_ovhkube("validate", write_fleet(tmp_path, document))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line.split(": ", 1)[1] for line in lines[:-1]] == [
        'spec.lifecycle.maintenanceWindow.days[0]: must be one of: Mon, Tue, Wed, Thu, Fri, Sat, Sun; got "Saturday"',
        'spec.lifecycle.maintenanceWindow.start: must be a time of day, HH:MM on a 24-hour clock (quoted: "02:00"); '
        'got "2am"',
        "spec.lifecycle.maintenanceWindow.duration: must be from PT1M to P7D; got PT0S",
        'spec.lifecycle.maintenanceWindow.timeZone: unknown time zone "Paris": an IANA name such as Europe/Paris '
        "or UTC",
    ]
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("written", ["next saturday", "9999-12-31T00:00:00Z"])  # the year 9999: an OverflowError
def test_a_test_clock_badly_written_is_one_line(sandbox, run_ovhkube, tmp_path, written):
    seed(sandbox, live(1, "alpha"))
    result = run_ovhkube("plan", windowed_reset(tmp_path), env=sandbox.env(OVHKUBE_NOW=written))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: OVHKUBE_NOW must be an ISO 8601 time with its zone (2026-12-12T02:30:00Z), from 1970 to 9000, for tests"
    )


def test_a_reviewed_plan_is_refused_against_files_whose_window_changed_since(sandbox, run_ovhkube, tmp_path):
    # The steps are the same, but when they may go is not: a widened window is not what was reviewed.
    seed(sandbox, live(1, "alpha"), live(2, "beta"))
    reviewed_files, main_files = tmp_path / "reviewed", tmp_path / "main"
    reviewed_files.mkdir(), main_files.mkdir()
    reviewed = tmp_path / "reviewed.json"
    fleet = windowed_reset(reviewed_files)
    assert run_ovhkube("plan", fleet, "--out", reviewed, env=sandbox.env(OVHKUBE_NOW=MONDAY)).returncode == 0
    document = wanted("alpha", mode="ipvs", allow_reset=True)
    document["spec"]["lifecycle"]["maintenanceWindow"] = WINDOW | {"days": ["Mon", "Sat", "Sun"]}
    widened = write_fleet(main_files, document, wanted("beta", kubeProxy=IPTABLES_60S))
    sandbox.forget_requests()

    moved_on = run_ovhkube(
        "apply", "--plan", reviewed, "--verify-against", widened, env=sandbox.env(OVHKUBE_NOW=MONDAY)
    )

    assert moved_on.returncode == 1
    assert "plan other changes than the saved plan for 1 cluster(s)" in moved_on.stderr
    assert writes(sandbox) == []
    same = run_ovhkube("apply", "--plan", reviewed, "--verify-against", fleet, env=sandbox.env(OVHKUBE_NOW=MONDAY))
    assert same.returncode == 0, same.stdout + same.stderr
    assert "does exactly what the saved plan does" in same.stderr
