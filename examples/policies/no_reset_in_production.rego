# A reset erases all Kubernetes data (pods, services, configuration): never in production.
package main

import rego.v1

deny contains {"cluster": change.cluster.name, "project": change.cluster.project, "msg": msg} if {
	some change in input.changes
	change.action == "reset"
	production(change)
	msg := sprintf("no reset in production: %s is labelled env=%s, and a reset erases all its Kubernetes data", [
		change.cluster.name,
		change.labels.env,
	])
}
