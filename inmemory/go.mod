module github.com/orchestrix/persistence/inmemory

go 1.26
