"""`ovhkube apply` end to end: the CLI in a subprocess, the real ovh client, the sandbox over HTTP."""

import json
import os
import pty
import subprocess
import sys
import time

from apply_helpers import (
    IPTABLES_30S,
    IPTABLES_60S,
    MORE_PLUGINS,
    PROJECT,
    apply_json,
    cluster_id,
    clusters_by_name,
    live,
    seed,
    wanted,
    write_fleet,
)

from reconciler import __version__
from reconciler.plan.data import FORMAT_VERSION


def three_clusters(sandbox, tmp_path) -> str:
    """alpha: a kubeProxy update; beta: an apiServer update; gamma: in sync."""
    seed(sandbox, live(1, "alpha"), live(2, "beta"), live(3, "gamma"))
    return write_fleet(
        tmp_path,
        wanted("alpha", kubeProxy=IPTABLES_60S),
        wanted("beta", apiServer=MORE_PLUGINS),
        wanted("gamma", mode="iptables", kubeProxy=IPTABLES_30S),
    )


def test_apply_then_plan_is_empty(sandbox, run_ovhkube, tmp_path):
    fleet = three_clusters(sandbox, tmp_path)

    result = run_ovhkube("apply", fleet, "--auto-approve", env=sandbox.env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "will be updated in place" in result.stdout  # the plan is shown first
    assert "Apply complete: 0 created, 2 updated, 0 upgraded, 0 reset, 0 failed." in result.stdout
    live_now = clusters_by_name(sandbox)
    assert live_now["alpha"]["customization"]["kubeProxy"]["iptables"]["syncPeriod"] == "PT60S"
    assert live_now["beta"]["customization"]["apiServer"] == MORE_PLUGINS
    assert live_now["alpha"]["customization"]["apiServer"]["admissionPlugins"]["enabled"] == ["NodeRestriction"]
    again = run_ovhkube("plan", fleet, "--detailed-exitcode", env=sandbox.env())
    assert again.returncode == 0, again.stdout


def test_no_terminal_and_no_auto_approve_refuses_and_changes_nothing(sandbox, run_ovhkube, tmp_path):
    fleet = three_clusters(sandbox, tmp_path)
    before = sandbox.show()

    result = run_ovhkube("apply", fleet, env=sandbox.env(), input="yes\n")

    assert result.returncode == 1
    assert "--auto-approve" in result.stderr and "apply --plan" in result.stderr
    assert sandbox.show() == before


def run_on_terminal(sandbox, *args, answer: str) -> tuple[int, str]:
    """Run apply with a pseudo-terminal as stdin, type `answer`, return the exit code and stdout+stderr."""
    controller, terminal = pty.openpty()
    command = [sys.executable, "-c", "from reconciler.cli import main; raise SystemExit(main())", "apply", *args]
    process = subprocess.Popen(
        command,
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=sandbox.env(),
        text=True,
        cwd=sandbox.state.parent,  # the test's own workspace: its own apply lock
    )
    os.close(terminal)
    os.write(controller, answer.encode() + b"\n")
    stdout, stderr = process.communicate(timeout=60)
    os.close(controller)
    return process.returncode, stdout + stderr


def test_on_a_terminal_only_yes_applies(sandbox, tmp_path):
    fleet = three_clusters(sandbox, tmp_path)
    before = sandbox.show()

    code, output = run_on_terminal(sandbox, fleet, answer="y")
    assert code == 1
    assert "Only 'yes' will be accepted" in output and "Nothing was changed" in output
    assert sandbox.show() == before

    code, output = run_on_terminal(sandbox, fleet, answer="yes")
    assert code == 0, output
    assert "Apply complete: 0 created, 2 updated, 0 upgraded, 0 reset, 0 failed." in output


def test_saved_plan_applies_exactly_the_requests_it_shows(sandbox, run_ovhkube, tmp_path):
    fleet = three_clusters(sandbox, tmp_path)
    plan_file = tmp_path / "plan.json"
    made = run_ovhkube("plan", fleet, "--out", plan_file, env=sandbox.env())
    assert made.returncode == 0, made.stderr
    planned = json.loads(plan_file.read_text())

    result, account = apply_json(run_ovhkube, sandbox, "--plan", plan_file)

    assert result.returncode == 0, result.stderr
    request = ("method", "path", "body")
    sent = [{k: r[k] for k in request} for c in account["clusters"] for r in c["requests"]]
    assert sent == [{k: r[k] for k in request} for change in planned["changes"] for r in change["requests"]]
    assert len(sent) == 2
    assert all(r["error"] is None for c in account["clusters"] for r in c["requests"])
    assert {c["cluster"]["name"]: c["result"] for c in account["clusters"]} == {
        "alpha": "done",
        "beta": "done",
        "gamma": "unchanged",
    }
    assert all(c["verified"] for c in account["clusters"] if c["result"] == "done")
    assert run_ovhkube("plan", fleet, "--detailed-exitcode", env=sandbox.env()).returncode == 0


def test_stale_saved_plan_is_refused_and_nothing_changes(sandbox, run_ovhkube, tmp_path):
    fleet = three_clusters(sandbox, tmp_path)
    plan_file = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", plan_file, env=sandbox.env()).returncode == 0
    # Someone changes alpha's kubeProxy block, the one its entry sends, behind ovhkube's back (issue 22: a cluster the
    # plan leaves alone, gamma, may move without making the plan stale: tests/test_staleness.py).
    sandbox.client().put(
        f"/cloud/project/{PROJECT}/kube/{cluster_id(1)}/customization", kubeProxy={"iptables": {"syncPeriod": "PT45S"}}
    )
    before = sandbox.show()

    result = run_ovhkube("apply", "--plan", plan_file, env=sandbox.env())

    assert result.returncode == 1
    assert "stale plan" in result.stderr and "alpha" in result.stderr and "beta" not in result.stderr
    assert "run plan again" in result.stderr
    assert sandbox.show() == before


def test_a_cluster_renamed_or_deleted_since_the_plan_makes_it_stale_not_a_spec_id_error(sandbox, run_ovhkube, tmp_path):
    fleet = three_clusters(sandbox, tmp_path)  # no document pins spec.id: the plan holds the ids it read
    plan_file = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", plan_file, env=sandbox.env()).returncode == 0
    seed(sandbox, live(1, "alpha"), live(2, "beta-renamed"))  # beta renamed, gamma deleted, behind ovhkube's back
    before = sandbox.show()

    result = run_ovhkube("apply", "--plan", plan_file, env=sandbox.env())

    assert result.returncode == 1
    # gamma, which the plan leaves alone, is gone too: no reason to refuse (issue 22), the refusal names beta.
    assert result.stderr == (
        "error: stale plan: 1 cluster(s) changed since the plan was made: beta; run plan again. Nothing was changed.\n"
    )  # was: 'cannot check that the plan is still valid: beta: spec.id ... is the cluster named ...'
    assert sandbox.show() == before


def test_saved_plan_for_another_endpoint_is_refused(sandbox, run_ovhkube, tmp_path):
    fleet = three_clusters(sandbox, tmp_path)
    plan_file = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", plan_file, env=sandbox.env()).returncode == 0
    saved = json.loads(plan_file.read_text())
    plan_file.write_text(json.dumps(saved | {"endpoint": "ovh-eu"}))
    before = sandbox.show()

    sandbox.forget_requests()
    result = run_ovhkube("apply", "--plan", plan_file, env=sandbox.env())

    assert result.returncode == 1
    assert "made for endpoint ovh-eu" in result.stderr
    assert sandbox.show() == before
    assert sandbox.requests() == []  # refused before connecting: not even the API's clock was asked


def test_unreadable_plan_files_get_one_clear_line(sandbox, run_ovhkube, tmp_path):
    future = tmp_path / "future.json"
    future.write_text(json.dumps({"format_version": "99", "changes": []}))
    other_version = tmp_path / "other-version.json"
    other_version.write_text(json.dumps({"format_version": "2", "tool_version": "0.0.1", "changes": []}))
    # Format 2 had no upgrade action nor control-plane requests, and fingerprinted fewer fields.
    before_upgrades = tmp_path / "format-2.json"
    before_upgrades.write_text(json.dumps({"format_version": "2", "tool_version": __version__, "changes": []}))
    # Format 3 stored each step as a bare request (method, path, body): its steps have no kind to be read by.
    format_3 = tmp_path / "format-3.json"
    format_3.write_text(json.dumps({"format_version": "3", "tool_version": __version__, "changes": []}))
    broken = tmp_path / "broken.json"
    broken.write_text('{"format_version": "2", "changes": [')
    for path, expected in (
        (future, "(plan format 99); this is ovhkube"),
        (other_version, "the plan was made by ovhkube 0.0.1 (plan format 2)"),
        (before_upgrades, f"(plan format 2); this is ovhkube {__version__} (plan format {FORMAT_VERSION})"),
        (format_3, "(plan format 3); this is ovhkube"),
        (format_3, f"(plan format {FORMAT_VERSION}): make the plan again with this version"),
        (broken, "not a plan file"),
        (tmp_path / "missing.json", "cannot read plan file"),
    ):
        result = run_ovhkube("apply", "--plan", path, env=sandbox.env())
        assert result.returncode == 1
        assert expected in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_usage_errors_exit_2(sandbox, run_ovhkube, tmp_path):
    fleet = three_clusters(sandbox, tmp_path)
    nothing = run_ovhkube("apply", env=sandbox.env())
    assert nothing.returncode == 1 and "nothing to apply" in nothing.stderr
    both = run_ovhkube("apply", fleet, "--plan", tmp_path / "p.json", env=sandbox.env())
    assert both.returncode == 1 and "not both" in both.stderr


def test_no_changes_says_so_and_exits_0(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_30S))

    result = run_ovhkube("apply", fleet, env=sandbox.env())  # no terminal needed: there is nothing to approve

    assert result.returncode == 0, result.stderr
    assert "No changes" in result.stdout
    assert "Apply complete: 0 created, 0 updated, 0 upgraded, 0 reset, 0 failed." in result.stdout


