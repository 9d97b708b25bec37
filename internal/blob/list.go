package blob

import (
	"context"
	"errors"
	"io"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// ListAll lists every object of b under opts. A listing can meet an object
// that vanishes before it is read: fileblob lists a writer's temporary
// file, which the writer renames into place a moment later, and gocloud
// (v0.47) fails the listing when that file is gone before it is stat'ed.
// Such a NotFound is a race, not a missing bucket, so the listing starts
// over (up to 20 times) instead of failing the caller's run.
func ListAll(ctx context.Context, b *blob.Bucket, opts *blob.ListOptions) ([]*blob.ListObject, error) {
	for attempt := 1; ; attempt++ {
		objs, err := listOnce(ctx, b, opts)
		if err == nil || gcerrors.Code(err) != gcerrors.NotFound || attempt == 20 {
			return objs, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(min(attempt, 5)) * 5 * time.Millisecond):
		}
	}
}

func listOnce(ctx context.Context, b *blob.Bucket, opts *blob.ListOptions) ([]*blob.ListObject, error) {
	var out []*blob.ListObject
	it := b.List(opts)
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
}
