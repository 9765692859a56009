package redis

import (
	"embed"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

//go:embed scripts/*.lua
var scriptFS embed.FS

// loadScript returns the script scripts/name.lua with lib.lua prepended. Run
// sends EVALSHA and falls back to EVAL on NOSCRIPT (a restarted or failed
// over server, a new cluster node), so no load step is needed.
func loadScript(name string) *goredis.Script {
	body, err := scriptFS.ReadFile("scripts/" + name + ".lua")
	if err != nil {
		panic(err)
	}
	return loadScriptBody(string(body))
}

// loadScriptBody returns body with lib.lua prepended.
func loadScriptBody(body string) *goredis.Script {
	lib, err := scriptFS.ReadFile("scripts/lib.lua")
	if err != nil {
		panic(err)
	}
	return goredis.NewScript(strings.TrimSpace(string(lib)) + "\n" + body)
}

// loadRecordScript returns scripts/name.lua after lib.lua and
// records_lib.lua, the helpers of the history and log scripts.
func loadRecordScript(name string) *goredis.Script {
	lib, err := scriptFS.ReadFile("scripts/records_lib.lua")
	if err != nil {
		panic(err)
	}
	body, err := scriptFS.ReadFile("scripts/" + name + ".lua")
	if err != nil {
		panic(err)
	}
	return loadScriptBody(string(lib) + "\n" + string(body))
}

// loadBareScript returns the script scripts/name.lua alone, without
// lib.lua and without its comment lines: the scripts of a plain enqueue's
// transaction, which are sent with EVAL, whole, every time (see
// enqueue_check.lua), so they are kept small.
func loadBareScript(name string) *goredis.Script {
	body, err := scriptFS.ReadFile("scripts/" + name + ".lua")
	if err != nil {
		panic(err)
	}
	var code []string
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "--") && line != "" {
			code = append(code, line)
		}
	}
	return goredis.NewScript(strings.Join(code, "\n"))
}

// The scripts, one per file; each file's header lists its KEYS and ARGV.
var (
	scriptEnqueueCheck      = loadBareScript("enqueue_check")
	scriptHoldRelease       = loadBareScript("hold_release")
	scriptHistoryCheck      = loadBareScript("history_check")
	scriptHistoryHold       = loadBareScript("history_hold")
	scriptEnqueue           = loadScript("enqueue")
	scriptDispatch          = loadScript("dispatch")
	scriptPending           = loadScript("pending")
	scriptQueryRound        = loadScript("query_round")
	scriptRangeGet          = loadScript("range_get")
	scriptMarkRunning       = loadScript("mark_running")
	scriptMarkRunningMany   = loadScript("mark_running_many")
	scriptFinish            = loadScript("finish")
	scriptRetry             = loadScript("retry")
	scriptCancel            = loadScript("cancel")
	scriptDeadLetter        = loadScript("dead_letter")
	scriptClaim             = loadScript("claim")
	scriptRelease           = loadScript("release")
	scriptMarkCleaned       = loadScript("mark_cleaned")
	scriptPurgeJobs         = loadScript("purge_jobs")
	scriptPurgeOrphans      = loadRecordScript("purge_orphans")
	scriptHistoryAppendMany = loadRecordScript("history_append_many")
	scriptHistoryPurge      = loadRecordScript("history_purge")
	scriptLogAppend         = loadRecordScript("log_append")
	scriptCompleteRecorded  = loadRecordScript("complete_recorded")
	scriptLogPurge          = loadRecordScript("log_purge")
	scriptDLAdd             = loadScript("dl_add")
	scriptDLRemove          = loadScript("dl_remove")
	scriptDLRequeue         = loadScript("dl_requeue")
	scriptScheduleRegister  = loadScript("schedule_register")
	scriptScheduleUpdate    = loadScript("schedule_update")
	scriptScheduleFire      = loadScript("schedule_fire")
	scriptScheduleList      = loadScript("schedule_list")
	scriptMemberHeartbeat   = loadScript("member_heartbeat")
	scriptMemberUpdate      = loadScript("member_update")
	scriptMemberScan        = loadScript("member_scan")
	scriptLease             = loadScript("lease")
)
