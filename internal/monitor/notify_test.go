package monitor

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestWebhookFailureHidesToken fails two webhooks whose URLs carry a token
// in the user info, path and query (one refusing, one unreachable) and
// checks that the error log names the alarm and the webhook's host but
// never shows the token.
func TestWebhookFailureHidesToken(t *testing.T) {
	const token = "tok3n-do-not-log"
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer refusing.Close()
	host := strings.TrimPrefix(refusing.URL, "http://")
	hooks := []string{
		"http://bot:" + token + "@" + host + "/services/T0/B0/" + token + "?key=" + token,
		"http://bot:" + token + "@127.0.0.1:1/services/" + token + "?key=" + token,
	}
	cfg := Default()
	cfg.DefaultAlarms = false
	cfg.SampleInterval = 100 * time.Millisecond
	cfg.Alarms = []AlarmSpec{{Name: "deep", Metric: "queue_depth", Statistic: StatMax, Period: time.Second,
		EvaluationPeriods: 1, Comparison: GreaterThan, Threshold: 5, Actions: Actions{Webhooks: hooks}}}
	var logs bytes.Buffer
	e, err := New(cfg, prometheus.NewRegistry(), t.TempDir(), WithWebhookRetry(1, time.Millisecond),
		WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	e.act(t.Context(), Transition{Alarm: "deep", OldState: StateOK, NewState: StateAlarm, Timestamp: time.Unix(0, 0)})

	out := logs.String()
	if strings.Contains(out, token) {
		t.Fatalf("the log shows the webhook token:\n%s", out)
	}
	for _, want := range []string{
		`"webhook":"http://` + host + `"`, "403 Forbidden",
		`"webhook":"http://127.0.0.1:1"`, "connection refused",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log does not say %s:\n%s", want, out)
		}
	}
	if n := strings.Count(out, `"msg":"alarm webhook failed"`); n != 2 {
		t.Errorf("%d webhook failures logged, want 2:\n%s", n, out)
	}
}
