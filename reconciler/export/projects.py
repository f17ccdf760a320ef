"""The Public Cloud projects a set of credentials can see (`GET /cloud/project`), for `export --all-projects`."""

import re

from reconciler.errors import ApiError
from reconciler.live.api import ApiClient
from reconciler.steps import projects_path

PROJECT_ID = re.compile(r"[0-9a-f]{32}")


def visible_projects(api: ApiClient) -> list[str]:
    """The project ids the API lists, sorted; an answer that is not a list of project ids is an ApiError."""
    path = projects_path()
    answer = api.get(path)
    if not isinstance(answer, list) or not all(isinstance(p, str) and PROJECT_ID.fullmatch(p) for p in answer):
        raise ApiError(f"GET {path} did not answer a list of project ids", method="GET", path=path)
    return sorted(set(answer))
