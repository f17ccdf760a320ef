"""Command-line entry point. It only wires commands; each command's work lives in reconciler.commands.*"""

import os
import sys

import typer

from reconciler import __version__
from reconciler.commands.settings import Settings

app = typer.Typer(
    name="ovhkube",
    help="Declarative settings for OVHcloud Managed Kubernetes: validate, plan, apply, drift, export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
sandbox_app = typer.Typer(help="Run and inspect the local OVHcloud API emulator.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")


def _print_version(value: bool) -> None:
    if value:
        print(f"ovhkube {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(
    ctx: typer.Context,
    endpoint: str = typer.Option(
        None,
        "--endpoint",
        envvar="OVH_ENDPOINT",
        help="ovh-eu | ovh-ca | ovh-us | sandbox | an http(s)://.../1.0 URL.",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log each API call (method, path, status, time)."),
    no_color: bool = typer.Option(False, "--no-color", help="No colour in output (NO_COLOR is honoured too)."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True, help="Print the version."),
) -> None:
    ctx.obj = Settings(endpoint=endpoint, verbose=verbose, color=Settings.color_wanted(no_color))


# Commands. Each module imports only what its command's options need; heavy imports happen inside the command.
from reconciler.commands import apply, drift, export, plan, sandbox, validate  # noqa: E402

app.command("validate")(validate.validate)
app.command("schema")(validate.schema)
app.command("plan")(plan.plan)
app.command("apply")(apply.apply)
app.command("drift")(drift.drift)
app.command("export")(export.export)
sandbox_app.command("serve")(sandbox.serve)
sandbox_app.command("seed")(sandbox.seed)
sandbox_app.command("show")(sandbox.show)


GLOBAL_FLAGS = {"--verbose", "-v", "--no-color"}
GLOBAL_VALUED = {"--endpoint"}


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


def main() -> None:
    try:
        app(args=hoist_global_options(sys.argv[1:]), prog_name="ovhkube")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # the last guard: users get one line, never a traceback
        if os.environ.get("OVHKUBE_DEBUG"):
            raise
        hint = "(set OVHKUBE_DEBUG=1 for a traceback)"
        print(f"error: internal error: {type(exc).__name__}: {exc} {hint}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":  # `python -m reconciler.cli`, as the tests and benchmarks run it
    main()
