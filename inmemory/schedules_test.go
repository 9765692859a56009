package inmemory

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/orchestrix/persistence/abstractions/stores"
)

func cronSched(name, expr string) *stores.CronSchedule {
	return &stores.CronSchedule{
		ScheduleFields: stores.ScheduleFields{Name: name, JobType: "t", Queue: "q", Enabled: true, NextRun: at(time.Minute)},
		Expression:     expr,
	}
}

// S1: re-registering by name updates; an unchanged spec keeps NextRun and
// LastRun, a changed one takes the new ones; ID and CreatedAt stay.
func TestS1_RegisterUpsert(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	first, err := s.Cron().Register(ctx, cronSched("nightly", "0 * * * *"))
	must(t, err)
	must(t, s.Cron().Advance(ctx, first.ID, first.NextRun, at(time.Hour), at(time.Minute)))

	again := cronSched("nightly", "0 * * * *")
	again.Queue = "other"
	again.NextRun = at(2 * time.Hour)
	got, err := s.Cron().Register(ctx, again)
	must(t, err)
	if got.ID != first.ID || !got.CreatedAt.Equal(first.CreatedAt) || !got.NextRun.Equal(at(time.Hour)) ||
		!got.LastRun.Equal(at(time.Minute)) || got.Queue != "other" {
		t.Fatalf("re-register with the same spec = %+v", got)
	}
	changed := cronSched("nightly", "30 * * * *")
	changed.NextRun = at(30 * time.Minute)
	got, err = s.Cron().Register(ctx, changed)
	must(t, err)
	if got.ID != first.ID || !got.NextRun.Equal(at(30*time.Minute)) || !got.LastRun.IsZero() {
		t.Fatalf("re-register with a new spec = %+v", got)
	}
	clash := cronSched("other-name", "0 * * * *")
	clash.ID = first.ID
	_, err = s.Cron().Register(ctx, clash)
	wantErr(t, err, stores.ErrAlreadyExists)

	// Cron and interval schedules are separate namespaces.
	iv, err := s.Intervals().Register(ctx, &stores.IntervalSchedule{ScheduleFields: stores.ScheduleFields{Name: "nightly", JobType: "t", Queue: "q"}, Interval: time.Minute})
	must(t, err)
	if iv.ID == first.ID {
		t.Fatal("interval schedule took the cron schedule's id")
	}
	list, err := s.Cron().List(ctx, stores.ScheduleList{Limit: 10})
	must(t, err)
	if len(list) != 1 || list[0].Name != "nightly" {
		t.Fatalf("List = %+v, want only nightly (the clashing register must store nothing)", list)
	}
}

func TestS1_ListPagesByName(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	for _, n := range []string{"c", "a", "d", "b"} {
		_, err := s.Cron().Register(ctx, cronSched(n, "* * * * *"))
		must(t, err)
	}
	var got []string
	cursor := ""
	for {
		page, err := s.Cron().List(ctx, stores.ScheduleList{Cursor: cursor, Limit: 3})
		must(t, err)
		for _, sc := range page {
			got = append(got, sc.Name)
		}
		if len(page) < 3 {
			break
		}
		cursor = page[len(page)-1].Name
	}
	if len(got) != 4 || got[0] != "a" || got[3] != "d" {
		t.Fatalf("paged names = %v", got)
	}
}

// S2: due = enabled with NextRun at or before now, oldest first.
func TestS2_DueSkipsDisabled(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	a := cronSched("a", "* * * * *")
	a.NextRun = at(2 * time.Minute)
	b := cronSched("b", "* * * * *")
	b.NextRun = at(time.Minute)
	c := cronSched("c", "* * * * *")
	c.NextRun = at(3 * time.Minute)
	for _, x := range []*stores.CronSchedule{a, b, c} {
		_, err := s.Cron().Register(ctx, x)
		must(t, err)
	}
	due, err := s.Cron().Due(ctx, at(2*time.Minute), 10)
	must(t, err)
	if len(due) != 2 || due[0].Name != "b" || due[1].Name != "a" {
		t.Fatalf("Due = %v", due)
	}
	must(t, s.Cron().SetEnabled(ctx, b.ID, false))
	due, _ = s.Cron().Due(ctx, at(2*time.Minute), 10)
	if len(due) != 1 || due[0].Name != "a" {
		t.Fatalf("Due after disabling b = %v", due)
	}
	must(t, s.Cron().Remove(ctx, a.ID))
	wantErr(t, s.Cron().Remove(ctx, a.ID), stores.ErrNotFound)
	due, _ = s.Cron().Due(ctx, at(2*time.Minute), 10)
	if len(due) != 0 {
		t.Fatalf("Due after removing a = %v", due)
	}
}

// S3: of N coordinators firing one tick exactly one wins, and a firing
// whose job cannot be enqueued changes nothing.
func TestS3_FireExactlyOnceAndAtomic(t *testing.T) {
	ctx := context.Background()
	s, b := open(t)
	sc, err := s.Intervals().Register(ctx, &stores.IntervalSchedule{
		ScheduleFields: stores.ScheduleFields{Name: "i", JobType: "t", Queue: "q", Enabled: true, NextRun: at(time.Minute)},
		Interval:       time.Minute,
	})
	must(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := stores.NewFiring(sc, at(time.Minute))
			if err != nil {
				t.Error(err)
				return
			}
			switch err := s.Intervals().Fire(ctx, f); {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case !errorsIs(err, stores.ErrConflict) && !errorsIs(err, stores.ErrAlreadyExists):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d coordinators fired the tick", wins)
	}
	got, _ := s.Intervals().Get(ctx, sc.ID)
	if !got.NextRun.Equal(at(2*time.Minute)) || !got.LastRun.Equal(at(time.Minute)) {
		t.Fatalf("schedule after firing = %+v", got)
	}
	page, _ := s.Jobs().Query(ctx, stores.JobQuery{Limit: 100})
	if len(page.Jobs) != 1 || page.Jobs[0].ScheduleID != sc.ID || !page.Jobs[0].ScheduleTick.Equal(at(time.Minute)) {
		t.Fatalf("jobs after firing = %+v", page.Jobs)
	}

	// A job whose ID is taken fails the whole firing.
	f, err := stores.NewFiring(got, at(2*time.Minute))
	must(t, err)
	f.Jobs = append(f.Jobs, &stores.Job{ID: page.Jobs[0].ID, Type: "t", Queue: "q"})
	wantErr(t, s.Intervals().Fire(ctx, f), stores.ErrAlreadyExists)
	after, _ := s.Intervals().Get(ctx, sc.ID)
	if !after.NextRun.Equal(got.NextRun) {
		t.Fatalf("failed firing advanced the schedule to %s", after.NextRun)
	}
	page, _ = s.Jobs().Query(ctx, stores.JobQuery{Limit: 100})
	if len(page.Jobs) != 1 {
		t.Fatalf("failed firing enqueued jobs: %d", len(page.Jobs))
	}
	f.ScheduleID = stores.NewID()
	for _, j := range f.Jobs {
		j.ScheduleID = f.ScheduleID
	}
	wantErr(t, s.Intervals().Fire(ctx, f), stores.ErrNotFound)
	wantErr(t, s.Intervals().Advance(ctx, sc.ID, at(time.Minute), at(3*time.Minute), at(time.Minute)), stores.ErrConflict)
	verifyIndexes(t, b)
}
