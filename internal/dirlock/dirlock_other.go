//go:build !unix

package dirlock

import "os"

// Acquire creates dir; without flock (non-Unix systems) nothing is locked
// and the caller must not overlap holders.
func Acquire(dir, _ string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &Lock{}, nil
}
