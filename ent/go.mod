module github.com/orchestrix/persistence/ent

go 1.26
