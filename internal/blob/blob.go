// Package blob opens object storage buckets through gocloud.dev/blob:
// file:// directories (the default), s3:// buckets on AWS or any
// S3-compatible endpoint, and mem:// for tests.
//
// Writes through a bucket are atomic: an object is visible whole or not at
// all (fileblob writes a temporary file next to the target and renames it;
// S3 PUTs are atomic). Buckets are safe for concurrent use.
package blob

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// URLs
	_ "gocloud.dev/blob/memblob"  // mem:// URLs
	_ "gocloud.dev/blob/s3blob"   // s3:// URLs
)

// DirURL returns the file:// URL of a local directory, made absolute.
func DirURL(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("blob: %s: %w", dir, err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

// LocalDir returns the directory of a file:// URL, and false for other schemes.
func LocalDir(rawURL string) (string, bool) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "file" {
		return "", false
	}
	return filepath.FromSlash(u.Path), true
}

// Open opens the bucket at rawURL. For file:// it creates the directory,
// keeps temporary files inside it (so the final rename never crosses
// devices) and writes no metadata sidecar files.
func Open(ctx context.Context, rawURL string) (*blob.Bucket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // ue.URL is rawURL, unredacted
		}
		return nil, fmt.Errorf("blob: bad URL %q: %w", redact(rawURL), err)
	}
	switch u.Scheme {
	case "file":
		if err := os.MkdirAll(filepath.FromSlash(u.Path), 0o755); err != nil {
			return nil, fmt.Errorf("blob: %s: %w", rawURL, err)
		}
		q := u.Query()
		q.Set("create_dir", "true")
		q.Set("no_tmp_dir", "true")
		q.Set("metadata", "skip")
		u.RawQuery = q.Encode()
	case "s3", "mem":
	default:
		return nil, fmt.Errorf("blob: URL %q: scheme %q is not one of file, s3, mem", redact(rawURL), u.Scheme)
	}
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		// gocloud's message quotes the whole URL, query included.
		msg := strings.NewReplacer(u.String(), redact(rawURL), rawURL, redact(rawURL)).Replace(err.Error())
		return nil, fmt.Errorf("blob: open %s: %w", redact(rawURL), &redactedError{msg: msg, err: err})
	}
	return b, nil
}

// redactedError is err with a message that hides the bucket URL's secrets;
// errors.Is, errors.As and gcerrors.Code still see err.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact is a bucket URL for messages: without its query (which may set
// endpoints and profiles) and with any user info replaced by xxxxx.
func redact(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "://"); i >= 0 {
		host := s[i+3:]
		if end := strings.IndexByte(host, '/'); end >= 0 {
			host = host[:end]
		}
		if j := strings.LastIndexByte(host, '@'); j >= 0 {
			s = s[:i+3] + "xxxxx" + s[i+3+j:]
		}
	}
	return s
}
