package redis

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// testCluster is a 3-primary Redis Cluster on loopback that the tests start
// once (redis-server --cluster-enabled yes, then redis-cli --cluster create)
// and TestMain stops.
var testCluster struct {
	once  sync.Once
	dsn   string
	err   error
	skip  string
	dir   string
	procs []*exec.Cmd
}

// clusterDSN returns the DSN of the test cluster, starting it on first use.
// Without redis-server it skips, unless CI=true. ORCHESTRIX_TEST_REDIS_CLUSTER
// (host:port,host:port,...) uses an existing cluster instead.
func clusterDSN(t testing.TB) string {
	t.Helper()
	if seeds := os.Getenv("ORCHESTRIX_TEST_REDIS_CLUSTER"); seeds != "" {
		return "redis+cluster://" + seeds
	}
	testCluster.once.Do(startCluster)
	if testCluster.skip != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(testCluster.skip)
		}
		t.Skip(testCluster.skip)
	}
	if testCluster.err != nil {
		t.Fatalf("start test cluster: %v", testCluster.err)
	}
	return testCluster.dsn
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startCluster() {
	server, err := exec.LookPath("redis-server")
	cli, err2 := exec.LookPath("redis-cli")
	if err != nil || err2 != nil {
		testCluster.skip = "redis-server and redis-cli are not installed: install them (apt-get install redis-server) to run the Redis Cluster tests"
		return
	}
	dir, err := os.MkdirTemp("", "orx-redis-cluster-")
	if err != nil {
		testCluster.err = err
		return
	}
	testCluster.dir = dir
	var addrs []string
	for i := 0; i < 3; i++ {
		port, err := freePort()
		if err != nil {
			testCluster.err = err
			return
		}
		nodeDir := filepath.Join(dir, fmt.Sprint(port))
		if err := os.Mkdir(nodeDir, 0o755); err != nil {
			testCluster.err = err
			return
		}
		cmd := exec.Command(server, "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(nodeDir, "nodes.conf"),
			"--dir", nodeDir, "--save", "", "--appendonly", "no", "--daemonize", "no",
			"--logfile", filepath.Join(nodeDir, "redis.log"))
		if err := cmd.Start(); err != nil {
			testCluster.err = err
			return
		}
		testCluster.procs = append(testCluster.procs, cmd)
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	for _, a := range addrs {
		if err := waitPing(a); err != nil {
			testCluster.err = err
			return
		}
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		testCluster.err = fmt.Errorf("redis-cli --cluster create: %v: %s", err, out)
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok := true
		for _, a := range addrs {
			c := goredis.NewClient(&goredis.Options{Addr: a})
			info, err := c.ClusterInfo(context.Background()).Result()
			c.Close()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				ok = false
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			testCluster.err = fmt.Errorf("cluster at %v not ok after 30s", addrs)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	testCluster.dsn = "redis+cluster://" + strings.Join(addrs, ",")
}

func waitPing(addr string) error {
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := c.Ping(context.Background()).Err()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server at %s does not answer: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopCluster kills the servers this process started and removes their
// directory.
func stopCluster() {
	for _, p := range testCluster.procs {
		_ = p.Process.Kill()
		_ = p.Wait()
	}
	if testCluster.dir != "" {
		_ = os.RemoveAll(testCluster.dir)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopCluster()
	os.Exit(code)
}
