package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestCommandTree walks every command: each has --help, and each that has
// subcommands refuses an unknown one with an error (exit 1) rather than
// printing its help and exiting 0, suggesting the nearest name.
func TestCommandTree(t *testing.T) {
	var walk func(c *cobra.Command, path []string)
	groups := 0
	walk = func(c *cobra.Command, path []string) {
		out, err := execRoot(append(path, "--help")...)
		if err != nil || !strings.Contains(out, "Usage:") {
			t.Errorf("streamlake %s --help: %v\n%s", strings.Join(path, " "), err, out)
		}
		if c.HasSubCommands() {
			groups++
			_, err := execRoot(append(path, "bogus")...)
			if err == nil || !strings.Contains(err.Error(), `unknown command "bogus"`) {
				t.Errorf("streamlake %s bogus: %v, want an unknown command error", strings.Join(path, " "), err)
			}
		}
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				walk(sub, append(path[:len(path):len(path)], sub.Name()))
			}
		}
	}
	walk(newRoot(), nil)
	if groups < 6 {
		t.Fatalf("%d commands with subcommands, want the root, alarms, catalog, crawl, dlq, queries, status", groups)
	}
	_, err := execRoot("queries", "lst")
	if err == nil || !strings.Contains(err.Error(), `did you mean "list"?`) {
		t.Errorf("streamlake queries lst: %v, want a suggestion of list", err)
	}
}

// execRoot runs a fresh command tree in-process on args.
func execRoot(args ...string) (string, error) {
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}
