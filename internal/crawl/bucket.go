package crawl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"sync"

	"gocloud.dev/blob"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/crawl/layout"
)

// Remote reports whether an include path is a URL of object storage
// (s3://bucket/prefix) rather than a local directory.
func Remote(loc string) bool {
	u, err := url.Parse(loc)
	return err == nil && u.Scheme != "" && u.Scheme != "file" && strings.Contains(loc, "://")
}

// RemoteLocation is the location the tables of a crawl of the object
// storage URL loc are registered under: the URL without its query (which
// holds the bucket's settings, not where the files are) and without a
// trailing slash; and the last folder of it, which names the crawl.
func RemoteLocation(loc string) (location, name string, err error) {
	u, err := url.Parse(loc)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("path %q: not a URL of a bucket", loc)
	}
	u.RawQuery = ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	name = path.Base(u.Path)
	if u.Path == "" || name == "/" || name == "." {
		name = u.Host
	}
	return u.String(), name, nil
}

// Bucket is a layout.Source over the objects under Prefix in a bucket
// (S3 or any gocloud.dev bucket). Keys are relative to Prefix; an
// object's ETag is its MD5 when the bucket lists one.
type Bucket struct {
	Bucket *blob.Bucket
	Prefix string // "" or ending in /
}

// List lists every object under the prefix.
func (b Bucket) List(ctx context.Context, fn func(layout.Object) error) error {
	objs, err := sblob.ListAll(ctx, b.Bucket, &blob.ListOptions{Prefix: b.Prefix})
	if err != nil {
		return err
	}
	for _, o := range objs {
		key := strings.TrimPrefix(o.Key, b.Prefix)
		if o.IsDir || key == "" || strings.HasSuffix(key, "/") {
			continue
		}
		obj := layout.Object{Key: key, Size: o.Size, ModTime: o.ModTime}
		if len(o.MD5) > 0 {
			obj.ETag = fmt.Sprintf("%x", o.MD5)
		}
		if err := fn(obj); err != nil {
			return err
		}
	}
	return nil
}

// Open opens an object for reads at offsets: each read that the last
// block fetched does not cover fetches a block (a range GET) of at least
// readBlock bytes.
func (b Bucket) Open(ctx context.Context, key string) (layout.ReaderAtCloser, error) {
	attrs, err := b.Bucket.Attributes(ctx, b.Prefix+key)
	if err != nil {
		return nil, err
	}
	return &objectReader{ctx: ctx, b: b.Bucket, key: b.Prefix + key, size: attrs.Size}, nil
}

const readBlock = 1 << 20

type objectReader struct {
	ctx  context.Context
	b    *blob.Bucket
	key  string
	size int64

	mu    sync.Mutex
	off   int64
	block []byte
}

func (r *objectReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if off < r.off || off+int64(len(p)) > r.off+int64(len(r.block)) {
		n := min(max(int64(len(p)), readBlock), r.size-off)
		rr, err := r.b.NewRangeReader(r.ctx, r.key, off, n, nil)
		if err != nil {
			return 0, err
		}
		buf := make([]byte, n)
		m, err := io.ReadFull(rr, buf)
		rr.Close()
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, err
		}
		r.off, r.block = off, buf[:m]
	}
	n := copy(p, r.block[off-r.off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (r *objectReader) Close() error { return nil }
