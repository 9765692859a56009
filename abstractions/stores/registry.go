package stores

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
)

var (
	driversMu sync.RWMutex
	drivers   = map[string]Driver{}
)

// Register makes a driver available under name. It panics if name is empty,
// d is nil, or name is already registered. Drivers call it from init.
func Register(name string, d Driver) {
	if name == "" {
		panic("stores: Register with an empty driver name")
	}
	if d == nil {
		panic("stores: Register driver " + name + " is nil")
	}
	driversMu.Lock()
	defer driversMu.Unlock()
	if _, dup := drivers[name]; dup {
		panic("stores: Register called twice for driver " + name)
	}
	drivers[name] = d
}

// Drivers returns the names of the registered drivers, sorted.
func Drivers() []string {
	driversMu.RLock()
	defer driversMu.RUnlock()
	names := make([]string, 0, len(drivers))
	for n := range drivers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Open opens a store with the named driver. See OpenContext.
func Open(driverName, dsn string) (*Store, error) {
	return OpenContext(context.Background(), driverName, dsn)
}

// OpenContext opens a store with the named driver and data source name. An
// unknown name is an error that names it, hints at the missing blank import
// and lists the registered drivers.
func OpenContext(ctx context.Context, driverName, dsn string) (*Store, error) {
	driversMu.RLock()
	d, ok := drivers[driverName]
	driversMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("orchestrix: unknown driver %q (forgotten import? blank-import the driver module, e.g. _ \"github.com/orchestrix/persistence/%s\"); registered drivers: [%s]",
			driverName, driverName, strings.Join(Drivers(), ", "))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := d.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("orchestrix: open %s store: %w", driverName, err)
	}
	return newStore(driverName, b), nil
}
