package main

// The inmemory driver: for development, tests and single-process use.
import _ "github.com/orchestrix/persistence/inmemory"
