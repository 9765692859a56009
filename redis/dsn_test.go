package redis

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

func TestParseDSN(t *testing.T) {
	cases := []struct {
		dsn  string
		want Config
	}{
		{"redis://localhost", Config{Mode: ModeStandalone, Addrs: []string{"localhost:6379"}, Prefix: "orchestrix"}},
		{"redis://cache:6380/3?prefix=app", Config{Mode: ModeStandalone, Addrs: []string{"cache:6380"}, DB: 3, Prefix: "app"}},
		{"redis://u:p%40ss@cache:6379/0", Config{Mode: ModeStandalone, Addrs: []string{"cache:6379"}, Username: "u", Password: "p@ss", Prefix: "orchestrix"}},
		{"redis://:secret@cache", Config{Mode: ModeStandalone, Addrs: []string{"cache:6379"}, Password: "secret", Prefix: "orchestrix"}},
		{"rediss://cache:6380", Config{Mode: ModeStandalone, Addrs: []string{"cache:6380"}, TLS: true, Prefix: "orchestrix"}},
		{"redis://[::1]:7000/1", Config{Mode: ModeStandalone, Addrs: []string{"[::1]:7000"}, DB: 1, Prefix: "orchestrix"}},
		{"redis+cluster://h1:7000,h2:7001,h3/?prefix=x", Config{Mode: ModeCluster, Addrs: []string{"h1:7000", "h2:7001", "h3:6379"}, Prefix: "x"}},
		{"rediss+cluster://h1:7000", Config{Mode: ModeCluster, Addrs: []string{"h1:7000"}, TLS: true, Prefix: "orchestrix"}},
		{"redis://h1:7000,h2:7001?cluster=true", Config{Mode: ModeCluster, Addrs: []string{"h1:7000", "h2:7001"}, Prefix: "orchestrix"}},
		{"redis+sentinel://pw@s1:26379,s2:26379/mymaster/2", Config{Mode: ModeSentinel, Addrs: []string{"s1:26379", "s2:26379"}, Password: "pw", MasterName: "mymaster", DB: 2, Prefix: "orchestrix"}},
		{"redis+sentinel://u:pw@s1?master=m&sentinel_password=sp", Config{Mode: ModeSentinel, Addrs: []string{"s1:6379"}, Username: "u", Password: "pw", SentinelPassword: "sp", MasterName: "m", Prefix: "orchestrix"}},
		{"redis://h?pool_size=20&max_retries=2&dial_timeout=2s&read_timeout=1s&write_timeout=1s&client_name=orx",
			Config{Mode: ModeStandalone, Addrs: []string{"h:6379"}, Prefix: "orchestrix", PoolSize: 20, MaxRetries: 2,
				DialTimeout: 2 * time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second, ClientName: "orx"}},
	}
	for _, c := range cases {
		got, err := ParseDSN(c.dsn)
		if err != nil {
			t.Errorf("ParseDSN(%q): %v", c.dsn, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseDSN(%q)\n got %+v\nwant %+v", c.dsn, got, c.want)
		}
	}
}

func TestParseDSNErrors(t *testing.T) {
	cases := []struct{ dsn, says string }{
		{"", "missing scheme"},
		{"localhost:6379", "missing scheme"},
		{"http://h", `unknown scheme "http"`},
		{"redis://", "missing host"},
		{"redis://:topsecret@", "missing host"},
		{"redis://h:99999", "bad port"},
		{"redis://h:abc", "bad port"},
		{"redis://h/x", "database must be a number"},
		{"redis://h/1/2", "path must be /db"},
		{"redis://h1,h2", "use redis+cluster://"},
		{"redis://h?prefix=a{b}", "prefix must be"},
		{"redis://h?prefix=a:b", "prefix must be"},
		{"redis://h?prefix=", "prefix must be"},
		{"redis://h?frobnicate=1", `unknown option "frobnicate"`},
		{"redis://h?pool_size=many", "bad option pool_size"},
		{"redis://h?dial_timeout=5", "bad option dial_timeout"},
		{"redis+cluster://h1,h2/3", "only database 0"},
		{"redis+sentinel://s1,s2", "needs a master name"},
		{"redis+sentinel://s1/m/1/2", "path must be /mastername"},
		{"redis+sentinel://s1/m?cluster=true", "does not combine"},
		{"redis://h?master=m", "needs redis+sentinel"},
		{"redis://u:p%zz@h", "not URL-escaped"},
		{"redis+sentinel://hunter2@s1?sentinel_password=%zz", "not URL-encoded"},
		{"redis://h?client_name=a@b", `"@" after "?"`},
		{"redis://h=1", "bad host"},
		{"redis+cluster://a:1,b!:2", "bad host"},
	}
	for _, c := range cases {
		_, err := ParseDSN(c.dsn)
		if err == nil {
			t.Errorf("ParseDSN(%q) = nil error, want one saying %q", c.dsn, c.says)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.says) {
			t.Errorf("ParseDSN(%q) = %q, want it to say %q", c.dsn, msg, c.says)
		}
		if !errors.Is(err, stores.ErrInvalidArgument) {
			t.Errorf("ParseDSN(%q): error is not ErrInvalidArgument", c.dsn)
		}
		if !strings.Contains(msg, "redis+sentinel://") || !strings.Contains(msg, "rediss://") {
			t.Errorf("ParseDSN(%q): error does not list the accepted forms: %q", c.dsn, msg)
		}
	}
}

// TestParseDSNNeverEchoesPassword: every password form stays out of errors.
func TestParseDSNNeverEchoesPassword(t *testing.T) {
	for _, dsn := range []string{
		"redis://user:hunter2@h:99999",
		"redis://:hunter2@h/x",
		"rediss://user:hunter2@h1,h2",
		"redis+sentinel://hunter2@s1",
		"redis+sentinel://u:hunter2@s1/m?bogus=1",
		"redis://h?sentinel_password=hunter2&bogus=1",
		"redis://h?sentinel_password=hunter2&pool_size=x",
		"redis+cluster://u:hunter2@h1,h2/5",
		"redis://u?:hunter2@h", // an unescaped "?" in the user info (found by FuzzParseDSN)
		"redis://u:hun?ter2@h",
		"redis://:x@hsentinel_password=hunter2",         // a forgotten "?" (found by FuzzParseDSN)
		"redis://h?sentinel_password=x@hunter2&bogus=1", // an "@" in the option (found by FuzzParseDSN)
	} {
		_, err := ParseDSN(dsn)
		if err == nil {
			t.Errorf("ParseDSN(%q) accepted", dsn)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseDSN(%q) echoes the password: %q", dsn, err)
		}
	}
	cfg, err := ParseDSN("redis://u:hunter2@h")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cfg.String(), "hunter2") {
		t.Errorf("Config.String echoes the password: %q", cfg.String())
	}
}

func TestOpenThroughRegistry(t *testing.T) {
	requireServer(t, testAddr())
	s, err := stores.Open(DriverName, standaloneDSN()+"?prefix="+randomPrefix())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := stores.Open(DriverName, "redis://:hunter2@127.0.0.1:1/0?dial_timeout=200ms"); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("unreachable server: %v", err)
	}
}