def test_a_busy_cluster_is_waited_for(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(transition_seconds=0.5)
    seed(sandbox, live(1, "alpha", status="UPDATING"))
    busy_until(sandbox, cluster_id(1), time.time() + 600)  # UPDATING until the apply is seen waiting, however slow
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))
    command = [sys.executable, "-m", "reconciler.cli", "apply", fleet, "--auto-approve", "--format", "json"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=sandbox.env(), cwd=tmp_path
    )
    said = list(_lines_until(process.stderr, "waiting for READY before changing it"))
    busy_until(sandbox, cluster_id(1), time.time())
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 0, "".join(said) + stderr
    (alpha,) = json.loads(stdout)["clusters"]
    assert alpha["result"] == "done" and alpha["verified"]
    assert [r["error"] for r in alpha["requests"]] == [None]  # sent once, when READY: no 409
    assert clusters_by_name(sandbox)["alpha"]["customization"]["kubeProxy"] == IPTABLES_60S


def busy_until(sandbox, cluster: str, when: float) -> None:
    """Hold a seeded cluster in its transient status until `when` (unix time): the sandbox's own ready_at."""
    with sandbox.server.state.write() as conn:
        conn.execute("UPDATE clusters SET ready_at = ? WHERE id = ?", (when, cluster))


def _lines_until(stream, text: str):
    for line in stream:
        yield line
        if text in line:
            return
    raise AssertionError(f"the process ended without saying {text!r}")


