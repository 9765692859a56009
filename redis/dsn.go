package redis

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
	goredis "github.com/redis/go-redis/v9"
)

// DSNForms lists the data source names the driver accepts.
const DSNForms = `redis://[user:password@]host[:port][/db][?options]     one server
rediss://...                                            the same over TLS
redis+cluster://[user:password@]host:port,host:port,...[/][?options]
rediss+cluster://...                                    Redis Cluster seeds (also redis://h1,h2?cluster=true)
redis+sentinel://[user:password@|password@]host:port,...[/mastername[/db]][?options]
                                                        Sentinel (master name also as ?master=)
options: prefix=NAME (default orchestrix) cluster=true master=NAME client_name=NAME
         pool_size=N max_retries=N (default 0) dial_timeout= read_timeout= write_timeout= (Go durations)
         sentinel_password=... (when the sentinels need their own password)`

// Mode is the deployment a DSN names.
type Mode string

// Modes.
const (
	ModeStandalone Mode = "standalone"
	ModeCluster    Mode = "cluster"
	ModeSentinel   Mode = "sentinel"
)

// Config is a parsed DSN.
type Config struct {
	Mode             Mode
	Addrs            []string // host:port; one for standalone
	Username         string
	Password         string
	SentinelPassword string
	MasterName       string
	DB               int
	TLS              bool
	Prefix           string
	ClientName       string
	PoolSize         int
	// MaxRetries is how often the client re-sends a command after a network
	// error. Default 0: a script that ran but whose reply was lost must not
	// run twice (AdjustLoad would count twice). -1 also means none.
	MaxRetries   int
	DialTimeout  time.Duration
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
}

// DefaultPrefix is the key prefix when a DSN names none.
const DefaultPrefix = "orchestrix"

// String returns the configuration without its passwords.
func (c Config) String() string {
	pw := ""
	if c.Password != "" {
		pw = " password=xxxxx"
	}
	return fmt.Sprintf("redis %s %s db=%d prefix=%s tls=%v%s", c.Mode, strings.Join(c.Addrs, ","), c.DB, c.Prefix, c.TLS, pw)
}

// redact hides any password= option and then everything between the
// scheme and the last "@" (user, password, or a lone sentinel password,
// whatever characters it holds), so no malformed DSN can leak a secret into
// an error. The options go first: an "@" inside sentinel_password would
// otherwise be taken for the end of the user info and leave the
// password's tail in view.
func redact(dsn string) string {
	dsn = queryPassword.ReplaceAllString(dsn, "${1}xxxxx")
	if scheme, rest, ok := strings.Cut(dsn, "://"); ok {
		if i := strings.LastIndex(rest, "@"); i >= 0 {
			dsn = scheme + "://xxxxx@" + rest[i+1:]
		}
	}
	return stores.RedactDSN(dsn)
}

// queryPassword matches a password option up to the next "&": in a URL DSN
// even an unescaped space belongs to the value.
var queryPassword = regexp.MustCompile(`(?i)(password=)[^&]*`)

func dsnError(dsn, format string, args ...any) error {
	return fmt.Errorf("orchestrix/redis: bad DSN %q: %s; %w\naccepted forms:\n%s",
		redact(dsn), redact(fmt.Sprintf(format, args...)), stores.ErrInvalidArgument, DSNForms)
}

