"""`ovhkube sandbox serve | seed | show`: run and inspect the local OVHcloud API emulator."""

import json
import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from reconciler.commands.console import err
from reconciler.errors import UserError
from reconciler.sandbox import PUT_REPLACES_ENV

if TYPE_CHECKING:
    from reconciler.sandbox.state import State


class ResetStatus(StrEnum):
    REDEPLOYING = "REDEPLOYING"
    RESETTING = "RESETTING"


STATE_HELP = "State file (default: $OVHKUBE_SANDBOX_STATE or .ovhkube/sandbox.sqlite3)."
TRANSITION_ENV = "OVHKUBE_SANDBOX_TRANSITION_SECONDS"


def _state_path(state: Path | None) -> Path:
    from reconciler.sandbox import default_state_path

    return state or default_state_path()


def _open_state(path: Path) -> "State":
    """The sandbox's State at `path`; a file that cannot be one is one error line."""
    from reconciler.sandbox.state import State, StateError

    try:
        return State(path)
    except StateError as exc:
        raise UserError(str(exc)) from None


def _seed_into(state_path: Path, seed_file: Path) -> int:
    from reconciler.sandbox.seed import SeedError, load_seed

    try:
        return load_seed(_open_state(state_path), seed_file)
    except SeedError as exc:
        for problem in exc.problems[:-1]:
            err(f"error: {problem}")
        raise UserError(exc.problems[-1]) from None  # the last line, printed as every other error


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8080, min=0, max=65535, help="Port; 0 picks a free one."),
    state: Path = typer.Option(None, help=STATE_HELP),
    seed: Path = typer.Option(None, help="Seed file to load into the state before serving."),
    latency_ms: float = typer.Option(0.0, min=0, help="Delay added to every request, in milliseconds."),
    error_rate: float = typer.Option(0.0, min=0, max=1, help="Share of requests answered 500/502/503."),
    rate_limit: float = typer.Option(0.0, min=0, help="Requests per second per consumer key, then 429 (0: no limit)."),
    random_seed: int = typer.Option(None, help="Makes the injected errors reproducible."),
    transition_seconds: float = typer.Option(
        2.0, min=0, envvar=TRANSITION_ENV, help="Seconds a cluster stays INSTALLING/UPDATING/REDEPLOYING/RESETTING."
    ),
    reset_status: ResetStatus = typer.Option(
        "REDEPLOYING", help="Status a reset shows (REDEPLOYING as in OVHcloud's reset guide, or RESETTING)."
    ),
    create_hidden_seconds: float = typer.Option(
        0.0, min=0, help="Seconds a new cluster answers 404 after its create, as the real API may."
    ),
    show_late_seconds: float = typer.Option(
        0.0, min=0, help="Seconds a change (not a create) shows late: reads answer the cluster as before it, READY."
    ),
    reset_delay_seconds: float = typer.Option(
        0.0,
        min=0,
        help="Seconds a reset starts after it is accepted (READY in the old mode, taking changes, meanwhile).",
    ),
    null_customization: bool = typer.Option(
        False, "--null-customization", help="Answer customization: null on a cluster with nothing customized."
    ),
    autoscaler_nodes: int = typer.Option(
        None,
        "--autoscaler-nodes",
        min=0,
        metavar="N",
        help="Act as the cluster autoscaler: every autoscaled pool reads as moved to N nodes (within min..max).",
    ),
    put_replaces_customization: bool = typer.Option(
        False,
        "--put-replaces-customization",
        envvar=PUT_REPLACES_ENV,
        help="A customization PUT replaces the whole customization (a block left out is gone), not only the blocks "
        "it sends.",
    ),
    busy_writes: int = typer.Option(0, min=0, help="Refuse this many first POST/PUT with 409 --busy-class."),
    busy_class: str = typer.Option(
        "ServiceOnlyOneModification", help="Conflict for --busy-writes: ServiceOnlyOneModification, ServiceLocked..."
    ),
    iam_deny: list[str] = typer.Option(
        [], help="Refuse this IAM action (e.g. publicCloudProject:apiovh:kube/reset) with 403; repeatable."
    ),
    access_rules_deny: list[str] = typer.Option(
        [],
        metavar="ACTION",
        help="Refuse this IAM action with 403 as outside the consumer key's access rules; repeatable.",
    ),
    fail_upgrade: list[str] = typer.Option(
        [],
        metavar="NAME",
        help="An upgrade of this cluster leaves it ERROR while served so (a failed upgrade); repeatable.",
    ),
    unready_api_server: list[str] = typer.Option(
        [],
        metavar="NAME",
        help="This cluster's API server answers /readyz with 503 (a rollout's gate then fails); repeatable.",
    ),
    request_log: Path = typer.Option(
        None, "--request-log", help="Append one JSON line per request answered (time, method, path, status, expanded)."
    ),
    max_clusters_per_project: int = typer.Option(
        20, "--max-clusters-per-project", min=1, help="A create beyond this many clusters in a project is refused."
    ),
    expanded_lists: bool = typer.Option(
        True,
        "--expanded-lists/--no-expanded-lists",
        help="Answer the project listing with full objects when asked (X-Pagination-Mode), or always with ids.",
    ),
) -> None:
    """Run the sandbox API until Ctrl-C or SIGTERM; the first line printed is its URL."""
    from reconciler.sandbox.clusters import Behaviour
    from reconciler.sandbox.faults import FaultOptions
    from reconciler.sandbox.server import SandboxServer
    from reconciler.sandbox.state import StateError

    state_path = _state_path(state)
    if seed is not None:
        _seed_into(state_path, seed)
    faults = FaultOptions(
        latency_ms,
        error_rate,
        rate_limit,
        random_seed,
        busy_writes=busy_writes,
        busy_class=busy_class,
        iam_denied=tuple(iam_deny),
        access_rules_denied=tuple(access_rules_deny),
        failed_upgrades=tuple(fail_upgrade),
        unready_api_servers=tuple(unready_api_server),
    )
    try:
        server = SandboxServer(
            state_path,
            host,
            port,
            faults=faults,
            behaviour=Behaviour(
                transition_seconds=transition_seconds,
                max_clusters_per_project=max_clusters_per_project,
                reset_status=reset_status.value,
                create_hidden_seconds=create_hidden_seconds,
                show_late_seconds=show_late_seconds,
                null_customization=null_customization,
                reset_delay_seconds=reset_delay_seconds,
                autoscaler_nodes=autoscaler_nodes,
                put_replaces_customization=put_replaces_customization,
            ),
            expand_lists=expanded_lists,
            request_log=request_log,
        )
    except StateError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    print(f"listening on {server.url}", flush=True)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _raise_keyboard_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def seed(
    file: Path = typer.Argument(..., help="Seed YAML file (projects[].serviceName, clusters[])."),
    state: Path = typer.Option(None, help=STATE_HELP),
) -> None:
    """Load a seed into a sandbox state, replacing the clusters of the projects it names."""
    state_path = _state_path(state)
    written = _seed_into(state_path, file)
    print(f"seeded {written} cluster(s) into {state_path}", file=sys.stderr)


def show(
    state: Path = typer.Option(None, help=STATE_HELP),
    transition_seconds: float = typer.Option(
        2.0, min=0, envvar=TRANSITION_ENV, help="Transition time to judge seeded clusters' status with."
    ),
) -> None:
    """Print the sandbox state as JSON in the seed's shape, each cluster with its number of `resets`."""
    from reconciler.sandbox.seed import show as shown_state

    state_path = _state_path(state)
    if not state_path.exists():
        raise UserError(f"no sandbox state at {state_path} (run `ovhkube sandbox seed FILE` first)")
    print(json.dumps(shown_state(_open_state(state_path), transition_seconds), indent=2))
