"""`ovhkube export`: desired-state files from live clusters, to adopt clusters that already exist."""

import copy
import os
from collections import Counter
from collections.abc import Mapping

import typer

from reconciler.commands.console import err
from reconciler.commands.options import PARALLELISM, check_project
from reconciler.errors import UserError
from reconciler.escape import quoted
from reconciler.live.api import ApiClient


def export(
    ctx: typer.Context,
    project: str = typer.Option(
        None, "--project", metavar="PROJECT", help="The Public Cloud project (serviceName) to export."
    ),
    all_projects: bool = typer.Option(
        False,
        "--all-projects",
        help="Every project the credentials can see (the API's listing), one folder per project under --output.",
    ),
    accounts: list[str] = typer.Option(
        None,
        "--accounts",
        metavar="PATH",
        help="With --all-projects: files holding Account documents; every project each account's credentials can "
        "see, under --output/ACCOUNT/PROJECT (repeatable).",
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
    from reconciler.live.read import read_live
    from reconciler.model import ClusterRef

    if all_projects or accounts:
        if not all_projects:
            raise UserError("--accounts needs --all-projects: it exports every project each account can see")
        if project or cluster:
            raise UserError("--all-projects exports whole projects: not with --project or --cluster")
        if not output:
            raise UserError("--all-projects writes one folder per project: give --output FOLDER")
        return _export_all(ctx.obj, accounts or [], output, parallelism, defaults)
    if not project:
        raise UserError("give --project PROJECT (or --all-projects --output FOLDER)")
    check_project(project)
    names = list(dict.fromkeys(cluster or []))
    refs = [ClusterRef(project, name) for name in names]

    def read(api: ApiClient) -> tuple:
        view = read_live(api, refs, parallelism, projects=[project])
        fail_on_one_cause(api, view)
        # All or nothing: a partial export would look like a complete one.
        found = _chosen(view, project, names) if names else _whole_project(view, project)
        return found, _parts(api, project, [cluster.get("id") for cluster, _ in found], parallelism)

    with opening_api(ctx.obj, read_only=True, parallelism=parallelism) as opening:
        (found, parts), _ = read_only_or_fail(opening, read)
    _write(project, found, parts, output, defaults)


def _parts(api: ApiClient, project: str, ids: list, parallelism: int) -> dict[str, dict]:
    """What each cluster has beyond its listing: IP restrictions and OIDC (their own GETs: two more per cluster,
    export is a one-off), and its node pools (one listing per cluster)."""
    from reconciler.live.control_plane import read_all_parts
    from reconciler.live.node_pools import read_all_pools

    parts = read_all_parts(api, project, ids, parallelism)
    for cluster_id, pools in read_all_pools(api, project, ids, parallelism).items():
        parts.setdefault(cluster_id, {})["nodePools"] = pools
    return parts


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
    from reconciler.export.documents import to_stream

    if output is None:
        texts = _texts(project, found, parts, os.getcwd(), defaults)
        print(to_stream(list(texts.values())), end="")
        err(f"exported {len(found)} cluster(s) of project {project}")
        return
    files = {os.path.join(output, name): text for name, text in _texts(project, found, parts, output, defaults).items()}
    _write_files(files, output)
    err(f"exported {len(found)} cluster(s) of project {project} into {output}")


def _texts(
    project: str, found: list[tuple[dict, dict]], parts: dict[str, dict], folder: str, defaults: bool | None
) -> dict[str, str]:
    """{file name: YAML} of a project's clusters, with their schema modeline relative to `folder`; `defaults`:
    True moves what they all share into a ClusterDefaults document, None only where that removes lines."""
    from reconciler.escape import one_line
    from reconciler.export.documents import export_cluster, file_names, schema_reference, to_yaml

    exported = [
        export_cluster(project, cluster, customization, parts.get(cluster.get("id") or "") or {})
        for cluster, customization in found
    ]
    for item in exported:
        for warning in item.warnings:
            err(f"warning: {one_line(item.name)}: {one_line(warning)}")
    reference = schema_reference(folder)
    documents, names = [item.document for item in exported], [item.name for item in exported]
    texts = [to_yaml(document, reference) for document in documents]
    if defaults is None:
        texts, names = _shortest(project, documents, names, reference)
    elif defaults:
        shared = _factored(project, documents)
        if shared:
            texts, names = [to_yaml(document, reference) for document in [shared, *documents]], ["defaults", *names]
    return dict(zip(file_names(names), texts, strict=True))


def _shortest(project: str, documents: list[dict], names: list[str], reference: str) -> tuple[list[str], list[str]]:
    """The clusters' texts with ClusterDefaults only where they remove lines: first what the whole project shares,
    then what each region's clusters share beyond it."""
    from reconciler.export.defaults import factor_defaults
    from reconciler.export.documents import to_yaml

    def text(documents: list[dict]) -> list[str]:
        return [to_yaml(document, reference) for document in documents]

    best_defaults: list[tuple[str, dict]] = []
    for region in (None, *sorted({str(d["spec"].get("region")) for d in documents if d["spec"].get("region")})):
        trial = copy.deepcopy(documents)
        group = [d for d in trial if region is None or d["spec"].get("region") == region]
        shared = factor_defaults(project, group, region)
        if shared and _lines(text([shared, *trial])) < _lines(text(documents)):
            best_defaults.append(("defaults" if region is None else f"defaults-{region}", shared))
            documents = trial
    return (
        text([shared for _, shared in best_defaults] + documents),
        [name for name, _ in best_defaults] + names,
    )


def _lines(texts: list[str]) -> int:
    return sum(text.count("\n") for text in texts)


def _write_files(files: dict[str, str], output: str) -> None:
    from reconciler.commands.output_files import write_all_or_none

    try:
        for folder in sorted({os.path.dirname(path) for path in files} | {output}):
            os.makedirs(folder, exist_ok=True)
        write_all_or_none(files)  # a half-written export would read as clusters that are gone
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise UserError(f"cannot write into {output}: {exc.strerror or exc}{where}; no file was written") from None
    for path in files:
        err(f"wrote {path}")


def _export_all(settings, accounts_paths: list[str], output: str, parallelism: int, defaults: bool) -> None:
    """Every project the credentials see, each read whole, written to OUTPUT/PROJECT (OUTPUT/ACCOUNT/PROJECT with
    accounts), all files or none."""
    from reconciler.commands.opening import opening_api
    from reconciler.commands.workflow import fail_on_one_cause, load_accounts_or_fail, read_only_or_fail
    from reconciler.export.projects import visible_projects
    from reconciler.live.read import read_live

    accounts = load_accounts_or_fail(accounts_paths, settings, "nothing was read") if accounts_paths else []

    def read(api: ApiClient) -> dict:
        from reconciler.live.accounts import AccountsApi

        by_folder = {}
        sources: Mapping[str, ApiClient] = api.accounts() if isinstance(api, AccountsApi) else {"": api}
        for account, account_api in sorted(sources.items()):
            if accounts and account == "default":
                continue  # with --accounts, only the accounts' own credentials are adopted
            projects = visible_projects(account_api)
            view = read_live(account_api, [], parallelism, projects=projects)
            fail_on_one_cause(account_api, view)
            for project in projects:
                found = _whole_project(view, project)
                parts = _parts(account_api, project, [cluster.get("id") for cluster, _ in found], parallelism)
                by_folder[os.path.join(output, account, project)] = (project, found, parts)
        return by_folder

    with opening_api(settings, read_only=True, parallelism=parallelism) as opening:
        if accounts:
            opening.use_accounts(accounts)
        by_folder, _ = read_only_or_fail(opening, read)
    files: dict[str, str] = {}
    for folder, (project, found, parts) in sorted(by_folder.items()):
        texts = _texts(project, found, parts, folder, True if defaults else None)
        files |= {os.path.join(folder, name): text for name, text in texts.items()}
    if not by_folder:
        raise UserError("the credentials see no Public Cloud project; nothing was written")
    _write_files(files, output)
    clusters = sum(len(found) for _, found, _ in by_folder.values())
    err(f"exported {clusters} cluster(s) of {len(by_folder)} project(s) into {output}")


def _factored(project: str, documents: list[dict]) -> dict | None:
    from reconciler.export.defaults import factor_defaults

    shared = factor_defaults(project, documents)
    if shared is None:
        err("note: --defaults: the exported clusters share no setting; no ClusterDefaults document written")
    return shared
