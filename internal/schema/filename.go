package schema

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// FileName is the name Iceberg's writers give a field named n inside data
// files: n itself when it is a valid Avro name (a letter or _, then
// letters, digits and _, all in Unicode's basic multilingual plane),
// otherwise n with each other character escaped as _x and its hex code
// (a leading digit as _ and the digit): "user-id" is "user_x2Did", "9lives"
// "_9lives". It is iceberg-go's SanitizeColumnNames (and Iceberg Java's
// AvroSchemaUtil.makeCompatibleName) for one name, which the query engine
// needs to know when to read by field id and the ETL to refuse two names a
// file would spell alike.
func FileName(n string) string {
	if avroName(n) {
		return n
	}
	var b strings.Builder
	for i, r := range n {
		if avroRune(r, i == 0) {
			b.WriteRune(r)
			continue
		}
		switch {
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&b, "_x%X_x%X", hi, lo)
		case unicode.IsDigit(r):
			b.WriteString("_" + string(r))
		default:
			fmt.Fprintf(&b, "_x%X", r)
		}
	}
	return b.String()
}

func avroName(n string) bool {
	if n == "" || !utf8.ValidString(n) {
		return false
	}
	for i, r := range n {
		if !avroRune(r, i == 0) {
			return false
		}
	}
	return true
}

// avroRune reports whether an Avro name may hold r (first: as its first
// character): a letter or _, or after the first a digit, all in Unicode's
// basic multilingual plane.
func avroRune(r rune, first bool) bool {
	return r <= 0xFFFF && (r == '_' || unicode.IsLetter(r) || !first && unicode.IsDigit(r))
}
