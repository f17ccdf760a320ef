"""Command-line entry point. It only wires commands; each command's work lives in reconciler.commands.*"""

import math
import os
import signal
import sys
from collections.abc import Sequence

import typer

from reconciler import __version__
from reconciler.commands.settings import Settings
from reconciler.errors import ApiError, ExitCode, Terminated, UserError
from reconciler.signals import STOPPED_BY, sigterm_as_interrupt

app = typer.Typer(
    name="ovhkube",
    help="Declarative settings for OVHcloud Managed Kubernetes: validate, plan, apply, drift, export.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
sandbox_app = typer.Typer(help="Run and inspect the local OVHcloud API emulator.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")


def _print_version(value: bool) -> None:
    if value:
        print(f"ovhkube {__version__}")
        raise typer.Exit()


MIN_RATE = 0.01  # requests a second: one every 100 s; below it a run would wait days between two requests


def _rate(value: float | None) -> float | None:
    """--max-requests-per-second: 0 (no limit) or a rate a run can keep; a smaller one is a usage error."""
    if value is None or value == 0:
        return value
    if not math.isfinite(value) or value < MIN_RATE:
        raise typer.BadParameter(f"0 (no limit) or at least {MIN_RATE} (one request every 100 s); got {value:g}")
    return value


@app.callback()
def global_options(
    ctx: typer.Context,
    endpoint: str = typer.Option(
        None,
        "--endpoint",
        metavar="NAME|URL",
        envvar="OVH_ENDPOINT",
        help="ovh-eu | ovh-ca | ovh-us | sandbox | an http(s)://.../1.0 URL.",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log each API call (method, path, status, time)."),
    no_color: bool = typer.Option(False, "--no-color", help="No colour in output (NO_COLOR is honoured too)."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True, help="Print the version."),
    max_rps: float = typer.Option(
        None,
        "--max-requests-per-second",
        metavar="R",
        envvar="OVHKUBE_MAX_RPS",
        min=0,
        callback=_rate,
        help="At most this many API requests a second, all threads together, at least 0.01 (0 or unset: no limit "
        "until a 429).",
    ),
) -> None:
    ctx.obj = Settings(
        endpoint=endpoint,
        verbose=verbose,
        color=Settings.color_wanted(no_color),
        max_requests_per_second=max_rps or None,
    )


# Commands. Each module imports only what its command's options need; heavy imports happen inside the command.
from reconciler.commands import (  # noqa: E402
    access,
    apply,
    conformance,
    drift,
    export,
    kubeconfig,
    plan,
    render,
    sandbox,
    show,
    validate,
)

app.command("validate")(validate.validate)
app.command("schema")(validate.schema)
app.command("plan")(plan.plan)
app.command("show")(show.show)
app.command("render")(render.render)
app.command("apply")(apply.apply)
app.command("drift")(drift.drift)
app.command("export")(export.export)
app.command("access-rules")(access.access_rules)
app.command("kubeconfig")(kubeconfig.kubeconfig)
sandbox_app.command("serve")(sandbox.serve)
sandbox_app.command("seed")(sandbox.seed)
sandbox_app.command("show")(sandbox.show)
sandbox_app.command("conformance")(conformance.conformance)


GLOBAL_FLAGS = {"--verbose", "-v", "--no-color"}
GLOBAL_VALUED = {"--endpoint", "--max-requests-per-second"}


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move global options to the front, so they work after the command too (`ovhkube plan x -v`)."""
    front, rest = [], []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            rest.extend(argv[index:])
            break
        if arg in GLOBAL_FLAGS or arg.split("=", 1)[0] in GLOBAL_VALUED:
            span = argv[index : index + 2] if arg in GLOBAL_VALUED else [arg]
            front.extend(span)
            index += len(span)
            continue
        rest.append(arg)
        index += 1
    return front + rest


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code. The one place where errors become exit codes (see ExitCode):
    a UserError or ApiError is one `error: ...` line and 1; a usage error (unknown option, missing argument) is its
    message and 1, never click's 2, which scripts read as "changes" or "drift"; Ctrl-C is 130."""
    from reconciler.escape import no_commands_in_output

    args = hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    with no_commands_in_output(), sigterm_as_interrupt():  # no line of ours starts a CI workflow command
        return _run(args)


def _run(args: list[str]) -> int:
    from reconciler.escape import capped, one_line

    try:
        result = app(args=args, prog_name="ovhkube", standalone_mode=False)
    except (UserError, ApiError) as exc:
        print(f"error: {capped(one_line(exc))}", file=sys.stderr)
        return ExitCode.ERROR
    except typer.TyperException as exc:  # usage errors: bad option, missing argument, unknown command, bad value
        show = getattr(exc, "show", None)  # click's usage line, "Try 'ovhkube plan -h' for help." and the error
        show() if show else print(f"error: {exc.format_message()}", file=sys.stderr)
        from reconciler.commands.hints import single_dash_hint

        hint = single_dash_hint(args)
        if hint:
            print(hint, file=sys.stderr)
        return ExitCode.ERROR
    except Terminated:
        return _stopped(terminated=True)
    except (KeyboardInterrupt, typer.Abort):  # Abort: Ctrl-C or end of input at a click prompt
        return _stopped(terminated=False)
    except Exception as exc:  # the last guard: users get one line, never a traceback
        if os.environ.get("OVHKUBE_DEBUG"):
            raise
        hint = "(set OVHKUBE_DEBUG=1 for a traceback)"
        print(f"error: internal error: {type(exc).__name__}: {capped(one_line(exc))} {hint}", file=sys.stderr)
        return ExitCode.ERROR
    if type(result) is int and result == ExitCode.INTERRUPTED and STOPPED_BY:
        # typer turned the interrupt that stopped the command (plan, drift: apply accounts for it itself and returns
        # an ExitCode) into a bare 130, with nothing said and SIGTERM's 143 lost.
        return _stopped(terminated=STOPPED_BY[-1] == signal.SIGTERM)
    # A command returns an ExitCode or nothing (OK); typer.Exit (--help, --version) comes back as its code.
    return ExitCode.OK if result is None else int(result)


def _stopped(terminated: bool) -> int:
    print("terminated (SIGTERM)" if terminated else "interrupted", file=sys.stderr)
    return ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED


if __name__ == "__main__":  # `python -m reconciler.cli`, as the tests and benchmarks run it
    sys.exit(main())
