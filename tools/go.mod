module github.com/orchestrix/persistence/tools

go 1.26
