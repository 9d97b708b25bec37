package stage

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	czstd "github.com/DataDog/zstd"
	"github.com/klauspost/compress/zstd"

	"github.com/streamlake/streamlake/internal/produce"
)

func benchLines(n int) []byte {
	var e Encoder
	var buf []byte
	ts := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for i := range n {
		r := Record{Topic: "sensors", Partition: 3, Offset: int64(i), Timestamp: ts.Add(time.Duration(i) * time.Millisecond),
			Key: fmt.Appendf(nil, "run-%09d", i),
			Value: fmt.Appendf(nil, `{"id":"run-%09d","ts":"2026-11-22T10:00:%02d.%03dZ","device":"dev-%04d","site":"ams-1","temperature":%d.%02d,"humidity":%d.5,"battery":%d,"status":"ok"}`,
				i, i/1000%60, i%1000, i%500, 10+i%20, i%100, 40+i%30, i%100)}
		buf = e.Append(buf, &r)
	}
	return buf
}

// BenchmarkEnvelope measures encoding one record's envelope line.
func BenchmarkEnvelope(b *testing.B) {
	r := Record{Topic: "sensors", Partition: 3, Offset: 42, Timestamp: time.Now(), Key: []byte("run-000000042"),
		Value: []byte(`{"id":"run-000000042","ts":"2026-11-22T10:00:00.042Z","device":"dev-0042","site":"ams-1","temperature":21.37,"humidity":55.5,"battery":87,"status":"ok"}`)}
	var e Encoder
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(r.Value)))
	for range b.N {
		buf = e.Append(buf[:0], &r)
	}
}

// BenchmarkCompress measures zstd on a typical 100,000-record batch.
func BenchmarkCompress(b *testing.B) {
	raw := benchLines(100_000)
	b.SetBytes(int64(len(raw)))
	var out []byte
	for range b.N {
		out = Compress(out[:0], raw)
	}
	b.ReportMetric(float64(len(raw))/float64(len(out)), "ratio")
}

// sensorLines returns n envelope lines of the produce command's sensors
// dataset, which compresses like real staging objects (about 8x; the
// synthetic benchLines compress 40x).
func sensorLines(b *testing.B, n int) []byte {
	ts := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	g, err := produce.NewGenerator(produce.DatasetSensors, 1, "bench", ts)
	if err != nil {
		b.Fatal(err)
	}
	var e Encoder
	var buf, val []byte
	for i := range n {
		var id []byte
		val, id = g.Append(val[:0])
		r := Record{Topic: "sensors", Partition: 3, Offset: int64(i), Timestamp: ts, Key: id, Value: val}
		buf = e.Append(buf, &r)
	}
	return buf
}

// BenchmarkCompressBuffer compares staging's compression (CompressBuffer:
// C zstd level 1, one frame per chunk) with C zstd's streaming API at the
// same level (one frame, what staging used before) and with the Go
// encoder's fastest level, with the 128 KiB window staging used before
// that and with the library's default, on a staging object of 100,000
// sensors records in a Buffer's 256 KiB chunks.
func BenchmarkCompressBuffer(b *testing.B) {
	raw := sensorLines(b, 100_000)
	var buf Buffer
	buf.Write(raw)
	defer buf.Release()
	roundTrip := func(b *testing.B, dst *bytes.Buffer) {
		b.ReportMetric(float64(len(raw))/float64(dst.Len()), "ratio")
		got, err := Decompress(dst.Bytes())
		if err != nil || !bytes.Equal(got, raw) {
			b.Fatalf("round trip: %v", err)
		}
	}
	b.Run("staging", func(b *testing.B) {
		var dst bytes.Buffer
		b.SetBytes(int64(len(raw)))
		for range b.N {
			dst.Reset()
			if err := CompressBuffer(&dst, &buf); err != nil {
				b.Fatal(err)
			}
		}
		roundTrip(b, &dst)
	})
	b.Run("c-stream", func(b *testing.B) {
		var dst bytes.Buffer
		b.SetBytes(int64(len(raw)))
		for range b.N {
			dst.Reset()
			w := czstd.NewWriterLevel(&dst, 1)
			if err := buf.each(func(p []byte) error { _, err := w.Write(p); return err }); err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		}
		roundTrip(b, &dst)
	})
	for _, c := range []struct {
		name string
		opts []zstd.EOption
	}{
		{"go-fastest-128k-window", encoderOptions},
		{"go-fastest", []zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1)}},
	} {
		b.Run(c.name, func(b *testing.B) {
			e, err := zstd.NewWriter(nil, c.opts...)
			if err != nil {
				b.Fatal(err)
			}
			var dst bytes.Buffer
			b.SetBytes(int64(len(raw)))
			for range b.N {
				dst.Reset()
				e.ResetContentSize(&dst, int64(len(raw)))
				if err := buf.each(func(p []byte) error { _, err := e.Write(p); return err }); err != nil {
					b.Fatal(err)
				}
				if err := e.Close(); err != nil {
					b.Fatal(err)
				}
			}
			roundTrip(b, &dst)
		})
	}
}
