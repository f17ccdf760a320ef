"""The conformance kit: check, against a real endpoint, each assumption ovhkube makes about the OVHcloud API.

Read-only checks (about a dozen GETs for the whole run): the server clock, the listing and its expanded form, the
cluster object against GET .../customization, the admission plugins' read-back, zero durations, OVH's error bodies,
and the answer to a wrong signature. With a throwaway cluster (`write_cluster`), the write checks: PUT of an empty
apiServer block, a PUT disabling NodeRestriction, a second PUT while the first runs, a zero duration, a PUT of
kubeProxy alone (is apiServer kept?), an address in the IP restrictions, GET of OIDC where none is set, a reset
without version and updatePolicy (what both become) and the waits. Each check ends `pass`, `warn` (ovhkube copes,
but the sandbox assumes otherwise: tell us) or `fail` (ovhkube is wrong on this endpoint: tell us).
docs/conformance.md says how to run it and what to send back.
"""

import copy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from reconciler.apply.waiting import WaitFailed, wait_until_ready
from reconciler.apply.writes import BUSY_CONFLICTS, RESET_STARTED
from reconciler.durations import is_duration, to_seconds
from reconciler.errors import ApiError, Conflict, NotFound
from reconciler.escape import quoted
from reconciler.live.read import EXPANDED_HEADERS, ClusterObject
from reconciler.model import ALWAYS_ENABLED_PLUGINS, CLUSTER_STATUSES, IP_RESTRICTIONS, KUBE_PROXY_MODES, OPENID_CONNECT
from reconciler.plan.normalize import DURATION_FIELDS, effective_plugins, flatten
from reconciler.steps import (
    ClusterTarget,
    Step,
    StepKind,
    cluster_path,
    clusters_path,
    part_path,
    server_time_path,
)
from reconciler.versions import major_minor

PASS, WARN, FAIL = "pass", "warn", "fail"
CLUSTERS_READ = 3  # clusters compared one by one (two GETs each): enough to see the shape, few requests
NO_SUCH_CLUSTER = "00000000-0000-4000-8000-000000000000"


@dataclass
class Check:
    name: str
    result: str
    detail: str

    def to_dict(self) -> dict:
        return {"check": self.name, "result": self.result, "detail": self.detail}


@dataclass
class Report:
    endpoint: str
    project: str
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, result: str, detail: str) -> None:
        self.checks.append(Check(name, result, detail))

    @property
    def failed(self) -> bool:
        return any(check.result == FAIL for check in self.checks)

    def to_dict(self) -> dict:
        counts = {result: sum(c.result == result for c in self.checks) for result in (PASS, WARN, FAIL)}
        return {"endpoint": self.endpoint, "project": self.project, "summary": counts} | {
            "checks": [check.to_dict() for check in self.checks]
        }


def run_checks(
    api, project: str, *, write_cluster: str | None = None, timeout: float = 1800, say: Callable[[str], None]
) -> Report:
    report = Report(api.endpoint_label, project)
    for check in (_server_time, _listings_and_objects, _control_plane_reads, _error_body, _wrong_signature):
        _guarded(report, check.__name__.strip("_").replace("_", "-"), partial(check, api, project, report))
    if write_cluster:
        writes = _Writes(api, project, write_cluster, report, timeout, say)
        _guarded(report, "write-checks", writes.run)
    return report


def _guarded(report: Report, name: str, check: Callable[[], None]) -> None:
    """A check that cannot even ask its question fails, and the others still run."""
    try:
        check()
    except (ApiError, WaitFailed) as exc:
        report.add(name, FAIL, f"could not be checked: {exc}")


# --- read-only ---------------------------------------------------------------------------------------------------


def _server_time(api, project: str, report: Report) -> None:
    answer = api.get_unsigned(server_time_path())
    skew = abs(int(answer) - time.time()) if isinstance(answer, int) else None
    if skew is None:
        report.add("auth-time", FAIL, f"GET {server_time_path()} answered {quoted(answer)}, not an integer")
    else:
        report.add("auth-time", PASS, f"an integer; this machine's clock is {skew:.0f} s away from the server's")


