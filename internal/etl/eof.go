package etl

import "io"

func errEOF() error { return io.EOF }
