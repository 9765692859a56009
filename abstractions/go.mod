module github.com/orchestrix/persistence/abstractions

go 1.26

require (
	github.com/google/uuid v1.6.0
	github.com/robfig/cron/v3 v3.0.1
)
