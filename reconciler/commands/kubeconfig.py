"""`ovhkube kubeconfig`: a fresh kubeconfig of one cluster of the files, written to a private file or to stdout;
`--reset` rotates the cluster's credentials first, behind a confirmation.

The kubeconfig is a credential: it goes only where the user said (a file created 0600 and renamed into place, so it
is never readable by others, not even for a moment; or stdout), never into a plan, a report or a log.
"""

import os
import sys
import tempfile
import threading

import typer

from reconciler.commands.apply import duration_option
from reconciler.commands.options import PATHS, TARGET
from reconciler.errors import ExitCode, UserError
from reconciler.escape import one_line, quoted
from reconciler.live.api import ApiClient

STANDARD_PLAN = "standard"
# A kubeconfig reset got no clear answer: the cluster busy since means it took (the API redeploys the control
# plane). Not apply's cluster-reset statuses: a kubeconfig reset may show UPDATING.
KUBECONFIG_RESET_STARTED = ("REDEPLOYING", "RESETTING", "UPDATING")


def kubeconfig(
    ctx: typer.Context,
    paths: list[str] = PATHS,
    target: list[str] = TARGET,
    output: str = typer.Option(
        None,
        "--output",
        "-o",
        metavar="FILE",
        help="Write the kubeconfig to this file, created with mode 0600 (only you can read it); - or left out: stdout.",
    ),
    reset: bool = typer.Option(
        False,
        "--reset",
        help="First rotate the cluster's credentials (the API's kubeconfig reset): every kubeconfig given out stops "
        "working and the nodes are reinstalled. Asks for the cluster's name on a terminal, else needs --yes.",
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="With --reset: do not ask (for scripts)."),
    timeout: str = duration_option("30m", "--timeout", "With --reset: longest wait for READY before fetching"),
) -> ExitCode:
    """Write a fresh kubeconfig of one cluster of the files (pick it with --target when they hold several)."""
    from reconciler.apply.waiting import look_again
    from reconciler.commands.console import err
    from reconciler.commands.opening import opening_api
    from reconciler.commands.output_files import refuse_inputs_as_outputs
    from reconciler.commands.workflow import load_or_fail

    to_file = output not in (None, "-")
    if to_file:
        _refuse_in_folders(str(output), paths)  # first: a credential there is said as such
        refuse_inputs_as_outputs({"--output": output}, paths)
        _refuse_unwritable(str(output))  # before a reset is sent: a rotation whose kubeconfig has nowhere to go
    settings = ctx.obj
    with opening_api(settings, read_only=False, parallelism=1) as opening:
        cluster = _one_cluster(load_or_fail(paths, settings, opening), target)
        with opening.api() as api:
            found = _live(api, cluster)
            label = f"{quoted(found.get('name'))} ({cluster.project[:8]}…/{one_line(found['id'])})"
            before = None
            if reset:
                if found.get("plan") == STANDARD_PLAN:
                    raise UserError(
                        f"cluster {label} is on the Standard plan, where OVHcloud does not offer a kubeconfig reset; "
                        f"nothing was sent"
                    )
                _confirm(found, yes)
                before = _fetch(api, cluster.project, found["id"])  # kept in memory only, to tell the reset took
                _reset(api, cluster.project, found, float(timeout), lambda text: err(one_line(text), settings))
            content = _fetch(api, cluster.project, found["id"])
            if before is not None and content == before:  # the API may show the new credentials late: look again
                content = look_again(threading.Event(), lambda: _fetch(api, cluster.project, found["id"]), before)
            if before is not None and content == before:
                raise UserError(
                    f"the API answered the kubeconfig reset of cluster {label}, but the kubeconfig it gives, looked "
                    "at again for a while, is the one from before: the credentials may NOT be rotated, and the reset "
                    "was not sent again; nothing was written. Fetch a kubeconfig without --reset later to see "
                    "whether it changed before resetting again"
                )
    if to_file:
        try:
            write_private(str(output), content)
        except OSError as exc:
            raise UserError(f"cannot write the kubeconfig to {_shown(output)}: {exc.strerror or exc}") from None
        err(f"kubeconfig of cluster {label} written to {_shown(output)} (mode 0600)", settings)
    else:
        sys.stdout.write(content if content.endswith("\n") else content + "\n")
    return ExitCode.OK


def _one_cluster(clusters: list, targets: list[str] | None):
    from reconciler.commands.workflow import select_targets

    chosen = select_targets(clusters, targets, warn=False) if targets else clusters
    if len(chosen) != 1:
        names = ", ".join(quoted(c.name) for c in chosen[:10]) + (", ..." if len(chosen) > 10 else "")
        raise UserError(f"the files hold {len(chosen)} clusters ({names}): pick one with --target NAME")
    return chosen[0]


def _live(api: ApiClient, cluster) -> dict:
    """The cluster object, found as plan finds it (by spec.id, else by name or metadata.renamedFrom)."""
    from reconciler.live.read import read_live
    from reconciler.plan.planner import desired_ref

    result = read_live(api, [desired_ref(cluster)], parallelism=1).results[cluster.key]
    if result.error:
        raise UserError(f"cannot find cluster {quoted(cluster.name)}: {result.error}")
    if result.found is None:
        raise UserError(f"cluster {quoted(cluster.name)} of project {cluster.project} does not exist")
    return dict(result.found.cluster)


