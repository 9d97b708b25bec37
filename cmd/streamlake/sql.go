package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/peterh/liner"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/streamlake/streamlake/internal/query"
)

func (a *app) sqlCmd() *cobra.Command {
	var format, workgroup string
	var stats bool
	cmd := &cobra.Command{
		Use:   "sql",
		Short: "Interactive SQL shell over lake and raw tables, with line editing and history",
		Long: `Reads SQL statements and runs each as a query execution (see streamlake
query and streamlake queries). A statement ends with ';' and may span lines.

On a terminal: line editing, history (Up/Down, Ctrl-R; kept in
<data-dir>/sql_history), Ctrl-C abandons the statement being typed or cancels
the running query, Ctrl-D or \q quits. Meta commands, alone on a line:
  \format table|csv|json   output format
  \workgroup NAME          workgroup of the next statements
  \l                       databases (SHOW DATABASES)
  \dt [DB]                 tables (SHOW TABLES [IN DB])
  \d DB.TABLE              a table's columns (DESCRIBE DB.TABLE)
  \q, exit, quit           quit
  \?                       help

When standard input or output is not a terminal, statements are read from
standard input without line editing (a last statement may omit ';') and the
exit status is 1 if any failed.`,
		Example: `  streamlake sql
  echo "SELECT count(*) FROM lake.sensors;" | streamlake sql --format csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.quiet = true
			f, err := a.loadFormat(cmd, nil, format)
			if err != nil {
				return err
			}
			svc, closeSvc, err := a.openService(cmd.Context())
			if err != nil {
				return err
			}
			defer closeSvc()
			if _, ok := svc.Workgroup(workgroup); !ok {
				return fmt.Errorf("--workgroup: workgroup %q does not exist", workgroup)
			}
			sh := &shell{svc: svc, format: f, workgroup: workgroup, stats: stats, out: cmd.OutOrStdout(), errw: cmd.ErrOrStderr()}
			// Line editing needs a terminal on both sides.
			if in := cmd.InOrStdin(); in != os.Stdin || !term.IsTerminal(int(os.Stdin.Fd())) || !isTerminal(sh.out) {
				return sh.script(cmd.Context(), in)
			}
			return sh.interactive(cmd.Context(), filepath.Join(a.cfg.DataDir, "sql_history"))
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, csv, json (\\format changes it)")
	cmd.Flags().StringVar(&workgroup, "workgroup", query.PrimaryWorkgroup, "workgroup of the statements (\\workgroup changes it)")
	cmd.Flags().BoolVar(&stats, "stats", false, "print each execution's id, time and bytes scanned on stderr (always on a terminal)")
	return cmd
}

// shell runs the statements of streamlake sql.
type shell struct {
	svc       *query.Service
	format    string
	workgroup string
	stats     bool
	out, errw io.Writer
}

// script runs the statements read from in; it fails if any failed.
func (sh *shell) script(ctx context.Context, in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var pending string
	var total, failed int
	run := func(stmts []string) error {
		for _, s := range stmts {
			total++
			if err := sh.run(ctx, s); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				failed++
			}
		}
		return nil
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(pending) == "" && isMeta(line) {
			quit, stmt := sh.meta(line)
			if quit {
				break
			}
			if stmt != "" {
				if err := run([]string{stmt}); err != nil {
					return err
				}
			}
			continue
		}
		stmts, rest := splitStatements(pending + line + "\n")
		pending = rest
		if err := run(stmts); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("sql: read statements: %w", err)
	}
	// A last statement may omit its ';'.
	stmts, rest := splitStatements(pending + "\n;")
	if err := run(stmts); err != nil {
		return err
	}
	if strings.TrimSpace(rest) != "" {
		total++
		failed++
		fmt.Fprintf(sh.errw, "unterminated quoted text or comment at the end of the input: %.40q\n", rest)
	}
	if failed > 0 {
		return fmt.Errorf("sql: %d of %d statements failed", failed, total)
	}
	return nil
}

// interactive is the line-editing shell on a terminal.
func (sh *shell) interactive(ctx context.Context, historyPath string) error {
	// Ctrl-C while a query runs cancels it, not the shell: the session does
	// not end with the command's context, which SIGINT cancels.
	session, cancelSession := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSession()
	ln := liner.NewLiner()
	defer ln.Close()
	ln.SetCtrlCAborts(true)
	ln.SetMultiLineMode(true)
	if f, err := os.Open(historyPath); err == nil {
		ln.ReadHistory(f)
		f.Close()
	}
	var prompting atomic.Bool
	sigterm := make(chan os.Signal, 1)
	signal.Notify(sigterm, syscall.SIGTERM)
	defer signal.Stop(sigterm)
	go func() {
		select {
		case <-sigterm:
		case <-session.Done():
			return
		}
		cancelSession() // a running query is cancelled; the loop then ends
		if prompting.Load() {
			ln.Close() // restores the terminal
			os.Exit(143)
		}
	}()

	fmt.Fprintln(sh.errw, `streamlake sql: statements end with ';'. \? for help, \q or Ctrl-D to quit.`)
	var pending string
	for session.Err() == nil {
		prompt := "sql> "
		if strings.TrimSpace(pending) != "" {
			prompt = "  -> "
		}
		prompting.Store(true)
		line, err := ln.Prompt(prompt)
		prompting.Store(false)
		switch {
		case errors.Is(err, liner.ErrPromptAborted):
			pending = ""
			continue
		case errors.Is(err, io.EOF):
			fmt.Fprintln(sh.out)
			return nil
		case err != nil:
			return fmt.Errorf("sql: %w", err)
		}
		if strings.TrimSpace(pending) == "" && isMeta(line) {
			quit, stmt := sh.meta(line)
			if quit {
				return nil
			}
			if stmt != "" {
				sh.runInterruptible(session, stmt)
			}
			continue
		}
		stmts, rest := splitStatements(pending + line + "\n")
		pending = rest
		for _, s := range stmts {
			ln.AppendHistory(strings.Join(strings.Fields(s), " ") + ";")
			if err := saveHistory(ln, historyPath); err != nil {
				fmt.Fprintf(sh.errw, "history: %v\n", err)
			}
			sh.runInterruptible(session, s)
		}
	}
	return nil
}

// runInterruptible runs one statement; SIGINT cancels it.
func (sh *shell) runInterruptible(ctx context.Context, sql string) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	intr := make(chan os.Signal, 1)
	signal.Notify(intr, os.Interrupt)
	defer signal.Stop(intr)
	go func() {
		select {
		case <-intr:
			cancel()
		case <-ctx.Done():
		}
	}()
	sh.run(ctx, sql)
}

func saveHistory(ln *liner.State, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := ln.WriteHistory(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// run runs one statement and prints its result, or its error on errw.
func (sh *shell) run(ctx context.Context, sql string) error {
	x, err := execute(ctx, sh.svc, query.StartInput{SQL: sql, Workgroup: sh.workgroup}, sh.errw)
	if err == nil {
		err = printExecution(ctx, sh.svc, x, sh.format, sh.out, sh.errw, sh.stats)
	} else if x.ID != "" {
		err = failure(x) // cancelled
	}
	if err != nil {
		fmt.Fprintln(sh.errw, err)
		return err
	}
	if sh.format == query.FormatTable {
		fmt.Fprintln(sh.out)
	}
	return nil
}

// isMeta reports whether line is a meta command rather than SQL.
func isMeta(line string) bool {
	l := strings.TrimSuffix(strings.TrimSpace(line), ";")
	return strings.HasPrefix(l, `\`) || strings.EqualFold(l, "exit") || strings.EqualFold(l, "quit")
}

// meta runs a meta command and reports whether the shell should quit, or
// returns the statement a listing command (\l, \dt, \d) stands for.
func (sh *shell) meta(line string) (quit bool, stmt string) {
	fields := strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), ";"))
	switch cmd := strings.ToLower(fields[0]); {
	case cmd == `\q` || cmd == "exit" || cmd == "quit":
		return true, ""
	case cmd == `\l` && len(fields) == 1:
		return false, "SHOW DATABASES"
	case cmd == `\dt` && len(fields) <= 2:
		if len(fields) == 2 {
			return false, "SHOW TABLES IN " + fields[1]
		}
		return false, "SHOW TABLES"
	case cmd == `\d` && len(fields) == 2:
		return false, "DESCRIBE " + fields[1]
	case cmd == `\format` && len(fields) == 2:
		f, err := query.ParseFormat(fields[1])
		if err != nil {
			fmt.Fprintln(sh.errw, strings.TrimPrefix(err.Error(), "--format: "))
			return false, ""
		}
		sh.format = f
		fmt.Fprintf(sh.errw, "output format is %s\n", f)
	case cmd == `\workgroup` && len(fields) == 2:
		if _, ok := sh.svc.Workgroup(fields[1]); !ok {
			fmt.Fprintf(sh.errw, "workgroup %q does not exist\n", fields[1])
			return false, ""
		}
		sh.workgroup = fields[1]
		fmt.Fprintf(sh.errw, "workgroup is %s\n", sh.workgroup)
	case cmd == `\?` || cmd == `\h` || cmd == `\help`:
		fmt.Fprintln(sh.errw, `statements end with ';' and may span lines
  \format table|csv|json   output format (now `+sh.format+`)
  \workgroup NAME          workgroup (now `+sh.workgroup+`)
  \l                       databases (SHOW DATABASES)
  \dt [DB]                 tables (SHOW TABLES [IN DB])
  \d DB.TABLE              a table's columns (DESCRIBE DB.TABLE)
  \q, exit, quit, Ctrl-D   quit`)
	default:
		fmt.Fprintf(sh.errw, "unknown command %s (\\? for help)\n", strings.Join(fields, " "))
	}
	return false, ""
}

// splitStatements returns the complete statements of text (those ended by
// a ';' outside quotes and comments, without it, and not empty) and the text
// after the last one. It knows '...', "...", $tag$...$tag$, -- and /* */.
func splitStatements(text string) (stmts []string, rest string) {
	start := 0
	content := false // a statement has something besides space and comments
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\'' || c == '"':
			content = true
			i = skipQuote(text, i)
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				return stmts, text[start:]
			}
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			j := strings.Index(text[i+2:], "*/")
			if j < 0 {
				return stmts, text[start:]
			}
			i += 2 + j + 2
		case c == '$':
			content = true
			if tag, ok := dollarTag(text[i:]); ok {
				j := strings.Index(text[i+len(tag):], tag)
				if j < 0 {
					return stmts, text[start:]
				}
				i += 2*len(tag) + j
			} else {
				i++
			}
		case c == ';':
			if s := strings.TrimSpace(text[start:i]); content && s != "" {
				stmts = append(stmts, s)
			}
			i++
			start, content = i, false
		default:
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				content = true
			}
			i++
		}
		if i > len(text) { // an unterminated quote
			return stmts, text[start:]
		}
	}
	return stmts, text[start:]
}

// skipQuote returns the index after the quoted text starting at text[i]
// (doubled quotes escape), or len(text)+1 if it is not terminated.
func skipQuote(text string, i int) int {
	q := text[i]
	for j := i + 1; j < len(text); j++ {
		if text[j] == q {
			if j+1 < len(text) && text[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(text) + 1
}

// dollarTag is the opening $tag$ (or $$) at the start of s, if any.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '$':
			return s[:j+1], true
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 1 && c >= '0' && c <= '9':
		default:
			return "", false
		}
	}
	return "", false
}
