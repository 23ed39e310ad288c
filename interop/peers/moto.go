package peers

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Moto is a moto_server (PyPI moto[server]) on 127.0.0.1 serving AWS Glue: the real peer
// the Glue adapter and its stand-in (gluecat/gluetest) are checked against. moto checks no
// signatures; the keys below are what every client is configured with.
type Moto struct {
	Endpoint        string // http://127.0.0.1:port
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	Version         string
	Proc            *Process
}

// StartMoto installs (or reuses) the virtualenv and starts moto_server until the test ends.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	py := Venv(t)
	port := FreePort(t)
	m := &Moto{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), Region: "us-east-1",
		AccessKeyID: "AKIAMOTOINTEROP", SecretAccessKey: "moto-interop-secret",
		Version: py.Pinned(t, "moto"),
	}
	m.Proc = Start(t, Spec{
		Name:    "moto_server " + m.Version,
		Command: filepath.Join(py.Dir, "bin", "moto_server"),
		Args:    []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)},
		Ready: HTTPReady(m.Endpoint+"/moto-api/data.json", func(status int) bool {
			return status == http.StatusOK
		}),
		StartTimeout: 60 * time.Second,
	})
	return m
}

// Reset empties every moto backend (POST /moto-api/reset): a fresh, empty Glue catalog.
func (m *Moto) Reset(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.Endpoint+"/moto-api/reset", nil)
	if err != nil {
		t.Fatalf("peers: moto reset: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("peers: moto reset: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("peers: moto reset: %d", resp.StatusCode)
	}
}