def _listings_and_objects(api, project: str, report: Report) -> None:
    ids = api.get(clusters_path(project))
    if not (isinstance(ids, list) and all(isinstance(item, str) for item in ids)):
        report.add("list-ids", FAIL, f"GET .../kube answered {_short(ids)}, not a list of cluster ids")
        return
    report.add("list-ids", PASS, f"{len(ids)} cluster id(s)")
    expanded, headers = api.get_with_headers(clusters_path(project), EXPANDED_HEADERS | {"X-Pagination-Number": "1"})
    objects = _expanded_check(expanded, headers, ids, report)
    for cluster_id in ids[:CLUSTERS_READ]:
        cluster = api.get(cluster_path(project, cluster_id))
        customization = api.get(part_path(project, cluster_id, "customization"))
        _cluster_checks(cluster_id, cluster, customization, objects.get(cluster_id), report)
    if not ids:
        report.add("cluster-object", WARN, "the project has no cluster: nothing to compare (run it on one that has)")


def _expanded_check(expanded, headers, ids: list[str], report: Report) -> dict:
    if isinstance(expanded, list) and expanded and all(isinstance(item, str) for item in expanded):
        report.add("expanded-list", WARN, "answered ids, not objects: ovhkube then reads each cluster (slower)")
        return {}
    if not (isinstance(expanded, list) and all(isinstance(item, dict) for item in expanded)):
        report.add("expanded-list", FAIL, f"answered {_short(expanded)}, not a list of cluster objects")
        return {}
    objects = {str(item.get("id")): item for item in expanded}
    total = headers.get("X-Pagination-Elements")
    if sorted(objects) != sorted(ids) or (total is not None and total != str(len(ids))):
        detail = f"ids {sorted(objects)} (X-Pagination-Elements {total}) where the plain listing has {sorted(ids)}"
        report.add("expanded-list", FAIL, detail)
    else:
        report.add("expanded-list", PASS, f"{len(objects)} cluster object(s), X-Pagination-Elements {total}")
    return objects


def _cluster_checks(cluster_id: str, cluster, customization, listed, report: Report) -> None:
    name = f"cluster {cluster_id}"
    missing = [key for key in ("id", "name", "region", "status", "version", "kubeProxyMode") if key not in cluster]
    problems = [f"no {', '.join(missing)}"] if missing else []
    if cluster.get("status") not in CLUSTER_STATUSES:
        problems.append(f"status {quoted(cluster.get('status'))} is not one ovhkube knows")
    if cluster.get("kubeProxyMode") not in KUBE_PROXY_MODES:
        problems.append(f"kubeProxyMode {quoted(cluster.get('kubeProxyMode'))}")
    if cluster.get("plan") not in (None, "free", "standard"):
        problems.append(f"plan {quoted(cluster.get('plan'))} is neither free nor standard")
    report.add("cluster-object", FAIL if problems else PASS, f"{name}: " + ("; ".join(problems) or "fields as known"))

    on_object = cluster.get("customization") or {}  # null on the object means {}
    same = on_object == (customization or {})
    detail = "the same" if same else f"object {_short(on_object)} but GET .../customization {_short(customization)}"
    report.add("customization-on-object", PASS if same else FAIL, f"{name}: {detail}")
    if listed is not None:
        same = listed.get("customization") == cluster.get("customization")
        report.add("expanded-object", PASS if same else FAIL, f"{name}: customization in the listing " + (
            "as GET answers it" if same else f"{_short(listed.get('customization'))}"
        ))  # fmt: skip
    _plugins_check(name, customization or {}, report)
    _zero_durations_check(name, customization or {}, report)


def _plugins_check(name: str, customization: dict, report: Report) -> None:
    plugins = (customization.get("apiServer") or {}).get("admissionPlugins")
    if plugins is None:
        report.add("admission-plugins", WARN, f"{name}: no apiServer.admissionPlugins (ovhkube reads it as both on)")
        return
    state = effective_plugins(plugins)
    off = [plugin for plugin in ALWAYS_ENABLED_PLUGINS if plugin in state["disabled"]]
    if off:
        report.add("admission-plugins", FAIL, f"{name}: {', '.join(off)} disabled, which ovhkube assumes cannot be")
        return
    shape = "each plugin's state" if sorted(plugins.get("enabled") or []) == state["enabled"] else "as sent"
    report.add("admission-plugins", PASS, f"{name}: {_short(plugins)} ({shape})")


def _zero_durations_check(name: str, customization: dict, report: Report) -> None:
    for path, value in flatten(customization.get("kubeProxy") or {}, "kubeProxy").items():
        if path.rsplit(".", 1)[-1] in DURATION_FIELDS and not is_duration(value):
            report.add("durations", FAIL, f"{name}: {path} is {quoted(value)}, not a duration ovhkube reads")
            return
        if path.rsplit(".", 1)[-1] in DURATION_FIELDS and to_seconds(value) == 0:
            report.add("durations", PASS, f"{name}: a zero duration answered as {quoted(value)}")
            return


