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

fail=0
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	printf '=== %s %s (%s)\n' "$pkg" "$name" "$FUZZTIME"
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg"; then
		echo "FAIL: $name in $pkg (the failing input is under $pkg/testdata/fuzz/$name/)"
		fail=1
	fi
done
exit $fail
