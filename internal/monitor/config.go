package monitor

import (
	"fmt"
	"time"
)

// Config is the monitor section of the streamlake config.
type Config struct {
	// SampleInterval is how often the metrics registry is sampled.
	SampleInterval time.Duration `yaml:"sample_interval"`
	// HistoryRetention is how long 1-minute metric datapoints are kept.
	HistoryRetention time.Duration `yaml:"history_retention"`
	// MaxSeries bounds how many series the history keeps; more are not recorded.
	MaxSeries int `yaml:"max_series"`
	// MaxTransitions bounds the alarm state history kept per alarm.
	MaxTransitions int `yaml:"max_transitions"`
	// StallWindow is how long a topic must have records arriving (or lag)
	// with no row committed to its table before streamlake_monitor_stalled is 1.
	StallWindow time.Duration `yaml:"stall_window"`
	// DefaultAlarms adds DefaultAlarms() to Alarms (a configured alarm of the
	// same name replaces the default one).
	DefaultAlarms bool `yaml:"default_alarms"`
	// Webhooks receive the notifications of every default alarm.
	Webhooks   []string         `yaml:"webhooks"`
	Alarms     []AlarmSpec      `yaml:"alarms"`
	CloudWatch CloudWatchConfig `yaml:"cloudwatch"`
}

// CloudWatchConfig enables export to AWS CloudWatch when Namespace is set.
type CloudWatchConfig struct {
	Namespace string `yaml:"namespace"`
	Region    string `yaml:"region"`
	// Endpoint overrides the CloudWatch endpoint (e.g. a local moto_server).
	Endpoint string `yaml:"endpoint"`
	// Interval is how often datapoints are sent; a multiple of one minute.
	Interval time.Duration `yaml:"interval"`
}

// Enabled reports whether CloudWatch export is configured.
func (c CloudWatchConfig) Enabled() bool { return c.Namespace != "" }

// Default returns the defaults: 10s sampling, 24h of history, default alarms
// on, CloudWatch export off.
func Default() Config {
	return Config{
		SampleInterval:   10 * time.Second,
		HistoryRetention: 24 * time.Hour,
		MaxSeries:        500,
		MaxTransitions:   1000,
		StallWindow:      time.Minute,
		DefaultAlarms:    true,
		CloudWatch:       CloudWatchConfig{Region: "us-east-1", Interval: time.Minute},
	}
}

// Validate reports the first invalid key, naming it and what is allowed.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("monitor.%s: "+format, append([]any{key}, args...)...)
	}
	switch {
	case c.SampleInterval < 100*time.Millisecond || c.SampleInterval > time.Minute:
		return bad("sample_interval", "%s is out of range 100ms..1m", c.SampleInterval)
	case c.HistoryRetention < 24*time.Hour || c.HistoryRetention > 31*24*time.Hour:
		return bad("history_retention", "%s is out of range 24h..744h", c.HistoryRetention)
	case c.MaxSeries < 1 || c.MaxSeries > 100_000:
		return bad("max_series", "%d is out of range 1..100000", c.MaxSeries)
	case c.MaxTransitions < 1 || c.MaxTransitions > 1_000_000:
		return bad("max_transitions", "%d is out of range 1..1000000", c.MaxTransitions)
	case c.StallWindow < c.SampleInterval || c.StallWindow > 24*time.Hour:
		return bad("stall_window", "%s is out of range sample_interval (%s)..24h", c.StallWindow, c.SampleInterval)
	}
	for _, u := range c.Webhooks {
		if !validURL(u) {
			return bad("webhooks", "%q is not an http:// or https:// URL", u)
		}
	}
	seen := map[string]bool{}
	for i := range c.Alarms {
		a := &c.Alarms[i]
		if err := a.Validate(); err != nil {
			return fmt.Errorf("monitor.alarms[%d]: %w", i, err)
		}
		if a.Period < c.SampleInterval {
			return fmt.Errorf("monitor.alarms[%d]: alarm %q: period: %s is shorter than monitor.sample_interval (%s)", i, a.Name, a.Period, c.SampleInterval)
		}
		if seen[a.Name] {
			return fmt.Errorf("monitor.alarms[%d]: alarm %q: name: defined twice", i, a.Name)
		}
		seen[a.Name] = true
	}
	cw := c.CloudWatch
	if cw.Enabled() {
		switch {
		case cw.Region == "":
			return bad("cloudwatch.region", "must be set when cloudwatch.namespace is set")
		case cw.Interval < time.Minute || cw.Interval%time.Minute != 0:
			return bad("cloudwatch.interval", "%s must be a whole number of minutes", cw.Interval)
		case cw.Endpoint != "" && !validURL(cw.Endpoint):
			return bad("cloudwatch.endpoint", "%q is not an http:// or https:// URL", cw.Endpoint)
		case len(cw.Namespace) > 255 || cw.Namespace[0] == ':' || len(cw.Namespace) >= 4 && cw.Namespace[:4] == "AWS/":
			return bad("cloudwatch.namespace", "%q must be 1-255 characters and not start with AWS/ or :", cw.Namespace)
		}
	}
	return nil
}

// AllAlarms returns the alarms the engine runs: the configured ones, plus
// the defaults (with the config's webhooks) when DefaultAlarms is set.
func (c *Config) AllAlarms() []AlarmSpec {
	out := append([]AlarmSpec(nil), c.Alarms...)
	if !c.DefaultAlarms {
		return out
	}
	have := map[string]bool{}
	for _, a := range out {
		have[a.Name] = true
	}
	for _, d := range DefaultAlarms(c.StallWindow, c.SampleInterval) {
		if have[d.Name] {
			continue
		}
		d.Actions.Webhooks = append(d.Actions.Webhooks, c.Webhooks...)
		out = append(out, d)
	}
	return out
}
