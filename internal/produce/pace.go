package produce

import (
	"context"
	"math"
	"time"
)

// pacer is a token bucket that never busy-waits: it holds up to burst
// tokens (about 10ms of records), refills at rate per second and starts
// full. wait takes one token. When the bucket is empty it sleeps on a timer
// until a whole burst is available again, so at high rates it sleeps once
// per burst, not once per record. Token due times are absolute, so timer
// oversleep is made up and the long-run rate is exact; but after a stall (a
// slow broker) it catches up with at most maxLag worth of records.
type pacer struct {
	rate  float64 // tokens per second; <= 0 means unlimited
	burst float64
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	start time.Time // when the bucket was (notionally) full
	taken float64   // tokens taken since start
}

func newPacer(rate float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *pacer {
	return &pacer{rate: rate, burst: max(1, rate/100), now: now, sleep: sleep}
}

// wait blocks until the next record may be sent or ctx is done.
func (p *pacer) wait(ctx context.Context) error {
	if p.rate <= 0 {
		return nil
	}
	now := p.now()
	if p.start.IsZero() {
		p.start = now
	}
	p.taken++
	// Token number taken exists once taken-burst tokens have been refilled.
	due := p.start.Add(p.secs(p.taken - p.burst))
	d := due.Sub(now)
	if d > time.Microsecond { // below timer precision; also absorbs float rounding

		return p.sleep(ctx, d+p.secs(p.burst-1))
	}
	if -d > max(maxLag, p.secs(p.burst)) {
		// Far behind schedule: drop the unused credit.
		p.start, p.taken = now, p.burst
	}
	return nil
}

func (p *pacer) secs(tokens float64) time.Duration {
	return time.Duration(math.Round(tokens / p.rate * float64(time.Second)))
}

// maxLag bounds how far behind schedule the pacer may catch up.
const maxLag = 100 * time.Millisecond

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
