package produce

import (
	"context"
	"testing"
	"time"
)

type fakeClock struct {
	now       time.Time
	sleeps    int
	oversleep time.Duration // added to every sleep, like a busy machine's timers
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.sleeps++
	c.now = c.now.Add(d + c.oversleep)
	return nil
}

func TestPacerRate(t *testing.T) {
	for _, tc := range []struct {
		rate       float64
		n          int
		maxSleeps  int
		wantPeriod time.Duration // time for n records, within a burst
	}{
		{rate: 10, n: 50, maxSleeps: 50, wantPeriod: 4900 * time.Millisecond},
		{rate: 1000, n: 10_000, maxSleeps: 1000, wantPeriod: 10 * time.Second},
		{rate: 100_000, n: 1_000_000, maxSleeps: 1000, wantPeriod: 10 * time.Second},
	} {
		c := &fakeClock{now: time.Unix(1000, 0)}
		p := newPacer(tc.rate, c.Now, c.Sleep)
		start := c.now
		for range tc.n {
			if err := p.wait(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		got := c.now.Sub(start)
		burst := time.Duration(p.burst / tc.rate * float64(time.Second))
		if got < tc.wantPeriod-burst-time.Millisecond || got > tc.wantPeriod+burst {
			t.Errorf("rate %v: %d records took %s, want %s ± %s", tc.rate, tc.n, got, tc.wantPeriod, burst)
		}
		if c.sleeps > tc.maxSleeps {
			t.Errorf("rate %v: %d sleeps for %d records, want <= %d", tc.rate, c.sleeps, tc.n, tc.maxSleeps)
		}
	}
}

func TestPacerMakesUpOversleep(t *testing.T) {
	for _, over := range []time.Duration{time.Millisecond, 5 * time.Millisecond, 30 * time.Millisecond} {
		c := &fakeClock{now: time.Unix(1000, 0), oversleep: over}
		p := newPacer(3000, c.Now, c.Sleep)
		start := c.now
		for range 30_000 {
			_ = p.wait(context.Background())
		}
		got := c.now.Sub(start)
		if got < 9900*time.Millisecond || got > 10100*time.Millisecond+over {
			t.Errorf("oversleep %s: 30000 records at 3000/s took %s, want 10s", over, got)
		}
	}
}

func TestPacerNoCatchUpAfterStall(t *testing.T) {
	c := &fakeClock{now: time.Unix(1000, 0)}
	p := newPacer(1000, c.Now, c.Sleep) // burst of 10
	for range 100 {
		_ = p.wait(context.Background())
	}
	c.now = c.now.Add(5 * time.Second) // the broker stalled
	sleeps := c.sleeps
	free := 0
	for c.sleeps == sleeps {
		_ = p.wait(context.Background())
		free++
	}
	if free > 111 {
		t.Fatalf("after a 5s stall %d records went out without pacing, want at most maxLag (100) + a burst (10)", free)
	}
}

func TestPacerUnlimitedAndCancel(t *testing.T) {
	c := &fakeClock{now: time.Unix(1000, 0)}
	p := newPacer(0, c.Now, c.Sleep)
	for range 1000 {
		_ = p.wait(context.Background())
	}
	if c.sleeps != 0 {
		t.Fatalf("unlimited pacer slept %d times", c.sleeps)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	real := newPacer(1, time.Now, sleepCtx)
	_ = real.wait(ctx) // the first token is free
	start := time.Now()
	if err := real.wait(ctx); err != context.Canceled {
		t.Fatalf("wait on cancelled ctx = %v, want context.Canceled", err)
	}
	if time.Since(start) > 100*time.Millisecond {
		t.Fatal("wait on cancelled ctx slept")
	}
}
