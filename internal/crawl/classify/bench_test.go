package classify

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

func BenchmarkClassifySmallJSON(b *testing.B) {
	data := []byte(`{"id":1,"name":"n1","score":1.5,"ts":"2024-01-02T03:04:05Z","tags":["a"]}` + "\n")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if r, _ := Classify("f.json", bytes.NewReader(data), int64(len(data)), Options{}); r.Format != JSON {
			b.Fatal(r.Format)
		}
	}
}

func BenchmarkClassifyCSV1000Rows(b *testing.B) {
	var s strings.Builder
	s.WriteString("id,name,score,day\n")
	for i := range 1000 {
		fmt.Fprintf(&s, "%d,name %d,%d.5,2024-01-%02d\n", i, i, i, i%28+1)
	}
	data := []byte(s.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if r, _ := Classify("f.csv", bytes.NewReader(data), int64(len(data)), Options{}); r.Format != CSV {
			b.Fatal(r.Format)
		}
	}
}

func BenchmarkClassifyParquetFooter(b *testing.B) {
	data, err := os.ReadFile(realFiles + "/nested/nested_maps.snappy.parquet")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if r, _ := Classify("f.parquet", bytes.NewReader(data), int64(len(data)), Options{}); r.Format != Parquet {
			b.Fatal(r.Format)
		}
	}
}
