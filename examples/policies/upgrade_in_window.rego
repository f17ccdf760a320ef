# An upgrade drains every node: in production it starts only inside a maintenance window, so the cluster must
# have one (lifecycle.maintenanceWindow). One planned outside its window is deferred until it opens: said.
package main

import rego.v1

deny contains {"cluster": change.cluster.name, "project": change.cluster.project, "msg": msg} if {
	some change in input.changes
	change.action == "upgrade"
	production(change)
	change.maintenance_window == null
	msg := sprintf("no upgrade outside a maintenance window: %s has none (set spec.lifecycle.maintenanceWindow)", [
		change.cluster.name,
	])
}

warn contains {"cluster": change.cluster.name, "project": change.cluster.project, "msg": msg} if {
	some change in input.changes
	change.deferred_until != null
	msg := sprintf("%s of %s waits for its maintenance window: it starts after %s", [
		change.action,
		change.cluster.name,
		change.deferred_until,
	])
}
