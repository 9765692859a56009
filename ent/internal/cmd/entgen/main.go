// Command entgen generates the ent client of the relational store from
// ent/schema into ent/internal/entgen. It runs from `go generate` in the ent
// module and needs no database, so its output depends only on the schema.
package main

import (
	"log"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	err := entc.Generate("./schema", &gen.Config{
		Target:  "./internal/entgen",
		Package: "github.com/orchestrix/persistence/ent/internal/entgen",
		Features: []gen.Feature{
			gen.FeatureExecQuery,
			gen.FeatureVersionedMigration,
		},
	})
	if err != nil {
		log.Fatalf("entgen: %v", err)
	}
}
