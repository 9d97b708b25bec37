package catalog

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestOpenErrorsHideThePassword opens catalogs that fail (an unparsable
// port, an unreachable server, an unsupported scheme) and checks that no
// error shows the password, while each still names the catalog.
func TestOpenErrorsHideThePassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, uri := range []string{
		"postgres://alice:s3cret@127.0.0.1:notaport/lake",
		"postgres://alice:s3cret@127.0.0.1:1/lake?sslmode=disable&connect_timeout=2",
		"postgresql://alice@127.0.0.1:1/lake?sslmode=disable&password=s3cret&connect_timeout=2",
		"mysql://alice:s3cret@127.0.0.1:1/lake",
	} {
		s, err := Open(ctx, uri, "file://"+t.TempDir())
		if err == nil {
			s.Close()
			t.Fatalf("%s: opened", uri)
		}
		msg := err.Error()
		if strings.Contains(msg, "s3cret") {
			t.Errorf("error shows the password: %s", msg)
		}
		if !strings.Contains(msg, "alice") || !strings.Contains(msg, "127.0.0.1") {
			t.Errorf("error does not name the catalog: %s", msg)
		}
	}
}
