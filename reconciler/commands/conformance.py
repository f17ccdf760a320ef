"""`ovhkube sandbox conformance`: check an endpoint against the assumptions ovhkube (and its sandbox) make about the
OVHcloud API. Read-only unless --write-cluster names a throwaway cluster, which it then changes and RESETS."""

import json
import re
import sys
from enum import StrEnum

import typer

from reconciler.commands.options import check_project
from reconciler.errors import ExitCode, UserError
from reconciler.escape import quoted

CLUSTER_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class ReportFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def conformance(
    ctx: typer.Context,
    project: str = typer.Option(
        ..., "--project", metavar="PROJECT", help="A Public Cloud project (serviceName) to read."
    ),
    write_cluster: str = typer.Option(
        None,
        "--write-cluster",
        metavar="ID",
        help="Id of a THROWAWAY cluster of the project: also checks PUT, a busy PUT, reset and the waits on it. "
        "Its customization is changed and it is RESET: all its Kubernetes data is erased.",
    ),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Do not ask before changing --write-cluster."),
    timeout: float = typer.Option(
        1800, "--timeout", metavar="SECONDS", min=1, help="Seconds to wait for READY after each change."
    ),
    output_format: ReportFormat = typer.Option(ReportFormat.TEXT, "--format", help="text, or json to send back."),
) -> ExitCode:
    """Check each assumption ovhkube makes about the API (read-only unless --write-cluster); exit 1 on a failure."""
    from reconciler.commands.connect import open_api
    from reconciler.conformance import run_checks
    from reconciler.plan.render import printable

    check_project(project)
    if write_cluster is not None:
        if not CLUSTER_ID.fullmatch(write_cluster):
            raise UserError(f"--write-cluster {quoted(write_cluster)} is not a cluster id (a lowercase UUID)")
        _confirm(write_cluster, auto_approve)

    def say(line: str) -> None:
        print(f"{write_cluster}: {printable(line)}", file=sys.stderr, flush=True)

    with open_api(ctx.obj, read_only=write_cluster is None) as api:
        report = run_checks(api, project, write_cluster=write_cluster, timeout=timeout, say=say)
    if output_format == ReportFormat.JSON:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for check in report.checks:
            print(f"{check.result.upper():4}  {check.name}: {printable(check.detail)}")
        summary = report.to_dict()["summary"]
        print(f"\n{summary['pass']} passed, {summary['warn']} warned, {summary['fail']} failed ({report.endpoint}).")
    return ExitCode.ERROR if report.failed else ExitCode.OK


def _confirm(cluster_id: str, auto_approve: bool) -> None:
    if auto_approve:
        return
    from reconciler.commands.settings import is_terminal

    if not is_terminal(sys.stdin):
        raise UserError("--write-cluster RESETS that cluster: add --auto-approve to run it without a terminal")
    answer = input(f"Cluster {cluster_id} will be changed and RESET (all its Kubernetes data erased). Type its id: ")
    if answer.strip() != cluster_id:
        raise UserError("not confirmed: nothing was changed")
