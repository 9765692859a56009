package conformance

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // S5 needs America/New_York on machines without a zoneinfo database

	"github.com/orchestrix/persistence/abstractions/stores"
)

// scheduleKind is what the schedule tests need to know about cron or
// interval schedules, so one generic test body covers both (S1–S5).
type scheduleKind[S stores.Schedule] struct {
	typ   stores.ScheduleType
	store func(*stores.Store) stores.ScheduleStore[S]
	// make returns a valid enabled schedule ticking every five minutes on
	// the five-minute marks, with NextRun tick0.
	make func(name string) S
	// respec changes the spec to one with other ticks.
	respec func(S)
	clone  func(S) S
	// invalid lists specs Register must reject (S4) and the field named.
	invalid []invalidSpec[S]
	// misfire checks NewFiring under each policy (S5).
	misfire func(t T, st *stores.Store, k scheduleKind[S])
}

// invalidSpec is a spec S4 rejects.
type invalidSpec[S stores.Schedule] struct {
	what  string
	field string
	set   func(S)
}

// tick0 is a five-minute mark after base; tickN(n) the n-th one after it.
var tick0 = time.Date(2030, 1, 2, 3, 5, 0, 0, time.UTC)

func tickN(n int) time.Time { return tick0.Add(time.Duration(n) * 5 * time.Minute) }

func scheduleFields(name string) stores.ScheduleFields {
	return stores.ScheduleFields{
		Name:      name,
		JobType:   "job-of-" + name,
		Queue:     "scheduled",
		Args:      json.RawMessage(`{"report": "daily",  "n":[1, 2]}`),
		NextRun:   tick0,
		Enabled:   true,
		CreatedAt: base,
		Misfire:   stores.MisfireFireOnce,
	}
}

func cronKind() scheduleKind[*stores.CronSchedule] {
	return scheduleKind[*stores.CronSchedule]{
		typ:   stores.ScheduleTypeCron,
		store: func(st *stores.Store) stores.ScheduleStore[*stores.CronSchedule] { return st.Cron() },
		make: func(name string) *stores.CronSchedule {
			return &stores.CronSchedule{ScheduleFields: scheduleFields(name), Expression: "*/5 * * * *", TimeZone: "UTC"}
		},
		respec: func(s *stores.CronSchedule) { s.Expression = "0 * * * *" },
		clone:  func(s *stores.CronSchedule) *stores.CronSchedule { return s.Clone() },
		invalid: []invalidSpec[*stores.CronSchedule]{
			{"minute 61", "Expression", func(s *stores.CronSchedule) { s.Expression = "61 * * * *" }},
			{"not a cron expression", "Expression", func(s *stores.CronSchedule) { s.Expression = "every day at noon" }},
			{"@every", "Expression", func(s *stores.CronSchedule) { s.Expression = "@every 5m" }},
			{"empty expression", "Expression", func(s *stores.CronSchedule) { s.Expression = "" }},
			{"unknown time zone", "TimeZone", func(s *stores.CronSchedule) { s.TimeZone = "Mars/Olympus_Mons" }},
		},
		misfire: cronMisfire,
	}
}

func intervalKind() scheduleKind[*stores.IntervalSchedule] {
	return scheduleKind[*stores.IntervalSchedule]{
		typ:   stores.ScheduleTypeInterval,
		store: func(st *stores.Store) stores.ScheduleStore[*stores.IntervalSchedule] { return st.Intervals() },
		make: func(name string) *stores.IntervalSchedule {
			return &stores.IntervalSchedule{ScheduleFields: scheduleFields(name), Interval: 5 * time.Minute}
		},
		respec: func(s *stores.IntervalSchedule) { s.Interval = 7 * time.Minute },
		clone:  func(s *stores.IntervalSchedule) *stores.IntervalSchedule { return s.Clone() },
		invalid: []invalidSpec[*stores.IntervalSchedule]{
			{"zero interval", "Interval", func(s *stores.IntervalSchedule) { s.Interval = 0 }},
			{"negative interval", "Interval", func(s *stores.IntervalSchedule) { s.Interval = -5 * time.Second }},
			{"sub-millisecond interval", "Interval", func(s *stores.IntervalSchedule) { s.Interval = 500 * time.Microsecond }},
		},
		misfire: intervalMisfire,
	}
}

