package ent

// The generated client lives in internal/entgen and is never edited by hand.
// Regenerate after changing ent/schema; CI checks that this leaves the tree
// unchanged (go generate ./... && git diff --exit-code ent/).
//go:generate go run ./internal/cmd/entgen
