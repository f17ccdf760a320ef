# Every production cluster's API server has an IP allow-list: the file manages spec.ipRestrictions, and it is
# neither empty nor open to every address. `ip_restrictions` in the plan is the list the file asks for (what apply
# makes live); null when the file does not manage it.
package main

import rego.v1

deny contains {"cluster": change.cluster.name, "project": change.cluster.project, "msg": msg} if {
	some change in input.changes
	change.action != "error"
	production(change)
	not restricted(change.ip_restrictions)
	msg := sprintf("%s is production: its API server needs an IP allow-list (spec.ipRestrictions, not empty, no 0.0.0.0/0)", [
		change.cluster.name,
	])
}

restricted(ranges) if {
	count(ranges) > 0
	not opens_to_anyone(ranges)
}

opens_to_anyone(ranges) if {
	some range in ranges
	range in {"0.0.0.0/0", "::/0"}
}
