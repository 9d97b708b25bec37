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
	"time"

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

// FuzzArrowType: any type text maps or fails, without panicking.
func FuzzArrowType(f *testing.F) {
	for _, s := range []string{"BIGINT", "DECIMAL(9,2)", "VARCHAR[][]", `STRUCT("a" INTEGER, b MAP(VARCHAR, DOUBLE[]))`, "TIMESTAMP WITH TIME ZONE", "STRUCT(", "DECIMAL(", "MAP(INT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		arrowType(s)
	})
}

// FuzzAvroConversion: any bytes convert or fail with an error.
func FuzzAvroConversion(f *testing.F) {
	for _, name := range []string{"full.avro", "full-snappy.avro", "full-deflate.avro"} {
		b, err := os.ReadFile(filepath.Join("../crawl/testdata/layouts/real_files/files/avro", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	cols := []column{{name: "enum", duck: "VARCHAR"}, {name: "map", duck: "MAP(VARCHAR, INTEGER)"},
		{name: "record", duck: `STRUCT("long" BIGINT, "string" VARCHAR, "int" INTEGER, "float" REAL, "double" DOUBLE, "bool" BOOLEAN)`},
		{name: "strings", duck: "VARCHAR[]"}, {name: "fixed", duck: "BLOB"}, {name: "nullable", duck: "VARCHAR"}}
	conv := avroConversion(cols)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		// As the engine converts: from a local file.
		path := filepath.Join(dir, "f.avro")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		conv.run(context.Background(), src, io.Discard)
	})
}

// TestAvroCorruptFiles: every one-byte corruption of a real Avro file
// converts or fails with an error, promptly (no panic, no runaway
// allocation from a corrupt length).
func TestAvroCorruptFiles(t *testing.T) {
	b, _ := os.ReadFile("../crawl/testdata/layouts/real_files/files/avro/full.avro")
	cols := []column{{name: "enum", duck: "VARCHAR"}, {name: "map", duck: "MAP(VARCHAR, INTEGER)"}, {name: "strings", duck: "VARCHAR[]"}}
	conv := avroConversion(cols)
	dir := t.TempDir()
	for i := range len(b) {
		for _, v := range []byte{0xff, 0x80} {
			m := append([]byte(nil), b...)
			m[i] = v
			p := filepath.Join(dir, "f.avro")
			os.WriteFile(p, m, 0o644)
			f, _ := os.Open(p)
			done := make(chan error, 1)
			go func() { done <- conv.run(context.Background(), f, io.Discard) }()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				t.Fatalf("byte %d set to %#x: conversion still running after 2s", i, v)
			}
			f.Close()
		}
	}
}
