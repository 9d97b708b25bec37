package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/blob/blobtest"
	"github.com/streamlake/streamlake/internal/stage"
)

// TestS3StagingSurvivesAnOutage stages to versitygw, a real S3 server,
// stops it for 10 seconds mid-run, and checks that every record is staged
// exactly once; the AWS CLI lists and downloads the staging objects.
func TestS3StagingSurvivesAnOutage(t *testing.T) {
	s3 := blobtest.StartS3(t)
	s3.MakeBucket("staging")
	br := startBroker(t, 3)
	b, err := sblob.Open(context.Background(), s3.BucketURL("staging"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	in := newIngester(t, br.Addr(), b, 500)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	produceRecords(t, br.Addr(), "events", 0, 2000)
	waitIdle(t, in, 30*time.Second)

	s3.Stop() // outage
	produceRecords(t, br.Addr(), "events", 2000, 2000)
	time.Sleep(10 * time.Second)
	if lag, _ := in.Lag(context.Background()); lag == 0 {
		t.Fatal("records were committed while storage was down")
	}
	s3.Start()
	waitIdle(t, in, 60*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	recs, objects := staged(t, b)
	if len(recs) != 4000 {
		t.Fatalf("%d distinct records staged, want 4000", len(recs))
	}
	for v, n := range recs {
		if n != 1 {
			t.Fatalf("record %s staged %d times", v, n)
		}
	}
	// A client nobody here wrote sees the same objects.
	listing := strings.Fields(s3.AWS("s3", "ls", "--recursive", "s3://staging"))
	var keys []string
	for _, f := range listing {
		if strings.HasSuffix(f, stage.Extension) {
			keys = append(keys, f)
		}
	}
	if len(keys) != objects {
		t.Fatalf("aws s3 ls lists %d staging objects, the bucket has %d", len(keys), objects)
	}
	dst := filepath.Join(t.TempDir(), "obj.zst")
	s3.AWS("s3", "cp", "s3://staging/"+keys[0], dst)
	data, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := stage.Decompress(data)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := stage.Decode(lines, func(stage.Record) error { n++; return nil }); err != nil || n == 0 {
		t.Fatalf("downloaded object %s: %d records, %v", keys[0], n, err)
	}
}
