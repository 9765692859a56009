module github.com/orchestrix/persistence/examples/metered

go 1.26

require (
	github.com/orchestrix/persistence/abstractions v0.0.0
	github.com/orchestrix/persistence/conformance v0.0.0
	github.com/orchestrix/persistence/inmemory v0.0.0
)

require (
	github.com/google/btree v1.1.3 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/robfig/cron/v3 v3.0.1 // indirect
)

replace (
	github.com/orchestrix/persistence/abstractions => ../../abstractions
	github.com/orchestrix/persistence/conformance => ../../conformance
	github.com/orchestrix/persistence/inmemory => ../../inmemory
)
