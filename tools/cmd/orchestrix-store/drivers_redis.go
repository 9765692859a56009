//go:build ignore

package main

// The redis driver: standalone, Sentinel and Cluster. Excluded (build tag ignore)
// until the redis module compiles; then the tag goes.
import _ "github.com/orchestrix/persistence/redis"
