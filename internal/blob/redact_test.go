package blob

import (
	"context"
	"strings"
	"testing"
)

// TestOpenErrorsHideCredentials opens bucket URLs that carry credentials
// in their user info or query and fail (bad scheme, unparsable, unknown
// option) and checks the errors name the bucket but not the secret.
func TestOpenErrorsHideCredentials(t *testing.T) {
	for _, u := range []string{
		"gs://AKIAEXAMPLE:s3cret-key@bucket/prefix",
		"s3://AKIAEXAMPLE:s3cret-key@bucket:bad port/x",
		"s3://bucket/prefix?secret_access_key=s3cret-key&region=us-east-1",
	} {
		b, err := Open(context.Background(), u)
		if err == nil {
			b.Close()
			t.Fatalf("%s: opened", u)
		}
		if msg := err.Error(); strings.Contains(msg, "s3cret") || !strings.Contains(msg, "bucket") {
			t.Errorf("%s: error %q shows the secret or does not name the bucket", u, msg)
		}
	}
	if got := redact("s3://id:s3cret@bucket/a@b?x=1"); got != "s3://xxxxx@bucket/a@b" {
		t.Errorf("redact = %s", got)
	}
}
