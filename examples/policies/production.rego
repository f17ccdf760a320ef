# What the example policies call production: a cluster whose document says `metadata.labels.env: production`
# (or prod), the labels ClusterDefaults select by. Each entry of the plan JSON carries them in `labels`.
package main

import rego.v1

production(change) if change.labels.env in {"production", "prod"}
