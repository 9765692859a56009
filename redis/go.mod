module github.com/orchestrix/persistence/redis

go 1.26
