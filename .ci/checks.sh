#!/usr/bin/env bash
# Repository checks for every module of go.work: gofmt, go vet, staticcheck,
# go mod tidy, builds and test builds with GOWORK=off, generated ent code in
# sync with the schema, and the GitHub workflow YAML. Tools are installed at
# pinned versions into .ci/bin (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."

STATICCHECK_VERSION=v0.8.2 # honnef.co/go/tools: the linter most Go teams run
ACTIONLINT_VERSION=v1.7.12 # github.com/rhysd/actionlint

bin="$PWD/.ci/bin"
mkdir -p "$bin"
[ -x "$bin/staticcheck" ] || GOBIN="$bin" GOWORK=off go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
[ -x "$bin/actionlint" ] || GOBIN="$bin" GOWORK=off go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"

modules=$(go list -m -f '{{.Dir}}' | sed "s|^$PWD/||")
fail=0
problem() { echo "FAIL: $*"; fail=1; }

unformatted=$(gofmt -l $modules)
[ -z "$unformatted" ] || problem "gofmt would change: $unformatted"

for m in $modules; do
	echo "--- $m"
	(cd "$m" && go vet ./...) || problem "$m: go vet"
	(cd "$m" && "$bin/staticcheck" ./...) || problem "$m: staticcheck"
	(cd "$m" && go mod tidy -diff >/dev/null) || problem "$m: go mod tidy would change go.mod/go.sum (run it in $m)"
	(cd "$m" && GOWORK=off go build ./... && GOWORK=off go test -count=1 -run '^$' ./... >/dev/null) ||
		problem "$m: does not build or test-build with GOWORK=off"
done

if [ -d ent/schema ]; then
	(cd ent && go generate ./...)
	git diff --quiet -- ent || problem "ent: go generate changed generated code; run it in ent/ and commit"
fi

"$bin/actionlint" .github/workflows/*.yml || problem "workflow YAML"

exit $fail
