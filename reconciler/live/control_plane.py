"""The control-plane settings that live behind their own GET: IP restrictions and OIDC.

The cluster object carries neither, so each costs a request per cluster: they are read only for the clusters
whose plan needs them (the file manages them, or a reset must put them back), never for a whole fleet.
"""

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from reconciler.errors import ApiError, NotFound
from reconciler.live.api import ApiClient
from reconciler.live.read import LiveCluster, LiveResult, LiveView, reading_pool
from reconciler.model import IP_RESTRICTIONS, OIDC_FIELDS, OPENID_CONNECT, RESTORED_AFTER_RESET, ErrorReason
from reconciler.steps import part_path

PARTS = RESTORED_AFTER_RESET


def read_part(api: ApiClient, project: str, cluster_id: str, part: str) -> Any:
    """One part as the API answers it: the list of ranges, or the OIDC settings ({} where none is configured)."""
    try:
        answer = api.get(part_path(project, cluster_id, part))
    except NotFound:
        if part == OPENID_CONNECT:  # no OIDC configured answers 404 (as Terraform's provider reads it)
            return {}
        raise
    if part == IP_RESTRICTIONS:
        return list(answer or [])
    # Only the settings (an answer may carry more, such as an id): what is put back after a reset is sent as read.
    return {key: value for key, value in (answer or {}).items() if key in OIDC_FIELDS and value not in (None, "", [])}


def with_parts(api: ApiClient, live: LiveCluster, project: str, parts: Iterable[str]) -> LiveCluster:
    """`live` with `parts` read; raises ApiError."""
    cluster_id = str(live.cluster.get("id"))
    values = {part: read_part(api, project, cluster_id, part) for part in parts}
    return replace(
        live,
        ip_restrictions=values.get(IP_RESTRICTIONS, live.ip_restrictions),
        openid_connect=values.get(OPENID_CONNECT, live.openid_connect),
    )


def read_all_parts(api: ApiClient, project: str, cluster_ids: list, parallelism: int) -> dict[str, dict]:
    """{cluster id: {part: value}} for every part of every cluster (export); raises ApiError."""

    def read(cluster_id: str) -> tuple[str, dict[str, Any]]:
        return cluster_id, {part: read_part(api, project, cluster_id, part) for part in PARTS}

    with reading_pool(api, parallelism) as pool:
        return dict(pool.map(read, cluster_ids))


def read_parts(api: ApiClient, view: LiveView, needs: dict[tuple[str, str], tuple[str, ...]], parallelism: int) -> None:
    """Add the parts each (project, name) needs to its result in `view`; a failed read makes it an error."""
    wanted = {key: parts for key, parts in needs.items() if parts and view.results[key].found is not None}

    def read(key: tuple[str, str]) -> tuple[tuple[str, str], LiveResult]:
        live = view.results[key].found
        assert live is not None  # only found clusters are wanted
        try:
            return key, LiveResult(found=with_parts(api, live, key[0], wanted[key]))
        except ApiError as exc:
            message = f"cannot read the cluster's {' and '.join(wanted[key])}: {exc}"
            return key, LiveResult(error=message, reason=ErrorReason.READ_FAILED)

    with reading_pool(api, parallelism) as pool:
        for key, result in pool.map(read, wanted):
            view.results[key] = result
