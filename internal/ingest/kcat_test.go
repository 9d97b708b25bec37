package ingest_test

import (
	"bytes"
	"fmt"
	"os/exec"
	"testing"
)

// TestIngestsEveryCompressionCodec produces with kcat, a client nobody here
// wrote, in each of Kafka's codecs, and checks that every record is staged.
func TestIngestsEveryCompressionCodec(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed: run `make test`, which installs it (apt-get install -y kcat)")
	}
	br := startBroker(t, 2)
	b := bucket(t)
	const perCodec = 500
	codecs := []string{"none", "gzip", "snappy", "lz4", "zstd"}
	for ci, codec := range codecs {
		var in bytes.Buffer
		for i := range perCodec {
			// key \t value, with a header, so keys and headers are checked too.
			fmt.Fprintf(&in, "k%d\t{\"id\":\"%s-%d\"}\n", i, codec, ci*perCodec+i)
		}
		cmd := exec.Command(kcat, "-P", "-b", br.Addr(), "-t", "events", "-z", codec, "-K", "\t", "-H", "src=test")
		cmd.Stdin = &in
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat -z %s: %v: %s", codec, err, out)
		}
	}
	runUntilIdle(t, newIngester(t, br.Addr(), b, 10_000))
	recs, _ := staged(t, b)
	if len(recs) != perCodec*len(codecs) {
		t.Fatalf("%d distinct records staged, want %d", len(recs), perCodec*len(codecs))
	}
	for _, codec := range codecs {
		v := fmt.Sprintf(`{"id":"%s-%d"}`, codec, indexOf(codecs, codec)*perCodec+7)
		if recs[v] != 1 {
			t.Errorf("record %s (codec %s) staged %d times", v, codec, recs[v])
		}
	}
}

func indexOf(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return -1
}
