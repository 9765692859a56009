package stores

import (
	"context"
	"testing"
)

// freshJobs records which JobStore method the portable layer called.
type freshJobs struct {
	JobStore // nil: only the methods below are called
	calls    []string
}

func (f *freshJobs) Enqueue(context.Context, *Job) error {
	f.calls = append(f.calls, "Enqueue")
	return nil
}
func (f *freshJobs) EnqueueMany(context.Context, []*Job) error {
	f.calls = append(f.calls, "EnqueueMany")
	return nil
}
func (f *freshJobs) EnqueueFresh(context.Context, []*Job) error {
	f.calls = append(f.calls, "EnqueueFresh")
	return nil
}

type freshBackend struct {
	nopBackend
	jobs *freshJobs
}

func (b freshBackend) Jobs() JobStore { return b.jobs }

type freshDriver struct{ jobs *freshJobs }

func (d freshDriver) Open(context.Context, string) (Backend, error) {
	return freshBackend{jobs: d.jobs}, nil
}

// J1: a driver may skip its duplicate-id check only for a batch whose every
// ID the portable layer generated in that call; a caller's ID, or one job
// given twice (its ID is filled once, then seen again), takes EnqueueMany.
func TestJ1_FreshEnqueueOnlyWhenEveryIDIsGenerated(t *testing.T) {
	fj := &freshJobs{}
	Register("fresh-enqueue", freshDriver{jobs: fj})
	s, err := Open("fresh-enqueue", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	job := func(id string) *Job { return &Job{ID: id, Type: "t", Queue: "q"} }
	twice := job("")
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"all generated", func() error { return s.Jobs().EnqueueMany(ctx, []*Job{job(""), job("")}) }, "EnqueueFresh"},
		{"one given", func() error { return s.Jobs().EnqueueMany(ctx, []*Job{job(""), job(NewID())}) }, "EnqueueMany"},
		{"one job twice", func() error { return s.Jobs().EnqueueMany(ctx, []*Job{twice, twice}) }, "EnqueueMany"},
		{"single generated", func() error { return s.Jobs().Enqueue(ctx, job("")) }, "EnqueueFresh"},
		{"single given", func() error { return s.Jobs().Enqueue(ctx, job(NewID())) }, "Enqueue"},
	}
	for _, c := range cases {
		fj.calls = nil
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(fj.calls) != 1 || fj.calls[0] != c.want {
			t.Errorf("%s: driver calls %v, want [%s]", c.name, fj.calls, c.want)
		}
	}
	// A retried batch carries the IDs the first call filled in: checked.
	jobs := []*Job{job(""), job("")}
	fj.calls = nil
	_ = s.Jobs().EnqueueMany(ctx, jobs)
	_ = s.Jobs().EnqueueMany(ctx, jobs)
	if len(fj.calls) != 2 || fj.calls[1] != "EnqueueMany" || jobs[0].ID == "" {
		t.Errorf("retry of a batch: driver calls %v, want [EnqueueFresh EnqueueMany]", fj.calls)
	}
}
