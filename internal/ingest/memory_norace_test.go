//go:build !race

// The race detector multiplies memory use, so this RSS bound is checked by
// the plain test run only.

package ingest_test

import (
	"context"
	"io"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/config"
	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/stage"
)

// TestMemoryBounded64Partitions consumes 64 partitions at full speed with
// the default settings (16 MiB objects, 64 MiB budget, the soft memory
// limit `run` sets) from a broker in another process and checks that this
// process's peak RSS stays under 256 MiB while every record is staged.
func TestMemoryBounded64Partitions(t *testing.T) {
	const records = 400_000 // ~200 B each: ~80 MB of values, ~130 MB of envelopes
	addr := startBrokerProcess(t, 64, records)
	b := bucket(t)
	prev := debug.SetMemoryLimit(ingest.SoftMemoryLimit(config.Default().Ingest.MemoryBudget))
	defer debug.SetMemoryLimit(prev)
	resetPeakRSS(t)
	before := peakRSS(t)
	runDefaultIngest(t, addr, b)
	peak := peakRSS(t)
	t.Logf("peak RSS %d MiB (%d MiB before ingest)", peak>>20, before>>20)
	if peak > 256<<20 {
		t.Errorf("peak RSS %d MiB, want under 256 MiB", peak>>20)
	}
	n, parts := 0, map[int32]bool{}
	it := b.List(nil)
	for {
		a, err := it.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		o, ok := stage.ParseName(a.Key)
		if !ok {
			t.Fatalf("unexpected object %s", a.Key)
		}
		parts[o.Partition] = true
		data, err := b.ReadAll(context.Background(), a.Key)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := stage.Decompress(data)
		if err != nil {
			t.Fatal(err)
		}
		n += strings.Count(string(lines), "\n")
	}
	if n != records || len(parts) != 64 {
		t.Errorf("staged %d records from %d partitions, want %d from 64", n, len(parts), records)
	}
}
