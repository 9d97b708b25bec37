package blob_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/blob/blobtest"
)

// acceptance is what every backend must do for the stages that use it.
func acceptance(t *testing.T, b *blob.Bucket) {
	ctx := context.Background()
	if _, err := b.ReadAll(ctx, "missing"); gcerrors.Code(err) != gcerrors.NotFound {
		t.Fatalf("read of a missing key: %v, want NotFound", err)
	}
	for _, k := range []string{"t/dt=2026-11-22/hr=01/p=0/1.ndjson.zst", "t/dt=2026-11-22/hr=01/p=1/1.ndjson.zst", "u/x"} {
		if err := b.WriteAll(ctx, k, []byte("v1 "+k), nil); err != nil {
			t.Fatalf("write %s: %v", k, err)
		}
	}
	// Overwrite replaces the whole object (a redo after a crash).
	k := "t/dt=2026-11-22/hr=01/p=0/1.ndjson.zst"
	if err := b.WriteAll(ctx, k, []byte("v2"), nil); err != nil {
		t.Fatal(err)
	}
	if got, err := b.ReadAll(ctx, k); err != nil || string(got) != "v2" {
		t.Fatalf("after overwrite: %q, %v", got, err)
	}
	var keys []string
	it := b.List(&blob.ListOptions{Prefix: "t/"})
	for {
		a, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, a.Key)
	}
	if len(keys) != 2 || keys[0] > keys[1] {
		t.Fatalf("list t/: %v, want 2 keys in order", keys)
	}
	if err := b.Delete(ctx, "u/x"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.Exists(ctx, "u/x"); ok {
		t.Fatal("deleted key still exists")
	}
}

func TestFile(t *testing.T) {
	u, err := sblob.DirURL(filepath.Join(t.TempDir(), "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := sblob.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	acceptance(t, b)
	if dir, ok := sblob.LocalDir(u); !ok || filepath.Base(dir) != "b" {
		t.Fatalf("LocalDir(%s) = %s, %v", u, dir, ok)
	}
}

func TestMem(t *testing.T) {
	b, err := sblob.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	acceptance(t, b)
}

// TestS3 runs the acceptance test against versitygw, a real S3 server, and
// reads an object back with the AWS CLI.
func TestS3(t *testing.T) {
	s3 := blobtest.StartS3(t)
	s3.MakeBucket("accept")
	b, err := sblob.Open(context.Background(), s3.BucketURL("accept"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	acceptance(t, b)
	dst := filepath.Join(t.TempDir(), "obj")
	s3.AWS("s3", "cp", "s3://accept/t/dt=2026-11-22/hr=01/p=1/1.ndjson.zst", dst)
	if got := readFile(t, dst); got != "v1 t/dt=2026-11-22/hr=01/p=1/1.ndjson.zst" {
		t.Fatalf("aws s3 cp read %q", got)
	}
}

func TestBadURL(t *testing.T) {
	_, err := sblob.Open(context.Background(), "ftp://x/y")
	if err == nil || err.Error() != `blob: URL "ftp://x/y": scheme "ftp" is not one of file, s3, mem` {
		t.Fatalf("error %v", err)
	}
}

// TestListAllRacesWithWriters lists a file bucket over and over while
// writers keep creating objects (each through a temporary file renamed
// into place), at some thousand objects a second, far above what ingest
// writes: no listing fails, and the last one sees every object. (A plain
// gocloud listing fails here within a few hundred milliseconds.)
func TestListAllRacesWithWriters(t *testing.T) {
	ctx := context.Background()
	u, _ := sblob.DirURL(t.TempDir())
	b, err := sblob.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const writers, each = 4, 300
	done := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range each {
				if err := b.WriteAll(ctx, fmt.Sprintf("t/p=%d/%05d.ndjson.zst", w, i), []byte("x"), nil); err != nil {
					done <- err
					return
				}
				time.Sleep(time.Millisecond)
			}
			done <- nil
		}()
	}
	finished := 0
	for finished < writers {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished++
		default:
		}
		if _, err := sblob.ListAll(ctx, b, nil); err != nil {
			t.Fatalf("listing during writes: %v", err)
		}
	}
	objs, err := sblob.ListAll(ctx, b, nil)
	if err != nil || len(objs) != writers*each {
		t.Fatalf("listed %d objects (%v), want %d", len(objs), err, writers*each)
	}
}
