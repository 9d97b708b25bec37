//go:build unix

package crawl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrRunning is returned by Run when another run of the same crawler (same
// Dir), in this process or another, has not finished.
var ErrRunning = errors.New("crawler is already running")

// lockDir takes an exclusive lock on dir/lock for one run; the lock goes
// with the process, so a crashed run never leaves it held.
func lockDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("crawler: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("crawler: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrRunning
		}
		return nil, fmt.Errorf("crawler: lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}
