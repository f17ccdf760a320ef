"""`ovhkube apply`: plan (or load a saved plan), get approval, execute, wait for READY, verify, account for it."""

import re
import signal
import sys
import threading
from dataclasses import replace
from enum import StrEnum
from typing import TYPE_CHECKING, cast

import typer

from reconciler.commands.options import TARGET
from reconciler.errors import ExitCode, Terminated, UserError
from reconciler.live.api import ApiClient
from reconciler.signals import signals_noted_only

if TYPE_CHECKING:  # loaded only when apply runs
    from reconciler.apply.result import ApplyReport


class ApplyFormat(StrEnum):  # typer >= 0.29 takes a choice as an enum
    text = "text"
    json = "json"


PROMPT = "Do you want to perform these actions? Only 'yes' will be accepted: "
NO_TERMINAL = (
    "refusing to apply without approval: there is no terminal to ask on. Use --auto-approve, or review a saved "
    "plan (`ovhkube plan PATH --out FILE`) and apply exactly that (`ovhkube apply --plan FILE`). Nothing was changed."
)


def parse_timeout(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text or "")
    if not match:
        raise typer.BadParameter("a number of seconds, or a duration such as 90s, 30m or 2h")
    return float(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]]


def duration_option(default: str, flag: str, help: str):
    """A duration option, turned into seconds by parse_timeout before the command runs."""
    return typer.Option(
        default, flag, metavar="DURATION", callback=parse_timeout, help=f"{help} (seconds, or 90s/30m/2h)."
    )


