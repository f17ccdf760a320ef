"""A cluster's node pools and flavors, read only where a plan needs them.

One expanded pool listing (`GET .../kube/{id}/nodepool`, full objects a page at a time) per cluster whose file
declares pools, none for the others; the cluster's `/flavors` only where the plan creates or replaces a pool (a
flavor typo is an error before apply, not a failure halfway). A cluster to create has no id, so no `/flavors`: its
pools are checked against the flavors of its region, `GET /cloud/project/{sn}/capabilities/kube/flavors?region=`,
read once per project and region.
"""

from collections.abc import Callable
from dataclasses import replace

from reconciler.errors import ApiError
from reconciler.live.api import ApiClient
from reconciler.live.read import (
    EXPANDED_HEADERS,
    LiveCluster,
    LiveResult,
    LiveView,
    PoolObject,
    more_pages,
    reading_pool,
)
from reconciler.model import ErrorReason
from reconciler.steps import part_path, pool_path, region_flavors_path


class PoolAnswerError(ApiError):
    """The pool listing answered something else than a list of pools."""


def read_pools(api: ApiClient, project: str, cluster_id: str) -> list[PoolObject]:
    """The cluster's pools as full objects, with one expanded listing (more only past 5000 pools); raises ApiError."""
    pools: list[PoolObject] = []
    page = 1
    while True:
        headers = EXPANDED_HEADERS | {"X-Pagination-Number": str(page)}
        answer, answer_headers = api.get_with_headers(pool_path(project, cluster_id), headers)
        if not isinstance(answer, list) or any(not isinstance(pool, dict) for pool in answer):
            raise PoolAnswerError(f"the node pool listing of cluster {cluster_id} is not a list of pools")
        pools += answer
        if not more_pages(pool_path(project, cluster_id), page, pools, answer, answer_headers):
            return pools
        page += 1


def read_flavors(api: ApiClient, project: str, cluster_id: str) -> frozenset[str]:
    """The names of the flavors the cluster offers, available ones only; raises ApiError."""
    return _available(api.get(part_path(project, cluster_id, "flavors")), f"the flavors of cluster {cluster_id}")


def read_region_flavors(api: ApiClient, project: str, region: str) -> frozenset[str]:
    """The names of the flavors a new cluster of the project may have in `region`, available ones only."""
    return _available(api.get(region_flavors_path(project, region)), f"the flavors of region {region}")


def _available(answer: object, what: str) -> frozenset[str]:
    if not isinstance(answer, list):
        raise PoolAnswerError(f"{what} are not a list")
    return frozenset(
        str(flavor.get("name"))
        for flavor in answer
        if isinstance(flavor, dict) and flavor.get("state", "available") == "available"
    )


def add_region_flavors(api: ApiClient, view: LiveView, wanted: dict[tuple[str, str], str], parallelism: int) -> None:
    """For each cluster to create of `wanted` ({key: its region}), the flavors of its region: one read per project
    and region, whatever the number of clusters; a failed read makes those clusters errors."""
    regions = sorted({(key[0], region) for key, region in wanted.items()})

    def one(place: tuple[str, str]) -> tuple[tuple[str, str], frozenset[str] | str]:
        try:
            return place, read_region_flavors(api, *place)
        except ApiError as exc:
            return place, f"cannot read the flavors of region {place[1]}: {exc}"

    with reading_pool(api, parallelism) as pool:
        read = dict(pool.map(one, regions))
    for key, region in wanted.items():
        flavors = read[(key[0], region)]
        if isinstance(flavors, str):
            view.results[key] = LiveResult(error=flavors, reason=ErrorReason.READ_FAILED)
        else:
            view.results[key] = replace(view.results[key], region_flavors=flavors)


Read = Callable[[str, LiveCluster], LiveCluster]  # (project, a found cluster) -> it with what was read added


def _read_each(
    api: ApiClient, view: LiveView, keys: list[tuple[str, str]], parallelism: int, read: Read, what: str
) -> None:
    """Replace each found result of `keys` in `view` by read(live) (a LiveCluster); a failed read makes it an
    error naming `what`."""

    def one(key: tuple[str, str]) -> tuple[tuple[str, str], LiveResult]:
        live = view.results[key].found
        assert live is not None  # only found clusters are read
        try:
            return key, LiveResult(found=read(key[0], live))
        except ApiError as exc:
            return key, LiveResult(error=f"cannot read the cluster's {what}: {exc}", reason=ErrorReason.READ_FAILED)

    wanted = [key for key in keys if view.results[key].found is not None]
    with reading_pool(api, parallelism) as pool:
        for key, result in pool.map(one, wanted):
            view.results[key] = result


def add_node_pools(api: ApiClient, view: LiveView, keys: list[tuple[str, str]], parallelism: int) -> None:
    """The pools of each found cluster of `keys` (those whose file declares pools): one listing each."""

    def read(project: str, live: LiveCluster) -> LiveCluster:
        return replace(live, node_pools=read_pools(api, project, str(live.cluster.get("id"))))

    _read_each(api, view, keys, parallelism, read, "node pools")


def add_flavors(api: ApiClient, view: LiveView, keys: list[tuple[str, str]], parallelism: int) -> None:
    """The flavors of each found cluster of `keys` (those whose plan creates or replaces a pool)."""

    def read(project: str, live: LiveCluster) -> LiveCluster:
        return replace(live, flavors=read_flavors(api, project, str(live.cluster.get("id"))))

    _read_each(api, view, keys, parallelism, read, "flavors")


def read_all_pools(api: ApiClient, project: str, cluster_ids: list, parallelism: int) -> dict[str, list[PoolObject]]:
    """{cluster id: its pools} for every cluster (export); raises ApiError."""

    def read(cluster_id: str) -> tuple[str, list[PoolObject]]:
        return cluster_id, read_pools(api, project, cluster_id)

    with reading_pool(api, parallelism) as pool:
        return dict(pool.map(read, cluster_ids))
