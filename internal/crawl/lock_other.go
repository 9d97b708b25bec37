//go:build !unix

package crawl

import "errors"

// ErrRunning is returned by Run when another run of the same crawler (same
// Dir) has not finished. Without flock (non-Unix systems) runs are not
// locked: the caller must not overlap them.
var ErrRunning = errors.New("crawler is already running")

func lockDir(string) (func(), error) { return func() {}, nil }
