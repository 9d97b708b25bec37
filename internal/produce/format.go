package produce

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// seqWidth is the zero-padded width of the sequence part of record ids.
const seqWidth = 9

// seqDigits is how many bytes appendPadded(seq, seqWidth) writes.
func seqDigits(seq uint64) int {
	return max(decimalDigits(seq), seqWidth)
}

func decimalDigits(v uint64) int {
	n := 1
	for ; v >= 10; v /= 10 {
		n++
	}
	return n
}

const (
	zeros      = "00000000000000000000"
	twoDigits  = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
	msPerDay   = 24 * 60 * 60 * 1000
	daysToUnix = 719468 // days from 0000-03-01 to 1970-01-01
)

// appendPadded appends v in decimal, left-padded with zeros to width.
func appendPadded(dst []byte, v uint64, width int) []byte {
	if n := decimalDigits(v); n < width {
		dst = append(dst, zeros[:width-n]...)
	}
	return strconv.AppendUint(dst, v, 10)
}

// append2 appends v (0-99) as two digits.
func append2(dst []byte, v int64) []byte {
	return append(dst, twoDigits[2*v], twoDigits[2*v+1])
}

// appendTimestamp appends ms (Unix milliseconds, >= 0, year <= 9999) as
// RFC 3339 in UTC with exactly three fractional digits:
// 2026-11-22T10:15:30.123Z. It is pure integer arithmetic (the civil
// calendar conversion from Howard Hinnant's days_from_civil inverse).
func appendTimestamp(dst []byte, ms int64) []byte {
	days, rem := ms/msPerDay, ms%msPerDay
	// civil_from_days, for days >= 0 (1970 onwards).
	z := days + daysToUnix
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	if month > 12 {
		month -= 12
	}
	year := yoe + era*400
	if month <= 2 {
		year++
	}
	dst = append2(dst, year/100)
	dst = append2(dst, year%100)
	dst = append(dst, '-')
	dst = append2(dst, month)
	dst = append(dst, '-')
	dst = append2(dst, day)
	dst = append(dst, 'T')
	dst = append2(dst, rem/3_600_000)
	dst = append(dst, ':')
	dst = append2(dst, rem/60_000%60)
	dst = append(dst, ':')
	dst = append2(dst, rem/1000%60)
	dst = append(dst, '.', byte('0'+rem%1000/100))
	dst = append2(dst, rem%100)
	return append(dst, 'Z')
}

// appendFixed2 appends hundredths as a JSON number with two decimals.
func appendFixed2(dst []byte, hundredths int64) []byte {
	return appendFixed(dst, hundredths, 100, 2)
}

// appendFixed1 appends tenths as a JSON number with one decimal.
func appendFixed1(dst []byte, tenths int64) []byte {
	return appendFixed(dst, tenths, 10, 1)
}

// appendFixed handles 1 or 2 decimals (scale 10 or 100).
func appendFixed(dst []byte, v, scale int64, decimals int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	dst = strconv.AppendInt(dst, v/scale, 10)
	dst = append(dst, '.')
	if decimals == 1 {
		return append(dst, byte('0'+v%scale))
	}
	return append2(dst, v%scale)
}

// formatBytes formats n in SI units with one decimal: 19.5 MB.
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTP"[exp])
}

// formatThousands formats n with comma thousands separators: 83,000.
func formatThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formatElapsed rounds d for humans: 850ms, 1.2s, 2m3.4s.
func formatElapsed(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
