package schema

import (
	"testing"
	"time"
)

var timestampCases = []string{
	"2026-11-30T12:02:21Z", "2026-11-30T12:02:21.733Z", "2026-11-30T12:02:21.123456789Z",
	"2026-11-30T12:02:21.1234567891Z", "2026-11-30T12:02:21.Z", "2026-11-30T12:02:21,5Z",
	"2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2000-02-29T23:59:59Z", "1900-02-29T00:00:00Z",
	"2026-04-31T00:00:00Z", "2026-12-31T23:59:59.999Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
	"2026-01-00T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z",
	"0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "1969-12-31T23:59:59.5Z",
	"1600-03-01T00:00:00Z", "-001-01-01T00:00:00Z", "2026-1-01T00:00:00Z", "2026-01-01t00:00:00Z",
	"2026-01-01 00:00:00Z", "2026-01-01T00:00:00+02:00", "2026-01-01T00:00:00.5-07:30", "2026-01-01T00:00:00z",
	"2026-01-01T00:00:00", "2026-01-01T0a:00:00Z", "2026-01-01T00:00:00.5a5Z", "+026-01-01T00:00:00Z",
	"2026-01-01 00:00:00", "2026-01-01 00:00:00.5", "2026-01-01 24:00:00", "2026-01-01 00:00", "2026-01-01 00:00:00 UTC",
}

// TestTimestampWithoutOffsetIsUTC checks the forms without an offset that
// Athena, Hive and Python write, and that an offset is still required to
// be well-formed.
func TestTimestampWithoutOffsetIsUTC(t *testing.T) {
	for s, want := range map[string]time.Time{
		"2026-12-01 10:00:00":        time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		"2026-12-01T10:00:00.25":     time.Date(2026, 12, 1, 10, 0, 0, 250_000_000, time.UTC),
		"2026-12-01 10:00:00.123456": time.Date(2026, 12, 1, 10, 0, 0, 123_456_000, time.UTC),
		"2026-12-01 10:00:00+02:00":  time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC),
	} {
		got, ok := ParseTimestamp(s)
		if !ok || !got.Equal(want) {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"2026-12-01 10:00", "2026-12-01 10:00:00 UTC", "2026-12-01 10:00:00+2", "2026-12-01", "2026-12-01 25:00:00"} {
		if got, ok := ParseTimestamp(s); ok {
			t.Errorf("ParseTimestamp(%q) = %v, want no timestamp", s, got)
		}
	}
}

func TestParseTimestampFastPath(t *testing.T) {
	for _, s := range timestampCases {
		got, ok := ParseTimestamp(s)
		want, wantOK := parseRFC3339(s)
		if ok != wantOK || !got.Equal(want) || got.Location().String() != want.Location().String() {
			t.Errorf("ParseTimestamp(%q) = %v, %v; time.Parse gives %v, %v", s, got, ok, want, wantOK)
		}
	}
	// Every day of four years, leap years and century rules included.
	for d := time.Date(1899, 12, 1, 0, 0, 0, 0, time.UTC); d.Year() < 1904; d = d.AddDate(0, 0, 1) {
		s := d.Format("2006-01-02T15:04:05Z")
		if got, ok := ParseUTC(s); !ok || !got.Equal(d) {
			t.Fatalf("ParseUTC(%q) = %v, %v", s, got, ok)
		}
	}
	if _, ok := ParseUTC("2026-11-30T12:02:21.733Z"); !ok {
		t.Error("the common form missed the fast path")
	}
}

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range timestampCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseTimestamp(s)
		want, wantOK := parseRFC3339(s)
		if ok != wantOK || !got.Equal(want) || got.Location().String() != want.Location().String() {
			t.Fatalf("ParseTimestamp(%q) = %v, %v; time.Parse gives %v, %v", s, got, ok, want, wantOK)
		}
	})
}

func BenchmarkParseTimestamp(b *testing.B) {
	for _, c := range []struct {
		name  string
		parse func(string) (time.Time, bool)
	}{{"fast", ParseTimestamp}, {"time.Parse", parseRFC3339}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				if _, ok := c.parse("2026-11-30T12:02:21.733Z"); !ok {
					b.Fatal("not parsed")
				}
			}
		})
	}
}