// scheduleTests covers S1–S5 for one kind of schedule.
func scheduleTests[S stores.Schedule](k scheduleKind[S]) []testCase {
	c := func(name string, f func(T, *stores.Store, scheduleKind[S])) testCase {
		return testCase{name, func(t T, st *stores.Store) { f(t, st, k) }}
	}
	return []testCase{
		c("S1_RegisterAndGet", testRegisterAndGet[S]),
		c("S1_RegisterAgainUpdatesByName", testRegisterUpdates[S]),
		c("S1_ListPagesByName", testListSchedules[S]),
		c("S1_EnableDisableRemove", testEnableRemove[S]),
		c("S2_DueEnabledOldestFirst", testDueSchedules[S]),
		c("S3_AdvanceIsCompareAndSet", testAdvance[S]),
		c("S3_FireEnqueuesAndAdvances", testFire[S]),
		c("S3_FireWithUnenqueueableJobChangesNothing", testFireAtomic[S]),
		c("S3_ConcurrentFireOneWinner", testConcurrentFire[S]),
		c("S3_ConcurrentAdvanceOneWinner", testConcurrentAdvance[S]),
		c("S4_InvalidSpecRejected", testInvalidSpec[S]),
		c("S5_NewFiringMisfirePolicies", func(t T, st *stores.Store, k scheduleKind[S]) { k.misfire(t, st, k) }),
	}
}

// register registers s or ends the test.
func (k scheduleKind[S]) register(t T, st *stores.Store, s S) S {
	t.Helper()
	got, err := k.store(st).Register(t.Context(), s)
	must(t, err, "Register %q", s.Fields().Name)
	return got
}

// get returns a stored schedule or ends the test.
func (k scheduleKind[S]) get(t T, st *stores.Store, id string) S {
	t.Helper()
	got, err := k.store(st).Get(t.Context(), id)
	must(t, err, "Get schedule %s", id)
	return got
}

func testRegisterAndGet[S stores.Schedule](t T, st *stores.Store, k scheduleKind[S]) {
	in := k.make("nightly")
	in.Fields().ID = stores.NewID()
	in.Fields().LastRun = tick0.Add(-5 * time.Minute)
	in.Fields().Misfire = stores.MisfireFireAll
	in.Fields().MisfireLimit = 7
	want := k.clone(in)
	got := k.register(t, st, in)
	checkEqual(t, "schedule returned by Register", want, got)
	checkEqual(t, "schedule by Get", want, k.get(t, st, want.Fields().ID))
	byName, err := k.store(st).GetByName(t.Context(), "nightly")
	must(t, err, "GetByName")
	checkEqual(t, "schedule by GetByName", want, byName)

	// Disabled, default misfire policy, no explicit ID.
	other := k.make("weekly")
	other.Fields().Enabled = false
	other.Fields().Misfire = ""
	got = k.register(t, st, other)
	if got.Fields().ID == "" || got.Fields().Enabled || got.Fields().Misfire != stores.MisfireFireOnce {
		t.Errorf("registered schedule: ID %q Enabled %v Misfire %q, want a generated ID, false, fire_once",
			got.Fields().ID, got.Fields().Enabled, got.Fields().Misfire)
	}
	checkEqual(t, "second schedule by Get", got, k.get(t, st, got.Fields().ID))
	// Returned values are copies.
	got.Fields().Args[2] = 'X'
	got.Fields().Queue = "mutated"
	checkEqual(t, "schedule after the caller modified its copy", k.clone(other), k.get(t, st, other.Fields().ID))

	_, err = k.store(st).Get(t.Context(), stores.NewID())
	wantErr(t, err, stores.ErrNotFound, "Get of a missing schedule")
	_, err = k.store(st).GetByName(t.Context(), "nightly2")
	wantErr(t, err, stores.ErrNotFound, "GetByName of a missing schedule")
}

