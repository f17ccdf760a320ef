"""`export --defaults`: the settings every exported cluster shares, moved into one ClusterDefaults document.

Each value written identically in every exported document moves to the defaults; each cluster document keeps its
identity, its permissions (a permission never comes from defaults) and what differs. Merged back under the
ClusterDefaults rules, every cluster gets exactly what it had, so the files still plan to no changes. A mapping
emptied by the move is removed, never left as `{}`: an empty mapping is a value and would win over the defaults.
"""

from typing import Any

from reconciler.files.defaults import KIND, same_value, written_values

IDENTITY = ("project", "region", "id")


def factor_defaults(project: str, documents: list[dict], region: str | None = None) -> dict | None:
    """The ClusterDefaults document of what `documents` (exported Cluster documents) all share, taken out of them;
    None when there are fewer than two documents or nothing is shared. `region`: the documents are that region's
    clusters of the project, and the defaults select those only."""
    if len(documents) < 2:
        return None
    written = [dict(written_values(document["spec"], ())) for document in documents]
    shared = {
        path: value
        for path, value in written[0].items()
        if path[0] not in IDENTITY
        and not _permission(path)
        and all(path in other and same_value(other[path], value) for other in written[1:])
    }
    if not shared:
        return None
    spec: dict = {}
    for path, value in shared.items():
        _put(spec, path, value)
        for document in documents:
            _take(document["spec"], path)
    selector: dict = {"projects": [project]} | ({"regions": [region]} if region else {})
    name = f"project-{project}" + (f"-{region.lower()}" if region else "")
    return {"apiVersion": "ovhkube/v1", "kind": KIND, "metadata": {"name": name}, "selector": selector, "spec": spec}


def _permission(path: tuple) -> bool:
    return path[0] == "lifecycle" and str(path[-1]).startswith("allow")


def _put(node: dict, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def _take(node: dict, path: tuple) -> None:
    """Remove the value at path, and every mapping on the way that it leaves empty."""
    parents = []
    for key in path[:-1]:
        parents.append((node, key))
        node = node[key]
    del node[path[-1]]
    for parent, key in reversed(parents):
        if parent[key]:
            break
        del parent[key]
