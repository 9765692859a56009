// Package faults starts private PostgreSQL and Redis servers on free
// loopback ports for reliability tests, and stops, kills and restarts them
// on demand. A test never restarts the shared servers on 5432 and 6379:
// other tests use them.
//
// When a server binary is missing the test skips with a message saying what
// to install, except with CI=true, where it fails.
package faults

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// missing skips t, or fails it under CI=true, because a binary is absent.
func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: a missing server binary is a failure)", what)
	}
	t.Skipf("%s; install it to run this test", what)
}

// FreePort returns a loopback TCP port nobody listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitPort waits until something accepts connections on port, or d passes.
func waitPort(port int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on 127.0.0.1:%d after %s: %w", port, d, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Redis is a private redis-server. Its data survives Stop/Start and Kill/Start:
// it runs with an append-only file fsynced on every write, so an
// acknowledged write is on disk before the client hears of it.
type Redis struct {
	Port int
	bin  string
	dir  string
	t    testing.TB

	mu  sync.Mutex
	cmd *exec.Cmd
}

// StartRedis starts a private redis-server for the test and stops it at the
// end of the test.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, "redis-server is not on PATH")
	}
	r := &Redis{Port: FreePort(t), bin: bin, dir: t.TempDir(), t: t}
	if err := r.Start(); err != nil {
		t.Fatalf("start private redis-server: %v", err)
	}
	t.Cleanup(func() { r.Kill() })
	return r
}

// DSN returns a redis driver DSN for database db with the key prefix.
func (r *Redis) DSN(db int, prefix string) string {
	return fmt.Sprintf("redis://127.0.0.1:%d/%d?prefix=%s", r.Port, db, prefix)
}

// Start starts the server (again) and waits until it accepts connections.
func (r *Redis) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return errors.New("redis-server already running")
	}
	cmd := exec.Command(r.bin, "--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no",
		"--logfile", filepath.Join(r.dir, "redis.log"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	r.cmd = cmd
	if err := waitPort(r.Port, 10*time.Second); err != nil {
		return fmt.Errorf("%w; log: %s", err, tail(filepath.Join(r.dir, "redis.log")))
	}
	// A restarted server answers before it has loaded its append-only file
	// (LOADING errors); wait until it serves reads.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if reply, err := RedisCommand(fmt.Sprintf("127.0.0.1:%d", r.Port), "PING"); err == nil && reply == "PONG" {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("redis-server does not answer PING: %q %v", reply, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop shuts the server down the way an operator restarting it does
// (SIGTERM: it finishes the command at hand and flushes its files).
func (r *Redis) Stop() { r.signal(syscall.SIGTERM) }

// Kill ends the server with SIGKILL, as a crash or an OOM kill does.
func (r *Redis) Kill() { r.signal(syscall.SIGKILL) }

func (r *Redis) signal(sig syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(sig)
	_ = r.cmd.Wait()
	r.cmd = nil
}

// RedisCommand sends one command to a Redis server over RESP and returns a
// simple-string, integer or bulk reply as text. It is enough for PING,
// FLUSHDB and the like without a client library.
func RedisCommand(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write(b.Bytes()); err != nil {
		return "", err
	}
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return "", err
	}
	line := strings.TrimRight(string(buf[:n]), "\r\n")
	switch {
	case strings.HasPrefix(line, "+"), strings.HasPrefix(line, ":"):
		return line[1:], nil
	case strings.HasPrefix(line, "-"):
		return "", errors.New(line[1:])
	case strings.HasPrefix(line, "$"):
		_, body, _ := strings.Cut(line, "\r\n")
		return body, nil
	}
	return line, nil
}

// Postgres is a private PostgreSQL cluster in a temporary folder, with trust
// authentication for the user postgres.
type Postgres struct {
	Port int
	bin  string
	dir  string // data folder, also the socket folder
	t    testing.TB
	asPG bool // run the server binaries as the postgres user (we are root)
}

// StartPostgres creates (initdb) and starts a private PostgreSQL cluster for
// the test and stops it at the end of the test. It takes a few seconds.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Strings(bins)
	var bin string
	if len(bins) > 0 {
		bin = filepath.Dir(bins[len(bins)-1])
	} else if p, err := exec.LookPath("initdb"); err == nil {
		bin = filepath.Dir(p)
	} else {
		missing(t, "PostgreSQL server binaries (initdb, pg_ctl) are not in /usr/lib/postgresql/*/bin or on PATH")
	}
	p := &Postgres{Port: FreePort(t), bin: bin, t: t, asPG: os.Geteuid() == 0}
	// t.TempDir is under a folder only root may enter; the postgres user
	// needs its own.
	dir, err := os.MkdirTemp("", "orchestrix-pg-*")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() {
		_ = p.ctl("stop", "-w", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if p.asPG {
		if _, err := user.Lookup("postgres"); err != nil {
			missing(t, "running as root and there is no postgres user to run initdb as")
		}
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown %s: %v %s", dir, err, out)
		}
	}
	if out, err := p.run(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "postgres",
		"--auth=trust", "--no-sync", "-E", "UTF8"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	if err := p.Start(); err != nil {
		t.Fatalf("start private PostgreSQL: %v", err)
	}
	return p
}

// DSN returns an ent driver DSN for database db (postgres always exists).
func (p *Postgres) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.Port, db)
}

// run runs a server binary, as the postgres user when we are root.
func (p *Postgres) run(bin string, args ...string) ([]byte, error) {
	var cmd *exec.Cmd
	if p.asPG {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	cmd.Dir = p.dir
	return cmd.CombinedOutput()
}

func (p *Postgres) ctl(args ...string) error {
	out, err := p.run(filepath.Join(p.bin, "pg_ctl"), append([]string{"-D", filepath.Join(p.dir, "data")}, args...)...)
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Start starts the server and waits until it accepts connections. It polls
// the port itself, every 10ms, instead of pg_ctl's coarser wait, so that a
// restart is as short as the server allows.
func (p *Postgres) Start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", p.Port, p.dir)
	if err := p.ctl("start", "-W", "-l", filepath.Join(p.dir, "server.log"), "-o", opts); err != nil {
		return fmt.Errorf("%w\nlog: %s", err, tail(filepath.Join(p.dir, "server.log")))
	}
	// The port opens before the server accepts sessions ("the database
	// system is starting up"): poll pg_isready until it does.
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := exec.Command(filepath.Join(p.bin, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port)).Run()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL not ready after 60s: %v\nlog: %s", err, tail(filepath.Join(p.dir, "server.log")))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop shuts the server down the way an operator restarting it does: fast
// mode rolls back open transactions and closes every connection.
func (p *Postgres) Stop() error { return p.stop("fast") }

// Crash stops the server in immediate mode: every backend exits at once
// without a checkpoint, and the next start replays the write-ahead log, as
// after a power cut.
func (p *Postgres) Crash() error { return p.stop("immediate") }

// stop signals the postmaster and waits, polling every 10ms, until it has
// removed its pid file: then the port is free for the next start.
func (p *Postgres) stop(mode string) error {
	if err := p.ctl("stop", "-W", "-m", mode); err != nil {
		return err
	}
	pid := filepath.Join(p.dir, "data", "postmaster.pid")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(pid); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL did not stop within 60s; log: %s", tail(filepath.Join(p.dir, "server.log")))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tail returns the last lines of a log file, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}
