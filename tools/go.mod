module github.com/orchestrix/persistence/tools

go 1.26.0

require (
	github.com/google/btree v1.1.3 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/mitchellh/colorstring v0.0.0-20190213212951-d06e56a500db // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
	github.com/robfig/cron/v3 v3.0.1 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

require (
	github.com/orchestrix/persistence/abstractions v0.0.0
	github.com/schollz/progressbar/v3 v3.19.1
	golang.org/x/term v0.44.0
)

replace github.com/orchestrix/persistence/abstractions => ../abstractions

require github.com/orchestrix/persistence/inmemory v0.0.0

replace (
	github.com/orchestrix/persistence/conformance => ../conformance
	github.com/orchestrix/persistence/ent => ../ent
	github.com/orchestrix/persistence/inmemory => ../inmemory
	github.com/orchestrix/persistence/redis => ../redis
)
