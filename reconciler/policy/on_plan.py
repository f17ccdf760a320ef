"""A plan checked by a policy folder: the one way plan and apply run policies over a plan."""

from dataclasses import replace

from reconciler.plan.data import Plan
from reconciler.policy.check import check, load_policies


def checked(plan: Plan, folder: str) -> Plan:
    """The plan with what the policies of `folder` find in it. Their input is the plan JSON as `plan --format json`
    prints it, `policy` null: a saved plan that recorded a check is checked again exactly as it was first."""
    return replace(plan, policy=check(load_policies(folder), replace(plan, policy=None).to_json()))
