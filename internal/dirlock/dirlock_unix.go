//go:build unix

package dirlock

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Acquire takes the lock file dir/name without waiting, creating dir if
// need be, and writes this process's id into it. When the lock is held the
// error wraps ErrHeld and names the holder's process id.
func Acquire(dir, name string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			if pid := holder(path); pid != "" {
				return nil, fmt.Errorf("%s: %w (pid %s)", path, ErrHeld, pid)
			}
			return nil, fmt.Errorf("%s: %w", path, ErrHeld)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// The process id is only for the message another process shows.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{release: func() { f.Close() }}, nil
}

// holder is the process id the lock's holder wrote, if it reads as one.
func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	s := string(bytes.TrimSpace(b))
	if _, err := strconv.Atoi(s); err != nil {
		return ""
	}
	return s
}
