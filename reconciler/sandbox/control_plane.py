"""The control-plane calls beside customization: updatePolicy, version upgrades, IP restrictions, OIDC.

Sources (docs/sandbox.md has the table): the OVHcloud OpenAPI schema for paths and bodies; Terraform's
provider (ovh/terraform-provider-ovh, resource_cloud_project_kube_iprestrictions.go and _oidc.go) for the
answers and the statuses it waits on (IP restrictions: REDEPLOYING; OIDC: UPDATING / REDEPLOYING); TF issue #362
for the 409 under NEVER_UPDATE; ovh/docs "resetting-a-cluster" and ovh/public-cloud-roadmap#356 for what a reset
wipes. The sandbox keeps its own copy of every fact: it never imports the engine.

IP restrictions and OIDC are stored with the cluster under keys the cluster object never shows (the real object
carries neither: each has its own GET).
"""

import copy
import ipaddress

from reconciler.sandbox import bodies
from reconciler.sandbox.bodies import shown
from reconciler.sandbox.clusters import (
    IPS_KEY,
    OIDC_KEY,
    ApiFailure,
    Clusters,
    bad_request,
    minor,
    next_versions,
    not_found,
    with_patch,
)
from reconciler.sandbox.facts import OIDC_SIGNING_ALGORITHMS, UPDATE_POLICIES
from reconciler.sandbox.state import State

UPDATE_POLICY = bodies.obj({"updatePolicy": bodies.enum(UPDATE_POLICIES)}, required=("updatePolicy",))
UPDATE = bodies.obj({"strategy": bodies.enum(("LATEST_PATCH", "NEXT_MINOR"))}, required=("strategy",))
OIDC_FIELDS = {
    "issuerUrl": bodies.string,
    "clientId": bodies.string,
    "caContent": bodies.string,
    "groupsClaim": bodies.list_of(bodies.string),
    "groupsPrefix": bodies.string,
    "requiredClaim": bodies.list_of(bodies.string),
    "signingAlgorithms": bodies.list_of(bodies.enum(OIDC_SIGNING_ALGORITHMS)),
    "usernameClaim": bodies.string,
    "usernamePrefix": bodies.string,
}
OIDC = bodies.obj(OIDC_FIELDS, required=("issuerUrl", "clientId"))


def _ip_range(value, path, problems) -> None:
    try:
        ipaddress.ip_network(value, strict=False)
    except (TypeError, ValueError):
        problems.append(f"{path}: {shown(value)} is not an IP address or range")


IPS = bodies.obj({"ips": bodies.list_of(_ip_range)}, required=("ips",))


class ControlPlane:
    def __init__(self, clusters: Clusters):
        self.clusters = clusters
        self.state = clusters.state

    def _change(self, project: str, cluster_id: str, body, checker, change, busy: str | None) -> None:
        """Check the body, then change a READY cluster in one transaction; `busy`: the status it goes to."""
        problems = bodies.problems_in(checker, body)
        if problems:
            raise bad_request(problems)
        with self.state.write() as conn:
            cluster, now = self.clusters._ready_cluster(conn, project, cluster_id)
            self.clusters.show_later(cluster, now)
            change(cluster.data)
            if busy:
                self.clusters._mark_busy(cluster, busy, now)
            State.save_cluster(conn, cluster)

    # updatePolicy: no status change (schema; about a second on the real API)

    def put_update_policy(self, project: str, cluster_id: str, body) -> None:
        self._change(project, cluster_id, body, UPDATE_POLICY, lambda data: data.update(body), None)

    # upgrades

    def update(self, project: str, cluster_id: str, body) -> None:
        def upgrade(data: dict) -> None:
            if data.get("updatePolicy") == "NEVER_UPDATE":  # TF issue #362
                message = f"Update aborted on cluster {cluster_id} because of policy NEVER_UPDATE"
                raise ApiFailure(409, "Client::Conflict", message)
            current = minor(data["version"])
            if body["strategy"] == "NEXT_MINOR":
                following = next_versions(data["version"])
                if not following:
                    raise ApiFailure(400, "Client::BadRequest", f"No newer minor version than {current}")
                data["version"] = with_patch(following[0])
            else:
                data["version"] = with_patch(current)
            data["nextUpgradeVersions"] = next_versions(data["version"])
            data["isUpToDate"] = data["controlPlaneIsUpToDate"] = True

        self._change(project, cluster_id, body, UPDATE, upgrade, "UPDATING")

    # IP restrictions: the API server is reconfigured (TF waits REDEPLOYING)

    def get_ip_restrictions(self, project: str, cluster_id: str) -> list:
        return list(self.clusters.shown_beside(project, cluster_id, IPS_KEY) or [])

    def put_ip_restrictions(self, project: str, cluster_id: str, body) -> None:
        self._change(project, cluster_id, body, IPS, lambda data: data.update({IPS_KEY: list(body["ips"])}), _REDEPLOY)

    def post_ip_restrictions(self, project: str, cluster_id: str, body) -> None:
        def append(data: dict) -> None:
            kept = list(data.get(IPS_KEY) or [])
            data[IPS_KEY] = kept + [ip for ip in body["ips"] if ip not in kept]

        self._change(project, cluster_id, body, IPS, append, _REDEPLOY)

    def delete_ip_restriction(self, project: str, cluster_id: str, ip: str, body=None) -> None:
        def remove(data: dict) -> None:
            if ip not in (data.get(IPS_KEY) or []):
                raise not_found(f"The IP restriction {ip} does not exist")
            data[IPS_KEY] = [kept for kept in data[IPS_KEY] if kept != ip]

        self._change(project, cluster_id, {}, bodies.obj({}), remove, _REDEPLOY)

    # OIDC: one configuration per cluster; GET, PUT and DELETE of none answer 404, a second POST 409

    def get_openid_connect(self, project: str, cluster_id: str) -> dict:
        oidc = self.clusters.shown_beside(project, cluster_id, OIDC_KEY)
        if not oidc:
            raise not_found(f"No OpenID Connect configuration on cluster {cluster_id}")
        return copy.deepcopy(oidc)

    def post_openid_connect(self, project: str, cluster_id: str, body) -> None:
        def create(data: dict) -> None:
            if data.get(OIDC_KEY):
                raise ApiFailure(409, "Client::Conflict", "An OpenID Connect configuration already exists")
            data[OIDC_KEY] = _stored_oidc(body)

        self._change(project, cluster_id, body, OIDC, create, "UPDATING")

    def put_openid_connect(self, project: str, cluster_id: str, body) -> None:
        def replace(data: dict) -> None:
            if not data.get(OIDC_KEY):
                raise not_found(f"No OpenID Connect configuration on cluster {cluster_id}")
            data[OIDC_KEY] = _stored_oidc(body)

        self._change(project, cluster_id, body, OIDC, replace, "UPDATING")

    def delete_openid_connect(self, project: str, cluster_id: str, body=None) -> None:
        def remove(data: dict) -> None:
            if not data.get(OIDC_KEY):
                raise not_found(f"No OpenID Connect configuration on cluster {cluster_id}")
            data[OIDC_KEY] = None

        self._change(project, cluster_id, {}, bodies.obj({}), remove, "UPDATING")


_REDEPLOY = "REDEPLOYING"


def _stored_oidc(body: dict) -> dict:
    """As the API answers it: fields not sent are absent, and the signing algorithms default to RS256 (schema)."""
    stored = {key: copy.deepcopy(value) for key, value in body.items() if value is not None}
    stored.setdefault("signingAlgorithms", ["RS256"])
    return stored
