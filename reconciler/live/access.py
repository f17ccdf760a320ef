"""The OVHcloud API calls ovhkube makes, as consumer-key access rules (`POST /auth/credential` takes them as
{"accessRules": [{"method", "path"}]}; `*` is a wildcard). Least privilege: plan, drift and export need the GETs only;
apply needs the writes too. `GET /auth/time` is called unauthenticated and needs no rule.
See https://help.ovhcloud.com/csm/en-gb-api-getting-started-ovhcloud-api (section "Advanced usage: pair OVHcloud
APIs with an application") and https://github.com/ovh/python-ovh#2-configure-your-application.
"""

import json
import re

KUBE = "/cloud/project/{project}/kube"

READ_RULES = (
    ("GET", "/cloud/project/{project}"),  # its description, for plans in text and markdown (ids alone without it)
    ("GET", KUBE),  # the project's clusters, expanded (one call per project)
    ("GET", KUBE + "/*"),  # one cluster, right before a write and while waiting for READY
    ("GET", KUBE + "/*/customization"),  # when a listing is not expanded
    ("GET", KUBE + "/*/ipRestrictions"),  # no expanded form: read where the file manages it or a reset wipes it
    ("GET", KUBE + "/*/openIdConnect"),
    ("GET", KUBE + "/*/nodepool"),  # expanded: where a file declares pools (drift --unmanaged: every cluster)
    ("GET", KUBE + "/*/flavors"),  # where a plan would create a pool of a flavor
    ("GET", "/cloud/project/{project}/capabilities/kube/flavors"),  # a new cluster's pools: its region's flavors
)
WRITE_RULES = (
    ("POST", KUBE),  # create
    ("PUT", KUBE + "/*"),  # rename (metadata.renamedFrom), carrying the update policy
    ("DELETE", KUBE + "/*"),  # only a cluster a file marks spec.delete: true, with lifecycle.allowDelete
    ("PUT", KUBE + "/*/customization"),
    ("POST", KUBE + "/*/reset"),
    ("PUT", KUBE + "/*/updatePolicy"),
    ("PUT", KUBE + "/*/ipRestrictions"),  # PUT replaces the list (POST would append)
    ("POST", KUBE + "/*/openIdConnect"),
    ("PUT", KUBE + "/*/openIdConnect"),
    ("DELETE", KUBE + "/*/openIdConnect"),
    ("POST", KUBE + "/*/update"),  # version upgrade
    ("PUT", KUBE + "/*/updateLoadBalancersSubnetId"),  # the load balancers' subnet, in place
    ("PUT", KUBE + "/*/privateNetworkConfiguration"),  # gateway and routing, in place (nodes redeployed)
    ("POST", KUBE + "/*/nodepool"),
    ("PUT", KUBE + "/*/nodepool/*"),
    ("DELETE", KUBE + "/*/nodepool/*"),  # only pools a file marks delete: true, or the old pool of a replacement
    ("POST", KUBE + "/*/kubeconfig"),  # `ovhkube kubeconfig`; a Rollout whose gate asks the API server
    ("POST", KUBE + "/*/kubeconfig/reset"),  # only `ovhkube kubeconfig --reset`, confirmed
)


def access_rules(read_only: bool, projects: list[str] | None = None) -> list[dict]:
    """The rules, for every project (`*`) or only for those named."""
    rules = READ_RULES if read_only else READ_RULES + WRITE_RULES
    return [
        {"method": method, "path": path.format(project=project)}
        for project in (projects or ["*"])
        for method, path in rules
    ]


def allows(rules: list[dict], method: str, path: str) -> bool:
    """Whether a call is covered, reading `*` as one path segment (stricter than the API, so a check passes there)."""
    return any(
        rule["method"] == method and re.fullmatch("[^/]+".join(map(re.escape, rule["path"].split("*"))), path)
        for rule in rules
    )


