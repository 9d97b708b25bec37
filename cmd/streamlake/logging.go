package main

import (
	"io"
	"log/slog"
	"regexp"

	"golang.org/x/term"

	"github.com/streamlake/streamlake/internal/config"
)

// newLogger is the process's logger on w at log.level. log.format picks the
// handler; left empty it is text on a terminal and JSON otherwise (a file,
// a pipe, a log collector). Every string and error value passes through
// redactSecrets, so a URI with a password that reaches a log line (in an
// error from a driver, say) shows no password.
func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: redactAttr}
	if logFormat(w, c.Format) == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// logFormat is format, or when it is empty, text if w is a terminal and
// json otherwise.
func logFormat(w io.Writer, format string) string {
	if format != "" {
		return format
	}
	if f, ok := w.(interface{ Fd() uintptr }); ok && term.IsTerminal(int(f.Fd())) {
		return "text"
	}
	return "json"
}

// redactAttr redacts secrets from logged strings and errors, and writes
// durations as text (1.5s) in both formats: JSON would give nanoseconds.
func redactAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value.Resolve(); {
	case v.Kind() == slog.KindDuration:
		a.Value = slog.StringValue(v.Duration().String())
	case v.Kind() == slog.KindString:
		if s := redactSecrets(v.String()); s != v.String() {
			a.Value = slog.StringValue(s)
		}
	case v.Kind() == slog.KindAny:
		if err, ok := v.Any().(error); ok && err != nil {
			a.Value = slog.StringValue(redactSecrets(err.Error()))
		}
	}
	return a
}

var (
	// userinfoPassword is the password of scheme://user:password@host.
	userinfoPassword = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^/?#@\s:]*:)[^/?#@\s]*@`)
	// passwordParam is a password=... parameter (PostgreSQL URI or DSN).
	passwordParam = regexp.MustCompile(`(?i)\b(password=)[^&\s]*`)
)

// redactSecrets replaces the passwords of URIs and password= parameters in
// s with xxxxx, as url.URL.Redacted does.
func redactSecrets(s string) string {
	s = userinfoPassword.ReplaceAllString(s, "${1}xxxxx@")
	return passwordParam.ReplaceAllString(s, "${1}xxxxx")
}
