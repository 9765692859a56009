#!/usr/bin/env bash
# Short fuzz run for CI: every fuzz target of the workspace for FUZZTIME
# each (default 10s), one after the other (fuzzing uses every core). A
# failing input is written to the package's testdata/fuzz/<FuzzName>/ and
# fails the run; commit it with the fix so it stays a regression test.
#
# Longer locally: FUZZTIME=5m .ci/fuzz.sh, or one target:
#   go test -run '^$' -fuzz '^FuzzCron$' -fuzztime 10m ./abstractions/schedule
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}

targets=(
	"./abstractions/schedule FuzzCron"
	"./abstractions/schedule FuzzPlanFiring"
	"./abstractions/stores FuzzJSONFields"
	"./abstractions/stores FuzzSpecOf"
	"./abstractions/stores FuzzRedactDSN"
	"./ent FuzzParseDSN"
	"./redis FuzzParseDSN"
	"./redis FuzzKeyNames"
	"./redis FuzzMemberEncoding"
	"./tools/internal/faults FuzzJSONRoundTrip"
)

# Go 1.26's fuzz coordinator can report "context deadline exceeded" as a
# failure when -fuzztime ends while a worker is mid-call, with no failing
# input (golang/go#75804, fixed in Go 1.27). Such a run, and only such a
# run (that message, no other failure, no new input in the corpus), counts
# as a flake; anything else fails.
fail=0
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	printf '=== %s %s (%s)\n' "$pkg" "$name" "$FUZZTIME"
	corpus="$pkg/testdata/fuzz/$name"
	before=$(ls "$corpus" 2>/dev/null | sort)
	log=$(mktemp)
	if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1 | tee "$log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
		rm -f "$log"
		continue
	fi
	after=$(ls "$corpus" 2>/dev/null | sort)
	if [ "$before" = "$after" ] && grep -q '^    context deadline exceeded$' "$log" &&
		! grep -v '^    context deadline exceeded$' "$log" | grep -q '^    \|panic:\|--- FAIL: .*/'; then
		echo "FLAKE: $name in $pkg: context deadline exceeded at the fuzztime deadline, no failing input (golang/go#75804)"
	else
		echo "FAIL: $name in $pkg (the failing input is under $corpus/)"
		fail=1
	fi
	rm -f "$log"
done
exit $fail
