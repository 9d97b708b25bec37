// Package dirlock keeps a directory to one process at a time: an exclusive
// flock on a file in it. The kernel drops the lock when its process ends,
// so a crash never leaves a directory locked.
package dirlock

import "errors"

// ErrHeld is wrapped by Acquire's error when another process (or another
// Lock in this one) holds the lock.
var ErrHeld = errors.New("held by another process")

// Lock is a held lock; Release gives it up.
type Lock struct{ release func() }

// Release gives the lock up; it is safe to call more than once and on nil.
func (l *Lock) Release() {
	if l != nil && l.release != nil {
		l.release()
		l.release = nil
	}
}
