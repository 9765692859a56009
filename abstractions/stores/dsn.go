package stores

import (
	"net/url"
	"regexp"
)

var (
	passwordParam = regexp.MustCompile(`(?i)((?:password|pass|pwd)=)[^&\s]*`)
	// Passwords may hold spaces and tabs when not URL-escaped: only a line
	// break or the "@" ends them.
	userInfoPassword = regexp.MustCompile(`(://[^:/@\r\n]*:)[^@\r\n]*@`)
)

// RedactDSN returns dsn with any password replaced by "xxxxx", for error
// messages and output. Drivers and tools must never print a DSN without it.
// It also redacts DSNs that do not parse as URLs.
func RedactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			dsn = u.String()
		}
	}
	dsn = userInfoPassword.ReplaceAllString(dsn, "${1}xxxxx@")
	return passwordParam.ReplaceAllString(dsn, "${1}xxxxx")
}