func testRegisterUpdates[S stores.Schedule](t T, st *stores.Store, k scheduleKind[S]) {
	ctx := t.Context()
	orig := k.register(t, st, k.make("boot"))
	must(t, k.store(st).Advance(ctx, orig.Fields().ID, tick0, tickN(1), tick0), "Advance")
	advanced := k.get(t, st, orig.Fields().ID)

	// Re-registering at boot: a new struct, no ID, another CreatedAt and a
	// NextRun computed from "now"; the spec is unchanged.
	again := k.make("boot")
	again.Fields().JobType, again.Fields().Queue = "new-type", "new-queue"
	again.Fields().Args = json.RawMessage(`{"v": 2}`)
	again.Fields().CreatedAt = at(time.Hour)
	again.Fields().NextRun = tickN(20)
	got := k.register(t, st, again)
	want := k.clone(advanced)
	want.Fields().JobType, want.Fields().Queue, want.Fields().Args = "new-type", "new-queue", json.RawMessage(`{"v": 2}`)
	checkEqual(t, "schedule re-registered with the same spec", want, got)
	checkEqual(t, "stored schedule after re-registering", want, k.get(t, st, orig.Fields().ID))

	// A changed spec takes the NextRun of the new registration.
	changed := k.make("boot")
	k.respec(changed)
	changed.Fields().NextRun = tickN(24)
	got = k.register(t, st, changed)
	if got.Fields().ID != orig.Fields().ID || !got.Fields().CreatedAt.Equal(orig.Fields().CreatedAt) {
		t.Errorf("update with a new spec: ID %s CreatedAt %s, want the original %s %s",
			got.Fields().ID, fmtTime(got.Fields().CreatedAt), orig.Fields().ID, fmtTime(orig.Fields().CreatedAt))
	}
	if !got.Fields().NextRun.Equal(tickN(24)) {
		t.Errorf("update with a new spec: NextRun %s, want the new %s", fmtTime(got.Fields().NextRun), fmtTime(tickN(24)))
	}
	specWant := k.clone(changed)
	specWant.Fields().ID, specWant.Fields().CreatedAt, specWant.Fields().LastRun = orig.Fields().ID, orig.Fields().CreatedAt, got.Fields().LastRun
	checkEqual(t, "stored schedule after a spec change", specWant, k.get(t, st, orig.Fields().ID))

	// A new schedule whose ID is taken.
	before := k.get(t, st, orig.Fields().ID)
	thief := k.make("other-name")
	thief.Fields().ID = orig.Fields().ID
	_, err := k.store(st).Register(ctx, thief)
	wantErr(t, err, stores.ErrAlreadyExists, "Register of a new name with a taken ID")
	checkEqual(t, "schedule whose ID another registration tried to take", before, k.get(t, st, orig.Fields().ID))
	_, err = k.store(st).GetByName(ctx, "other-name")
	wantErr(t, err, stores.ErrNotFound, "GetByName of the rejected schedule")
}

func testListSchedules[S stores.Schedule](t T, st *stores.Store, k scheduleKind[S]) {
	names := []string{"m", "b", "k", "a", "z", "c", "y", "d", "x", "e", "B", "a-1"}
	for _, n := range names {
		k.register(t, st, k.make(n))
	}
	want := strings.Fields("B a a-1 b c d e k m x y z") // byte order
	var got []string
	l := stores.ScheduleList{Limit: 5}
	for range 10 {
		page, err := k.store(st).List(t.Context(), l)
		must(t, err, "List")
		if len(page) > l.Limit {
			t.Fatalf("List returned %d schedules, limit %d", len(page), l.Limit)
		}
		for _, s := range page {
			got = append(got, s.Fields().Name)
		}
		if len(page) < l.Limit {
			break
		}
		l.Cursor = page[len(page)-1].Fields().Name
	}
	checkIDs(t, "schedule names listed in pages of 5", want, got)
}

