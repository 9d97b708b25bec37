package ingest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"gocloud.dev/blob"

	"github.com/streamlake/streamlake/internal/ingest"
	"github.com/streamlake/streamlake/internal/kafka"
)

// pki is a throwaway CA with a server certificate for 127.0.0.1 and a
// client certificate, written as PEM files.
type pki struct {
	caFile, certFile, keyFile string // client side
	serverCert                tls.Certificate
	pool                      *x509.CertPool
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "streamlake test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP) (certPEM, keyPEM []byte) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalECPrivateKey(key)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	}
	p := pki{pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	write := func(name string, b []byte) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	p.caFile = write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	scert, skey := issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1")})
	if p.serverCert, err = tls.X509KeyPair(scert, skey); err != nil {
		t.Fatal(err)
	}
	ccert, ckey := issue(3, "ingest", x509.ExtKeyUsageClientAuth, nil)
	p.certFile, p.keyFile = write("client.pem", ccert), write("client.key", ckey)
	return p
}

// TestIngestOverMutualTLS consumes from a kfake broker that requires a
// client certificate signed by the test CA: records produced by kcat over
// SSL (a client nobody here wrote) are staged by an ingester whose TLS
// options come from the config settings (CA file, client cert and key),
// and a client without a certificate is refused.
func TestIngestOverMutualTLS(t *testing.T) {
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Fatal("kcat is not installed: run `make test`, which installs it (apt-get install -y kcat)")
	}
	p := newPKI(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "events"),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{p.serverCert}, ClientCAs: p.pool,
			ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]

	var lines strings.Builder
	for i := range 200 {
		fmt.Fprintf(&lines, "k%d:{\"id\":\"%d\"}\n", i, i)
	}
	kcat := exec.Command("kcat", "-P", "-b", addr, "-t", "events", "-K", ":", "-H", "src=test",
		"-X", "security.protocol=ssl", "-X", "ssl.ca.location="+p.caFile,
		"-X", "ssl.certificate.location="+p.certFile, "-X", "ssl.key.location="+p.keyFile)
	kcat.Stdin = strings.NewReader(lines.String())
	if out, err := kcat.CombinedOutput(); err != nil {
		t.Fatalf("kcat over TLS: %v: %s", err, out)
	}

	newIn := func(sec kafka.Security, b *blob.Bucket) *ingest.Ingester {
		opts, err := sec.Opts()
		if err != nil {
			t.Fatal(err)
		}
		in, err := ingest.New(ingest.Config{
			Brokers: []string{addr}, Topics: []string{"events"}, Group: "g", Start: "earliest",
			FlushRecords: 1000, FlushBytes: 1 << 20, FlushInterval: 100 * time.Millisecond, ClientOpts: opts,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}, b)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}

	noCert := newIn(kafka.Security{TLS: kafka.TLS{CAFile: p.caFile}}, bucket(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := noCert.Ping(ctx); err == nil {
		t.Fatal("a client without a certificate was let in")
	}

	b := bucket(t)
	in := newIn(kafka.Security{TLS: kafka.TLS{CAFile: p.caFile, CertFile: p.certFile, KeyFile: p.keyFile}}, b)
	runUntilIdle(t, in)
	if recs, _ := staged(t, b); len(recs) != 200 {
		t.Fatalf("%d records staged over mutual TLS, want 200", len(recs))
	}
}
