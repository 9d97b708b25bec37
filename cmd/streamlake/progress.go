package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/streamlake/streamlake/internal/query"
)

// spinnerDelay is how long a query runs before its progress line appears.
const spinnerDelay = time.Second

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// startSpinner shows, on w if it is a terminal, a spinner line with the
// state and elapsed time of execution id once it has run for spinnerDelay.
// stop erases the line.
func startSpinner(w io.Writer, svc *query.Service, id string) (stop func()) {
	if !isTerminal(w) {
		return func() {}
	}
	frames := []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	shown := false
	wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-t.C:
			}
			elapsed := time.Since(start)
			if elapsed < spinnerDelay {
				continue
			}
			state := query.Running
			if x, err := svc.Get(context.Background(), id); err == nil {
				state = x.State
			}
			fmt.Fprintf(w, "\r\033[K%c execution %s %s %.1fs (Ctrl-C cancels)", frames[i%len(frames)], id, state, elapsed.Seconds())
			shown = true
		}
	})
	return func() {
		close(done)
		wg.Wait()
		if shown {
			fmt.Fprint(w, "\r\033[K")
		}
	}
}