func testEnableRemove[S stores.Schedule](t T, st *stores.Store, k scheduleKind[S]) {
	ctx := t.Context()
	s := k.register(t, st, k.make("toggle"))
	other := k.register(t, st, k.make("other"))
	id := s.Fields().ID
	dueIDs := func() []string {
		t.Helper()
		due, err := k.store(st).Due(ctx, tick0, 10)
		must(t, err, "Due")
		var out []string
		for _, d := range due {
			out = append(out, d.Fields().ID)
		}
		return sorted(out)
	}
	must(t, k.store(st).SetEnabled(ctx, id, false), "SetEnabled false")
	if k.get(t, st, id).Fields().Enabled {
		t.Errorf("schedule enabled after SetEnabled(false)")
	}
	checkIDs(t, "Due with one schedule disabled", []string{other.Fields().ID}, dueIDs())
	must(t, k.store(st).SetEnabled(ctx, id, true), "SetEnabled true")
	want := k.clone(s)
	checkEqual(t, "schedule disabled and enabled again", want, k.get(t, st, id))
	checkIDs(t, "Due with both enabled", sorted([]string{id, other.Fields().ID}), dueIDs())
	wantErr(t, k.store(st).SetEnabled(ctx, stores.NewID(), true), stores.ErrNotFound, "SetEnabled of a missing schedule")

	must(t, k.store(st).Remove(ctx, id), "Remove")
	_, err := k.store(st).Get(ctx, id)
	wantErr(t, err, stores.ErrNotFound, "Get of a removed schedule")
	_, err = k.store(st).GetByName(ctx, "toggle")
	wantErr(t, err, stores.ErrNotFound, "GetByName of a removed schedule")
	wantErr(t, k.store(st).Remove(ctx, id), stores.ErrNotFound, "second Remove")
	checkIDs(t, "Due after Remove", []string{other.Fields().ID}, dueIDs())
	// The name is free again.
	again := k.register(t, st, k.make("toggle"))
	if again.Fields().ID == id {
		t.Errorf("a schedule registered after Remove got the removed ID back")
	}
}

func testDueSchedules[S stores.Schedule](t T, st *stores.Store, k scheduleKind[S]) {
	now := tickN(10)
	mk := func(name string, next time.Time, enabled bool) string {
		s := k.make(name)
		s.Fields().NextRun, s.Fields().Enabled = next, enabled
		return k.register(t, st, s).Fields().ID
	}
	a := mk("a", tickN(8), true)
	b := mk("b", tickN(6), true)
	c := mk("c", now, true)
	mk("future", tickN(11), true)
	mk("disabled", tickN(1), false)
	for _, tc := range []struct {
		limit int
		want  []string
	}{{10, []string{b, a, c}}, {2, []string{b, a}}} {
		due, err := k.store(st).Due(t.Context(), now, tc.limit)
		must(t, err, "Due")
		var got []string
		for _, d := range due {
			got = append(got, d.Fields().ID)
		}
		checkIDs(t, fmt.Sprintf("Due with limit %d", tc.limit), tc.want, got)
	}
}

