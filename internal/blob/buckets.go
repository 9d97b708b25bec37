package blob

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"gocloud.dev/blob"
)

// Buckets opens the buckets that object URLs (s3://bucket/key) name and
// keeps them open for reuse. Locations in the catalog (Iceberg data files,
// crawled tables) are plain URLs; the settings of their bucket (endpoint,
// region, path style: the URL query of Open) come from the URL itself if
// it has a query, else from a configured URL of the same bucket, else from
// the first configured URL of the same scheme (one S3 endpoint serves a
// deployment), else from the environment alone (AWS_REGION, ...).
// Credentials always come from the environment (AWS_ACCESS_KEY_ID, ...,
// or a profile). A Buckets is safe for concurrent use.
type Buckets struct {
	byBucket map[string]string // scheme://host -> query
	byScheme map[string]string // scheme -> query of the first URL

	mu   sync.Mutex
	open map[string]*blob.Bucket // by bucket URL with query
}

// NewBuckets returns a Buckets taking settings from the configured URLs
// (storage.warehouse, storage.staging_url, crawler paths); empty ones and
// those without a query are skipped.
func NewBuckets(configured ...string) *Buckets {
	b := &Buckets{byBucket: map[string]string{}, byScheme: map[string]string{}, open: map[string]*blob.Bucket{}}
	for _, raw := range configured {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || u.RawQuery == "" {
			continue
		}
		// A key prefix is where that URL's objects are, not a setting of
		// the bucket: object URLs carry their full key.
		q := u.Query()
		q.Del("prefix")
		if len(q) == 0 {
			continue
		}
		id := u.Scheme + "://" + u.Host
		if _, ok := b.byBucket[id]; !ok {
			b.byBucket[id] = q.Encode()
		}
		if _, ok := b.byScheme[u.Scheme]; !ok {
			b.byScheme[u.Scheme] = q.Encode()
		}
	}
	return b
}

// SplitURL splits an object or prefix URL into the URL of its bucket
// (with the query, if any) and the key (without a leading slash).
func SplitURL(rawURL string) (bucketURL, key string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", fmt.Errorf("blob: bad URL %q: %w", redact(rawURL), err)
	}
	if u.Scheme == "" || u.Host == "" {
		return "", "", fmt.Errorf("blob: URL %q names no bucket", redact(rawURL))
	}
	b := url.URL{Scheme: u.Scheme, Host: u.Host, RawQuery: u.RawQuery}
	return b.String(), strings.TrimPrefix(u.Path, "/"), nil
}

// Location is the URL of the objects of a bucket URL as Open takes it
// (s3://bucket?prefix=staging/&region=...): the bucket and its key prefix
// as a path, without the settings (s3://bucket/staging).
func Location(bucketURL string) (string, error) {
	u, err := url.Parse(bucketURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("blob: URL %q names no bucket", redact(bucketURL))
	}
	p := strings.Trim(u.Query().Get("prefix"), "/")
	out := url.URL{Scheme: u.Scheme, Host: u.Host}
	if p != "" {
		out.Path = "/" + p
	}
	return out.String(), nil
}

// Open returns the bucket holding the object (or prefix) at rawURL and
// the object's key in it. The bucket stays open until Close.
func (b *Buckets) Open(ctx context.Context, rawURL string) (*blob.Bucket, string, error) {
	bu, key, err := SplitURL(rawURL)
	if err != nil {
		return nil, "", err
	}
	if !strings.Contains(bu, "?") {
		u, _ := url.Parse(bu)
		q, ok := b.byBucket[u.Scheme+"://"+u.Host]
		if !ok {
			q = b.byScheme[u.Scheme]
		}
		if q != "" {
			bu += "?" + q
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if bk, ok := b.open[bu]; ok {
		return bk, key, nil
	}
	bk, err := Open(ctx, bu)
	if err != nil {
		return nil, "", err
	}
	b.open[bu] = bk
	return bk, key, nil
}

// Close closes the buckets opened.
func (b *Buckets) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var first error
	for k, bk := range b.open {
		if err := bk.Close(); err != nil && first == nil {
			first = err
		}
		delete(b.open, k)
	}
	return first
}

// IcebergLocation splits a warehouse URL into the location Iceberg tables
// are placed under (without the query) and the iceberg-go FileIO
// properties its query means: endpoint, region and use_path_style become
// s3.endpoint, s3.region and s3.force-virtual-addressing. Credentials are
// left to the environment, as for Open.
func IcebergLocation(warehouse string) (string, map[string]string, error) {
	u, err := url.Parse(warehouse)
	if err != nil {
		return "", nil, fmt.Errorf("blob: bad URL %q: %w", redact(warehouse), err)
	}
	props := map[string]string{}
	if u.Scheme != "s3" || u.RawQuery == "" {
		return warehouse, props, nil
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "endpoint":
			props["s3.endpoint"] = q.Get(k)
		case "region":
			props["s3.region"] = q.Get(k)
		case "use_path_style":
			props["s3.force-virtual-addressing"] = fmt.Sprint(q.Get(k) != "true")
		default:
			return "", nil, fmt.Errorf("blob: warehouse %s: setting %q is not supported for Iceberg tables (endpoint, region, use_path_style are)", redact(warehouse), k)
		}
	}
	u.RawQuery = ""
	return u.String(), props, nil
}
