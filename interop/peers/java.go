package peers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mavenTimeout bounds one Maven run (a cold resolve downloads a few hundred MB at most).
const mavenTimeout = 8 * time.Minute

// JavaDir returns the folder of one of the suite's Maven projects, interop/java/<name>.
func JavaDir(t testing.TB, name string) string {
	return filepath.Join(RepoRoot(t), "interop", "java", name)
}

// MavenClasspath returns the runtime classpath of the Maven project interop/java/<name>
// (its pom.xml pins every version). The first call resolves it with
// `mvn dependency:build-classpath` (jars land in ~/.m2) and caches the result in
// .cache/interop/<name>/classpath-<pom hash>.txt; later calls read the cache, so a warm start
// costs no Maven run. A cached classpath whose jars are gone is resolved again.
func MavenClasspath(t testing.TB, name string) string {
	t.Helper()
	dir := JavaDir(t, name)
	key := pomHash(t, dir)
	cacheFile := filepath.Join(CacheDir(t, name), "classpath-"+key+".txt")
	var cp string
	WithInstallLock(t, name, func() {
		if b, err := os.ReadFile(cacheFile); err == nil && classpathPresent(string(b)) {
			cp = string(b)
			return
		}
		began := time.Now()
		out := filepath.Join(CacheDir(t, name), "classpath.tmp")
		Maven(t, dir, "dependency:build-classpath", "-Dmdep.outputFile="+out)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("peers: %s: maven wrote no classpath: %v", name, err)
		}
		if err := os.Rename(out, cacheFile); err != nil {
			t.Fatalf("peers: %v", err)
		}
		// Classpaths of earlier versions of the pom are of no further use.
		old, _ := filepath.Glob(filepath.Join(CacheDir(t, name), "classpath-*.txt"))
		for _, f := range old {
			if f != cacheFile {
				_ = os.Remove(f)
			}
		}
		cp = string(b)
		Logf(t, "installed %s classpath with maven in %s (%d jars)", name, time.Since(began).Round(100*time.Millisecond), len(filepath.SplitList(cp)))
	})
	return strings.TrimSpace(cp)
}

// MavenRepoEnv names the environment variable that moves Maven's local repository away from
// ~/.m2/repository (e.g. to measure a cold install, or to a CI cache folder).
const MavenRepoEnv = "INTEROP_MAVEN_REPO"

// MavenRepo returns Maven's local repository: $INTEROP_MAVEN_REPO or ~/.m2/repository.
func MavenRepo(t testing.TB) string {
	t.Helper()
	if v := os.Getenv(MavenRepoEnv); v != "" {
		return v
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	return filepath.Join(home, ".m2", "repository")
}

// mavenArtifact returns the path of group:artifact:version[:classifier] of type ext in the
// local repository.
func mavenArtifact(t testing.TB, group, artifact, version, classifier, ext string) string {
	name := artifact + "-" + version
	if classifier != "" {
		name += "-" + classifier
	}
	parts := append([]string{MavenRepo(t)}, strings.Split(group, ".")...)
	parts = append(parts, artifact, version, name+"."+ext)
	return filepath.Join(parts...)
}

// Maven runs mvn in dir (batch mode, quiet, bounded in time) and fails the test with its
// output when it fails.
func Maven(t testing.TB, dir string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("mvn"); err != nil {
		t.Fatalf("peers: Maven (mvn) is required for the Java peers: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), mavenTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "mvn", append([]string{"-B", "-q", "-Dstyle.color=never", "-Dmaven.repo.local=" + MavenRepo(t)}, args...)...)
	cmd.Dir = dir
	cmd.Env = baseEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("peers: mvn %s in %s: %v\n%s", strings.Join(args, " "), dir, err, tail(out.String(), 40))
	}
}

// JavaCommand returns the java launcher and the JVM options every Java peer starts with:
// a small heap and a quick JIT, because the peers serve a handful of requests on a shared
// machine.
func JavaCommand(t testing.TB) (string, []string) {
	t.Helper()
	java := "java"
	if home := os.Getenv("JAVA_HOME"); home != "" {
		java = filepath.Join(home, "bin", "java")
	}
	if _, err := exec.LookPath(java); err != nil {
		t.Fatalf("peers: Java 17 is required for the Java peers: %v", err)
	}
	return java, jvmOptions
}

var jvmOptions = []string{"-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-Djava.net.preferIPv4Stack=true"}

// JavaAtLeast returns a java launcher of at least the given major version, and the JVM
// options: JAVA_HOME's when it is new enough, otherwise the newest JDK installed under
// /usr/lib/jvm (the project's machines carry a Temurin JDK beside OpenJDK 17). It fails the
// test naming what it found when there is none.
func JavaAtLeast(t testing.TB, major int) (string, []string) {
	t.Helper()
	var homes []string
	if home := os.Getenv("JAVA_HOME"); home != "" {
		homes = append(homes, home)
	}
	found, _ := filepath.Glob("/usr/lib/jvm/*/release")
	for _, f := range found {
		homes = append(homes, filepath.Dir(f))
	}
	best, bestMajor := "", 0
	for _, home := range homes {
		m := jdkMajor(home)
		if m >= major && m > bestMajor {
			if _, err := os.Stat(filepath.Join(home, "bin", "java")); err == nil {
				best, bestMajor = home, m
			}
		}
		if m >= major && home == os.Getenv("JAVA_HOME") {
			best, bestMajor = home, m
			break
		}
	}
	if best == "" {
		t.Fatalf("peers: a JDK %d or newer is required (JAVA_HOME or /usr/lib/jvm); found none among %v", major, homes)
	}
	return filepath.Join(best, "bin", "java"), jvmOptions
}

// jdkMajor reads the major version from a JDK's release file (JAVA_VERSION="25.0.3").
func jdkMajor(home string) int {
	b, err := os.ReadFile(filepath.Join(home, "release"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "JAVA_VERSION="); ok {
			v = strings.Trim(v, `"`)
			if after, ok := strings.CutPrefix(v, "1."); ok {
				v = after
			}
			n := 0
			for _, c := range v {
				if c < '0' || c > '9' {
					break
				}
				n = n*10 + int(c-'0')
			}
			return n
		}
	}
	return 0
}

func pomHash(t testing.TB, dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "pom.xml"))
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func classpathPresent(cp string) bool {
	cp = strings.TrimSpace(cp)
	if cp == "" {
		return false
	}
	for _, p := range filepath.SplitList(cp) {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
