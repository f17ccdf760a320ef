"""The plan's live fingerprint: what a plan entry's steps depend on, hashed. A change to any of it since the plan
was made makes the plan stale (reconciler.plan.planfile), and apply compares it again right before each first write.
"""

import hashlib
import json

from reconciler.live.read import LiveCluster
from reconciler.model import KEPT_ON_RESET
from reconciler.versions import major_minor

# What a plan's requests depend on; a change to any of these since the plan makes it stale: the cluster's identity,
# its mode and version (a reset's body), and every setting a reset keeps (also in its body). The customization is
# fingerprinted whole beside them.
IDENTITY_FIELDS = ("id", "name", "region")
FINGERPRINT_FIELDS = IDENTITY_FIELDS + ("kubeProxyMode", "version") + KEPT_ON_RESET
# What a plan's pool requests depend on, where the pools were read: a pool's id (in their paths), what a replacement
# copies, the template an update sends whole. Counts the autoscaler moves are left out.
POOL_FINGERPRINT_FIELDS = ("id", "name", "flavor", "antiAffinity", "monthlyBilled", "availabilityZones", "template")

# json.dumps(payload, sort_keys=True, separators=(",", ":")), without making an encoder for every entry, nor looking
# for reference cycles where none can be (the payload is made of decoded JSON).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), check_circular=False)


def fingerprint(
    project: str,
    name: str,
    live: LiveCluster | None,
    fields: tuple[str, ...] = FINGERPRINT_FIELDS,
    blocks: tuple[str, ...] | None = None,
    patch: bool = True,
) -> str:
    """What was read of `fields` of the cluster object (`version` by its minor unless `patch`) and of the customization
    `blocks` (None: all of it), the separately read parts and the node pools; what each plan entry rests on:
    plan/staleness.py."""
    payload: dict
    if live is None:
        payload = {"absent": [project, name]}
    else:
        payload = {key: live.cluster.get(key) for key in fields}
        if not patch and payload.get("version") is not None:
            payload["version"] = major_minor(payload["version"])
        customization = live.customization
        payload["customization"] = (
            customization if blocks is None else {block: customization.get(block) for block in blocks}
        )
        # Read only where the plan depends on them; the staleness check reads the same (control_plane_reads).
        for key, value in (("ipRestrictions", live.ip_restrictions), ("openIdConnect", live.openid_connect)):
            if value is not None:
                payload[key] = value
        if live.node_pools is not None:
            payload["nodePools"] = sorted(
                ({key: pool.get(key) for key in POOL_FINGERPRINT_FIELDS} for pool in live.node_pools),
                key=lambda pool: str(pool.get("id")),
            )
    text = _ENCODER.encode(payload)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
