"""What each entry of a plan rests on: the live values that, if they moved since the plan, change what the entry
would send or whether sending it is safe. An entry is stale only when one of them moved (docs/apply.md says which
and why); a cluster the plan leaves alone that moved since is reported, never a reason to refuse the plan.

- create: that the cluster is still absent;
- reset: everything the reset body repeats (identity, kubeProxyMode, the minor version, every setting a reset keeps,
  the whole customization: blocks the file does not manage are carried from live) and the IP restrictions and OIDC
  it puts back;
- update and upgrade: the identity; the minor version (an upgrade counts its NEXT_MINOR steps from it; a patch
  release never makes a settings change stale); where it PUTs the customization, the whole of it (the PUT carries
  every block, those it does not change as read: a block changed meanwhile would be put back); the update policy
  where it upgrades (the API refuses upgrades under NEVER_UPDATE) or renames (the rename's PUT carries it); the
  patch level and isUpToDate where it asks for LATEST_PATCH; the IP restrictions and OIDC its steps depend on (an
  OIDC write is a POST, PUT or DELETE by what exists); the node pools where it changes one
  (plan.planner.only_parts);
- delete: the identity alone (the cluster the reviewer saw deleted; its settings do not matter any more);
- noop and error: every field (they send nothing; a move is only reported).
"""

from dataclasses import dataclass

from reconciler.live.read import LiveCluster
from reconciler.model import KEPT_ON_RESET
from reconciler.plan.control_plane import parts_depended_on
from reconciler.plan.data import Action
from reconciler.plan.fingerprint import FINGERPRINT_FIELDS, IDENTITY_FIELDS, fingerprint
from reconciler.steps import NETWORK_KINDS, Step, StepKind


@dataclass(frozen=True)
class Rests:
    """The live values an entry rests on."""

    fields: tuple[str, ...]  # of the cluster object; "version" by its minor unless `patch`
    blocks: tuple[str, ...] | None  # customization blocks; None: the whole customization
    parts: tuple[str, ...]  # the separately read IP restrictions and OIDC
    patch: bool = True


EVERYTHING = Rests(FINGERPRINT_FIELDS, None, ())


def rests_on(action: Action, steps: list[Step]) -> Rests:
    parts = parts_depended_on(action, steps)
    if action is Action.DELETE:
        return Rests(IDENTITY_FIELDS, (), ())  # the cluster the reviewer saw, whatever its settings now
    if action is Action.RESET:
        return Rests(IDENTITY_FIELDS + ("kubeProxyMode", "version") + KEPT_ON_RESET, None, parts, patch=False)
    if action in (Action.UPDATE, Action.UPGRADE):
        upgrades = [(step.body or {}).get("strategy") for step in steps if step.kind is StepKind.UPGRADE]
        renames = any(step.kind is StepKind.RENAME for step in steps)  # its body carries the policy as read
        fields = IDENTITY_FIELDS + ("version",) + (("updatePolicy",) if upgrades or renames else ())
        latest_patch = "LATEST_PATCH" in upgrades
        blocks = None if any(step.kind is StepKind.PUT_CUSTOMIZATION for step in steps) else ()
        if any(step.kind in NETWORK_KINDS for step in steps):  # the configuration PUT carries what it keeps as read
            fields += KEPT_ON_RESET
        return Rests(fields + (("isUpToDate",) if latest_patch else ()), blocks, parts, latest_patch)
    return EVERYTHING  # create: its fingerprint is of an absent cluster whatever this says; noop and error


def entry_fingerprint(project: str, name: str, live: LiveCluster | None, rests: Rests) -> str:
    return fingerprint(project, name, live, rests.fields, rests.blocks, rests.patch)