def apply(
    ctx: typer.Context,
    paths: list[str] = typer.Argument(
        None, metavar="PATH", help="Files or folders of desired-state YAML (or use --plan)."
    ),
    plan_file: str = typer.Option(
        None, "--plan", metavar="PLANFILE", help="Apply this saved plan (`plan --out`) exactly; approved."
    ),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Do not ask for `yes` before applying."),
    target: list[str] = TARGET,
    parallelism: int = typer.Option(
        10, "--parallelism", metavar="N", min=1, max=100, help="Requests sent at once (reads and writes)."
    ),
    clusters_at_once: int = typer.Option(
        1000,
        "--clusters-at-once",
        metavar="N",
        min=1,
        max=1000,
        help="Clusters under way at once, waiting for READY included; 1: one after the other.",
    ),
    timeout: str = duration_option("30m", "--timeout", "Longest wait for READY, per wait"),
    no_wait: bool = typer.Option(
        False,
        "--no-wait",
        help="Send the requests; do not wait for READY nor verify (except what follows a create or a reset).",
    ),
    fmt: ApplyFormat = typer.Option(ApplyFormat.text, "--format", help="Output format."),
    lock_timeout: str = duration_option(
        "0s", "--lock-timeout", "How long to wait for another apply of this workspace to finish"
    ),
    lock: str = typer.Option(
        None,
        "--lock",
        metavar="URL",
        envvar="OVHKUBE_LOCK",
        help="The lock every runner of this fleet shares: s3://BUCKET/KEY (configured as boto3 is), or a local file "
        "(default: .ovhkube/apply.lock in the folder apply runs in).",
    ),
    lock_expiry: str = duration_option(
        "2m", "--lock-expiry", "How long an S3 lock its holder stopped renewing (killed) stays valid"
    ),
    skip_errors: bool = typer.Option(
        False,
        "--skip-errors",
        help="Apply a plan that holds errors: the clusters in error are not touched and count as failed (exit 1).",
    ),
    verify_against: list[str] = typer.Option(
        None,
        "--verify-against",
        metavar="PATH",
        help="With --plan: apply it only if a fresh plan of these files would send exactly the same requests.",
    ),
    policy: str = typer.Option(
        None,
        "--policy",
        metavar="DIR",
        help="Check the plan with the Rego policies in DIR before anything is sent; a denial refuses it (a saved plan "
        "checked by policies needs them given again).",
    ),
    accounts: list[str] = typer.Option(
        None,
        "--accounts",
        metavar="PATH",
        help="With --plan: the files holding the Account documents the plan was made with (with --verify-against, "
        "its files hold them).",
    ),
) -> ExitCode:
    """Make the live clusters match the files (or a saved plan): ask, execute, wait for READY, verify."""
    from reconciler.apply.result import ApplyOptions
    from reconciler.commands.opening import opening_api
    from reconciler.commands.workflow import load_accounts_or_fail

    if paths and plan_file:
        raise UserError("give either PATH... (plan, then apply) or --plan FILE (a saved plan), not both")
    if not paths and not plan_file:
        raise UserError("nothing to apply: give PATH... (files or folders), or --plan FILE (from plan --out)")
    if plan_file and target:
        raise UserError("a saved plan is applied whole: use --target when making it (plan --target)")
    if verify_against and not plan_file:
        raise UserError("--verify-against checks a saved plan: give --plan FILE too")
    if accounts and not plan_file:
        raise UserError("--accounts goes with --plan FILE: with PATH..., the Account documents are read from the files")
    if accounts and verify_against:
        raise UserError(
            "with --verify-against, the Account documents are read from its files: give the accounts' file as one "
            "more --verify-against PATH instead of --accounts"
        )
    settings = ctx.obj
    # parse_timeout, their callback, has turned --timeout and --lock-timeout into seconds.
    options = ApplyOptions(
        parallelism=parallelism, timeout=cast(float, timeout), wait=not no_wait, clusters_at_once=clusters_at_once
    )
    saved = _read_saved_plan(plan_file, skip_errors, settings) if plan_file else None
    if saved:
        saved = _policy_checked_again(saved, policy, settings)
    given = load_accounts_or_fail(accounts, settings, "nothing was changed") if accounts else []
    if saved and (not verify_against or not saved.accounts):
        # A plan made without accounts is for one endpoint: refused at once if it is not this one (the
        # --verify-against files' accounts, once loaded, are checked against it too).
        _refuse_other_connections(saved, given, settings)
    report, moved = None, []
    try:
        # The API opens (a round trip) while the files load, once a saved plan is known to be for this endpoint.
        with opening_api(settings, read_only=False, parallelism=parallelism) as opening:
            clusters = (
                _load_targets(verify_against or paths, target, settings, opening)
                if verify_against or not saved
                else None
            )
            if saved and verify_against:  # the Account documents are in the files, now loaded
                _refuse_other_connections(saved, opening.accounts, settings)
            elif given:
                opening.use_accounts(given)
            with (
                _apply_lock(lock, cast(float, lock_timeout), cast(float, lock_expiry), settings) as held,
                opening.api() as api,
            ):
                options = replace(options, lock=held)
                the_plan, moved = (
                    _saved_plan_checked(api, saved, parallelism)
                    if saved
                    else _fresh_plan(api, clusters, parallelism, settings, fmt, auto_approve, skip_errors, policy)
                )
                if verify_against:
                    _refuse_unless_same(api, the_plan, clusters, verify_against, parallelism, settings)
                report = _execute(api, the_plan, options, settings)
    except KeyboardInterrupt as exc:
        if report is None:
            raise
        # The signal came once the work was over (closing the session, releasing the lock): the account of what
        # was done is still printed, and the exit says how the run was stopped.
        report.interrupted, report.terminated = True, isinstance(exc, Terminated)
    with signals_noted_only() as landed:  # the account is written whole, whatever lands meanwhile
        lost = options.lock.lost if options.lock else None
        if lost:
            report.lock_lost = _lock_lost_line(lost, report)
        _print_report(report, fmt)
        _say_one_cause(report, settings)
        _say_moved(moved, settings)
    if landed and not report.interrupted:  # the work was over: the exit says how the run was stopped all the same
        report.interrupted, report.terminated = True, landed[-1] == signal.SIGTERM
    if report.lock_lost:
        from reconciler.commands.console import err

        err(f"error: {report.lock_lost}", settings)
        return ExitCode.ERROR
    if report.interrupted:
        return ExitCode.TERMINATED if report.terminated else ExitCode.INTERRUPTED
    return ExitCode.OK if report.ok else ExitCode.ERROR


def _lock_lost_line(lost: str, report: "ApplyReport") -> str:
    """The lock was lost mid-apply: which requests went out before, which clusters were never started (stderr's
    error line, and the JSON account's `lock_lost`)."""
    from reconciler.apply.result import Result
    from reconciler.escape import capped, one_line

    changed = sum(1 for outcome in report.outcomes if outcome.requests)
    not_started = [
        one_line(o.change.cluster.name) for o in report.outcomes if o.result in (Result.SKIPPED, Result.NOT_STARTED)
    ]
    names = f" ({capped(', '.join(not_started), 300)})" if not_started else ""
    return (
        f"{lost}; nothing was sent after that: {changed} cluster{'s' if changed != 1 else ''} changed before "
        f"it, {len(not_started)} not started{names}. Plan again once the other apply is over"
    )