# The IAM action of each call, as OVHcloud's API description names it (`x-iam-actions` of each operation; for
# example ovh/ovhcloud-cli internal/assets/api-schemas/cloud.json): an OAuth2 service account is granted these by
# an IAM policy, not by consumer-key rules.
IAM_PREFIX = "publicCloudProject:apiovh:"
IAM_ACTIONS = {
    ("GET", "/cloud/project/{project}"): "get",
    ("GET", KUBE): "kube/get",
    ("GET", KUBE + "/*"): "kube/get",
    ("GET", KUBE + "/*/customization"): "kube/customization/get",
    ("GET", KUBE + "/*/ipRestrictions"): "kube/ipRestrictions/get",
    ("GET", KUBE + "/*/openIdConnect"): "kube/openIdConnect/get",
    ("GET", KUBE + "/*/nodepool"): "kube/nodepool/get",
    ("GET", KUBE + "/*/nodepool/*"): "kube/nodepool/get",
    ("GET", KUBE + "/*/flavors"): "kube/flavors/get",
    ("GET", "/cloud/project/{project}/capabilities/kube/flavors"): "capabilities/kube/flavors/get",
    ("POST", KUBE): "kube/create",
    ("PUT", KUBE + "/*"): "kube/edit",
    ("DELETE", KUBE + "/*"): "kube/delete",
    ("PUT", KUBE + "/*/customization"): "kube/customization/edit",
    ("POST", KUBE + "/*/reset"): "kube/reset",
    ("PUT", KUBE + "/*/updatePolicy"): "kube/updatePolicy",
    ("PUT", KUBE + "/*/ipRestrictions"): "kube/ipRestrictions/edit",
    ("POST", KUBE + "/*/openIdConnect"): "kube/openIdConnect/create",
    ("PUT", KUBE + "/*/openIdConnect"): "kube/openIdConnect/edit",
    ("DELETE", KUBE + "/*/openIdConnect"): "kube/openIdConnect/delete",
    ("POST", KUBE + "/*/kubeconfig"): "kube/kubeconfig/create",
    ("POST", KUBE + "/*/kubeconfig/reset"): "kube/kubeconfig/reset",
    ("POST", KUBE + "/*/update"): "kube/update",
    ("PUT", KUBE + "/*/updateLoadBalancersSubnetId"): "kube/updateLoadBalancersSubnetId",
    ("PUT", KUBE + "/*/privateNetworkConfiguration"): "kube/privateNetworkConfiguration/edit",
    ("POST", KUBE + "/*/nodepool"): "kube/nodepool/create",
    ("PUT", KUBE + "/*/nodepool/*"): "kube/nodepool/edit",
    ("DELETE", KUBE + "/*/nodepool/*"): "kube/nodepool/delete",
}


def iam_policy(read_only: bool, projects: list[str] | None, identities: list[str], region: str = "eu") -> dict:
    """The IAM policy for a service account, as the body of `POST /v2/iam/policy`: the actions of the calls
    ovhkube makes, on the Public Cloud projects named (or all of them)."""
    rules = READ_RULES if read_only else READ_RULES + WRITE_RULES
    actions = sorted({IAM_PREFIX + IAM_ACTIONS[rule] for rule in rules})
    return {
        "name": "ovhkube-read-only" if read_only else "ovhkube",
        "description": "ovhkube " + ("plan, drift and export (read only)" if read_only else "plan, apply, drift"),
        "identities": identities,
        "resources": [{"urn": f"urn:v1:{region}:resource:publicCloudProject:{p}"} for p in (projects or ["*"])],
        "permissions": {"allow": [{"action": action} for action in actions]},
    }


def rule_for(method: str, path: str) -> str | None:
    """The rule that allows a call, as `ovhkube access-rules` prints it (every project: `*`); None when none does."""
    for rule in access_rules(read_only=False):
        if allows([rule], method, path):
            return json.dumps(rule)
    return None
