package query

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
)

// TestSnappyConversions converts the three snappy layouts the crawler
// recognises (framing format by its magic; Hadoop block format and one
// raw block by the .snappy extension) to zstd, which reads back as the
// original text.
func TestSnappyConversions(t *testing.T) {
	text := strings.Repeat(`{"a": 1, "b": "xyz"}`+"\n", 5000)
	var framed bytes.Buffer
	w := snappy.NewBufferedWriter(&framed)
	w.Write([]byte(text))
	w.Close()
	// Hadoop: uncompressed length, then chunks of compressed length + block.
	var hadoop bytes.Buffer
	half := len(text) / 2
	binary.Write(&hadoop, binary.BigEndian, uint32(len(text)))
	for _, part := range []string{text[:half], text[half:]} {
		block := snappy.Encode(nil, []byte(part))
		binary.Write(&hadoop, binary.BigEndian, uint32(len(block)))
		hadoop.Write(block)
	}
	raw := snappy.Encode(nil, []byte(text))

	dir := t.TempDir()
	tf := tableFormat{format: "json", compression: "snappy"}
	for name, body := range map[string][]byte{"framed.json.sz": framed.Bytes(), "hadoop.json.snappy": hadoop.Bytes(), "raw.json.snappy": raw} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		conv, err := tf.conversion(path)
		if err != nil || conv == nil || conv.suffix != ".zst" {
			t.Fatalf("%s: conversion %+v, %v", name, conv, err)
		}
		var out bytes.Buffer
		if err := conv.run(context.Background(), bytes.NewReader(body), &out); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		zr, err := zstd.NewReader(&out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		zr.Close()
		if err != nil || string(got) != text {
			t.Errorf("%s: read back %d bytes (%v), want %d", name, len(got), err, len(text))
		}
	}
	// Mixed: gzip and plain files need no conversion.
	mixed := tableFormat{format: "json", compression: "mixed"}
	for name, body := range map[string][]byte{"a.json.gz": {0x1f, 0x8b, 8, 0}, "b.json": []byte(text[:100])} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, body, 0o644)
		if conv, err := mixed.conversion(path); err != nil || conv != nil {
			t.Errorf("%s in a mixed table: conversion %+v, %v; want none", name, conv, err)
		}
	}
}

// TestArrowTypes maps the DuckDB types of catalog columns to Arrow.
func TestArrowTypes(t *testing.T) {
	for duck, want := range map[string]string{
		"BIGINT":                   "int64",
		"DECIMAL(9,2)":             "decimal(9, 2)",
		"VARCHAR[]":                "list<item: utf8, nullable>",
		"TIMESTAMP WITH TIME ZONE": "timestamp[us, tz=UTC]",
		`STRUCT("a b" INTEGER, c MAP(VARCHAR, DOUBLE[]))`: "struct<a b: int32 nullable, c: map<utf8, list<item: float64, nullable>, items_nullable> nullable>",
	} {
		got, err := arrowType(duck)
		if err != nil {
			t.Errorf("%s: %v", duck, err)
			continue
		}
		if got.String() != want {
			t.Errorf("%s: %s, want %s", duck, got, want)
		}
	}
	for _, bad := range []string{"HUGEINT", "STRUCT(a INTEGER", "MAP(VARCHAR)"} {
		if _, err := arrowType(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
