package peers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// JavaSDKVersion is the io.lakefs:sdk release interop/java/sdk-client/pom.xml pins: the newest
// one Maven Central serves here. It predates the generated RemotesApi class, so the client
// program calls the remotes endpoints through the SDK's ApiClient (see RemotesCall.java).
const JavaSDKVersion = "1.53.1"

// SDKAuth are the credentials RunJavaSDK sends: HTTP basic when the keys are set, otherwise
// the bearer Token (a lakeFS JWT).
type SDKAuth struct {
	AccessKeyID, SecretAccessKey, Token string
}

// RunJavaSDK runs one push or pull (op) on remote catalog through the official lakeFS Java
// SDK against baseURL (e.g. http://127.0.0.1:port/api/v1) and returns the HTTP status the SDK
// saw (0 when it got no answer) and the response body (lakeFS's {"message": ...} on errors).
func RunJavaSDK(t testing.TB, baseURL string, auth SDKAuth, op, catalog string, requestJSON []byte) (status int, body string) {
	t.Helper()
	cp := javaSDKClasspath(t)
	java, jvm := JavaCommand(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, java, append(jvm, "-cp", cp, "interop.RemotesCall", baseURL, op, catalog)...)
	cmd.Env = append(baseEnv(),
		"LAKEFS_ACCESS_KEY_ID="+auth.AccessKeyID,
		"LAKEFS_SECRET_ACCESS_KEY="+auth.SecretAccessKey,
		"LAKEFS_TOKEN="+auth.Token)
	cmd.Stdin = bytes.NewReader(requestJSON)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("peers: java sdk %s: %v\n%s", op, err, tail(stderr.String(), 30))
	}
	first, rest, _ := strings.Cut(stdout.String(), "\n")
	code, ok := strings.CutPrefix(first, "STATUS ")
	if !ok {
		t.Fatalf("peers: java sdk %s printed no status:\n%s\n%s", op, stdout.String(), tail(stderr.String(), 30))
	}
	status, err := strconv.Atoi(strings.TrimSpace(code))
	if err != nil {
		t.Fatalf("peers: java sdk %s: %v", op, err)
	}
	Logf(t, "lakeFS Java SDK %s %s on %q: HTTP %d (%s)", JavaSDKVersion, op, catalog, status, time.Since(began).Round(10*time.Millisecond))
	return status, strings.TrimSpace(rest)
}

// javaSDKClasspath returns the client program's classpath: the SDK's runtime classpath
// (Maven, cached) and the program compiled with javac into the cache, keyed by a hash of its
// source and the classpath so that an edit recompiles it.
func javaSDKClasspath(t testing.TB) string {
	t.Helper()
	deps := MavenClasspath(t, "sdk-client")
	src := filepath.Join(JavaDir(t, "sdk-client"), "src", "main", "java", "interop", "RemotesCall.java")
	code, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	sum := sha256.Sum256(append(code, deps...))
	classes := filepath.Join(CacheDir(t, "sdk-client"), "classes-"+hex.EncodeToString(sum[:8]))
	WithInstallLock(t, "sdk-client-javac", func() {
		if _, err := os.Stat(filepath.Join(classes, "interop", "RemotesCall.class")); err == nil {
			return
		}
		javac := "javac"
		if home := os.Getenv("JAVA_HOME"); home != "" {
			javac = filepath.Join(home, "bin", "javac")
		}
		tmp := classes + ".tmp"
		_ = os.RemoveAll(tmp)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, javac, "--release", "17", "-cp", deps, "-d", tmp, src).CombinedOutput()
		if err != nil {
			t.Fatalf("peers: javac RemotesCall.java: %v\n%s", err, out)
		}
		if err := os.Rename(tmp, classes); err != nil {
			t.Fatalf("peers: %v", err)
		}
	})
	return classes + string(os.PathListSeparator) + deps
}