// ParseDSN parses a DSN of one of the forms in DSNForms. Errors say what is
// wrong and list the accepted forms; they never contain a password.
func ParseDSN(dsn string) (Config, error) {
	cfg := Config{Prefix: DefaultPrefix, Mode: ModeStandalone}
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return cfg, dsnError(dsn, "missing scheme")
	}
	switch strings.ToLower(scheme) {
	case "redis":
	case "rediss":
		cfg.TLS = true
	case "redis+cluster":
		cfg.Mode = ModeCluster
	case "rediss+cluster":
		cfg.Mode, cfg.TLS = ModeCluster, true
	case "redis+sentinel":
		cfg.Mode = ModeSentinel
	case "rediss+sentinel":
		cfg.Mode, cfg.TLS = ModeSentinel, true
	default:
		return cfg, dsnError(dsn, "unknown scheme %q", scheme)
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	if strings.Contains(rawQuery, "@") {
		// Either a password holds an unescaped "?" or an option value an
		// unescaped "@"; guessing wrong would echo the password as an option
		// name or connect somewhere else, so neither is read.
		return cfg, dsnError(dsn, `"@" after "?": percent-encode "?" in a password as %%3F, or "@" in an option as %%40`)
	}
	// User info ends at the last "@" before the query, even when an
	// unescaped password holds "/": splitting off the path first would read
	// part of the password as a host and echo it in an error.
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		info := rest[:i]
		rest = rest[i+1:]
		user, pass, hasPass := strings.Cut(info, ":")
		var err1, err2 error
		if cfg.Username, err1 = url.PathUnescape(user); err1 == nil {
			cfg.Password, err2 = url.PathUnescape(pass)
		}
		if err1 != nil || err2 != nil {
			return cfg, dsnError(dsn, "user info is not URL-escaped correctly")
		}
		if !hasPass && cfg.Mode == ModeSentinel {
			// redis+sentinel://password@...: a lone token is the password.
			cfg.Username, cfg.Password = "", cfg.Username
		}
	}
	authority, path, _ := strings.Cut(rest, "/")
	if authority == "" {
		return cfg, dsnError(dsn, "missing host")
	}
	for _, h := range strings.Split(authority, ",") {
		addr, err := hostPort(h)
		if err != nil {
			return cfg, dsnError(dsn, "%v", err)
		}
		cfg.Addrs = append(cfg.Addrs, addr)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return cfg, dsnError(dsn, "query is not URL-encoded correctly")
	}
	for name, vals := range q {
		v := vals[len(vals)-1]
		var perr error
		switch name {
		case "prefix":
			if !validPrefix(v) {
				perr = errors.New("prefix must be 1 to 64 of A-Z a-z 0-9 . _ -")
			}
			cfg.Prefix = v
		case "cluster":
			var on bool
			if on, perr = strconv.ParseBool(v); on && perr == nil {
				if cfg.Mode == ModeSentinel {
					perr = errors.New("cluster=true does not combine with redis+sentinel")
				}
				cfg.Mode = ModeCluster
			}
		case "master":
			cfg.MasterName = v
		case "client_name":
			cfg.ClientName = v
		case "sentinel_password":
			cfg.SentinelPassword = v
		case "pool_size":
			cfg.PoolSize, perr = strconv.Atoi(v)
		case "max_retries":
			cfg.MaxRetries, perr = strconv.Atoi(v)
		case "dial_timeout":
			cfg.DialTimeout, perr = time.ParseDuration(v)
		case "read_timeout":
			cfg.ReadTimeout, perr = time.ParseDuration(v)
		case "write_timeout":
			cfg.WriteTimeout, perr = time.ParseDuration(v)
		default:
			return cfg, dsnError(dsn, "unknown option %q", name)
		}
		if perr != nil {
			if name == "sentinel_password" {
				return cfg, dsnError(dsn, "bad option %s", name)
			}
			return cfg, dsnError(dsn, "bad option %s=%q: %v", name, v, perr)
		}
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) == 1 && segs[0] == "" {
		segs = nil
	}
	switch cfg.Mode {
	case ModeStandalone:
		if len(cfg.Addrs) > 1 {
			return cfg, dsnError(dsn, "%d hosts: use redis+cluster:// (or ?cluster=true) or redis+sentinel://", len(cfg.Addrs))
		}
		if len(segs) > 1 {
			return cfg, dsnError(dsn, "path must be /db, got /%s", path)
		}
		if len(segs) == 1 {
			if cfg.DB, err = parseDB(segs[0]); err != nil {
				return cfg, dsnError(dsn, "%v", err)
			}
		}
	case ModeCluster:
		if len(segs) > 0 && !(len(segs) == 1 && segs[0] == "0") {
			return cfg, dsnError(dsn, "Redis Cluster has only database 0, got path /%s", path)
		}
	case ModeSentinel:
		if len(segs) > 2 {
			return cfg, dsnError(dsn, "path must be /mastername[/db], got /%s", path)
		}
		if len(segs) >= 1 {
			if cfg.MasterName != "" && cfg.MasterName != segs[0] {
				return cfg, dsnError(dsn, "master name given twice (path %q, ?master=%q)", segs[0], cfg.MasterName)
			}
			cfg.MasterName = segs[0]
		}
		if len(segs) == 2 {
			if cfg.DB, err = parseDB(segs[1]); err != nil {
				return cfg, dsnError(dsn, "%v", err)
			}
		}
		if cfg.MasterName == "" {
			return cfg, dsnError(dsn, "sentinel DSN needs a master name (/mastername or ?master=)")
		}
	}
	if cfg.Mode != ModeSentinel && cfg.MasterName != "" {
		return cfg, dsnError(dsn, "?master= needs redis+sentinel://")
	}
	return cfg, nil
}

