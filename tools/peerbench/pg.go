package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/orchestrix/persistence/abstractions/stores"
)

// database is a PostgreSQL database one run created for itself.
type database struct {
	name  string
	dsn   string // the --pg DSN pointed at this database
	admin string // the --pg DSN, used to drop it
}

// createDatabase creates a fresh database peerbench_<random> next to the
// --pg one, so no run ever sees another's rows or tables.
func createDatabase(ctx context.Context, adminDSN string) (*database, error) {
	u, err := url.Parse(adminDSN)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("--pg must be a postgres:// URL, got %q", stores.RedactDSN(adminDSN))
	}
	name := "peerbench_" + randomSuffix()
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return nil, fmt.Errorf("--pg %s: connect: %s", stores.RedactDSN(adminDSN), redactErr(err, adminDSN))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create database %s: %s", name, redactErr(err, adminDSN))
	}
	u.Path = "/" + name
	return &database{name: name, dsn: u.String(), admin: adminDSN}, nil
}

// drop removes the database, disconnecting whatever is still connected. A
// failure is reported on stderr and not returned: it leaves a scratch
// database behind, never a wrong measurement.
func (d *database) drop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.admin)
	if err == nil {
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.name}.Sanitize()+" WITH (FORCE)")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "peerbench: warning: drop database %s: %s\n", d.name, redactErr(err, d.admin))
	}
}

// randomSuffix is 12 lowercase hex digits: a valid unquoted SQL identifier
// part and Redis key prefix part.
func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// redactErr renders err with the DSN's password, if any, masked.
func redactErr(err error, dsn string) string {
	s := err.Error()
	if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			s = strings.ReplaceAll(s, pw, "xxxxx")
		}
	}
	return s
}