func testAdvance[S stores.Schedule](t T, st *stores.Store, k scheduleKind[S]) {
	ctx := t.Context()
	s := k.register(t, st, k.make("adv"))
	id := s.Fields().ID
	must(t, k.store(st).Advance(ctx, id, tick0, tickN(1), tick0.Add(time.Second)), "Advance")
	want := k.clone(s)
	want.Fields().NextRun, want.Fields().LastRun = tickN(1), tick0.Add(time.Second)
	checkEqual(t, "advanced schedule", want, k.get(t, st, id))

	wantErr(t, k.store(st).Advance(ctx, id, tick0, tickN(2), tickN(1)), stores.ErrConflict, "Advance from a stale NextRun")
	checkEqual(t, "schedule after a stale Advance", want, k.get(t, st, id))
	wantErr(t, k.store(st).Advance(ctx, stores.NewID(), tick0, tickN(1), tick0), stores.ErrNotFound, "Advance of a missing schedule")
}

// firingJobs returns the jobs of one job type, in creation order.
func firingJobs(t T, st *stores.Store, jobType string) []*stores.Job {
	t.Helper()
	return queryAll(t, st, stores.JobQuery{Types: []string{jobType}, Limit: 100})
}

func testFire[S stores.Schedule](t T, st *stores.Store, k scheduleKind[S]) {
	ctx := t.Context()
	s := k.register(t, st, k.make("fire"))
	now := tick0.Add(time.Second)
	f, err := stores.NewFiring(s, now)
	must(t, err, "NewFiring")
	if len(f.Jobs) != 1 || !f.NextRun.Equal(tickN(1)) {
		t.Fatalf("NewFiring on time: %d jobs, NextRun %s; want 1 job and %s", len(f.Jobs), fmtTime(f.NextRun), fmtTime(tickN(1)))
	}
	must(t, k.store(st).Fire(ctx, f), "Fire")
	want := k.clone(s)
	want.Fields().NextRun, want.Fields().LastRun = tickN(1), now
	checkEqual(t, "schedule after Fire", want, k.get(t, st, s.Fields().ID))
	jobs := firingJobs(t, st, s.Fields().JobType)
	if len(jobs) != 1 {
		t.Fatalf("Fire stored %d jobs, want 1", len(jobs))
	}
	wantJob := &stores.Job{ID: jobs[0].ID, Type: s.Fields().JobType, Queue: s.Fields().Queue, Args: s.Fields().Args,
		Status: stores.StatusPending, CreatedAt: now, ScheduleID: s.Fields().ID, ScheduleType: k.typ, ScheduleTick: tick0}
	checkJob(t, "job made by Fire", wantJob, jobs[0])

	// The same firing again lost its race.
	again, err := stores.NewFiring(s, now)
	must(t, err, "NewFiring")
	wantErr(t, k.store(st).Fire(ctx, again), stores.ErrConflict, "Fire from a stale NextRun")
	checkEqual(t, "schedule after a stale Fire", want, k.get(t, st, s.Fields().ID))
	if n := len(firingJobs(t, st, s.Fields().JobType)); n != 1 {
		t.Errorf("after a stale Fire there are %d jobs, want 1", n)
	}
	// An empty firing (MisfireSkip) only advances.
	must(t, k.store(st).Fire(ctx, stores.Firing{ScheduleID: s.Fields().ID, SeenNextRun: tickN(1), NextRun: tickN(3), FiredAt: tickN(3)}), "Fire without jobs")
	want.Fields().NextRun, want.Fields().LastRun = tickN(3), tickN(3)
	checkEqual(t, "schedule after a Fire without jobs", want, k.get(t, st, s.Fields().ID))

	missing := f
	missing.ScheduleID = stores.NewID()
	missing.Jobs = nil
	wantErr(t, k.store(st).Fire(ctx, missing), stores.ErrNotFound, "Fire of a missing schedule")
}