def _confirm(found: dict, yes: bool) -> None:
    """kubectl-like: a flag for scripts; on a terminal, the cluster's name typed back (a `yes` typed by habit is not
    enough for what cuts off every user of the cluster)."""
    from reconciler.commands.settings import is_terminal

    if yes:
        return
    if not is_terminal(sys.stdin):
        raise UserError("--reset cuts off every kubeconfig of the cluster: confirm it with --yes; nothing was sent")
    name = str(found.get("name") or "")
    sys.stderr.write(
        f"Reset the kubeconfig of cluster {quoted(name)}? Every kubeconfig given out so far stops working, the "
        f"certificates are regenerated and the nodes reinstalled.\nType the cluster's name to confirm: "
    )
    sys.stderr.flush()
    if sys.stdin.readline().strip() != name:
        raise UserError("kubeconfig reset cancelled: the answer was not the cluster's name; nothing was sent")


def _reset(api: ApiClient, project: str, found: dict, timeout: float, say) -> None:
    """Send the reset once. After an answer that is not clear it is read back, never sent again: a second reset
    would cut off the kubeconfig the first one gave out. Then wait for READY (Ctrl-C stops the wait)."""
    from reconciler.apply.waiting import WaitFailed, wait_until_ready
    from reconciler.errors import ApiError
    from reconciler.live.kubeconfig import reset_kubeconfig
    from reconciler.live.read import read_object

    cluster_id = found["id"]
    try:
        reset_kubeconfig(api, project, cluster_id)
    except ApiError as exc:
        if not exc.ambiguous:
            raise UserError(f"the API refused the kubeconfig reset: {exc}") from None
        try:
            status = read_object(api, project, cluster_id).get("status")
        except ApiError:
            status = None
        if status not in KUBECONFIG_RESET_STARTED:
            shown_status = one_line(status or "unreadable")
            raise UserError(
                f"the kubeconfig reset got no clear answer ({exc}) and the cluster is {shown_status}: "
                f"whether it took cannot be told, and it was not sent again; fetch a kubeconfig without --reset "
                f"and try it"
            ) from None
        say(f"the kubeconfig reset got no clear answer ({exc}), but the cluster is {status}: it took")
    say("kubeconfig reset: waiting for the cluster to be READY before fetching the new one")
    try:
        wait_until_ready(api, project, cluster_id, timeout=timeout, stop=threading.Event(), report=say)
    except WaitFailed as exc:
        raise UserError(f"the kubeconfig was reset, but {exc}; fetch it later without --reset") from None


def _fetch(api: ApiClient, project: str, cluster_id: str) -> str:
    from reconciler.errors import ApiError
    from reconciler.live.kubeconfig import KubeconfigError, fresh_kubeconfig

    try:
        return fresh_kubeconfig(api, project, cluster_id)
    except KubeconfigError as exc:
        raise UserError(str(exc)) from None
    except ApiError as exc:
        raise UserError(f"cannot get the kubeconfig: {exc}") from None


def _shown(path: str) -> str:
    """The path as typed, on one line (a name may hold escape codes); quoted where it is empty or blank."""
    return one_line(path) if path.strip() else quoted(path)


def _refuse_in_folders(path: str, inputs: list[str]) -> None:
    """Not into a folder of desired-state files: that folder is usually a Git repository, where a credential would
    be committed with the next change (and every later plan would skip it, unseen)."""
    target = os.path.realpath(path)
    for folder in (entry for entry in inputs if os.path.isdir(entry)):
        if os.path.commonpath([target, os.path.realpath(folder)]) == os.path.realpath(folder):
            raise UserError(
                f"--output {_shown(path)}: is inside {_shown(folder)}, a folder of desired-state files: a kubeconfig "
                "is a credential, keep it out of what may be committed (e.g. ~/.kube/); nothing was sent"
            )


def _refuse_unwritable(path: str) -> None:
    """What write_private would refuse, said before anything is asked of the API. A device, a pipe or a socket
    (`-o /dev/stdout`, `-o /dev/null`) would be replaced by a regular file, and only root may do that in /dev: never."""
    target = os.path.realpath(path)
    why = None
    if not path.strip():
        why = "no file name"
    elif os.path.isdir(target):
        why = "Is a directory"
    elif os.path.exists(path) and not os.path.isfile(path):  # followed as the kernel does: /dev/stdout is a pipe
        why = "not a regular file (a device, a pipe or a socket): write to a file, or leave -o out for stdout"
    elif not os.path.isdir(os.path.dirname(target)):
        why = "its folder does not exist"
    if why:
        raise UserError(f"cannot write the kubeconfig to {_shown(path)}: {why}; nothing was sent")


def write_private(path: str, text: str) -> None:
    """`text` into `path`, readable by its owner only: written to a temporary file that mkstemp creates 0600 in the
    same folder, synced, then renamed over `path` (a symlink is followed: the file it points at is replaced). A
    file of the same name that others could read is replaced, never written into; raises OSError."""
    target = os.path.realpath(path)
    if os.path.isdir(target):
        raise IsADirectoryError(21, "Is a directory", path)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=f".{os.path.basename(target)}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            os.fchmod(stream.fileno(), 0o600)  # mkstemp's mode already; said, not assumed
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
