package blob_test

import (
	"maps"
	"path/filepath"
	"testing"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/blob/blobtest"
)

// TestBucketsOpenObjectURLs: object URLs without settings open their
// bucket with the settings of a configured URL (the same bucket's, else
// the first of the scheme), never with its key prefix; the AWS CLI reads
// what was written through them.
func TestBucketsOpenObjectURLs(t *testing.T) {
	s3 := blobtest.StartS3(t)
	s3.MakeBucket("staging")
	s3.MakeBucket("other")
	bs := sblob.NewBuckets("", s3.BucketURL("staging")+"&prefix=stage/")
	defer bs.Close()
	ctx := t.Context()
	for _, u := range []string{"s3://staging/stage/t/a.json", "s3://other/x/b.json"} {
		b, key, err := bs.Open(ctx, u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if err := b.WriteAll(ctx, key, []byte(u), nil); err != nil {
			t.Fatalf("%s: write: %v", u, err)
		}
		dst := filepath.Join(t.TempDir(), "obj")
		s3.AWS("s3", "cp", u, dst)
		if got := readFile(t, dst); got != u {
			t.Errorf("aws s3 cp %s read %q", u, got)
		}
	}
}

func TestLocations(t *testing.T) {
	for in, want := range map[string]string{
		"s3://b?prefix=staging/&region=x&endpoint=http://h:1": "s3://b/staging",
		"s3://b?region=x": "s3://b",
	} {
		if got, err := sblob.Location(in); err != nil || got != want {
			t.Errorf("Location(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	loc, props, err := sblob.IcebergLocation("s3://lake/wh?endpoint=http://127.0.0.1:7070&use_path_style=true&region=us-east-1")
	want := map[string]string{"s3.endpoint": "http://127.0.0.1:7070", "s3.region": "us-east-1", "s3.force-virtual-addressing": "false"}
	if err != nil || loc != "s3://lake/wh" || !maps.Equal(props, want) {
		t.Errorf("IcebergLocation: %s %v %v", loc, props, err)
	}
	if _, _, err := sblob.IcebergLocation("s3://lake/wh?profile=x"); err == nil {
		t.Error("IcebergLocation took an unsupported setting")
	}
	if loc, props, err := sblob.IcebergLocation("file:///data/lake"); err != nil || loc != "file:///data/lake" || len(props) != 0 {
		t.Errorf("IcebergLocation of a file URL: %s %v %v", loc, props, err)
	}
}
