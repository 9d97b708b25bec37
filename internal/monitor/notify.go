package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"time"
)

// act runs an alarm's actions for one transition: a log line and a POST to
// each webhook.
func (e *Engine) act(ctx context.Context, tr Transition) {
	a := e.alarm(tr.Alarm)
	if a == nil {
		return
	}
	if a.spec.Actions.Log {
		attrs := []any{"alarm", tr.Alarm, "old_state", tr.OldState, "new_state", tr.NewState, "reason", tr.Reason}
		if len(tr.Series) > 0 {
			attrs = append(attrs, "series", tr.Series)
		}
		if tr.NewState == StateAlarm {
			e.log.Warn("alarm state changed", attrs...)
		} else {
			e.log.Info("alarm state changed", attrs...)
		}
	}
	for _, url := range a.spec.Actions.Webhooks {
		err := e.post(ctx, url, tr)
		if e.deliveries != nil {
			result := "ok"
			if err != nil {
				result = "failed"
			}
			e.deliveries.WithLabelValues(result).Inc()
		}
		if err != nil {
			e.log.Error("alarm webhook failed", "alarm", tr.Alarm, "webhook", webhookName(url), "new_state", tr.NewState, "err", err)
		}
	}
}

// post delivers one notification, retrying on transport errors, 429 and 5xx
// with doubling backoff, at most e.attempts times.
func (e *Engine) post(ctx context.Context, url string, tr Transition) error {
	body, err := json.Marshal(tr)
	if err != nil {
		return err
	}
	wait := e.backoff
	var last error
	for attempt := 1; attempt <= e.attempts; attempt++ {
		retry, err := e.postOnce(ctx, url, body)
		if err == nil {
			return nil
		}
		last = fmt.Errorf("attempt %d of %d: %w", attempt, e.attempts, err)
		if !retry || attempt == e.attempts {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (then %w)", last, ctx.Err())
		case <-t.C:
		}
		wait *= 2
	}
	return last
}

func (e *Engine) postOnce(ctx context.Context, url string, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "streamlake-monitor")
	resp, err := e.http.Do(req)
	if err != nil {
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err // ue.URL may hold the webhook's token
		}
		return true, fmt.Errorf("POST %s: %w", webhookName(url), err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("POST %s: %s", webhookName(url), resp.Status)
	}
	return false, fmt.Errorf("POST %s: %s", webhookName(url), resp.Status)
}

// webhookName is a webhook URL for messages: scheme and host only, since
// user info, path and query often carry the token (Slack, Teams, PagerDuty).
func webhookName(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil || u.Host == "" {
		return "webhook (unparsable URL)"
	}
	return u.Scheme + "://" + u.Host
}
