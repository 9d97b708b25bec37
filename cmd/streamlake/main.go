// Command streamlake turns Kafka topics into a cataloged, SQL-queryable data
// lake. This package only wires the stages in internal/ together: flags,
// config loading, lifecycle.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := newRoot().ExecuteContext(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			os.Exit(130)
		}
		// One clear line, never a stack trace.
		fmt.Fprintln(os.Stderr, "streamlake: "+strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " "))
		os.Exit(1)
	}
}
