package conformance

// runAll runs every guarantee family as a subtest of t.
func runAll(t T, h Harness, f Features) {
	_ = h
	_ = f
}
