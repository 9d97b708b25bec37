package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/streamlake/streamlake/internal/config"
	"github.com/streamlake/streamlake/internal/etl/tables"
	"github.com/streamlake/streamlake/internal/kafka"
	"github.com/streamlake/streamlake/internal/query"
)

// app holds what every command shares: the loaded config and logger.
type app struct {
	configFile string
	cfg        config.Config
	tables     []*tables.Table // cfg's tables: section, compiled
	log        *slog.Logger
	// quiet lowers the default log level to warn for commands whose output
	// is for people (query, produce, demo); --log-level still wins.
	quiet bool
	// lagInterval is how often ingest refreshes its lag gauges (0: its
	// default); the demo wants them fresh within its few seconds.
	lagInterval time.Duration
}

func newRoot() *cobra.Command {
	a := &app{}
	root := &cobra.Command{
		Use:   "streamlake",
		Short: "Kafka topics to a cataloged, SQL-queryable Iceberg data lake, in one binary",
		Long: `streamlake runs the streaming data-lake pipeline as one binary:
producer -> Kafka -> ingest -> staging -> ETL -> Iceberg lake -> catalog -> SQL.

With no --brokers it uses an embedded Kafka-compatible broker, local storage
under --data-dir, a SQLite catalog and embedded DuckDB.

Configuration precedence (lowest first): defaults, --config YAML file,
STREAMLAKE_* environment variables (e.g. STREAMLAKE_KAFKA_BROKERS), flags.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.configFile, "config", "", "YAML config file (unknown keys are errors)")
	pf.String("data-dir", "", "directory holding all embedded state (default ./streamlake-data)")
	pf.String("log-level", "", "log level: debug, info, warn, error")
	pf.String("log-format", "", "log format: text, json (default: text on a terminal, json otherwise)")
	var cpuProfile string
	pf.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file (go tool pprof)")
	var memProfile string
	pf.StringVar(&memProfile, "memprofile", "", "write a memory profile (allocations and the heap in use) to this file when the command succeeds (go tool pprof)")
	var stopProfile func()
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if memProfile != "" {
			// Fail before the work, not after it.
			f, err := os.Create(memProfile)
			if err != nil {
				return fmt.Errorf("--memprofile: %w", err)
			}
			f.Close()
		}
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		return nil
	}
	root.PersistentPostRunE = func(*cobra.Command, []string) error {
		if stopProfile != nil {
			stopProfile()
		}
		if memProfile == "" {
			return nil
		}
		f, err := os.Create(memProfile)
		if err != nil {
			return fmt.Errorf("--memprofile: %w", err)
		}
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("--memprofile: %w", err)
		}
		return nil
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%s: %w (see '%s --help')", c.CommandPath(), err, c.CommandPath())
	})
	root.AddCommand(
		a.brokerCmd(),
		a.produceCmd(),
		a.runCmd(),
		a.queryCmd(),
		a.sqlCmd(),
		a.queriesCmd(),
		a.serveCmd(),
		a.crawlCmd(),
		a.demoCmd(),
		a.dlqCmd(),
		a.compactCmd(),
		a.statusCmd(),
		a.alarmsCmd(),
		a.catalogCmd(),
	)
	strictGroups(root)
	return root
}

// strictGroups makes each command that only groups others (alarms,
// catalog, dlq, queries) fail on an unknown subcommand, as the root does,
// instead of printing its help and exiting 0; without arguments it still
// prints its help.
func strictGroups(c *cobra.Command) {
	for _, sub := range c.Commands() {
		if !sub.Runnable() && sub.HasSubCommands() {
			sub.SuggestionsMinimumDistance = 2 // as the root's
			sub.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) == 0 {
					return cmd.Help()
				}
				err := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
				if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
					err += fmt.Sprintf("; did you mean %q?", s[0])
				}
				return fmt.Errorf("%s (see '%s --help')", err, cmd.CommandPath())
			}
		}
		strictGroups(sub)
	}
}

// load builds the config: defaults < file < env < flags. flagKeys maps a
// flag name to the config key it overrides.
func (a *app) load(cmd *cobra.Command, flagKeys map[string]string) error {
	defaults := config.Default()
	if a.quiet {
		defaults.Log.Level = "warn"
	}
	cfg, err := config.LoadOver(defaults, a.configFile, os.Environ())
	if err != nil {
		return err
	}
	keys := map[string]string{"data-dir": "data_dir", "log-level": "log.level", "log-format": "log.format"}
	for f, k := range flagKeys {
		keys[f] = k
	}
	var ferr error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		k, ok := keys[f.Name]
		if !ok || ferr != nil {
			return
		}
		if err := cfg.Set(k, f.Value.String()); err != nil {
			ferr = fmt.Errorf("--%s: %w", f.Name, err)
		}
	})
	if ferr != nil {
		return ferr
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := security(cfg).Validate(); err != nil {
		return err
	}
	if err := query.ValidateWorkgroups(workgroups(cfg)); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if a.tables, err = compileTables(cfg); err != nil {
		return err
	}
	a.cfg = cfg
	a.log = newLogger(os.Stderr, cfg.Log)
	return nil
}

// loadFormat loads the config of a command that prints data and checks
// its --format, returning it as query.ParseFormat normalizes it.
func (a *app) loadFormat(cmd *cobra.Command, flagKeys map[string]string, format string) (string, error) {
	if err := a.load(cmd, flagKeys); err != nil {
		return "", err
	}
	return query.ParseFormat(format)
}

// security is the Kafka TLS/SASL setting of cfg.
func security(cfg config.Config) kafka.Security {
	t, s := cfg.Kafka.TLS, cfg.Kafka.SASL
	return kafka.Security{
		TLS: kafka.TLS{Enabled: t.Enabled, CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile,
			InsecureSkipVerify: t.InsecureSkipVerify},
		SASL: kafka.SASL{Mechanism: s.Mechanism, Username: s.Username, Password: s.Password},
	}
}
