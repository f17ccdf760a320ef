"""One source per fact: the file format's enums and field lists live in the schema (schemas/cluster.schema.json),
and the copies the engine keeps for speed or clarity (model.py, plan/normalize.py, export/documents.py) must say the
same. Adding a field or a value to the schema without them (or the reverse) fails here, naming what differs. And
what a reset keeps is one list, fingerprinted whole: a setting added to it makes a saved plan stale when it changes."""

from reconciler import model
from reconciler.export.documents import KNOWN_FIELDS
from reconciler.files.schema import load_schema
from reconciler.live.read import LiveCluster
from reconciler.plan.fingerprint import FINGERPRINT_FIELDS, IDENTITY_FIELDS, fingerprint
from reconciler.plan.normalize import DURATION_FIELDS, KUBE_PROXY_DEFAULTS, ZERO_MEANS_UNSET

SCHEMA = load_schema()
DEFS = SCHEMA["$defs"]
SETTINGS = DEFS["specFields"]["properties"]
CUSTOMIZATION = SETTINGS["customization"]["properties"]
DURATION_REF = "#/$defs/duration"


def enum(subschema: dict) -> tuple:
    return tuple(value for value in subschema["enum"] if value is not None)


def leaves() -> dict[str, dict]:
    """Every setting inside customization, by dotted path (kubeProxy.ipvs.scheduler): its subschema."""
    found = {}
    for block, block_schema in CUSTOMIZATION.items():
        if block == model.CILIUM:  # written and exported whole, as the API describes it
            continue
        for section, section_schema in block_schema["properties"].items():
            for name, subschema in section_schema["properties"].items():
                found[f"{block}.{section}.{name}"] = subschema
    return found


def test_the_model_enums_are_the_schema_enums():
    assert enum(SETTINGS["kubeProxyMode"]) == model.KUBE_PROXY_MODES
    assert enum(CUSTOMIZATION["kubeProxy"]["properties"]["ipvs"]["properties"]["scheduler"]) == model.IPVS_SCHEDULERS
    assert enum(DEFS["pluginList"]["items"]) == model.ADMISSION_PLUGINS
    assert set(model.ALWAYS_ENABLED_PLUGINS) <= set(model.ADMISSION_PLUGINS)
    assert enum(SETTINGS["lifecycle"]["properties"]["workerNodesPolicy"]) == model.WORKER_NODES_POLICIES
    assert tuple(CUSTOMIZATION) == model.CUSTOMIZATION_BLOCKS
    assert enum(SETTINGS["plan"]) == model.PLANS
    assert tuple(SETTINGS["privateNetwork"]["properties"]) == (*model.NETWORK_IDS, *model.NETWORK_ROUTING)
    assert tuple(SETTINGS["ipAllocationPolicy"]["properties"]) == model.IP_ALLOCATION_FIELDS


def test_export_knows_exactly_the_schema_customization_fields():
    exported = {
        f"{block}.{section}.{name}"
        for block, sections in KNOWN_FIELDS.items()
        for section, names in sections.items()
        for name in names
    }
    assert exported == set(leaves())


def test_normalize_knows_which_fields_are_durations_and_their_defaults():
    durations = {path for path, subschema in leaves().items() if subschema.get("$ref") == DURATION_REF}
    assert {path.rsplit(".", 1)[1] for path in durations} == DURATION_FIELDS
    assert durations >= ZERO_MEANS_UNSET
    assert set(leaves()) >= set(KUBE_PROXY_DEFAULTS)


def test_the_fingerprint_covers_identity_mode_version_and_everything_a_reset_keeps():
    assert set(FINGERPRINT_FIELDS) == {*IDENTITY_FIELDS, "kubeProxyMode", "version", *model.KEPT_ON_RESET}
    cluster = {key: f"live {key}" for key in FINGERPRINT_FIELDS}
    seen = fingerprint("p", "n", LiveCluster(cluster, {}))
    for key in model.KEPT_ON_RESET:  # a setting the reset body repeats, changed since the plan: the plan is stale
        assert fingerprint("p", "n", LiveCluster(cluster | {key: "changed"}, {})) != seen, key


def test_a_reset_body_repeats_every_setting_the_sandbox_says_a_reset_puts_back():
    """The sandbox keeps its own copy of the API's facts; what a reset resets there must be kept by the planner
    (the body always carries the mode and the customization; every other such setting must be in KEPT_ON_RESET)."""
    from reconciler.sandbox.facts import RESET_DEFAULTS

    always_in_the_body = {"kubeProxyMode", "customization", "name", "version"}
    assert set(RESET_DEFAULTS) - always_in_the_body <= set(model.KEPT_ON_RESET)


def test_the_model_knows_exactly_the_schema_pool_fields_and_taint_effects():
    pool = DEFS["nodePool"]["properties"]
    assert set(pool) - {"delete", "pinDesiredNodes"} == set(model.POOL_FIELDS)
    assert tuple(pool["autoscaling"]["properties"]) == model.POOL_AUTOSCALING_FIELDS
    assert enum(DEFS["taint"]["properties"]["effect"]) == model.TAINT_EFFECTS