def test_mode_change_resets_once_and_create_makes_one_cluster(sandbox, run_ovhkube, tmp_path):
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(
        tmp_path,
        wanted("alpha", mode="ipvs", allow_reset=True, kubeProxy={"ipvs": {"scheduler": "lc"}}),
        wanted("fresh", mode="iptables", kubeProxy=IPTABLES_60S),
    )

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 0, result.stderr
    assert account["summary"] == {
        "created": 1,
        "updated": 0,
        "upgraded": 0,
        "reset": 1,
        "deleted": 0,
        "unchanged": 0,
        "failed": 0,
        "not_planned": 0,
        "skipped": 0,
        "interrupted": 0,
        "done_elsewhere": 0,
        "not_started": 0,
        "deferred": 0,
    }
    live_now = clusters_by_name(sandbox)
    assert live_now["alpha"]["kubeProxyMode"] == "ipvs" and live_now["alpha"]["resets"] == 1
    assert live_now["alpha"]["customization"]["apiServer"]["admissionPlugins"]["enabled"] == ["NodeRestriction"]
    fresh = next(c for c in account["clusters"] if c["cluster"]["name"] == "fresh")
    assert fresh["cluster"]["id"] == live_now["fresh"]["id"]
    assert run_ovhkube("plan", fleet, "--detailed-exitcode", env=sandbox.env()).returncode == 0


