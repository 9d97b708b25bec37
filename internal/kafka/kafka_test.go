package kafka

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSASLHandshakes authenticates against kfake with SASL enabled, for
// every mechanism, and checks that a wrong password is refused.
func TestSASLHandshakes(t *testing.T) {
	for _, mech := range Mechanisms {
		t.Run(mech, func(t *testing.T) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser(mech, "admin", "s3cret"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ping := func(pass string) error {
				opts, err := Security{SASL: SASL{Mechanism: strings.ToLower(mech), Username: "admin", Password: pass}}.Opts()
				if err != nil {
					t.Fatal(err)
				}
				cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers(c.ListenAddrs()...))...)
				if err != nil {
					t.Fatal(err)
				}
				defer cl.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				return cl.Ping(ctx)
			}
			if err := ping("s3cret"); err != nil {
				t.Fatalf("%s with the right password: %v", mech, err)
			}
			if err := ping("wrong"); err == nil {
				t.Fatalf("%s with a wrong password succeeded", mech)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cases := map[string]Security{
		`kafka.sasl.mechanism: "GSSAPI" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`: {SASL: SASL{Mechanism: "GSSAPI"}},
		`kafka.sasl.username: required`:               {SASL: SASL{Mechanism: "PLAIN"}},
		`kafka.tls.cert_file and kafka.tls.key_file`:  {TLS: TLS{CertFile: "c.pem"}},
		`kafka.tls.ca_file: open /nonexistent/ca.pem`: {TLS: TLS{CAFile: "/nonexistent/ca.pem"}},
	}
	for want, s := range cases {
		_, err := s.Opts()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Opts(%+v) = %v, want %q", s, err, want)
		}
	}
	if opts, err := (Security{}).Opts(); err != nil || len(opts) != 0 {
		t.Fatalf("plaintext: %v %v", opts, err)
	}
}
