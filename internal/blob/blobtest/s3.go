// Package blobtest runs a real S3 server (versitygw) for tests, and the AWS
// CLI as a client nobody here wrote. Test-only: nothing outside _test.go
// files imports it.
package blobtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Credentials of the test server's root user.
const (
	AccessKey = "AKIASTREAMLAKETEST"
	SecretKey = "streamlake-test-secret"
	Region    = "us-east-1"
)

// S3 is a running versitygw on 127.0.0.1 with a posix backend in a temp dir.
type S3 struct {
	t        testing.TB
	bin      string
	root     string
	Endpoint string // http://127.0.0.1:PORT
	cmd      *exec.Cmd
}

// Versitygw finds the versitygw binary: on PATH or in $(go env GOPATH)/bin,
// where `make test` installs it.
func Versitygw() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw not found: run `make test`, which installs it (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
}

// StartS3 starts versitygw and sets the AWS_* environment (for the AWS SDK
// and CLI) for the rest of the test. It fails the test when versitygw or
// the AWS CLI is missing.
func StartS3(t testing.TB) *S3 {
	t.Helper()
	bin, err := Versitygw()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/usr/bin/aws"); err != nil {
		t.Fatal("/usr/bin/aws not found: run `make test`, which installs it (apt-get install -y awscli)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &S3{t: t, bin: bin, root: t.TempDir(), Endpoint: "http://" + addr}
	t.Setenv("AWS_ACCESS_KEY_ID", AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", SecretKey)
	t.Setenv("AWS_REGION", Region)
	t.Setenv("AWS_DEFAULT_REGION", Region)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start (re)starts the server on the same address and data.
func (s *S3) Start() {
	s.t.Helper()
	addr := strings.TrimPrefix(s.Endpoint, "http://")
	s.cmd = exec.Command(s.bin, "--access", AccessKey, "--secret", SecretKey, "--region", Region,
		"--port", addr, "posix", s.root)
	s.cmd.Stdout, s.cmd.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("versitygw not listening on %s: %v\n%s", addr, err, s.cmd.Stderr)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// Stop stops the server (an outage); Start brings it back.
func (s *S3) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// BucketURL is the gocloud.dev URL of a bucket on this server.
func (s *S3) BucketURL(bucket string) string {
	return fmt.Sprintf("s3://%s?endpoint=%s&use_path_style=true&region=%s", bucket, s.Endpoint, Region)
}

// AWS runs the AWS CLI against the server and returns its output.
func (s *S3) AWS(args ...string) string {
	s.t.Helper()
	cmd := exec.Command("/usr/bin/aws", append([]string{"--endpoint-url", s.Endpoint}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// MakeBucket creates a bucket with the AWS CLI.
func (s *S3) MakeBucket(bucket string) {
	s.t.Helper()
	s.AWS("s3", "mb", "s3://"+bucket)
}