func testFireAtomic[S stores.Schedule](t T, st *stores.Store, k scheduleKind[S]) {
	ctx := t.Context()
	s := k.register(t, st, k.make("atomic"))
	id := s.Fields().ID
	live := newJob(1)
	enqueue(t, st, live)

	// Two ticks; the second job reuses a live job's ID.
	f := stores.Firing{ScheduleID: id, SeenNextRun: tick0, NextRun: tickN(2), FiredAt: tickN(1)}
	mk := func(tick time.Time) *stores.Job {
		return &stores.Job{ID: stores.NewID(), Type: s.Fields().JobType, Queue: "q", CreatedAt: tickN(1),
			ScheduleID: id, ScheduleType: k.typ, ScheduleTick: tick}
	}
	first, second := mk(tick0), mk(tickN(1))
	second.ID = live.ID
	f.Jobs = []*stores.Job{first, second}
	before := k.get(t, st, id)
	liveBefore := getJob(t, st, live.ID)
	wantErr(t, k.store(st).Fire(ctx, f), stores.ErrAlreadyExists, "Fire with a job whose ID is taken")
	checkEqual(t, "schedule after a failed Fire", before, k.get(t, st, id))
	wantGone(t, st, first.ID, "first job of a failed Fire")
	checkJob(t, "live job after a failed Fire", liveBefore, getJob(t, st, live.ID))

	// A tick that already has its job.
	ticked := mk(tick0)
	enqueue(t, st, ticked)
	dup := mk(tick0)
	f2 := stores.Firing{ScheduleID: id, SeenNextRun: tick0, NextRun: tickN(1), FiredAt: tick0, Jobs: []*stores.Job{dup}}
	wantErr(t, k.store(st).Fire(ctx, f2), stores.ErrAlreadyExists, "Fire of a tick that already has a job")
	checkEqual(t, "schedule after Fire of a tick that has a job", before, k.get(t, st, id))
	wantGone(t, st, dup.ID, "second job of one tick")
}

func testConcurrentFire[S stores.Schedule](t T, st *stores.Store, k scheduleKind[S]) {
	const racers, rounds = 16, 5
	s := k.register(t, st, k.make("contended"))
	id := s.Fields().ID
	for r := range rounds {
		seen := k.get(t, st, id)
		now := seen.Fields().NextRun.Add(time.Second)
		firings := make([]stores.Firing, racers)
		for i := range firings {
			f, err := stores.NewFiring(seen, now)
			must(t, err, "NewFiring")
			firings[i] = f
		}
		var fails failures
		won := make([]bool, racers)
		race(racers, &fails, func(i int) {
			err := k.store(st).Fire(t.Context(), firings[i])
			switch {
			case err == nil:
				won[i] = true
			case !errorsIsConflict(err):
				fails.add("round %d: coordinator %d: Fire: %v, want nil or ErrConflict", r, i, err)
			}
		})
		fails.report(t)
		if n := count(won); n != 1 {
			t.Errorf("round %d: %d coordinators fired tick %s, want exactly 1", r, n, fmtTime(seen.Fields().NextRun))
		}
		after := k.get(t, st, id)
		if !after.Fields().NextRun.Equal(firings[0].NextRun) || !after.Fields().LastRun.Equal(now) {
			t.Errorf("round %d: schedule NextRun %s LastRun %s, want %s and %s (advanced once)", r,
				fmtTime(after.Fields().NextRun), fmtTime(after.Fields().LastRun), fmtTime(firings[0].NextRun), fmtTime(now))
		}
		perTick := map[time.Time]int{}
		for _, j := range firingJobs(t, st, s.Fields().JobType) {
			perTick[j.ScheduleTick]++
		}
		if len(perTick) != r+1 {
			t.Errorf("round %d: jobs exist for %d ticks, want %d", r, len(perTick), r+1)
		}
		for tick, n := range perTick {
			if n != 1 {
				t.Errorf("round %d: %d jobs for tick %s, want 1", r, n, fmtTime(tick))
			}
		}
	}
}

