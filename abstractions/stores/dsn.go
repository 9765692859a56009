package stores

import (
	"net/url"
	"regexp"
	"strings"
)

var (
	passwordParam = regexp.MustCompile(`(?i)((?:password|pass|pwd)=)[^&\s]*`)
	// Passwords may hold spaces and tabs when not URL-escaped: only a line
	// break or the "@" ends them.
	userInfoPassword = regexp.MustCompile(`(://[^:/@\r\n]*:)[^@\r\n]*@`)
)

// RedactDSN returns dsn with any password replaced by "xxxxx", for error
// messages and output. Drivers and tools must never print a DSN without it.
// It also redacts DSNs that do not parse as URLs. The password= options go
// first: an "@" inside one must not pass for the end of a user info.
func RedactDSN(dsn string) string {
	dsn = redisUserInfo(passwordParam.ReplaceAllString(dsn, "${1}xxxxx"))
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			dsn = u.String()
		}
	}
	return userInfoPassword.ReplaceAllString(dsn, "${1}xxxxx@")
}

// redisUserInfo hides all of a Redis URL's user info, up to its last "@":
// there a lone token can be the password (redis+sentinel://password@host),
// which no other rule here would take for one.
func redisUserInfo(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok || !strings.HasPrefix(strings.ToLower(scheme), "redis") {
		return dsn
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		return scheme + "://xxxxx@" + rest[i+1:]
	}
	return dsn
}
