"""The Public Cloud projects a set of credentials can see (`GET /cloud/project`), for `export --all-projects`."""

import re
from typing import TYPE_CHECKING

from reconciler.errors import ApiError
from reconciler.steps import projects_path

if TYPE_CHECKING:  # the client loads ovh and requests: only for the type checker
    from reconciler.live.client import Api

PROJECT_ID = re.compile(r"[0-9a-f]{32}")


def visible_projects(api: "Api") -> list[str]:
    """The project ids the API lists, sorted; an answer that is not a list of project ids is an ApiError."""
    path = projects_path()
    answer = api.get(path)
    if not isinstance(answer, list) or not all(isinstance(p, str) and PROJECT_ID.fullmatch(p) for p in answer):
        raise ApiError(f"GET {path} did not answer a list of project ids", method="GET", path=path)
    return sorted(set(answer))
