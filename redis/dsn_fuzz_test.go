package redis

import (
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var quoteEscape = regexp.MustCompile(`\\(x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|[abfnrtv\\"])`)

// ownText is dsn.go's source: its labels, defaults and messages. A secret
// found in it ("word" in "password=xxxxx", "6379", "port") may have come
// from our own text, so the oracle cannot tell a leak from it.
var ownText = func() string {
	b, err := os.ReadFile("dsn.go")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// leaksSecret reports whether text shows secret (raw or URL-unescaped)
// although the DSN holds it only once, as the password.
func leaksSecret(text, dsn, secret string) bool {
	if len(secret) < 4 || strings.Index(dsn, secret) != strings.LastIndex(dsn, secret) || strings.Contains(ownText, secret) {
		return false
	}
	forms := []string{secret}
	if u, err := url.PathUnescape(secret); err == nil && len(u) >= 4 && u != secret && !strings.Contains(strings.Replace(dsn, secret, "", 1), u) && !strings.Contains(ownText, u) {
		forms = append(forms, u)
	}
	// The list of accepted forms is fixed text, and %q escapes such as \x00
	// are the quoting's characters, not the DSN's.
	text, _, _ = strings.Cut(text, "\naccepted forms:")
	text = quoteEscape.ReplaceAllString(text, "\uFFFD")
	for _, f := range forms {
		if strings.Contains(text, f) {
			return true
		}
	}
	return false
}

// FuzzParseDSN (§2): any DSN parses or is rejected without a panic, the
// same way twice, and neither the error nor Config.String shows the
// password.
func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{"redis://localhost", "redis://cache:6380/3?prefix=app", "rediss://u:p%40ss@h:1/0",
		"redis+cluster://a:1,b:2,c:3", "redis://h1,h2?cluster=true", "redis+sentinel://pw@s1:26379,s2/mymaster/2",
		"redis+sentinel://s1/?master=m&sentinel_password=sp", "redis://[::1]:6379", "redis://[::1]", "redis://h:0",
		"redis://h:65536", "redis://h/-1", "redis://h?prefix={x}", "redis://h?prefix=a:b", "redis://h?bogus=1",
		"redis://h?dial_timeout=xx", "redis://0?:0000@0", "redis://h?pool_size=-5", "redis://:@h", "redis://@", "redis://", "http://h", ""} {
		f.Add(s, "", "")
	}
	// Passwords with characters that end the user info, the authority or
	// the query when not escaped.
	for _, pw := range []string{"se/cret1", "se?cret1", "se#cret1", "p@ssword", "pa,ss,wd", "pass%zzword", "pa ss wd"} {
		f.Add("redis://", "user:"+pw+"@", "host:6379/0")
		f.Add("redis+sentinel://", pw+"@", "s1:26379/m")
		f.Add("redis://", "user:"+pw+"@", "host:6379/0?sentinel_password="+pw)
		f.Add("redis+sentinel://", pw+"@", "s1:99999/m") // a bad port: the error quotes the DSN
	}
	f.Add("redis+sentinel://", "word@", "0/0") // "word" is in our own "password=xxxxx"
	f.Fuzz(func(t *testing.T, head, info, tail string) {
		dsn := head + info + tail
		cfg, err := ParseDSN(dsn)
		cfg2, err2 := ParseDSN(dsn)
		if (err == nil) != (err2 == nil) || (err == nil && !reflect.DeepEqual(cfg, cfg2)) {
			t.Fatalf("ParseDSN(%q) is not deterministic", dsn)
		}
		// The password as the fuzz input placed it: after "user:" in the
		// user info, or the whole user info of a sentinel DSN.
		var secrets []string
		if userinfo, ok := strings.CutSuffix(info, "@"); ok && strings.HasSuffix(head, "://") && !strings.Contains(userinfo, "@") {
			if _, pw, ok := strings.Cut(userinfo, ":"); ok {
				secrets = append(secrets, pw)
			} else if strings.Contains(strings.ToLower(head), "+sentinel://") {
				secrets = append(secrets, userinfo) // a lone token is the password only in a sentinel DSN
			}
		}
		// A sentinel_password option of the query (which starts at the
		// DSN's first "?").
		if _, query, ok := strings.Cut(dsn, "?"); ok {
			for _, opt := range strings.Split(query, "&") {
				if sp, ok := strings.CutPrefix(opt, "sentinel_password="); ok {
					secrets = append(secrets, sp)
				}
			}
		}
		for _, s := range secrets {
			if err != nil && leaksSecret(err.Error(), dsn, s) {
				t.Fatalf("ParseDSN(%q) error shows the password %q: %v", dsn, s, err)
			}
			if err == nil && leaksSecret(cfg.String(), dsn, s) {
				t.Fatalf("Config.String() of %q shows the password %q: %s", dsn, s, cfg)
			}
		}
		if err != nil {
			return
		}
		if !validPrefix(cfg.Prefix) {
			t.Fatalf("ParseDSN(%q) accepted prefix %q", dsn, cfg.Prefix)
		}
		if len(cfg.Addrs) == 0 || (cfg.Mode == ModeStandalone && len(cfg.Addrs) != 1) {
			t.Fatalf("ParseDSN(%q): %s with addresses %q", dsn, cfg.Mode, cfg.Addrs)
		}
		if cfg.DB < 0 || (cfg.Mode == ModeCluster && cfg.DB != 0) {
			t.Fatalf("ParseDSN(%q): database %d in %s mode", dsn, cfg.DB, cfg.Mode)
		}
		if cfg.Mode == ModeSentinel && cfg.MasterName == "" {
			t.Fatalf("ParseDSN(%q): sentinel without a master name", dsn)
		}
	})
}
