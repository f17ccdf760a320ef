"""The control-plane calls beside customization: updatePolicy, version upgrades, IP restrictions, OIDC.

Sources (docs/sandbox.md has the table): OVHcloud's API description for paths, bodies and answers (bodies are held
to it before they come here: reconciler.sandbox.contract); Terraform's
provider (ovh/terraform-provider-ovh, resource_cloud_project_kube_iprestrictions.go and _oidc.go) for the
answers and the statuses it waits on (IP restrictions: REDEPLOYING; OIDC: UPDATING / REDEPLOYING); TF issue #362
for the 409 under NEVER_UPDATE; ovh/docs "resetting-a-cluster" and ovh/public-cloud-roadmap#356 for what a reset
wipes. The sandbox keeps its own copy of every fact: it never imports the engine.

IP restrictions and OIDC are stored with the cluster under keys the cluster object never shows (the real object
carries neither: each has its own GET).
"""

import copy

from reconciler.sandbox.clusters import (
    FAILED_UPGRADE,
    IPS_KEY,
    OIDC_KEY,
    ApiFailure,
    Clusters,
    minor,
    next_versions,
    not_found,
    with_patch,
)
from reconciler.sandbox.state import State


class ControlPlane:
    def __init__(self, clusters: Clusters):
        self.clusters = clusters
        self.state = clusters.state

    def _change(self, project: str, cluster_id: str, change, busy: str | None) -> dict:
        """Change a READY cluster in one transaction; `busy`: the status it goes to. The stored data after it."""
        with self.state.write() as conn:
            cluster, now = self.clusters._ready_cluster(conn, project, cluster_id)
            self.clusters.show_later(cluster, now)
            change(cluster.data)
            if busy:
                self.clusters._mark_busy(cluster, busy, now)
            State.save_cluster(conn, cluster)
        return cluster.data

    # updatePolicy: no status change (schema; about a second on the real API)

    def put_update_policy(self, project: str, cluster_id: str, body) -> None:
        self._change(project, cluster_id, lambda data: data.update(body), None)

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
            if data.get("name") in self.clusters.failed_upgrades:
                data[FAILED_UPGRADE] = True

        self._change(project, cluster_id, upgrade, "UPDATING")

    # The private network in place (OpenAPI description; OVHcloud's Standard plan guide): the load balancers' subnet
    # (REDEPLOYING; it needs the network and the nodes subnet), and the gateway and routing, which redeploy the nodes.

    def put_load_balancers_subnet(self, project: str, cluster_id: str, body) -> None:
        def move(data: dict) -> None:
            if not (data.get("privateNetworkId") and data.get("nodesSubnetId")):
                message = "loadBalancersSubnetId can only be set if privateNetworkId and nodesSubnetId are also set"
                raise ApiFailure(400, "Client::BadRequest", message)
            data["loadBalancersSubnetId"] = body.get("loadBalancersSubnetId")

        self._change(project, cluster_id, move, _REDEPLOY)

    def get_private_network_configuration(self, project: str, cluster_id: str) -> dict:
        return copy.deepcopy(self.clusters.get(project, cluster_id).get("privateNetworkConfiguration") or {})

    def put_private_network_configuration(self, project: str, cluster_id: str, body) -> dict:
        def configure(data: dict) -> None:
            if not data.get("privateNetworkId"):
                raise ApiFailure(400, "Client::BadRequest", "The cluster is not attached to a private network")
            data["privateNetworkConfiguration"] = (data.get("privateNetworkConfiguration") or {}) | {
                key: value for key, value in body.items() if value is not None
            }

        self._change(project, cluster_id, configure, _REDEPLOY)
        return {"message": "The private network configuration is being applied: the nodes are redeployed"}

    # IP restrictions: the API server is reconfigured (TF waits REDEPLOYING)

    def get_ip_restrictions(self, project: str, cluster_id: str) -> list:
        return list(self.clusters.shown_beside(project, cluster_id, IPS_KEY) or [])

    # PUT replaces the list, POST adds to it; both answer the list (the description's answer), each range as sent.

    def put_ip_restrictions(self, project: str, cluster_id: str, body) -> list:
        data = self._change(
            project, cluster_id, lambda data: data.update({IPS_KEY: list(body.get("ips") or [])}), _REDEPLOY
        )
        return list(data[IPS_KEY])

    def post_ip_restrictions(self, project: str, cluster_id: str, body) -> list:
        def append(data: dict) -> None:
            kept = list(data.get(IPS_KEY) or [])
            data[IPS_KEY] = kept + [ip for ip in body.get("ips") or [] if ip not in kept]

        return list(self._change(project, cluster_id, append, _REDEPLOY)[IPS_KEY])

    def delete_ip_restriction(self, project: str, cluster_id: str, ip: str, body=None) -> None:
        def remove(data: dict) -> None:
            if ip not in (data.get(IPS_KEY) or []):
                raise not_found(f"The IP restriction {ip} does not exist")
            data[IPS_KEY] = [kept for kept in data[IPS_KEY] if kept != ip]

        self._change(project, cluster_id, remove, _REDEPLOY)

    # OIDC: one configuration per cluster; GET, PUT and DELETE of none answer 404 (what the API answers there is not
    # described: the harder answer for a client), a second POST 409. POST answers the configuration.

    def get_openid_connect(self, project: str, cluster_id: str) -> dict:
        oidc = self.clusters.shown_beside(project, cluster_id, OIDC_KEY)
        if not oidc:
            raise not_found(f"No OpenID Connect configuration on cluster {cluster_id}")
        return copy.deepcopy(oidc)

    def post_openid_connect(self, project: str, cluster_id: str, body) -> dict:
        def create(data: dict) -> None:
            if data.get(OIDC_KEY):
                raise ApiFailure(409, "Client::Conflict", "An OpenID Connect configuration already exists")
            data[OIDC_KEY] = _stored_oidc(body)

        return copy.deepcopy(self._change(project, cluster_id, create, "UPDATING")[OIDC_KEY])

    def put_openid_connect(self, project: str, cluster_id: str, body) -> None:
        # The update body requires nothing (description): a field it leaves out is kept, a field it sends replaces
        # (null: unset). Whether the API keeps or clears what is left out is not described; ovhkube sends it all.
        def update(data: dict) -> None:
            if not data.get(OIDC_KEY):
                raise not_found(f"No OpenID Connect configuration on cluster {cluster_id}")
            data[OIDC_KEY] = _stored_oidc(data[OIDC_KEY] | body)

        self._change(project, cluster_id, update, "UPDATING")

    def delete_openid_connect(self, project: str, cluster_id: str, body=None) -> None:
        def remove(data: dict) -> None:
            if not data.get(OIDC_KEY):
                raise not_found(f"No OpenID Connect configuration on cluster {cluster_id}")
            data[OIDC_KEY] = None

        self._change(project, cluster_id, remove, "UPDATING")


_REDEPLOY = "REDEPLOYING"


def _stored_oidc(body: dict) -> dict:
    """As the API answers it: fields not sent are absent, and the signing algorithms default to RS256 (schema)."""
    stored = {key: copy.deepcopy(value) for key, value in body.items() if value is not None}
    stored.setdefault("signingAlgorithms", ["RS256"])
    return stored