def _apply_lock(url: str | None, timeout: float, expiry: float, settings):
    """The apply lock (--lock), taken before the live state is read: the plan is made and applied alone."""
    from reconciler.apply.lock import lock_for
    from reconciler.commands.console import err

    return lock_for(url, timeout, lambda text: err(text, settings, fg="yellow"), expiry)


def _read_saved_plan(path: str, skip_errors: bool, settings):
    """Before connecting: whatever can refuse a saved plan offline refuses it now."""
    from reconciler.plan.planfile import read_saved_plan, refuse_errors

    saved = read_saved_plan(path)
    _say_skipped_errors(refuse_errors(saved, skip_errors), settings)
    return saved


def _policy_checked_again(saved, folder: str | None, settings):
    """A saved plan checked by policies is applied only once they pass again, as they are now (they may have been
    tightened since): before connecting, nothing sent."""
    from reconciler.commands.console import err
    from reconciler.commands.plan import policy_checked
    from reconciler.paint import Painter
    from reconciler.plan.planfile import refuse_denied, refuse_unchecked_policies
    from reconciler.plan.render import policy_lines

    recorded = saved.policy
    if folder is None:
        refuse_unchecked_policies(saved)
        return saved
    checked = policy_checked(saved, folder)
    if recorded is not None and recorded.digest != checked.policy.digest:
        err(
            f"note: the policies changed since the plan was made ({recorded.digest[:15]}… then, "
            f"{checked.policy.digest[:15]}… now): the plan is checked with them as they are now",
            settings,
        )
    err("\n".join(policy_lines(checked, Painter(False), None)).rstrip("\n"), settings)
    refuse_denied(checked)
    return checked


def _refuse_other_connections(saved, accounts, settings) -> None:
    """Each project of the saved plan goes now through the account it was planned through, or the plan is refused
    before anything is sent (an endpoint it was not made for included: not after reaching or waiting on it)."""
    from reconciler.commands.connect import chosen_endpoint, endpoint_label
    from reconciler.plan.data import Connection
    from reconciler.plan.planfile import refuse_other_connections

    now = [Connection(a.name, endpoint_label(a.endpoint), a.projects) for a in accounts]
    refuse_other_connections(saved, endpoint_label(chosen_endpoint(settings)), now)


def _load_targets(paths, target, settings, opening=None):
    from reconciler.commands.workflow import load_or_fail, select_targets

    return select_targets(load_or_fail(paths, settings, opening), target)


def _saved_plan_checked(api: ApiClient, saved, parallelism: int):
    """The saved plan, if it was made for this endpoint and no cluster in it changed since."""
    from reconciler.commands.console import err
    from reconciler.plan.render import summary_line

    moved = _refuse_if_stale(api, saved, parallelism)
    err(f"Applying the saved plan made {saved.created_at}: {summary_line(saved).removeprefix('Plan: ')}")
    return saved, moved


def _refuse_unless_same(api: ApiClient, reviewed, clusters, paths: list[str], parallelism: int, settings) -> None:
    """A reviewed plan is applied to files that may have moved on since (a squash merge, another merge): only if
    planning the files now would do exactly what was reviewed."""
    from reconciler.commands.console import err
    from reconciler.commands.workflow import plan_fleet
    from reconciler.plan.planfile import refuse_unless_same

    refuse_unless_same(reviewed, plan_fleet(api, clusters, parallelism, settings)[1], paths)
    err(f"A fresh plan of {' '.join(paths)} does exactly what the saved plan does.", settings)


def _refuse_if_stale(api: ApiClient, the_plan, parallelism: int) -> list[str]:
    """Refuse the plan if a cluster it changes moved in what its entry rests on; the names of the clusters it leaves
    alone that moved, to be said after the apply."""
    from reconciler.plan.planfile import refuse_if_stale

    return refuse_if_stale(api, the_plan, parallelism)