func testConcurrentAdvance[S stores.Schedule](t T, st *stores.Store, k scheduleKind[S]) {
	const racers = 16
	s := k.register(t, st, k.make("advance-race"))
	id := s.Fields().ID
	var fails failures
	won := make([]bool, racers)
	race(racers, &fails, func(i int) {
		// Each racer proposes its own next run, so the winner is visible.
		next := tickN(1 + i)
		err := k.store(st).Advance(t.Context(), id, tick0, next, tick0)
		switch {
		case err == nil:
			won[i] = true
		case !errorsIsConflict(err):
			fails.add("racer %d: Advance: %v, want nil or ErrConflict", i, err)
		}
	})
	fails.report(t)
	if n := count(won); n != 1 {
		t.Fatalf("%d racers advanced the schedule, want exactly 1", n)
	}
	for i, w := range won {
		if w && !k.get(t, st, id).Fields().NextRun.Equal(tickN(1+i)) {
			t.Errorf("NextRun %s is not the winner's %s", fmtTime(k.get(t, st, id).Fields().NextRun), fmtTime(tickN(1+i)))
		}
	}
}

func testInvalidSpec[S stores.Schedule](t T, st *stores.Store, k scheduleKind[S]) {
	existing := k.register(t, st, k.make("valid"))
	for _, inv := range k.invalid {
		s := k.make("invalid")
		inv.set(s)
		_, err := k.store(st).Register(t.Context(), s)
		if wantErr(t, err, stores.ErrInvalidArgument, "Register with %s", inv.what) && !strings.Contains(err.Error(), inv.field) {
			t.Errorf("Register with %s: error %q does not name the field %s", inv.what, err, inv.field)
		}
		_, err = k.store(st).GetByName(t.Context(), "invalid")
		wantErr(t, err, stores.ErrNotFound, "GetByName of the rejected schedule (%s)", inv.what)

		// An update with a bad spec leaves the stored schedule alone.
		u := k.make("valid")
		inv.set(u)
		_, err = k.store(st).Register(t.Context(), u)
		wantErr(t, err, stores.ErrInvalidArgument, "re-Register with %s", inv.what)
		checkEqual(t, "schedule after a rejected update", existing, k.get(t, st, existing.Fields().ID))

		bad := k.make("invalid")
		inv.set(bad)
		_, err = stores.NewFiring(bad, tick0)
		wantErr(t, err, stores.ErrInvalidArgument, "NewFiring with %s", inv.what)
	}
}

// misfireCase is one NewFiring expectation of S5.
type misfireCase struct {
	name   string
	policy stores.MisfirePolicy
	limit  int
	seen   time.Time // the stored NextRun
	now    time.Time
	ticks  []time.Time
	next   time.Time
}

// checkMisfire registers one schedule per case, plans its firing with
// NewFiring, checks the plan, fires it and checks the jobs and the schedule.
func checkMisfire[S stores.Schedule](t T, st *stores.Store, k scheduleKind[S], cases []misfireCase, set func(S)) {
	t.Helper()
	for _, c := range cases {
		s := k.make("misfire-" + c.name)
		set(s)
		s.Fields().NextRun, s.Fields().Misfire, s.Fields().MisfireLimit = c.seen, c.policy, c.limit
		s = k.register(t, st, s)
		f, err := stores.NewFiring(s, c.now)
		must(t, err, "NewFiring (%s)", c.name)
		var got []time.Time
		for _, j := range f.Jobs {
			got = append(got, j.ScheduleTick)
		}
		if !sameTimes(got, c.ticks) || !f.NextRun.Equal(c.next) {
			t.Errorf("%s: NewFiring planned ticks %v and NextRun %s, want %v and %s", c.name, fmtTimes(got), fmtTime(f.NextRun), fmtTimes(c.ticks), fmtTime(c.next))
			continue
		}
		must(t, k.store(st).Fire(t.Context(), f), "Fire (%s)", c.name)
		var stored []time.Time
		for _, j := range firingJobs(t, st, s.Fields().JobType) {
			stored = append(stored, j.ScheduleTick)
		}
		if !sameTimes(stored, c.ticks) {
			t.Errorf("%s: Fire stored jobs for ticks %v, want %v", c.name, fmtTimes(stored), fmtTimes(c.ticks))
		}
		if after := k.get(t, st, s.Fields().ID); !after.Fields().NextRun.Equal(c.next) {
			t.Errorf("%s: NextRun after Fire %s, want %s", c.name, fmtTime(after.Fields().NextRun), fmtTime(c.next))
		}
	}
}

func sameTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

func fmtTimes(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = fmtTime(t)
	}
	return out
}

func utc(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
}

// cronMisfire checks the misfire policies of a daily 02:30 New York cron
// across the 2030-03-10 spring-forward (02:30 does not exist that day: it
// fires at 03:00 EDT, 07:00 UTC) and a 01:30 cron across the 2030-11-03
// fall-back (01:30 happens twice: it fires once, at the first).
func cronMisfire(t T, st *stores.Store, k scheduleKind[*stores.CronSchedule]) {
	spring := func(s *stores.CronSchedule) { s.Expression, s.TimeZone = "30 2 * * *", "America/New_York" }
	mar8, mar9, mar10, mar11 := utc(2030, 3, 8, 7, 30), utc(2030, 3, 9, 7, 30), utc(2030, 3, 10, 7, 0), utc(2030, 3, 11, 6, 30)
	late := utc(2030, 3, 10, 12, 0)
	checkMisfire(t, st, k, []misfireCase{
		{"on-time", stores.MisfireFireOnce, 0, mar9, mar9, []time.Time{mar9}, mar10},
		{"skipped-hour", stores.MisfireFireOnce, 0, mar10, mar10.Add(time.Minute), []time.Time{mar10}, mar11},
		{"fire-once", stores.MisfireFireOnce, 0, mar8, late, []time.Time{mar10}, mar11},
		{"skip", stores.MisfireSkip, 0, mar8, late, nil, mar11},
		{"fire-all-limit-2", stores.MisfireFireAll, 2, mar8, late, []time.Time{mar9, mar10}, mar11},
		{"fire-all", stores.MisfireFireAll, 0, mar8, late, []time.Time{mar8, mar9, mar10}, mar11},
	}, spring)
	fall := func(s *stores.CronSchedule) { s.Expression, s.TimeZone = "30 1 * * *", "America/New_York" }
	nov2, nov3, nov4 := utc(2030, 11, 2, 5, 30), utc(2030, 11, 3, 5, 30), utc(2030, 11, 4, 6, 30)
	checkMisfire(t, st, k, []misfireCase{
		{"before-fall-back", stores.MisfireFireOnce, 0, nov2, nov2, []time.Time{nov2}, nov3},
		{"repeated-hour", stores.MisfireFireOnce, 0, nov3, nov3.Add(time.Hour + time.Minute), []time.Time{nov3}, nov4},
	}, fall)
}

// intervalMisfire checks the misfire policies of an hourly interval found
// three and a half periods late.
func intervalMisfire(t T, st *stores.Store, k scheduleKind[*stores.IntervalSchedule]) {
	hourly := func(s *stores.IntervalSchedule) { s.Interval = time.Hour }
	h := func(n int) time.Time { return tick0.Add(time.Duration(n) * time.Hour) }
	late := h(3).Add(30 * time.Minute)
	checkMisfire(t, st, k, []misfireCase{
		{"on-time", stores.MisfireFireOnce, 0, tick0, tick0.Add(10 * time.Minute), []time.Time{tick0}, h(1)},
		{"fire-once", stores.MisfireFireOnce, 0, tick0, late, []time.Time{h(3)}, h(4)},
		{"skip", stores.MisfireSkip, 0, tick0, late, nil, h(4)},
		{"fire-all-limit-2", stores.MisfireFireAll, 2, tick0, late, []time.Time{h(2), h(3)}, h(4)},
		{"fire-all", stores.MisfireFireAll, 0, tick0, late, []time.Time{tick0, h(1), h(2), h(3)}, h(4)},
	}, hourly)
}