def test_a_cluster_on_a_minor_the_api_no_longer_installs_is_reset_and_keeps_it(sandbox, run_ovhkube, tmp_path):
    # The reset body's version is an enum of the minors the API installs; left out, the reset keeps the current
    # version (API description). A file without spec.version must not send the live minor back: 1.30 is refused.
    seed(sandbox, live(1, "alpha") | {"version": "1.30.9"})
    fleet = write_fleet(tmp_path, wanted("alpha", mode="ipvs", allow_reset=True))

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 0, result.stderr + result.stdout
    assert account["summary"]["reset"] == 1
    [reset] = [r for c in account["clusters"] for r in c["requests"] if r["path"].endswith("/reset")]
    assert "version" not in reset["body"] and reset["error"] is None
    alpha = clusters_by_name(sandbox)["alpha"]
    assert (alpha["kubeProxyMode"], alpha["version"], alpha["resets"]) == ("ipvs", "1.30.9", 1)


def fleet_with_an_error(sandbox, tmp_path) -> str:
    seed(sandbox, live(1, "alpha"), live(2, "beta"), live(3, "gamma"))
    return write_fleet(
        tmp_path,
        wanted("alpha", kubeProxy=IPTABLES_60S),
        wanted("beta", mode="ipvs"),  # a mode change without allowReset: an error entry in the plan
        wanted("gamma", apiServer=MORE_PLUGINS),
    )


def test_a_plan_with_an_error_is_refused_whole_fresh_or_saved(sandbox, run_ovhkube, tmp_path):
    fleet = fleet_with_an_error(sandbox, tmp_path)
    before = sandbox.show()

    fresh = run_ovhkube("apply", fleet, "--auto-approve", env=sandbox.env())
    saved_plan = tmp_path / "plan.json"
    assert run_ovhkube("plan", fleet, "--out", str(saved_plan), env=sandbox.env()).returncode == 1
    saved = run_ovhkube("apply", "--plan", str(saved_plan), env=sandbox.env())

    for result in (fresh, saved):
        assert result.returncode == 1, result.stdout + result.stderr
        assert "the plan holds 1 error(s) (beta): nothing was applied" in result.stderr
        assert "--skip-errors" in result.stderr
        assert "Apply complete" not in result.stdout
    assert "allowReset" in fresh.stdout  # the plan, with its error, is shown before the refusal
    assert sandbox.show() == before  # nothing sent


def test_skip_errors_applies_the_rest_and_says_so(sandbox, run_ovhkube, tmp_path):
    fleet = fleet_with_an_error(sandbox, tmp_path)

    result = run_ovhkube("apply", fleet, "--auto-approve", "--skip-errors", env=sandbox.env())

    assert result.returncode == 1
    assert "--skip-errors: 1 cluster(s) in error are not applied and count as failed" in result.stderr
    closing = (
        "Apply complete: 0 created, 2 updated, 0 upgraded, 0 reset, 1 failed "
        "(1 not applied: errors in the plan, --skip-errors)."
    )
    assert closing in result.stdout
    beta_row = next(line for line in result.stdout.splitlines() if line.startswith("beta "))
    assert "failed" in beta_row and "allowReset" in beta_row
    live_now = clusters_by_name(sandbox)
    assert live_now["alpha"]["customization"]["kubeProxy"] == IPTABLES_60S
    assert live_now["gamma"]["customization"]["apiServer"] == MORE_PLUGINS
    assert live_now["beta"]["kubeProxyMode"] == "iptables" and live_now["beta"]["resets"] == 0