def _say_moved(moved: list[str], settings) -> None:
    """After the account: what the applied plan did not look at has moved since it was made."""
    from reconciler.commands.console import err
    from reconciler.escape import one_line

    for name in moved:
        err(f"note: {one_line(name)} changed since the plan and is not part of it: plan again to see", settings)


def _say_skipped_errors(errors: list[str], settings) -> None:
    from reconciler.commands.console import err

    if errors:
        err(
            f"--skip-errors: {len(errors)} cluster(s) in error are not applied and count as failed; "
            "the others will be applied.",
            settings,
            fg="yellow",
        )


def _fresh_plan(
    api: ApiClient,
    clusters,
    parallelism: int,
    settings,
    fmt: str,
    auto_approve: bool,
    skip_errors: bool,
    policy: str | None,
):
    """Plan, check it with the policies, show the plan, and get approval; a plan approved at a prompt is checked
    again for staleness."""
    from reconciler.commands.plan import policy_checked
    from reconciler.commands.settings import is_terminal
    from reconciler.commands.workflow import plan_fleet
    from reconciler.plan.planfile import refuse_denied, refuse_errors
    from reconciler.plan.render import render_text

    _, the_plan = plan_fleet(api, clusters, parallelism, settings)
    if policy:
        the_plan = policy_checked(the_plan, policy)
    stream = sys.stderr if fmt == "json" else sys.stdout  # JSON output stays one document on stdout
    print(render_text(the_plan, color=settings.color and is_terminal(stream)), end="", file=stream, flush=True)
    refuse_denied(the_plan)
    _say_skipped_errors(refuse_errors(the_plan, skip_errors), settings)
    if not the_plan.has_changes or auto_approve:
        return the_plan, []
    if not is_terminal(sys.stdin):
        raise UserError(NO_TERMINAL)
    sys.stderr.write("\n" + PROMPT)
    sys.stderr.flush()
    answer = sys.stdin.readline().strip()
    if answer != "yes":
        raise UserError("apply cancelled: the answer was not 'yes'. Nothing was changed.")
    moved = _refuse_if_stale(
        api, the_plan, parallelism
    )  # time passed at the prompt: someone may have changed a cluster
    return the_plan, moved


def _execute(api: ApiClient, the_plan, options, settings):
    from reconciler.apply.run import apply_plan
    from reconciler.commands.console import err
    from reconciler.escape import capped, one_line

    lock = threading.Lock()

    def report(ref, text: str) -> None:
        with lock:
            err(f"{one_line(ref.name)}: {capped(one_line(text))}", settings)

    from reconciler.escape import quoted
    from reconciler.plan.waves import schedule

    rollout = schedule(the_plan)
    if rollout and rollout.rolls and not options.wait:
        raise UserError(
            f"--no-wait cannot apply rollout {quoted(rollout.rollout.name)}: each wave starts once the clusters of "
            "the wave before it pass the health gate, which needs the waits. Nothing was changed: apply without "
            "--no-wait"
        )
    if options.wait is False and the_plan.has_changes:
        err(
            "--no-wait: the requests are sent, but nothing is waited for or verified, except what follows a create or"
            " a reset",
            settings,
            fg="yellow",
        )
    api.budget.by_time()  # the live state is read: the writes and polls ramp up over time, not all at once
    return apply_plan(api, the_plan, options, report)


def _say_one_cause(report: "ApplyReport", settings) -> None:
    """Writes all refused by the consumer key's access rules (a read-only key in the apply job): the hint once,
    after the table that lists the clusters. (Refused credentials are found by the reads, before any write.)"""
    from reconciler.apply.result import Result
    from reconciler.commands.console import err
    from reconciler.live.causes import ACCESS_RULES_HINT

    failed = [outcome for outcome in report.outcomes if outcome.result is Result.FAILED and outcome.requests]
    if failed and all(any((r.error or {}).get("class") == "NOT_GRANTED_CALL" for r in o.requests) for o in failed):
        err(f"{len(failed)} cluster(s) failed for one cause, NOT_GRANTED_CALL: {ACCESS_RULES_HINT}", settings)


def _print_report(report, fmt: str) -> None:
    from reconciler.apply.render import render_json, render_text

    if fmt == "json":
        print(render_json(report), end="")
    else:
        print("\n" + render_text(report), end="")
