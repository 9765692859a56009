module github.com/orchestrix/persistence/conformance

go 1.26

require github.com/orchestrix/persistence/abstractions v0.0.0

replace github.com/orchestrix/persistence/abstractions => ../abstractions
