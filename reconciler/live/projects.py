"""Each project's description (`GET /cloud/project/{serviceName}`), so that a plan names a project as people do,
not only by its 32-hex id. One GET per project, through the request budget like every call; what cannot be read
(a consumer key without the rule, an answer without a description) leaves the project shown by its id alone: a
description only helps the reader, so it never fails a plan."""

from reconciler.errors import ApiError
from reconciler.live.api import ApiClient
from reconciler.live.read import reading_pool

MAX_DESCRIPTION = 80  # characters shown; a description is a label, not a document


def project_path(project: str) -> str:
    return f"/cloud/project/{project}"


def read_descriptions(api: ApiClient, projects: list[str], parallelism: int) -> dict[str, str]:
    """{project id: description} of those that have one and could be read."""
    if not projects:
        return {}

    def read(project: str) -> str | None:
        try:
            answer = api.get(project_path(project))
        except ApiError:
            return None
        described = answer.get("description") if isinstance(answer, dict) else None
        if not isinstance(described, str) or not described.strip():
            return None
        described = described.strip()
        return described if len(described) <= MAX_DESCRIPTION else described[: MAX_DESCRIPTION - 1] + "…"

    with reading_pool(api, min(parallelism, len(projects))) as pool:  # stops at a signal, as the plan's reads
        found = dict(zip(projects, pool.map(read, projects), strict=True))
    return {project: described for project, described in found.items() if described}