func parseDB(s string) (int, error) {
	db, err := strconv.Atoi(s)
	if err != nil || db < 0 {
		return 0, fmt.Errorf("database must be a number >= 0, got %q", s)
	}
	return db, nil
}

// hostPort checks host[:port] and adds the default port 6379.
// validHost accepts an IP address (IPv6 with an optional %zone) or a DNS
// name; anything else is more likely a mistyped option or password than a
// host, and go-redis would only fail later with a vaguer error.
func validHost(host string) bool {
	if ip, _, _ := strings.Cut(host, "%"); net.ParseIP(ip) != nil {
		return true
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func hostPort(h string) (string, error) {
	if h == "" {
		return "", errors.New("empty host in host list")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		// No port (or a bare IPv6 address in brackets).
		host, port = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), "6379"
		if strings.ContainsAny(host, "[]/ ") {
			return "", fmt.Errorf("bad host %q", h)
		}
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", fmt.Errorf("bad port %q in host %q", port, h)
	}
	if host == "" {
		return "", fmt.Errorf("empty host name in %q", h)
	}
	if !validHost(host) {
		return "", fmt.Errorf("bad host %q: want a DNS name (letters, digits, '.', '-', '_') or an IP address", h)
	}
	return net.JoinHostPort(host, port), nil
}

// universal returns go-redis options for the configuration.
func (c Config) universal() *goredis.UniversalOptions {
	o := &goredis.UniversalOptions{
		Addrs: c.Addrs, Username: c.Username, Password: c.Password, DB: c.DB,
		MasterName: c.MasterName, SentinelPassword: c.SentinelPassword, ClientName: c.ClientName,
		PoolSize: c.PoolSize, DialTimeout: c.DialTimeout, ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout,
		IsClusterMode: c.Mode == ModeCluster, ContextTimeoutEnabled: true,
	}
	// A command whose connection broke may have run: re-sending a script
	// could apply it twice (AdjustLoad counting twice, Enqueue reporting its
	// own job as a duplicate). So by default nothing is re-sent, which on
	// Cluster also means a MOVED reply (resharding) fails that one call
	// while the client refreshes its slot map.
	o.MaxRetries, o.MaxRedirects = c.MaxRetries, c.MaxRetries
	if c.MaxRetries <= 0 {
		o.MaxRetries, o.MaxRedirects = -1, -1 // go-redis: 0 means its default (3), -1 none
	}
	if c.TLS {
		host, _, _ := net.SplitHostPort(c.Addrs[0])
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if c.Mode != ModeCluster {
			o.TLSConfig.ServerName = host
		}
	}
	return o
}
