import json, pytest
from apply_helpers import apply_json, clusters_by_name, cluster_id, live, seed, write_fleet, wanted
CLUSTER = f"/kube/{cluster_id(1)}"

def rewrite(f):
    def fn(status, payload):
        try: data = json.loads(payload)
        except Exception: return status, payload
        return status, json.dumps(f(data)).encode()
    return fn

CASES = {
 "kc_garbled": (("POST", CLUSTER + "/kubeconfig"), ["garbled"], ["kubeconfig"]),
 "kc_content_int": (("POST", CLUSTER + "/kubeconfig"), [rewrite(lambda d: {"content": 5})], ["kubeconfig"]),
 "kc_content_missing": (("POST", CLUSTER + "/kubeconfig"), [rewrite(lambda d: {})], ["kubeconfig"]),
 "kc_content_ansi": (("POST", CLUSTER + "/kubeconfig"), [rewrite(lambda d: {"content": "\x1b[2J::error::x"})], ["kubeconfig"]),
 "kc_reset_garbled": (("POST", CLUSTER + "/kubeconfig/reset"), ["garbled"], ["kubeconfig", "--reset", "--yes"]),
 "kc_reset_dropped": (("POST", CLUSTER + "/kubeconfig/reset"), ["dropped"], ["kubeconfig", "--reset", "--yes"]),
 "kc_reset_after": (("POST", CLUSTER + "/kubeconfig/reset"), ["after"], ["kubeconfig", "--reset", "--yes"]),
 "get_plan_int": (("GET", CLUSTER), [rewrite(lambda d: {**d, "plan": 5})]*20, ["plan"]),
 "get_pn_int": (("GET", CLUSTER), [rewrite(lambda d: {**d, "privateNetworkId": 5, "privateNetworkConfiguration": "x"})]*20, ["plan"]),
 "get_name_ansi": (("GET", CLUSTER), [rewrite(lambda d: {**d, "name": "old", "plan": "\x1b[2Jstandard"})]*20, ["plan"]),
}

@pytest.mark.parametrize("case", list(CASES))
def test_kc(tmp_path, sandbox_factory, through_gateway, run_ovhkube, case):
    rule, faults, args = CASES[case]
    sandbox = sandbox_factory(transition_seconds=1, expand_lists=False)
    seed(sandbox, live(1, "old"))
    gateway, env = through_gateway(sandbox, {rule: list(faults)})
    doc = wanted("old", mode="ipvs", allow_reset=True)
    fleet = write_fleet(tmp_path, doc)
    extra = ["-o", str(tmp_path/"kc")] if args[0]=="kubeconfig" else []
    result = run_ovhkube(args[0], fleet, *args[1:], *extra, env=env, timeout=90)
    print("CASE", case, "rc", result.returncode, "posts", gateway.count(*rule))
    print("OUT", (result.stdout[-400:]+" || "+result.stderr[-500:]).replace("\n"," | "))
    assert False
