package broker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kfake"
)

// kfakeLogger adapts kfake's printf logger to slog. kfake logs every
// request at its info level, so that goes to slog debug; its warnings
// (failed segment writes, corrupt data on load) and errors stay warnings
// and errors.
//
// kfake's Close reports persistence failures only through its logger, so
// while capturing, error-level messages are also kept for Close to return.
type kfakeLogger struct {
	l *slog.Logger

	mu        sync.Mutex
	capturing bool
	captured  []string
}

func (k *kfakeLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	lvl := slogLevel(level)
	capture := level == kfake.LogLevelError && k.isCapturing()
	if !capture && !k.l.Enabled(context.Background(), lvl) {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if capture {
		k.mu.Lock()
		k.captured = append(k.captured, msg)
		k.mu.Unlock()
	}
	k.l.Log(context.Background(), lvl, "kfake", "stage", "broker", "detail", msg)
}

func (k *kfakeLogger) isCapturing() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.capturing
}

func (k *kfakeLogger) startCapture() {
	k.mu.Lock()
	k.capturing, k.captured = true, nil
	k.mu.Unlock()
}

func (k *kfakeLogger) stopCapture() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.capturing = false
	return k.captured
}

func slogLevel(l kfake.LogLevel) slog.Level {
	switch l {
	case kfake.LogLevelError:
		return slog.LevelError
	case kfake.LogLevelWarn:
		return slog.LevelWarn
	case kfake.LogLevelInfo:
		return slog.LevelDebug
	default:
		return slog.LevelDebug - 4
	}
}
