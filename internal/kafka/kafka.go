// Package kafka turns connection settings (TLS, SASL) into franz-go client
// options, so every stage that talks to Kafka connects the same way.
// Functions here are pure; files (CA, certificate, key) are read when Opts
// is called and errors name the file.
package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Security is how a client authenticates and encrypts.
type Security struct {
	TLS  TLS
	SASL SASL
}

// TLS enables TLS when Enabled or when any file is set.
type TLS struct {
	Enabled            bool
	CAFile             string // PEM CA bundle; empty uses the system pool
	CertFile, KeyFile  string // client certificate, for mutual TLS
	InsecureSkipVerify bool
}

// SASL authenticates with PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
type SASL struct {
	Mechanism          string
	Username, Password string
}

// Mechanisms are the SASL mechanisms supported.
var Mechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}

// Validate reports the first invalid setting, naming its config key.
func (s Security) Validate() error {
	if s.SASL.Mechanism != "" {
		m := strings.ToUpper(s.SASL.Mechanism)
		ok := false
		for _, x := range Mechanisms {
			ok = ok || m == x
		}
		if !ok {
			return fmt.Errorf("config: kafka.sasl.mechanism: %q is not one of %s", s.SASL.Mechanism, strings.Join(Mechanisms, ", "))
		}
		if s.SASL.Username == "" {
			return fmt.Errorf("config: kafka.sasl.username: required with kafka.sasl.mechanism %s", m)
		}
	}
	if (s.TLS.CertFile == "") != (s.TLS.KeyFile == "") {
		return fmt.Errorf("config: kafka.tls.cert_file and kafka.tls.key_file: set both or neither")
	}
	return nil
}

// Opts returns the client options for s (none for plaintext without SASL).
func (s Security) Opts() ([]kgo.Opt, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var opts []kgo.Opt
	t := s.TLS
	if t.Enabled || t.CAFile != "" || t.CertFile != "" || t.InsecureSkipVerify {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // opt-in
		if t.CAFile != "" {
			pem, err := os.ReadFile(t.CAFile)
			if err != nil {
				return nil, fmt.Errorf("kafka.tls.ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("kafka.tls.ca_file %s: no PEM certificates", t.CAFile)
			}
			cfg.RootCAs = pool
		}
		if t.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("kafka.tls.cert_file/key_file: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	a := s.SASL
	switch strings.ToUpper(a.Mechanism) {
	case "":
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: a.Username, Pass: a.Password}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: a.Username, Pass: a.Password}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: a.Username, Pass: a.Password}.AsSha512Mechanism()))
	}
	return opts, nil
}
