package stores

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Cursor is a keyset position: the sort time and ID of the last row of a
// page. Job queries and dead letter lists page with it, so paging never skips
// or repeats a row while rows are added (J10, D1).
type Cursor struct {
	Time time.Time
	ID   string
}

// Encode returns the opaque string form of c.
func (c Cursor) Encode() string {
	raw := strconv.FormatInt(c.Time.UnixMicro(), 10) + "|" + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor parses a string made by Cursor.Encode.
func DecodeCursor(s string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, InvalidField("Cursor", "is not a cursor returned by this store")
	}
	micros, id, ok := strings.Cut(string(raw), "|")
	us, perr := strconv.ParseInt(micros, 10, 64)
	if !ok || perr != nil || id == "" {
		return Cursor{}, InvalidField("Cursor", "is not a cursor returned by this store")
	}
	return Cursor{Time: time.UnixMicro(us).UTC(), ID: id}, nil
}

func (c *checker) cursor(field, s string) {
	if s == "" {
		return
	}
	if _, err := DecodeCursor(s); err != nil {
		c.fail(field, "is not a cursor returned by this store")
	}
}

// opaqueCursor checks a driver-defined cursor only for size and text.
func (c *checker) opaqueCursor(field, s string) { c.text(field, s, 1024) }

func checkBatch(c *checker, field string, n int) {
	if n == 0 {
		c.fail(field, "must not be empty")
	} else if n > MaxBatch {
		c.fail(field, "has %d entries, the limit is %d", n, MaxBatch)
	}
}

func indexed(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }
