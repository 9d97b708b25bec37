package layout

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/streamlake/streamlake/internal/crawl/classify"
)

// State is what a crawl remembers of each file for the next one: its
// fingerprint and classification. It serializes to JSON; storing it is the
// caller's job. The zero value is a first crawl.
type State struct {
	// Classify are the options the results were made with; results made
	// with other options are not reused.
	Classify classify.Options `json:"classify"`
	Files    map[string]Entry `json:"files"`
}

// Entry is one file's fingerprint and cached classification.
type Entry struct {
	Fingerprint
	Result classify.Result `json:"result"`
}

// Fingerprint identifies a version of a file without reading it.
type Fingerprint struct {
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"` // Unix nanoseconds
	ETag    string `json:"etag,omitempty"`
}

// FingerprintOf returns o's fingerprint.
func FingerprintOf(o Object) Fingerprint {
	return Fingerprint{Size: o.Size, ModTime: o.ModTime.UnixNano(), ETag: o.ETag}
}

// Same reports whether two fingerprints are of the same version: equal
// sizes and, when both have an ETag, equal ETags, else equal mtimes.
func (f Fingerprint) Same(o Fingerprint) bool {
	if f.Size != o.Size {
		return false
	}
	if f.ETag != "" && o.ETag != "" {
		return f.ETag == o.ETag
	}
	return f.ModTime == o.ModTime
}

// Plan splits a listing into the objects that must be read (new, changed,
// or classified with other options) and the files whose cached results
// still hold.
func (s State) Plan(listing []Object, opts classify.Options) (read []Object, cached []File) {
	reuse := s.Classify == opts
	for _, o := range listing {
		e, ok := s.Files[o.Key]
		if reuse && ok && e.Fingerprint.Same(FingerprintOf(o)) {
			cached = append(cached, File{Object: o, Result: e.Result})
			continue
		}
		read = append(read, o)
	}
	return read, cached
}

// NewState returns the state recording files, which were classified with
// opts.
func NewState(files []File, opts classify.Options) State {
	s := State{Classify: opts, Files: make(map[string]Entry, len(files))}
	for _, f := range files {
		s.Files[f.Key] = Entry{Fingerprint: FingerprintOf(f.Object), Result: f.Result}
	}
	return s
}

// Source is storage to crawl: a lister and an opener of objects.
type Source interface {
	// List calls fn with every object under the include path.
	List(ctx context.Context, fn func(Object) error) error
	// Open opens an object for random access reads.
	Open(ctx context.Context, key string) (ReaderAtCloser, error)
}

// ReaderAtCloser is an opened object.
type ReaderAtCloser interface {
	io.ReaderAt
	io.Closer
}

// CrawlOptions configure Crawl.
type CrawlOptions struct {
	Layout   Options
	Classify classify.Options
	// Workers classify files concurrently; <= 0 is GOMAXPROCS.
	Workers int
	// Logger receives unreadable files and the summary; nil discards.
	Logger *slog.Logger
}

// CrawlResult is the outcome of Crawl.
type CrawlResult struct {
	Tables []TableSpec
	Report Report
	// State is for the next crawl.
	State State
	// Read is how many files were opened and classified; the rest came
	// from the previous State.
	Read int
}

// Crawl lists src, skips Hidden keys, classifies the files that prev does not cover
// (excluded keys are never read), and groups them. A file that cannot be
// read is reported as unclassified and left out of State, so the next
// crawl tries it again. It fails on listing errors, ctx, and
// ErrTooManyTables (then no tables are returned).
func Crawl(ctx context.Context, src Source, prev State, opts CrawlOptions) (CrawlResult, error) {
	if err := opts.Layout.Validate(); err != nil {
		return CrawlResult{}, err
	}
	globs, err := CompileGlobs(opts.Layout.Exclude)
	if err != nil {
		return CrawlResult{}, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	var listing []Object
	var excluded []Object
	err = src.List(ctx, func(o Object) error {
		if Hidden(o.Key) {
			return nil
		}
		if Excluded(globs, o.Key) {
			excluded = append(excluded, o)
			return nil
		}
		listing = append(listing, o)
		return nil
	})
	if err != nil {
		return CrawlResult{}, fmt.Errorf("crawl %s: list: %w", opts.Layout.Location, err)
	}
	read, files := prev.Plan(listing, opts.Classify)
	fresh, err := classifyAll(ctx, src, read, opts)
	if err != nil {
		return CrawlResult{}, err
	}
	files = append(files, fresh...)
	state := NewState(nil, opts.Classify)
	for _, f := range files {
		if strings.HasPrefix(f.Result.Reason, unreadable) {
			log.Warn("crawl file unreadable", "stage", "crawl", "location", opts.Layout.Location, "key", f.Key, "reason", f.Result.Reason)
			continue
		}
		state.Files[f.Key] = Entry{Fingerprint: FingerprintOf(f.Object), Result: f.Result}
	}
	for _, o := range excluded {
		files = append(files, File{Object: o}) // reported as excluded by Group
	}
	tables, rep, err := Group(files, opts.Layout)
	res := CrawlResult{Tables: tables, Report: rep, State: state, Read: len(read)}
	if err != nil {
		res.State = prev
		return res, err
	}
	log.Info("crawl grouped", "location", opts.Layout.Location, "tables", len(tables), "files", rep.Files,
		"read", len(read), "unclassified", len(rep.Unclassified), "excluded", len(rep.Excluded),
		"conflicts", len(rep.Conflicts), "elapsed", time.Since(start))
	return res, nil
}

const unreadable = "unreadable: "

// Hidden reports keys that crawls skip silently, as Glue, Hive and Spark
// do: any file or folder whose name starts with . or _ (_SUCCESS,
// _temporary/, .part-0.crc).
func Hidden(key string) bool {
	for seg := range strings.SplitSeq(key, "/") {
		if strings.HasPrefix(seg, ".") || strings.HasPrefix(seg, "_") {
			return true
		}
	}
	return false
}

func classifyAll(ctx context.Context, src Source, objs []Object, opts CrawlOptions) ([]File, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := make([]File, len(objs))
	eg, ctx := errgroup.WithContext(ctx)
	var next int
	var mu sync.Mutex
	for range min(workers, max(len(objs), 1)) {
		eg.Go(func() error {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(objs) {
					return nil
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				out[i] = File{Object: objs[i], Result: classifyOne(ctx, src, objs[i], opts.Classify)}
			}
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, fmt.Errorf("crawl %s: %w", opts.Layout.Location, err)
	}
	return out, nil
}

func classifyOne(ctx context.Context, src Source, o Object, opts classify.Options) classify.Result {
	r, err := src.Open(ctx, o.Key)
	if err != nil {
		return classify.Result{Format: classify.Unclassified, Reason: unreadable + err.Error()}
	}
	defer r.Close()
	res, err := classify.Classify(o.Key, r, o.Size, opts)
	if err != nil {
		return classify.Result{Format: classify.Unclassified, Reason: unreadable + err.Error()}
	}
	return res
}

// Dir is a Source over a local directory.
type Dir string

// List walks the directory; keys are slash-separated relative paths.
func (d Dir) List(ctx context.Context, fn func(Object) error) error {
	root := string(d)
	return filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !e.Type().IsRegular() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		relPath, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		return fn(Object{Key: filepath.ToSlash(relPath), Size: info.Size(), ModTime: info.ModTime()})
	})
}

// Open opens a file below the directory.
func (d Dir) Open(_ context.Context, key string) (ReaderAtCloser, error) {
	return os.Open(filepath.Join(string(d), filepath.FromSlash(key)))
}
