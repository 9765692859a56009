package redis

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/orchestrix/persistence/abstractions/stores"
)

// FuzzKeyNames (E3): a prefix is accepted only when no brace, colon, glob
// character or space can reach a key name; the keys of an accepted prefix
// are distinct, each carries exactly one hash tag that names the prefix, and
// two different prefixes share no key and no hash tag.
func FuzzKeyNames(f *testing.F) {
	for _, p := range [][2]string{{"orchestrix", "app"}, {"a", "a.b"}, {"a", "a:w"}, {"{a}", "a"}, {"a}", "{a"},
		{"a*", "a"}, {"a b", "ab"}, {"", "x"}, {strings.Repeat("p", 64), strings.Repeat("p", 65)}, {"ü", "u"}, {"a\x00", "a"}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, p1, p2 string) {
		for _, p := range []string{p1, p2} {
			if !validPrefix(p) {
				continue
			}
			if strings.ContainsAny(p, "{}:*?[]\\ \x00") || len(p) > 64 || !utf8.ValidString(p) {
				t.Fatalf("validPrefix accepted %q", p)
			}
			seen := map[string]bool{}
			for _, k := range newKeys(p).all() {
				if seen[k] {
					t.Fatalf("prefix %q: key %q twice", p, k)
				}
				seen[k] = true
				if strings.Count(k, "{") != 1 || strings.Count(k, "}") != 1 || !strings.HasPrefix(k, "{"+p) {
					t.Fatalf("prefix %q: key %q does not carry exactly one hash tag naming the prefix", p, k)
				}
			}
		}
		if p1 == p2 || !validPrefix(p1) || !validPrefix(p2) {
			return
		}
		tags := map[string]string{}
		for _, p := range []string{p1, p2} {
			for _, k := range newKeys(p).all() {
				tag := k[:strings.IndexByte(k, '}')+1]
				if owner, ok := tags[tag]; ok && owner != p {
					t.Fatalf("prefixes %q and %q share the hash tag %s", owner, p, tag)
				}
				tags[tag] = p
				if owner, ok := tags["key:"+k]; ok && owner != p {
					t.Fatalf("prefixes %q and %q share the key %s", owner, p, k)
				}
				tags["key:"+k] = p
			}
		}
	})
}

// validName is what the portable layer lets through for ids, queues and
// names: 1..MaxNameLen bytes of UTF-8 without NUL.
func validName(s string) bool {
	return s != "" && len(s) <= stores.MaxNameLen && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// FuzzMemberEncoding (E3): caller text inside sorted-set members is length
// prefixed, so two different names never encode alike, one name's encoding
// is never a prefix of another's (a ZRANGEBYLEX range over one name's
// members never reaches another's), and no member byte is the range end
// 0xff. Times and priorities round-trip and keep their order as bytes.
func FuzzMemberEncoding(f *testing.F) {
	f.Add("a", "ab", int64(0), int64(1), 0, 1)
	f.Add("12", "1", int64(1_700_000_000_000_000), int64(253402300799999999), -1, 1<<31)
	f.Add("003abc", "abc", int64(1), int64(2), -9223372036854775808, 9223372036854775807)
	f.Add(strings.Repeat("é", 127), strings.Repeat("n", 255), int64(5), int64(5), 7, 7)
	f.Fuzz(func(t *testing.T, a, b string, ta, tb int64, pa, pb int) {
		if validName(a) && validName(b) {
			ea, eb := lp(a), lp(b)
			if a != b && (strings.HasPrefix(ea, eb) || strings.HasPrefix(eb, ea)) {
				t.Fatalf("lp(%q)=%q and lp(%q)=%q: one is a prefix of the other", a, ea, b, eb)
			}
			if strings.IndexByte(ea, 0xff) >= 0 {
				t.Fatalf("lp(%q) holds the range end byte 0xff", a)
			}
			// Two names then a time: the member splits back into its parts.
			m := ea + eb + tT(time.UnixMicro(1))
			n, rest := splitLP(t, m)
			n2, rest := splitLP(t, rest)
			if n != a || n2 != b || rest != tT(time.UnixMicro(1)) {
				t.Fatalf("member %q splits into %q, %q, %q", m, n, n2, rest)
			}
		}
		// Times within the supported range (1970 .. year 10000).
		const maxMicro = 253402300799999999
		ua, ub := abs(ta)%maxMicro+1, abs(tb)%maxMicro+1
		xa, xb := time.UnixMicro(ua).UTC(), time.UnixMicro(ub).UTC()
		for _, x := range []time.Time{xa, xb} {
			got, err := parseT(tT(x))
			if err != nil || !got.Equal(x) || len(tT(x)) != 19 {
				t.Fatalf("time %s encodes as %q and decodes to %s, %v", x, tT(x), got, err)
			}
		}
		if (ua < ub) != (tT(xa) < tT(xb)) {
			t.Fatalf("time order lost: %d→%q, %d→%q", ua, tT(xa), ub, tT(xb))
		}
		for _, p := range []int{pa, pb} {
			got, err := parsePrio(prio(p))
			if err != nil || got != p {
				t.Fatalf("priority %d encodes as %q and decodes to %d, %v", p, prio(p), got, err)
			}
		}
		if (pa > pb) != (prio(pa) < prio(pb)) {
			t.Fatalf("priority order lost: %d→%q, %d→%q (higher must sort first)", pa, prio(pa), pb, prio(pb))
		}
	})
}

func abs(n int64) int64 {
	if n < 0 {
		if n == -n {
			return 0
		}
		return -n
	}
	return n
}

// splitLP takes one length-prefixed name off the front of a member.
func splitLP(t *testing.T, m string) (string, string) {
	t.Helper()
	if len(m) < 3 {
		t.Fatalf("member %q too short for a length prefix", m)
	}
	n := 0
	for _, c := range m[:3] {
		if c < '0' || c > '9' {
			t.Fatalf("member %q: length prefix is not three digits", m)
		}
		n = n*10 + int(c-'0')
	}
	if len(m) < 3+n {
		t.Fatalf("member %q: length %d past the end", m, n)
	}
	return m[3 : 3+n], m[3+n:]
}
