"""Desired-state files -> problems and DesiredCluster models: the schema first, then the meaning rules.

Every problem is found in one pass and located at the offending node. The meaning rules (periods, timeouts,
plugins) look only at values that are well formed, so they run on every document and a file's problems all come
out at once; one document per cluster is checked among the documents the schema accepts.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from reconciler.durations import is_duration, to_seconds
from reconciler.files.accounts import ONLY_ACCOUNTS, Account, account_problems, is_account, to_account
from reconciler.files.control_plane import cidr_problem, oidc_problems
from reconciler.files.defaults import NO_CLUSTERS, apply_defaults, is_defaults, locate_for_clusters
from reconciler.files.fastcheck import compile_check
from reconciler.files.load import Document, load_paths
from reconciler.files.network import network_problems
from reconciler.files.node_pools import pool_problems
from reconciler.files.problem import WARNING, Problem, dotted, shown
from reconciler.files.provenance import DocumentProvenance
from reconciler.files.rollout import ONLY_ROLLOUT, in_waves, is_rollout, rollout_problems, to_rollout
from reconciler.files.schema import load_schema
from reconciler.model import (
    ALWAYS_ENABLED_PLUGINS,
    CILIUM,
    DEFAULT_SYNC_PERIOD_SECONDS,
    IP_ALLOCATION_FIELDS,
    MANAGED_BLOCKS,
    DefaultsRef,
    DesiredCluster,
    DesiredPool,
    Lifecycle,
)
from reconciler.windows import MAX_DURATION, MaintenanceWindow, time_zone_problem

__all__ = ["Loaded", "Problem", "load_desired"]

MIN_TCP_TIMEOUT_SECONDS = 5
IDENTITY = ("project", "region", "id")
KINDS = ("Cluster", "ClusterDefaults", "Account", "Rollout")
IDENTITY_IN_DEFAULTS = (
    "identifies a cluster, so it belongs in each cluster's own document; "
    "to pick clusters by it, use selector.projects or selector.regions"
)
MAX_IN_FLIGHT_MESSAGE = 'must be a count of clusters (1 or more) or a percentage of the wave\'s clusters such as "25%"'
PERMISSION_IN_DEFAULTS = (
    "a permission is refused in ClusterDefaults: what can erase or upgrade a cluster is allowed cluster by cluster, "
    "in the cluster's own document"
)


@dataclass
class Loaded:
    files: list[str] = field(default_factory=list)
    clusters: list[DesiredCluster] = field(default_factory=list)  # only when there are no errors
    problems: list[Problem] = field(default_factory=list)  # errors, sorted by file, line, column
    warnings: list[Problem] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)  # the clusters' effective documents, as `clusters`
    defaults: int = 0  # ClusterDefaults documents read
    accounts: list[Account] = field(default_factory=list)  # Account documents, only when there are no errors

    @property
    def ok(self) -> bool:
        return not self.problems


def load_desired(paths: list[str]) -> Loaded:
    loaded = load_paths(paths)
    found = list(loaded.problems)
    valid_documents, accounts, rollouts = [], [], []
    for document in loaded.documents:
        schema_problems = list(schema_problems_of(document))
        found.extend(schema_problems)
        if is_account(document):  # not a cluster's: its own rules, across accounts
            accounts.extend([] if schema_problems else [document])
        elif is_rollout(document):  # the order of the clusters' changes: its rules once the clusters are known
            rollouts.extend([] if schema_problems else [document])
        elif not schema_problems:
            valid_documents.append(document)
        elif not is_defaults(document):  # a defaults document's meaning shows only on the clusters it selects
            found.extend(meaning_problems_of(document))
    found.extend(account_problems(accounts))
    fleet_documents = [d for d in loaded.documents if not is_account(d) and not is_rollout(d)]
    valid = {id(document) for document in valid_documents}
    invalid_clusters = [d for d in fleet_documents if id(d) not in valid and not is_defaults(d)]
    fleet = apply_defaults(valid_documents, invalid_clusters)  # meaning rules: on the merged result, located
    found.extend(fleet.problems)
    if (fleet.defaults or accounts or rollouts) and all(
        is_defaults(d) or is_account(d) or is_rollout(d) for d in loaded.documents
    ):
        alone = NO_CLUSTERS if fleet.defaults else ONLY_ACCOUNTS if accounts else ONLY_ROLLOUT
        found.extend(Problem(path, 0, 0, "", alone) for path in paths)  # empty input, as for no documents
    found.extend(locate_for_clusters(fleet.clusters, meaning_problems_of))
    found.extend(duplicate_problems(fleet.clusters))
    waves, wave_problems = rollout_problems(rollouts, fleet.clusters)
    found.extend(wave_problems)

    # What the loader said about a node (`!!int abc`: cannot read it as an integer) is that node's problem: the
    # schema's view of the text kept in its place would say the same thing twice.
    said = {_node(problem) for problem in loaded.problems if problem.line}
    found = loaded.problems + [problem for problem in found[len(loaded.problems) :] if _node(problem) not in said]
    ordered = sorted(set(found), key=lambda problem: problem.sort_key)
    result = Loaded(files=loaded.files, defaults=len(fleet.defaults))
    result.problems = [p for p in ordered if p.is_error]
    result.warnings = [p for p in ordered if not p.is_error]
    if result.ok:
        result.documents = fleet.clusters
        rollout = to_rollout(rollouts[0]) if rollouts else None
        result.clusters = [in_waves(to_cluster(d), rollout, waves.get(id(d))) for d in fleet.clusters]
        result.accounts = [to_account(document) for document in accounts]
    return result


def _node(problem: Problem) -> tuple:
    return problem.file, problem.line, problem.column, problem.path


# --- the schema ------------------------------------------------------------------------------------------


@cache
def _schema() -> dict:
    return load_schema()


@cache
def _fast_check() -> Callable[[object], bool] | None:
    return compile_check(_schema())


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator  # imported only when a document fails the fast check

    return Draft202012Validator(_schema())


def schema_problems_of(document: Document) -> Iterator[Problem]:
    fast_check = _fast_check()
    if fast_check is not None and fast_check(document.data):
        return
    kind = document.data.get("kind")
    if kind is not None and kind not in KINDS:
        # Which schema applies is unknown: the Cluster schema's other complaints would be guesses ("spec.project:
        # required" for a ClusterDefaults written ClusterDefault).
        close = _close_match(kind, KINDS) if isinstance(kind, str) else None
        hint = f' (did you mean "{close}"?)' if close else ""
        line, column = document.position(("kind",))
        yield Problem(
            document.file, line, column, "kind", f"must be one of: {', '.join(KINDS)}; got {shown(kind)}{hint}"
        )
        yield from (p for p in _schema_problems(document) if p.path == "apiVersion")
        return
    yield from _schema_problems(document)


def _schema_problems(document: Document) -> Iterator[Problem]:
    for error in _validator().iter_errors(document.data):
        yield from _explain(document, error)


def _explain(document: Document, error: Any) -> Iterator[Problem]:
    """One jsonschema error -> plain, short problems at the node they concern."""
    path = tuple(error.absolute_path)
    keyword, value, subschema = error.validator, error.instance, error.schema

    def at(where: tuple, message: str, at_key: bool = False) -> Problem:
        line, column = document.position(where, at_key)
        return Problem(document.file, line, column, dotted(where), message)

    if path and path[-1] == "maxInFlight" and keyword in ("type", "pattern", "minimum"):
        yield at(path, f"{MAX_IN_FLIGHT_MESSAGE}; got {shown(value)}")
    elif keyword == "additionalProperties":
        allowed = list(subschema.get("properties", {}))
        for name in value:
            if name not in allowed:
                yield at(path + (name,), _unknown_field(name, allowed), at_key=True)
    elif keyword == "not" and isinstance(value, str):  # propertyNames: ClusterDefaults refuse identity, permissions
        yield at(path + (value,), IDENTITY_IN_DEFAULTS if value in IDENTITY else PERMISSION_IN_DEFAULTS, at_key=True)
    elif keyword == "required":
        for name in error.validator_value:
            if name not in value:
                yield at(path + (name,), "required field is missing", at_key=True)
    elif keyword == "type":
        yield at(path, _type_message(document, path, value, subschema))
    elif keyword in ("enum", "const"):
        choices = [c for c in (subschema["enum"] if keyword == "enum" else [subschema["const"]]) if c is not None]
        choice_list = ", ".join(choices)
        yield at(
            path,
            f"must be {'one of: ' if len(choices) > 1 else ''}{choice_list}; got {shown(value)}",
        )
    elif keyword == "pattern":
        yield at(path, _pattern_message(path, value, subschema))
    elif keyword == "uniqueItems":
        # Equal and of one type, as JSON Schema compares: Python's `true == 1` would blame the wrong item.
        index = next(i for i, item in enumerate(value) if any(_same(item, other) for other in value[:i]))
        yield at(path + (index,), f"{shown(value[index])} is listed twice")
    elif keyword == "minLength":
        yield at(path, "must not be empty")
    elif keyword in ("minProperties", "maxProperties"):  # a choice among fields (an Account's credentials)
        fields_here = ", ".join(subschema.get("properties", {}))
        count = error.validator_value
        given = f"; got {', '.join(map(str, value))}" if value else ""
        how_many = "one" if count == 1 else f"at {'least' if keyword == 'minProperties' else 'most'} {count}"
        yield at(path, f"give {how_many} of: {fields_here}{given}")
    else:  # a keyword the schema gained later: jsonschema's own words
        yield at(path, error.message)


def _same(one: Any, other: Any) -> bool:
    """Equal as JSON Schema compares: 1 and 1.0 are one number, true is not 1."""
    if _is_number(one) and _is_number(other):
        return bool(one == other)
    if isinstance(one, list) and isinstance(other, list):
        return len(one) == len(other) and all(map(_same, one, other))
    if isinstance(one, dict) and isinstance(other, dict):
        return one.keys() == other.keys() and all(_same(one[k], other[k]) for k in one)
    return type(one) is type(other) and one == other


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _close_match(name: str, known: Iterable[str]) -> str | None:
    import difflib  # only when a name is unknown

    close = difflib.get_close_matches(name, list(known), n=1)
    return close[0] if close else None


def _unknown_field(name: str, allowed: list[str]) -> str:
    close = _close_match(str(name), allowed)
    if close:
        return f'unknown field (did you mean "{close}"?)'
    return f"unknown field; allowed here: {', '.join(allowed)}"


_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string", "boolean": "true or false"}
_BLOCKS = ("customization",) + MANAGED_BLOCKS
# How a file says "none" for the control-plane fields, where null could mean that or "not managed".
_NONE_WRITTEN = {
    ("spec", "ipRestrictions"): "[] to enforce no IP restriction",
    ("spec", "openIdConnect"): "{enabled: false} to enforce no OIDC",
}
_YAML11_BOOLEANS = {"yes", "no", "on", "off", "y", "n"}


def _type_message(document: Document, path: tuple, value: Any, subschema: dict) -> str:
    got = f"got {_kind(value)}" + ("" if value is None or isinstance(value, dict | list) else f" ({shown(value)})")
    if value is None and path and path[-1] in _BLOCKS:
        return "is empty (null): write {} to enforce no customization, or remove the key to leave it unmanaged"
    if value is None and path in _NONE_WRITTEN:
        return f"is empty (null): write {_NONE_WRITTEN[path]}, or remove the key to leave it unmanaged"
    if subschema == _schema_def("duration"):
        return f"expected an ISO 8601 duration such as PT30S, {got}"
    types = subschema["type"] if isinstance(subschema["type"], list) else [subschema["type"]]
    expected = " or ".join(_TYPE_NAMES.get(t, str(t)) for t in types if t != "null")
    message = f"expected {expected}, {got}"
    if "boolean" in types and isinstance(value, str) and value.lower() in _YAML11_BOOLEANS:
        return message + "; YAML 1.2 reads yes/no/on/off/y/n as strings: write true or false"
    raw = document.raw.get(path)
    if types[0] == "string" and raw is not None and value is not None:  # `- ` or `~` is no text left unquoted
        message += f"; quote it: {shown(raw)}"
    return message


_PATTERN_MESSAGES = {
    "name": (
        "must follow OVHcloud's cluster name rules: letters, digits, - and _, a letter first, a letter or digit last, "
        "64 characters at most"
    ),
    "project": "must be a Public Cloud project id, 32 lowercase hexadecimal characters",
    "region": "must be an OVHcloud region in capitals, e.g. GRA5",
    "id": "must be a cluster id in lowercase UUID form",
    "version": 'must be a Kubernetes minor version such as "1.31" (a one-digit major, a minor of at most two digits)',
    "endpoint": "must be ovh-eu, ovh-ca, ovh-us, sandbox or an http(s)://.../1.0 URL",
    "configSection": "must be the name of a section of ovh.conf",
    "environmentVariable": "must be the name of an environment variable (letters, digits and _), never its value",
}
_DURATION_MESSAGE = (
    "not an ISO 8601 duration of days, hours, minutes and seconds (e.g. PT30S, PT1M30S, P1D; "
    "no years, months, weeks or sign)"
)


# Shared definitions used beyond spec (a selector's projects and regions): told apart by the definition itself.
_DEF_MESSAGES = {"projectId": "project", "region": "region", "environmentVariable": "environmentVariable"}


_POOL_PATTERN_MESSAGES = {
    "flavorName": "must be a flavor name such as b3-8 or c3-16",
    "availabilityZones": "must be an availability zone such as eu-west-par-a",
}
_POOL_NAME_MESSAGE = (
    "is not a node pool name: lowercase letters, digits and -, a letter or digit first and last, 63 characters at most"
)


# Fields with a pattern of their own, told apart by their schema node (a wave's name is no duration).
_NODE_PATTERN_MESSAGES = {
    ("cluster", "metadata", "renamedFrom"): (
        "must be a cluster name (the cluster's name now): letters, digits, - and _, a letter first, a letter or digit "
        "last, 64 characters at most"
    ),
    ("account", "metadata", "name"): "must be an account name: letters, digits, - and _, a letter first, 64 at most",
    ("specFields", "privateNetwork", "id"): "must be a private network id: letters, digits and -",
    ("wave", "name"): "must be a wave name: letters, digits, _, . and -, a letter or digit first, 63 at most",
}


def _schema_node(path: tuple) -> dict:
    node = _schema_def(path[0])
    for name in path[1:]:
        node = node["properties"][name]
    return node


def _pattern_message(path: tuple, value: Any, subschema: dict) -> str:
    known = next((text for where, text in _NODE_PATTERN_MESSAGES.items() if subschema == _schema_node(where)), None)
    if known:
        return f"{known}; got {shown(value)}"
    if subschema == _schema_def("subnetId"):
        return f"must be a subnet id in lowercase UUID form; got {shown(value)}"
    if subschema == _schema_def("nodePoolName"):
        return f"{shown(value)} {_POOL_NAME_MESSAGE}"
    if path[:2] == ("spec", "nodePools") and len(path) >= 4:
        field = path[3]
        return f"{_POOL_PATTERN_MESSAGES.get(field, _DURATION_MESSAGE)}; got {shown(value)}"
    if path[:3] == ("spec", "lifecycle", "maintenanceWindow") and path[-1] == "start":
        return f'must be a time of day, HH:MM on a 24-hour clock (quoted: "02:00"); got {shown(value)}'
    key = next((key for name, key in _DEF_MESSAGES.items() if subschema == _schema_def(name)), None)
    message = _PATTERN_MESSAGES.get(key or path[-1]) if key or len(path) == 2 or path[-1] == "configSection" else None
    if key == "environmentVariable":
        return str(message)  # what is there may be a pasted secret: never shown
    return f"{message or _DURATION_MESSAGE}; got {shown(value)}"


def _schema_def(name: str) -> dict:
    return _schema()["$defs"][name]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, bytes):
        return "binary data"
    names: dict[type, str] = {str: "a string", list: "a list", dict: "a mapping"}
    return names.get(type(value), type(value).__name__)


# --- the meaning rules -----------------------------------------------------------------------------------


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _seconds(value: Any) -> Decimal | None:
    """A well-formed duration in seconds; None for anything else (the schema reports that)."""
    return to_seconds(value) if is_duration(value) else None


def meaning_problems_of(document: Document) -> list[Problem]:
    """The rules beyond the schema, on whatever values in the document are well formed."""
    spec = _mapping(document.data.get("spec"))
    customization = _mapping(spec.get("customization"))
    problems = []

    def problem(path: tuple, message: str, severity: str = "error") -> None:
        problems.append(Problem(*document.where(path), dotted(path), message, severity))

    kube_proxy = _mapping(customization.get("kubeProxy"))
    for mode in ("iptables", "ipvs"):
        base = ("spec", "customization", "kubeProxy", mode)
        _check_periods(_mapping(kube_proxy.get(mode)), base, problem)
    tcp_timeout = _mapping(kube_proxy.get("ipvs")).get("tcpTimeout")
    if 0 < (_seconds(tcp_timeout) or 0) < MIN_TCP_TIMEOUT_SECONDS:
        path: tuple = ("spec", "customization", "kubeProxy", "ipvs", "tcpTimeout")
        minimum = MIN_TCP_TIMEOUT_SECONDS
        problem(path, f"must be 0 (keep the system value) or at least {minimum} seconds; got {tcp_timeout}")

    plugins = _mapping(_mapping(customization.get("apiServer")).get("admissionPlugins"))
    enabled, disabled = plugins.get("enabled"), plugins.get("disabled")
    for index, plugin in enumerate(disabled if isinstance(disabled, list) else []):
        path = ("spec", "customization", "apiServer", "admissionPlugins", "disabled", index)
        if isinstance(plugin, str) and isinstance(enabled, list) and plugin in enabled:
            problem(path, f"{plugin} is both enabled and disabled")
        if plugin in ALWAYS_ENABLED_PLUGINS:
            problem(path, f"{plugin} cannot be disabled: OVHcloud keeps it enabled (only AlwaysPullImages can be off)")

    metadata = _mapping(document.data.get("metadata"))
    if metadata.get("renamedFrom") is not None and metadata.get("renamedFrom") == metadata.get("name"):
        problem(("metadata", "renamedFrom"), "is the cluster's name itself: a rename names the former name")

    lifecycle = _mapping(spec.get("lifecycle"))
    if lifecycle.get("workerNodesPolicy") and lifecycle.get("allowReset") is not True:
        path = ("spec", "lifecycle", "workerNodesPolicy")
        problem(path, "has no effect unless allowReset is true (it only applies to a reset)", WARNING)
    if lifecycle.get("patch") == "latest" and lifecycle.get("allowUpgrade") is not True:
        path = ("spec", "lifecycle", "patch")
        problem(path, "has no effect unless allowUpgrade is true (a patch upgrade drains every node too)", WARNING)
    _window_problems(_mapping(lifecycle.get("maintenanceWindow")), problem)
    _control_plane_problems(spec, problem)
    for where, message, severity in network_problems(spec):
        problem(("spec", *where), message, severity)
    for name, pool in _mapping(spec.get("nodePools")).items():
        for where, message, severity in pool_problems(_mapping(pool), spec.get("region")):
            problem(("spec", "nodePools", name, *where), message, severity)
    return problems


def _window_problems(window: dict, problem: Callable[..., None]) -> None:
    base = ("spec", "lifecycle", "maintenanceWindow")
    zone = window.get("timeZone")
    message = time_zone_problem(zone) if isinstance(zone, str) else None
    if message:
        problem((*base, "timeZone"), message)
    duration = window.get("duration")
    seconds = _seconds(duration)
    if seconds is not None and not 60 <= seconds <= MAX_DURATION.total_seconds():
        problem((*base, "duration"), f"must be from PT1M to P7D; got {duration}")


def _control_plane_problems(spec: dict, problem: Callable[..., None]) -> None:
    restrictions = spec.get("ipRestrictions")
    for index, entry in enumerate(restrictions if isinstance(restrictions, list) else []):
        message = cidr_problem(entry) if isinstance(entry, str) else None
        if message:
            problem(("spec", "ipRestrictions", index), message)
    oidc = spec.get("openIdConnect")
    if isinstance(oidc, dict):
        for where, message in oidc_problems(oidc):
            problem(("spec", "openIdConnect", *where), message)


def _check_periods(block: dict, base: tuple, problem: Callable[..., None]) -> None:
    sync, min_sync = block.get("syncPeriod"), block.get("minSyncPeriod")
    sync_seconds, min_sync_seconds = _seconds(sync), _seconds(min_sync)
    if sync_seconds == 0:
        problem(base + ("syncPeriod",), f"must be greater than 0; got {sync}")
        return
    if min_sync_seconds is None or (sync is not None and sync_seconds is None):
        return
    if sync_seconds is not None:
        limit, named = sync_seconds, f"syncPeriod ({sync})"
    else:  # no syncPeriod: kube-proxy then uses its default, and rejects a longer minSyncPeriod
        limit = Decimal(DEFAULT_SYNC_PERIOD_SECONDS)
        named = f"kube-proxy's default syncPeriod ({limit}s), which applies when syncPeriod is left out"
    if min_sync_seconds > limit:
        problem(base + ("minSyncPeriod",), f"must not be longer than {named}; got {min_sync}")


def duplicate_problems(documents: list[Document]) -> list[Problem]:
    """No two documents for one cluster: the same (project, name), or the same pinned id."""
    problems: list[Problem] = []
    first_by_name: dict[tuple, Document] = {}
    first_by_id: dict[tuple, Document] = {}
    renames: list[tuple[Document, tuple]] = []
    for document in documents:
        spec = document.data["spec"]
        name, project, cluster_id = document.data["metadata"]["name"], spec["project"], spec.get("id")
        former = document.data["metadata"].get("renamedFrom")
        for seen, key, path, what in (
            (first_by_name, (project, name), ("metadata", "name"), f'cluster "{name}" of project {project}'),
            (first_by_id, cluster_id, ("spec", "id"), f"cluster id {cluster_id}"),
        ):
            if key is None:
                continue
            if key in seen:
                other = seen[key]
                line, column = document.position(path)
                message = f"{what} is already declared at {other.file}:{other.position(path)[0]}"
                problems.append(Problem(document.file, line, column, dotted(path), message))
            else:
                seen[key] = document
        if former is not None:
            renames.append((document, (project, former)))
    # A former name that another document declares (or renames from too) would make two documents of one cluster.
    for index, (document, key) in enumerate(renames):
        earlier = first_by_name.get(key) or next((d for d, k in renames[:index] if k == key), None)
        if earlier is not None:
            path = ("metadata", "renamedFrom")
            line, column = document.position(path)
            theirs = "renames from it too" if key not in first_by_name else "declares that name"
            message = (
                f'cluster "{key[1]}" of project {key[0]}: {earlier.file}:{earlier.position(("metadata",))[0]} '
                f"{theirs}; one cluster, one document"
            )
            problems.append(Problem(document.file, line, column, dotted(path), message))
    return problems


# --- the model -------------------------------------------------------------------------------------------


def _pool(name: str, written: dict) -> DesiredPool:
    fields = {key: value for key, value in written.items() if key not in ("delete", "pinDesiredNodes")}
    pinned = written.get("pinDesiredNodes", False)
    return DesiredPool(name, fields, delete=written.get("delete", False), pin_desired_nodes=pinned)


def _ip_allocation(written: dict | None) -> dict | None:
    if written is None:
        return None
    return {name: written[name] for name in IP_ALLOCATION_FIELDS if written.get(name) is not None}


def to_cluster(document: Document) -> DesiredCluster:
    data = document.data
    spec = data["spec"]
    written = spec.get("customization")
    customization: dict
    if written is None:
        customization = {}
    elif written == {}:  # `customization: {}` manages both blocks, as empty
        customization = {block: {} for block in MANAGED_BLOCKS}
    else:
        customization = {block: written[block] for block in MANAGED_BLOCKS if block in written}
    if written and CILIUM in written:
        customization[CILIUM] = written[CILIUM]
    lifecycle = spec.get("lifecycle") or {}
    chosen = getattr(document, "defaults", ())
    restrictions = spec.get("ipRestrictions")
    oidc = spec.get("openIdConnect")
    if oidc is not None:
        oidc = {} if oidc.get("enabled") is False else {k: v for k, v in oidc.items() if k != "enabled"}
    return DesiredCluster(
        project=spec["project"],
        name=data["metadata"]["name"],
        source=f"{document.file}:{document.line}",
        renamed_from=data["metadata"].get("renamedFrom"),
        region=spec.get("region"),
        id=spec.get("id"),
        version=spec.get("version"),
        kube_proxy_mode=spec.get("kubeProxyMode"),
        customization=customization,
        update_policy=spec.get("updatePolicy"),
        plan=spec.get("plan"),
        private_network=spec.get("privateNetwork"),
        ip_allocation_policy=_ip_allocation(spec.get("ipAllocationPolicy")),
        ip_restrictions=None if restrictions is None else tuple(restrictions),
        openid_connect=oidc,
        lifecycle=Lifecycle(
            allow_reset=lifecycle.get("allowReset", False),
            worker_nodes_policy=lifecycle.get("workerNodesPolicy"),
            allow_upgrade=lifecycle.get("allowUpgrade", False),
            latest_patch=lifecycle.get("patch") == "latest",
            allow_pool_replace=lifecycle.get("allowPoolReplace", False),
            allow_pool_delete=lifecycle.get("allowPoolDelete", False),
            maintenance_window=_window(lifecycle.get("maintenanceWindow")),
            allow_delete=lifecycle.get("allowDelete", False),
        ),
        delete=spec.get("delete", False),
        node_pools=tuple(_pool(name, written or {}) for name, written in (spec.get("nodePools") or {}).items()),
        defaults=tuple(DefaultsRef(defaults.name, defaults.source) for defaults in chosen),
        labels=dict(data["metadata"].get("labels") or {}),
        provenance=DocumentProvenance(document),
    )


def _window(written: dict | None) -> MaintenanceWindow | None:
    return None if written is None else MaintenanceWindow.from_dict(written)
