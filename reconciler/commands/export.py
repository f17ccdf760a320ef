"""`ovhkube export`: desired-state files from live clusters, to adopt clusters that already exist."""

import os
from collections import Counter

import typer

from reconciler.commands.console import err
from reconciler.commands.options import PARALLELISM, check_project
from reconciler.errors import UserError
from reconciler.escape import quoted


def export(
    ctx: typer.Context,
    project: str = typer.Option(
        ..., "--project", metavar="PROJECT", help="The Public Cloud project (serviceName) to export."
    ),
    cluster: list[str] = typer.Option(
        None, "--cluster", metavar="NAME", help="Only the cluster of this name; repeatable."
    ),
    output: str = typer.Option(
        None,
        "--output",
        metavar="FOLDER",
        help="Write one <name>.yaml per cluster into this folder (default: stdout, one stream).",
    ),
    parallelism: int = PARALLELISM,
    defaults: bool = typer.Option(
        False,
        "--defaults",
        help="Move the settings every exported cluster shares into one ClusterDefaults document (defaults.yaml, "
        "first in the stream); each cluster keeps only what differs.",
    ),
) -> None:
    """Write desired-state files that match the live clusters; they validate and plan to no changes. Read-only."""
    from reconciler.commands.opening import opening_api
    from reconciler.commands.workflow import fail_on_one_cause, read_only_or_fail
    from reconciler.live.control_plane import read_all_parts
    from reconciler.live.node_pools import read_all_pools
    from reconciler.live.read import read_live
    from reconciler.plan.data import ClusterRef

    check_project(project)
    names = list(dict.fromkeys(cluster or []))
    refs = [ClusterRef(project, name) for name in names]

    def read(api):
        view = read_live(api, refs, parallelism, projects=[project])
        fail_on_one_cause(api, view)
        # All or nothing: a partial export would look like a complete one.
        found = _chosen(view, project, names) if names else _whole_project(view, project)
        # IP restrictions and OIDC have their own GETs (two more per cluster: export is a one-off).
        ids = [cluster.get("id") for cluster, _ in found]
        parts = read_all_parts(api, project, ids, parallelism)
        # And its node pools: one listing per cluster.
        for cluster_id, pools in read_all_pools(api, project, ids, parallelism).items():
            parts.setdefault(cluster_id, {})["nodePools"] = pools
        return found, parts

    with opening_api(ctx.obj, read_only=True, parallelism=parallelism) as opening:
        (found, parts), _ = read_only_or_fail(opening, read)
    _write(project, found, parts, output, defaults)


def _chosen(view, project: str, names: list[str]) -> list[tuple[dict, dict]]:
    problems, found = [], []
    for name in names:
        result = view.results[(project, name)]
        if result.error:
            problems.append(f"{quoted(name)}: {result.error}")
        elif result.found is None:
            problems.append(f"{quoted(name)}: no cluster of that name in project {project}")
        else:
            found.append((result.found.cluster, result.found.customization))
    from reconciler.escape import one_line

    for problem in problems:
        err(f"error: --cluster {one_line(problem)}")  # a name as typed: may hold a newline or an escape code
    if problems:
        raise UserError(f"{len(problems)} cluster(s) cannot be exported; nothing was written")
    return found


def _whole_project(view, project: str) -> list[tuple[dict, dict]]:
    if project in view.project_errors:
        raise UserError(f"cannot list the clusters of project {project}: {view.project_errors[project]}")
    # read_errors holds the clusters that could not be read (an endpoint without the expanded listing).
    problems = [f"cluster {cid} cannot be read: {message}" for (_, cid), message in sorted(view.read_errors.items())]
    clusters = view.clusters_by_project.get(project, [])
    twice = sorted(name for name, count in Counter(c.get("name") for c in clusters).items() if count > 1)
    problems += [
        f"several clusters are named {quoted(name)}: ovhkube tells clusters apart by project and name; "
        "rename all but one"
        for name in twice
    ]
    for problem in problems:
        err(f"error: {problem}")
    if problems:
        raise UserError(f"{len(problems)} problem(s) in project {project}; nothing was written")
    return [(c, c.get("customization") or {}) for c in clusters]


def _write(
    project: str, found: list[tuple[dict, dict]], parts: dict[str, dict], output: str | None, defaults: bool = False
) -> None:
    from reconciler.commands.output_files import write_all_or_none
    from reconciler.escape import one_line
    from reconciler.export.documents import export_cluster, file_names, schema_reference, to_stream, to_yaml

    exported = [
        export_cluster(project, cluster, customization, parts.get(cluster.get("id") or "") or {})
        for cluster, customization in found
    ]
    for item in exported:
        for warning in item.warnings:
            err(f"warning: {one_line(item.name)}: {one_line(warning)}")
    reference = schema_reference(output or os.getcwd())
    documents, names = [item.document for item in exported], [item.name for item in exported]
    shared = _factored(project, documents) if defaults else None
    if shared:
        documents, names = [shared, *documents], ["defaults", *names]
    texts = [to_yaml(document, reference) for document in documents]
    if output is None:
        print(to_stream(texts), end="")
        err(f"exported {len(exported)} cluster(s) of project {project}")
        return
    files = {os.path.join(output, name): text for name, text in zip(file_names(names), texts, strict=True)}
    try:
        os.makedirs(output, exist_ok=True)
        write_all_or_none(files)  # a half-written export would read as clusters that are gone
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise UserError(f"cannot write into {output}: {exc.strerror or exc}{where}; no file was written") from None
    for path in files:
        err(f"wrote {path}")
    err(f"exported {len(exported)} cluster(s) of project {project} into {output}")


def _factored(project: str, documents: list[dict]) -> dict | None:
    from reconciler.export.defaults import factor_defaults

    shared = factor_defaults(project, documents)
    if shared is None:
        err("note: --defaults: the exported clusters share no setting; no ClusterDefaults document written")
    return shared
