package main

// The redis driver: standalone, Sentinel and Cluster.
import _ "github.com/orchestrix/persistence/redis"
