package schema

import "time"

// ParseTimestamp parses the timestamp forms inference accepts: RFC 3339 with
// optional fractional seconds, with a space for the T as SQL writes it, and
// without an offset ("2026-12-01 10:00:00", the form Athena, Hive and
// Python's str(datetime) write), read as UTC, as DuckDB reads such a
// string into a TIMESTAMPTZ in a UTC session.
func ParseTimestamp(s string) (time.Time, bool) {
	if t, ok := ParseUTC(s); ok {
		return t, true
	}
	return parseRFC3339(s)
}

// parseRFC3339 is ParseTimestamp by time.Parse, for every form.
func parseRFC3339(s string) (time.Time, bool) {
	// Cheap shape check before the parser: 2006-01-02T15:04:05...
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') {
		return time.Time{}, false
	}
	if s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// No offset: UTC. (A string with one that RFC 3339 refused is
		// refused here too: the layout has no zone.)
		t, err = time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC)
	}
	return t, err == nil
}

// ParseUTC is ParseTimestamp's fast path for the common form, UTC with up
// to nine fractional digits ("2006-01-02T15:04:05.999999999Z"), read by
// arithmetic instead of time.Parse: the ETL reads an event time per record,
// and the staging envelope's Kafka timestamp is this form too. It reports
// false for any other form, which ParseTimestamp leaves to time.Parse, so
// the two agree on everything (FuzzParseTimestamp).
func ParseUTC(s string) (time.Time, bool) {
	n := len(s)
	if n < 20 || s[n-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if n > 20 {
		frac := s[20 : n-1]
		f, ok := digits(frac)
		if s[19] != '.' || len(frac) == 0 || len(frac) > 9 || !ok {
			return time.Time{}, false
		}
		nsec = f * pow10[9-len(frac)]
	}
	days, ok := unixDays(year, month, day)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(days*86400+int64(hour*3600+minute*60+sec), int64(nsec)).UTC(), true
}

var pow10 = [10]int{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

// digits reads s, one to nine ASCII digits.
func digits(s string) (int, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// unixDays returns the days from 1970-01-01 to the proleptic Gregorian
// date year-month-day, and whether that date exists (month 1-12, day
// within the month). It is time.Date's arithmetic without its
// normalisation, for parsers that read many timestamps.
func unixDays(year, month, day int) (int64, bool) {
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return 0, false
	}
	// Days from civil (H. Hinnant): years start in March, so the leap
	// day is the last day of a year.
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	m := int64(month)
	if m > 2 {
		m -= 3
	} else {
		m += 9
	}
	doy := (153*m+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
