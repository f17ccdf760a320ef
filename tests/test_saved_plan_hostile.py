"""A saved plan edited by hand is data from outside: a rollout's pause or gate edited to years (or below zero) is
refused by apply before anything is sent, with one line naming the field, as a file saying so would be."""

import json

import pytest
from apply_helpers import live, seed, wanted, write_fleet

ROLLOUT = {
    "apiVersion": "ovhkube/v1",
    "kind": "Rollout",
    "metadata": {"name": "fleet"},
    "spec": {
        "waves": [
            {"name": "canary", "selector": {"names": ["alpha"]}, "maxInFlight": 1, "pauseAfter": "PT1S"},
            {"name": "rest", "selector": {}, "maxInFlight": 1},
        ]
    },
}


def edit_pause(plan):
    plan["rollout"]["waves"][0]["pause_after_seconds"] = 1e300


def edit_gate(plan):
    plan["rollout"]["gate"]["timeout_seconds"] = -5


@pytest.mark.parametrize(
    "edit, field",
    [(edit_pause, "rollout.waves[0].pause_after_seconds"), (edit_gate, "rollout.gate.timeout_seconds")],
)
def test_a_rollout_wait_edited_to_years_is_refused_before_anything_is_sent(sandbox, run_ovhkube, tmp_path, edit, field):
    seed(sandbox, live(1, "alpha"), live(2, "beta"))
    fleet = write_fleet(
        tmp_path, wanted("alpha", mode="ipvs", allow_reset=True), wanted("beta", mode="ipvs", allow_reset=True), ROLLOUT
    )
    saved = tmp_path / "plan.json"
    made = run_ovhkube("plan", fleet, "--out", saved, env=sandbox.env())
    assert made.returncode == 0, made.stderr
    plan = json.loads(saved.read_text())
    edit(plan)
    saved.write_text(json.dumps(plan, indent=2))
    sandbox.forget_requests()

    applied = run_ovhkube("apply", "--plan", saved, "--auto-approve", env=sandbox.env())
    assert applied.returncode == 1
    [line] = applied.stderr.strip().splitlines()
    assert f"{field}: must be a number of seconds from 0 to 604800 (P7D); nothing was changed" in line, line
    assert [r for r in sandbox.requests() if r["method"] != "GET"] == []


@pytest.mark.parametrize(
    "field, says",
    [
        ("endpoint", "must be an endpoint's name or URL"),
        ("created_at", "must be a UTC time such as 2026-12-07T20:22:49Z"),
    ],
)
def test_a_header_field_edited_to_hold_escape_codes_is_refused_not_printed(sandbox, run_ovhkube, tmp_path, field, says):
    # `show` printed both raw on its first line and in the markdown footer's <sub>: a terminal title, a cleared
    # screen, a forged CI command on a line of its own, HTML in a pull-request comment.
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", mode="ipvs", allow_reset=True))
    saved = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", saved, env=sandbox.env()).returncode == 0
    plan = json.loads(saved.read_text())
    plan[field] = "\x1b]0;pwned\x07\x1b[2J\n::error::forged <img src=x>"
    saved.write_text(json.dumps(plan))
    for fmt in ("text", "markdown"):
        shown = run_ovhkube("show", saved, "--format", fmt)
        assert shown.returncode == 1
        assert shown.stderr.strip().splitlines() == [f"error: {saved}:1: {field}: {says}"]
        assert "\x1b" not in shown.stdout + shown.stderr and "<img" not in shown.stdout
