"""The Public Cloud projects a set of credentials can see (`GET /cloud/project`), for `export --all-projects`."""

import re

from reconciler.errors import ApiError

PROJECT_ID = re.compile(r"[0-9a-f]{32}")


def visible_projects(api) -> list[str]:
    """The project ids the API lists, sorted; an answer that is not a list of project ids is an ApiError."""
    answer = api.get("/cloud/project")
    if not isinstance(answer, list) or not all(isinstance(p, str) and PROJECT_ID.fullmatch(p) for p in answer):
        raise ApiError("GET /cloud/project did not answer a list of project ids", method="GET", path="/cloud/project")
    return sorted(set(answer))