def test_no_wait_sends_and_says_it_did_not_verify(sandbox_factory, run_ovhkube, tmp_path):
    sandbox = sandbox_factory(transition_seconds=30)
    seed(sandbox, live(1, "alpha"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))

    result = run_ovhkube("apply", fleet, "--auto-approve", "--no-wait", env=sandbox.env(), timeout=20)

    assert result.returncode == 0, result.stderr
    assert "not waited for and not verified (--no-wait)" in result.stdout
    assert "Apply complete: 0 created, 1 updated, 0 upgraded, 0 reset, 0 failed." in result.stdout
    alpha = clusters_by_name(sandbox)["alpha"]
    assert alpha["status"] == "REDEPLOYING" and alpha["customization"]["kubeProxy"] == IPTABLES_60S


def test_a_cluster_busy_past_the_timeout_fails_and_is_not_touched(sandbox_factory, run_ovhkube, tmp_path):
    sandbox = sandbox_factory(transition_seconds=60)
    seed(sandbox, live(1, "alpha", status="UPDATING"))
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=IPTABLES_60S))

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", "--timeout", "1s")

    assert result.returncode == 1
    (alpha,) = account["clusters"]
    assert alpha["result"] == "failed" and "still UPDATING after 1.0s (--timeout)" in alpha["reason"]
    assert alpha["requests"] == []
    assert clusters_by_name(sandbox)["alpha"]["customization"]["kubeProxy"] == IPTABLES_30S


def test_verification_compares_by_meaning_not_spelling(sandbox, run_ovhkube, tmp_path):
    ipvs_live = {"ipvs": {"minSyncPeriod": "PT1S", "syncPeriod": "PT30S", "tcpTimeout": "PT10S"}}
    seed(sandbox, live(1, "alpha", mode="ipvs", kube_proxy=ipvs_live))
    ipvs_wanted = {"ipvs": {"minSyncPeriod": "PT0S", "syncPeriod": "PT1M", "tcpTimeout": "PT0S"}}
    plugins = {"admissionPlugins": {"enabled": ["NodeRestriction", "AlwaysPullImages"], "disabled": None}}
    fleet = write_fleet(tmp_path, wanted("alpha", kubeProxy=ipvs_wanted, apiServer=plugins))

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve")

    assert result.returncode == 0, result.stderr
    assert account["clusters"][0]["verified"] and account["clusters"][0]["mismatches"] == []
    answered = clusters_by_name(sandbox)["alpha"]["customization"]["kubeProxy"]["ipvs"]
    assert answered["minSyncPeriod"] == "P0D" and answered["tcpTimeout"] == "P0D"  # written PT0S, answered P0D
    assert run_ovhkube("plan", fleet, "--detailed-exitcode", env=sandbox.env()).returncode == 0


def test_clusters_waiting_for_ready_hold_no_worker(sandbox_factory, run_ovhkube, tmp_path):
    """--parallelism bounds the requests on the wire, not the clusters in a transition: at 2, six clusters each
    busy 3 s after their PUT all get their PUT before the first of them can be READY again (in turn, the second
    pair would wait for the first one's 3 s, and the third for the second's)."""
    transition = 3.0
    sandbox = sandbox_factory(transition_seconds=transition)
    seed(sandbox, *(live(n, f"c{n}") for n in range(1, 7)))
    fleet = write_fleet(tmp_path, *(wanted(f"c{n}", kubeProxy=IPTABLES_60S) for n in range(1, 7)))

    result, account = apply_json(run_ovhkube, sandbox, fleet, "--auto-approve", "--parallelism", "2")

    assert result.returncode == 0, result.stderr
    assert all(c["result"] == "done" and c["verified"] for c in account["clusters"])
    puts = [entry["time"] for entry in sandbox.requests() if entry["method"] == "PUT"]
    assert len(puts) == 6
    assert max(puts) < min(puts) + transition  # the last PUT went before the first cluster was READY again
