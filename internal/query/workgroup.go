package query

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"time"
)

// PrimaryWorkgroup is the workgroup that always exists and that a query
// without one runs in.
const PrimaryWorkgroup = "primary"

// DefaultConcurrency is a workgroup's concurrency when it sets none.
const DefaultConcurrency = 4

// Workgroup is a named set of limits and a results location that queries
// run under (Athena's workgroups), configured under workgroups:.
type Workgroup struct {
	Name string `yaml:"name" json:"name"`
	// ResultsLocation is the local directory (a path or file:// URL) where
	// results are saved; "" is <results dir>/<name> (see ServiceConfig).
	ResultsLocation string `yaml:"results_location" json:"results_location,omitempty"`
	// BytesScannedLimit refuses, before it runs, a query whose planned data
	// files total more bytes; 0 is no limit.
	BytesScannedLimit int64 `yaml:"bytes_scanned_limit" json:"bytes_scanned_limit,omitempty"`
	// Concurrency is how many of the workgroup's queries run at once; the
	// others wait QUEUED. 0 is DefaultConcurrency.
	Concurrency int `yaml:"concurrency" json:"concurrency,omitempty"`
	// MemoryLimit caps DuckDB's memory per query, in DuckDB syntax (512MB,
	// 2GB, 1.5GiB); "" is the engine's setting.
	MemoryLimit string `yaml:"memory_limit" json:"memory_limit,omitempty"`
	// Timeout fails a query that plans and runs for longer; 0 is none.
	Timeout time.Duration `yaml:"timeout" json:"timeout,omitempty"`
}

// DefaultWorkgroups is the primary workgroup with default settings.
func DefaultWorkgroups() []Workgroup {
	return []Workgroup{{Name: PrimaryWorkgroup}}
}

var (
	workgroupName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	memorySize    = regexp.MustCompile(`^(?i)[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)$`)
)

// Validate checks w; errors name the field (workgroups[name].field).
func (w Workgroup) Validate() error {
	if !workgroupName.MatchString(w.Name) {
		return fmt.Errorf("workgroups: name %q must be 1-128 letters, digits, '.', '_' or '-'", w.Name)
	}
	field := func(f string) string { return "workgroups[" + w.Name + "]." + f }
	if w.ResultsLocation != "" {
		if _, err := localPath(w.ResultsLocation); err != nil {
			return fmt.Errorf("%s: %w", field("results_location"), err)
		}
	}
	if w.BytesScannedLimit < 0 {
		return fmt.Errorf("%s: %d is negative (0 is no limit)", field("bytes_scanned_limit"), w.BytesScannedLimit)
	}
	if w.Concurrency < 0 {
		return fmt.Errorf("%s: %d is negative (0 is the default, %d)", field("concurrency"), w.Concurrency, DefaultConcurrency)
	}
	if w.MemoryLimit != "" && !memorySize.MatchString(w.MemoryLimit) {
		return fmt.Errorf("%s: %q is not a size such as 512MB or 2GB", field("memory_limit"), w.MemoryLimit)
	}
	if w.Timeout < 0 {
		return fmt.Errorf("%s: %s is negative (0 is none)", field("timeout"), w.Timeout)
	}
	return nil
}

// ValidateWorkgroups checks each workgroup and that names are unique.
func ValidateWorkgroups(wgs []Workgroup) error {
	seen := map[string]bool{}
	var errs []error
	for _, w := range wgs {
		if err := w.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[w.Name] {
			errs = append(errs, fmt.Errorf("workgroups: %q is defined twice", w.Name))
		}
		seen[w.Name] = true
	}
	return errors.Join(errs...)
}

// withDefaults fills the defaults of w given the service's results dir.
func (w Workgroup) withDefaults(resultsDir string) (Workgroup, error) {
	if w.Concurrency == 0 {
		w.Concurrency = DefaultConcurrency
	}
	if w.ResultsLocation == "" {
		w.ResultsLocation = filepath.Join(resultsDir, w.Name)
	}
	dir, err := localPath(w.ResultsLocation)
	if err != nil {
		return w, fmt.Errorf("workgroups[%s].results_location: %w", w.Name, err)
	}
	w.ResultsLocation = dir
	return w, nil
}
