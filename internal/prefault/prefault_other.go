//go:build !linux

package prefault

// Supported reports false: populating is Linux's.
func Supported() bool { return false }

// Populate does nothing where MADV_POPULATE_WRITE does not exist.
func Populate([]byte) bool { return false }

// Heap does nothing where MADV_POPULATE_WRITE does not exist.
func Heap(int) bool { return false }