def _control_plane_reads(api, project: str, report: Report) -> None:
    """The answers ovhkube reads beside the cluster object, on the project's first cluster (two GETs)."""
    ids = api.get(clusters_path(project))
    if not ids:
        return
    ranges = api.get(part_path(project, ids[0], IP_RESTRICTIONS))
    if isinstance(ranges, list) and all(isinstance(item, str) for item in ranges):
        report.add("ip-restrictions", PASS, f"cluster {ids[0]}: a list of ranges {_short(ranges)}")
    else:
        report.add("ip-restrictions", FAIL, f"cluster {ids[0]}: answered {_short(ranges)}, not a list of ranges")
    try:
        oidc = api.get(part_path(project, ids[0], OPENID_CONNECT))
    except NotFound:
        report.add("oidc-read", PASS, f"cluster {ids[0]}: 404 (none configured; ovhkube reads it as none)")
        return
    shape = "none (empty)" if not oidc else f"fields {sorted(oidc)}" if isinstance(oidc, dict) else None
    result = PASS if shape else FAIL
    report.add("oidc-read", result, f"cluster {ids[0]}: {shape or _short(oidc)}")


def _error_body(api, project: str, report: Report) -> None:
    try:
        api.get(cluster_path(project, NO_SUCH_CLUSTER))
    except NotFound as exc:
        ok = bool(exc.error_class and exc.message and exc.query_id)
        detail = f"404 {exc.error_class}, query id {'present' if exc.query_id else 'MISSING'}: {exc.message}"
        report.add("error-body", PASS if ok else FAIL, detail)
        return
    except ApiError as exc:
        report.add("error-body", FAIL, f"a cluster that does not exist answered {exc.status} {exc.error_class}")
        return
    report.add("error-body", FAIL, "a cluster that does not exist was answered 200")


def _wrong_signature(api, project: str, report: Report) -> None:
    """The same keys with a wrong secret: what the API answers to a bad signature (read-only, a GET)."""
    wrong = copy.copy(api.client)
    wrong._application_secret = "ovhkube-conformance-wrong-secret"
    try:
        wrong.raw_call("GET", clusters_path(project), None, True).raise_for_status()
        report.add("bad-signature", FAIL, "a request signed with a wrong secret was answered 2xx")
        return
    except Exception as exc:  # noqa: BLE001 (whatever python-ovh or requests raise: the answer is what matters)
        response = getattr(exc, "response", None)
    body = _json(response)
    status = getattr(response, "status_code", None)
    code = body.get("errorCode")
    if (status, code) == (400, "INVALID_SIGNATURE"):
        report.add("bad-signature", PASS, "400 INVALID_SIGNATURE")
    elif code in ("INVALID_CREDENTIAL", "INVALID_SIGNATURE"):
        report.add("bad-signature", WARN, f"{status} {code} (ovhkube gives the credentials hint either way)")
    else:
        report.add("bad-signature", FAIL, f"{status} {_short(body)}")


# --- writes, on one throwaway cluster ------------------------------------------------------------------------------


