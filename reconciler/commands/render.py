"""`ovhkube render`: the effective cluster documents, with the ClusterDefaults that select them merged in and
every value annotated with the file and line it comes from. Offline; the output is valid input for validate
and plan."""

import typer

from reconciler.commands import console
from reconciler.commands.options import PATHS
from reconciler.errors import ExitCode, UserError
from reconciler.escape import quoted_list


def render(
    ctx: typer.Context,
    paths: list[str] = PATHS,
    clusters: list[str] = typer.Option(
        None, "--cluster", metavar="NAME", help="Only this cluster (NAME or PROJECT/NAME); repeatable."
    ),
) -> ExitCode:
    """Print the effective cluster documents (defaults merged in), each value with its source. Offline."""
    from reconciler.commands.workflow import load_checked
    from reconciler.files.render import render_documents

    loaded = load_checked(paths, ctx.obj, offline=True)
    documents = loaded.documents
    if clusters:
        wanted = set(clusters)
        documents = [d for d in documents if wanted & _names(d)]
        unknown = sorted(name for name in wanted if not any(name in _names(d) for d in loaded.documents))
        if unknown:
            raise UserError(f"--cluster matches no cluster in the files: {quoted_list(unknown)}")
    console.out(render_documents(documents).rstrip("\n"))
    return ExitCode.OK


def _names(document) -> set[str]:
    name, project = document.data["metadata"]["name"], document.data["spec"]["project"]
    return {name, f"{project}/{name}"}