class _Writes:
    def __init__(self, api, project: str, cluster_id: str, report: Report, timeout: float, say):
        self.api, self.project, self.id, self.report = api, project, cluster_id, report
        self.timeout, self.say = timeout, say
        self.stop = threading.Event()

    @property
    def path(self) -> str:
        return cluster_path(self.project, self.id)

    def at(self, part: str) -> str:
        return part_path(self.project, self.id, part)

    def run(self) -> None:
        self.wait()
        self.put_api_server_empty()
        self.put_node_restriction_off()
        self.put_zero_duration()
        self.put_kube_proxy_alone()
        self.rename()
        self.set_control_plane()
        self.reset()
        self.control_plane_after_reset()

    def wait(self) -> ClusterObject:
        return wait_until_ready(self.api, self.project, self.id, timeout=self.timeout, stop=self.stop, report=self.say)

    def put(self, body: dict):
        return self.api.put(self.at("customization"), body)

    def put_api_server_empty(self) -> None:
        self.put({"apiServer": {}})
        status = self.api.get(self.path).get("status")
        try:  # a second change while the first runs: refused as busy, not failed
            self.put({"apiServer": {}})
            self.report.add("busy-conflict", WARN, f"a second PUT while {status} was accepted")
        except Conflict as exc:
            busy = any(name in (exc.error_class or "") for name in BUSY_CONFLICTS)
            self.report.add("busy-conflict", PASS if busy else FAIL, f"409 {exc.error_class} while {status}")
        cluster = self.wait()
        plugins = ((cluster.get("customization") or {}).get("apiServer") or {}).get("admissionPlugins")
        both_on = effective_plugins(plugins) == effective_plugins({})
        self.report.add("default-plugins", PASS if both_on else FAIL, f"after PUT apiServer: {{}}: {_short(plugins)}")

    def put_node_restriction_off(self) -> None:
        try:
            self.put({"apiServer": {"admissionPlugins": {"enabled": [], "disabled": list(ALWAYS_ENABLED_PLUGINS)}}})
        except ApiError as exc:
            self.report.add("node-restriction", PASS, f"refused: {exc.status} {exc.error_class}: {exc.message}")
            return
        cluster = self.wait()
        plugins = ((cluster.get("customization") or {}).get("apiServer") or {}).get("admissionPlugins")
        self.report.add("node-restriction", WARN, f"accepted; read back {_short(plugins)} (validate refuses it)")
        self.put({"apiServer": {}})
        self.wait()

    def put_zero_duration(self) -> None:
        self.put({"kubeProxy": {"iptables": {"minSyncPeriod": "PT0S", "syncPeriod": "PT30S"}}})
        cluster = self.wait()
        answered = ((cluster.get("customization") or {}).get("kubeProxy") or {}).get("iptables") or {}
        value = answered.get("minSyncPeriod")
        zero = isinstance(value, str) and is_duration(value) and to_seconds(value) == 0
        self.report.add("zero-duration", PASS if zero else FAIL, f"PT0S read back as {quoted(value)}")
        on_get = self.api.get(self.at("customization"))
        same = (cluster.get("customization") or {}) == (on_get or {})
        self.report.add("customization-after-put", PASS if same else FAIL, "object and GET agree once READY")

    def put_kube_proxy_alone(self) -> None:
        """Whether a PUT keeps a top-level block it is not sent: one guide says so, another says kubeProxy is set
        only at creation. AlwaysPullImages off, then a PUT of kubeProxy alone, then a read of apiServer."""
        api_server = {"admissionPlugins": {"enabled": list(ALWAYS_ENABLED_PLUGINS), "disabled": ["AlwaysPullImages"]}}
        self.put({"apiServer": api_server})
        self.wait()
        self.put({"kubeProxy": {"iptables": {"syncPeriod": "PT45S"}}})
        cluster = self.wait()
        plugins = ((cluster.get("customization") or {}).get("apiServer") or {}).get("admissionPlugins")
        kept = effective_plugins(plugins) == effective_plugins(api_server["admissionPlugins"])
        detail = f"apiServer after a PUT of kubeProxy alone: {_short(plugins)}"
        if kept:
            self.report.add("put-keeps-blocks", PASS, f"{detail} (kept)")
        else:  # ovhkube sends every block it does not change, so it is right either way: the sandbox is not
            self.report.add("put-keeps-blocks", WARN, f"{detail} (the whole customization was replaced)")
        self.put({"apiServer": {}})
        self.wait()

    def rename(self) -> None:
        """A PUT of the cluster with a new name and no updatePolicy: renamed in place (the same id), and what the
        policy left out becomes (the description does not say; ovhkube sends it in every rename). Renamed back."""
        self.api.put(self.at("updatePolicy"), {"updatePolicy": "MINIMAL_DOWNTIME"})
        before = self.wait()
        name = str(before.get("name") or "")
        new_name = f"{name[:48]}-renamed"
        self.api.put(self.path, {"name": new_name})
        after = self.wait()
        renamed = after.get("name") == new_name and after.get("id") == self.id
        policy = after.get("updatePolicy")
        left_out = "was kept" if policy == "MINIMAL_DOWNTIME" else f"became {quoted(policy)}"
        detail = (
            f"read back as {quoted(after.get('name'))} on the same id; MINIMAL_DOWNTIME left out of the body "
            f"{left_out} (ovhkube sends the policy in every rename)"
        )
        self.report.add("rename", PASS if renamed else FAIL, detail)
        self.api.put(self.path, {"name": name, "updatePolicy": before.get("updatePolicy")})
        self.wait()

    def set_control_plane(self) -> None:
        """An address in the allow-list and an OIDC without algorithms: how the API answers them back, and what a
        reset then does to them (no reset field carries them; ovhkube puts them back either way)."""
        answer = self.api.put(self.at(IP_RESTRICTIONS), {"ips": ["203.0.113.7"]})
        self.wait()
        ranges = self.api.get(self.at(IP_RESTRICTIONS))
        known = ranges in (["203.0.113.7"], ["203.0.113.7/32"])
        detail = f"203.0.113.7 answered back as {_short(answer)} by the PUT, read back as {_short(ranges)}"
        self.report.add("ip-address-form", PASS if known else FAIL, detail)
        try:  # one configuration at most: a leftover is removed first
            self.api.delete(self.at(OPENID_CONNECT))
            self.wait()
        except NotFound:
            pass
        self.oidc_none()
        answer = self.api.post(
            self.at(OPENID_CONNECT), {"issuerUrl": "https://conformance.invalid", "clientId": "ovhkube"}
        )
        shape = f"fields {sorted(answer)}" if isinstance(answer, dict) else _short(answer)
        self.report.add("oidc-create-answer", PASS, f"POST answered {shape} (ovhkube reads back rather than use it)")
        self.wait()
        oidc = self.api.get(self.at(OPENID_CONNECT)) or {}
        algorithms = oidc.get("signingAlgorithms")
        known = algorithms in (None, [], ["RS256"])
        self.report.add(
            "oidc-default", PASS if known else FAIL, f"signingAlgorithms left out read back as {quoted(algorithms)}"
        )

    def oidc_none(self) -> None:
        """What GET .../openIdConnect answers where none is configured (not described): ovhkube reads a 404, null
        and an empty object alike as none."""
        try:
            oidc = self.api.get(self.at(OPENID_CONNECT))
        except NotFound as exc:
            self.report.add("oidc-none", PASS, f"none configured: 404 {exc.error_class}")
            return
        result = PASS if not oidc else FAIL
        self.report.add("oidc-none", result, f"none configured: 200 {_short(oidc)}")

    def control_plane_after_reset(self) -> None:
        ranges = self.api.get(self.at(IP_RESTRICTIONS))
        result = PASS if not ranges else WARN
        self.report.add("reset-ip-restrictions", result, f"after a reset: {_short(ranges)} (ovhkube puts them back)")
        try:
            oidc = self.api.get(self.at(OPENID_CONNECT))
        except NotFound:
            oidc = None
        result = PASS if not oidc else WARN
        self.report.add("reset-oidc", result, f"after a reset: {_short(oidc)} (ovhkube puts it back, or finds it kept)")
        if oidc:
            self.api.delete(self.at(OPENID_CONNECT))
            self.wait()

    def reset(self) -> None:
        # A policy that is not the default, then a reset body without version and updatePolicy: the description says
        # the version is kept; the reset guide says the policy goes back to ALWAYS_UPDATE.
        here = ClusterTarget(self.project, self.id)
        not_default = Step(StepKind.UPDATE_POLICY, here, {"updatePolicy": "MINIMAL_DOWNTIME"})
        self.api.put(not_default.path, not_default.body)
        self.wait()
        before = self.api.get(self.path)
        body = {"name": before.get("name"), "kubeProxyMode": before.get("kubeProxyMode")}
        started = time.monotonic()
        self.api.post(Step(StepKind.RESET, here, body).path, body)
        seen: list[str | None] = []
        while len(seen) < 20:
            cluster = self.api.get(self.path)
            seen.append(cluster.get("status"))
            if seen[-1] != "READY":
                break
            time.sleep(0.5)
        first = next((status for status in seen if status != "READY"), None)
        result = PASS if first in RESET_STARTED else FAIL
        self.report.add("reset-status", result, f"first status after the reset: {first or 'READY only'}")
        cluster = self.wait()
        self.report.add("reset-wait", PASS, f"READY again after {time.monotonic() - started:.0f} s")
        plugins = ((cluster.get("customization") or {}).get("apiServer") or {}).get("admissionPlugins")
        both_on = effective_plugins(plugins) == effective_plugins({})
        self.report.add("reset-plugins", PASS if both_on else FAIL, f"after a reset without them: {_short(plugins)}")
        kept = cluster.get("name") == before.get("name")
        self.report.add("reset-name", PASS if kept else FAIL, f"name {quoted(cluster.get('name'))} after the reset")
        version, was = major_minor(cluster.get("version")), major_minor(before.get("version"))
        detail = (
            f"version {quoted(cluster.get('version'))} after a reset without one (was {quoted(before.get('version'))})"
        )
        self.report.add("reset-version", PASS if version == was else FAIL, detail)
        policy = cluster.get("updatePolicy")
        detail = f"updatePolicy {quoted(policy)} after a reset without one (was MINIMAL_DOWNTIME)"
        self.report.add("reset-update-policy", PASS if policy == "ALWAYS_UPDATE" else WARN, detail)


def _json(response) -> dict:
    try:
        data = response.json()
    except Exception:  # noqa: BLE001 (no response, or not JSON)
        return {}
    return data if isinstance(data, dict) else {}


def _short(value, limit: int = 160) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
