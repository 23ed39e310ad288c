package peers

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"html"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// HMSVersion is the Hive Metastore release the suite runs: the standalone metastore
// distribution (org.apache.hive:hive-standalone-metastore-server, tar.gz classifier bin, from
// Maven Central), with Hadoop's shaded client and S3A from interop/java/hms/pom.xml.
const HMSVersion = "4.0.1"

// HMS is a running Hive Metastore.
type HMS struct {
	URI       string // thrift://127.0.0.1:port
	Warehouse string // s3://<bucket>/hms: where databases are created
	Proc      *Process
	Version   string
}

// StartHMS starts a standalone Hive Metastore on a free loopback port with an embedded Derby
// database (a copy of one initialised once by the metastore's own schematool and cached) and
// S3A pointed at the in-process S3 for s3:// locations (the s3 and s3a schemes both). It is
// stopped when the test ends.
func StartHMS(t testing.TB, s3 *S3) *HMS {
	t.Helper()
	home := hmsDistribution(t)
	cp := hmsClasspath(t, home)
	java, jvm := JavaCommand(t)
	dir := t.TempDir()
	pristine := hmsSchema(t, home, cp)
	if err := copyTree(pristine, filepath.Join(dir, "metastore_db")); err != nil {
		t.Fatalf("peers: hms: copy the initialised database: %v", err)
	}
	port := FreePort(t)
	conf := filepath.Join(dir, "conf")
	writeSiteXML(t, conf, hmsSettings(dir, port, s3))
	p := Start(t, Spec{
		Name:    "hive-metastore " + HMSVersion,
		Command: java,
		Args: append(jvm, "-Dlog4j2.formatMsgNoLookups=true", "-cp", conf+string(os.PathListSeparator)+cp,
			"org.apache.hadoop.hive.metastore.HiveMetaStore"),
		Env:          append(awsSDKEnv(s3), "METASTORE_HOME="+home),
		Dir:          dir,
		Ready:        TCPReady(fmt.Sprintf("127.0.0.1:%d", port)),
		StartTimeout: 3 * time.Minute,
	})
	return &HMS{URI: fmt.Sprintf("thrift://127.0.0.1:%d", port), Warehouse: s3.Warehouse("hms"), Proc: p, Version: HMSVersion}
}

// hmsSettings is the metastore-site.xml of one metastore.
func hmsSettings(dir string, port int, s3 *S3) map[string]string {
	m := map[string]string{
		"metastore.thrift.port":                         fmt.Sprint(port),
		"metastore.thrift.bind.host":                    "127.0.0.1",
		"javax.jdo.option.ConnectionURL":                "jdbc:derby:;databaseName=" + filepath.Join(dir, "metastore_db"),
		"javax.jdo.option.ConnectionDriverName":         "org.apache.derby.jdbc.EmbeddedDriver",
		"metastore.warehouse.dir":                       s3.Warehouse("hms"),
		"metastore.event.db.notification.api.auth":      "false",
		"metastore.compactor.initiator.on":              "false",
		"metastore.compactor.cleaner.on":                "false",
		"metastore.server.max.message.size":             "104857600",
		"fs.s3a.endpoint":                               s3.Endpoint,
		"fs.s3a.endpoint.region":                        s3.Region,
		"fs.s3a.path.style.access":                      "true",
		"fs.s3a.connection.ssl.enabled":                 "false",
		"fs.s3a.access.key":                             s3.AccessKeyID,
		"fs.s3a.secret.key":                             s3.SecretAccessKey,
		"fs.s3a.aws.credentials.provider":               "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
		"fs.s3a.change.detection.mode":                  "none",
		"fs.s3a.bucket.probe":                           "0",
		"fs.s3.impl":                                    "org.apache.hadoop.fs.s3a.S3AFileSystem",
		"fs.s3a.checksum.validation":                    "false",
		"fs.s3a.create.checksum.algorithm":              "",
		"fs.s3a.attempts.maximum":                       "2",
		"fs.s3a.retry.limit":                            "2",
		"fs.s3a.connection.establish.timeout":           "5s",
		"fs.s3a.connection.timeout":                     "20s",
		"hadoop.security.authentication":                "simple",
		"metastore.metrics.enabled":                     "false",
		"metastore.stats.auto.gather":                   "false",
		"metastore.task.threads.always":                 "",
		"metastore.task.threads.remote":                 "",
		"metastore.housekeeping.threads.on":             "false",
		"metastore.acidmetrics.thread.on":               "false",
		"metastore.event.listeners":                     "",
		"metastore.transactional.event.listeners":       "",
		"hive.metastore.event.db.notification.api.auth": "false",
	}
	return m
}

func writeSiteXML(t testing.TB, dir string, props map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("peers: %v", err)
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n<configuration>\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "  <property><name>%s</name><value>%s</value></property>\n", html.EscapeString(k), html.EscapeString(props[k]))
	}
	b.WriteString("</configuration>\n")
	for _, name := range []string{"metastore-site.xml", "core-site.xml"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			t.Fatalf("peers: %v", err)
		}
	}
}

// hmsDistribution fetches the metastore's distribution tarball with Maven (into ~/.m2) and
// unpacks it once into the cache; it returns the unpacked folder (METASTORE_HOME).
func hmsDistribution(t testing.TB) string {
	t.Helper()
	cache := CacheDir(t, "hms")
	home := filepath.Join(cache, "apache-hive-metastore-"+HMSVersion+"-bin")
	WithInstallLock(t, "hms-dist", func() {
		if _, err := os.Stat(filepath.Join(home, "lib")); err == nil {
			return
		}
		began := time.Now()
		coords := "org.apache.hive:hive-standalone-metastore-server:" + HMSVersion + ":tar.gz:bin"
		Maven(t, cache, "dependency:get", "-Dartifact="+coords, "-Dtransitive=false")
		tgz := mavenArtifact(t, "org.apache.hive", "hive-standalone-metastore-server", HMSVersion, "bin", "tar.gz")
		tmp := filepath.Join(cache, "unpack.tmp")
		_ = os.RemoveAll(tmp)
		if err := untar(tgz, tmp); err != nil {
			t.Fatalf("peers: hms: unpack %s: %v", tgz, err)
		}
		if err := os.Rename(filepath.Join(tmp, filepath.Base(home)), home); err != nil {
			t.Fatalf("peers: hms: %v", err)
		}
		_ = os.RemoveAll(tmp)
		Logf(t, "installed hive-metastore %s distribution with maven in %s", HMSVersion, time.Since(began).Round(100*time.Millisecond))
	})
	return home
}

// hmsClasspath is the distribution's lib/ followed by Hadoop and S3A (Maven, cached).
func hmsClasspath(t testing.TB, home string) string {
	t.Helper()
	jars, err := filepath.Glob(filepath.Join(home, "lib", "*.jar"))
	if err != nil || len(jars) == 0 {
		t.Fatalf("peers: hms: no jars in %s/lib", home)
	}
	sort.Strings(jars)
	return strings.Join(jars, string(os.PathListSeparator)) + string(os.PathListSeparator) + MavenClasspath(t, "hms")
}

// hmsSchema initialises an empty Derby metastore database once with the distribution's
// schematool and returns its folder; each metastore starts on a copy.
func hmsSchema(t testing.TB, home, cp string) string {
	t.Helper()
	db := filepath.Join(CacheDir(t, "hms"), "metastore_db-"+HMSVersion)
	WithInstallLock(t, "hms-schema", func() {
		if _, err := os.Stat(filepath.Join(db, "service.properties")); err == nil {
			return
		}
		began := time.Now()
		work := filepath.Join(CacheDir(t, "hms"), "schema.tmp")
		_ = os.RemoveAll(work)
		conf := filepath.Join(work, "conf")
		writeSiteXML(t, conf, map[string]string{
			"javax.jdo.option.ConnectionURL":        "jdbc:derby:;databaseName=" + filepath.Join(work, "metastore_db") + ";create=true",
			"javax.jdo.option.ConnectionDriverName": "org.apache.derby.jdbc.EmbeddedDriver",
		})
		java, jvm := JavaCommand(t)
		args := append(append([]string{}, jvm...), "-cp", conf+string(os.PathListSeparator)+cp,
			"org.apache.hadoop.hive.metastore.tools.schematool.MetastoreSchemaTool", "-dbType", "derby", "-initSchema")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, java, args...)
		cmd.Dir, cmd.Env = work, append(baseEnv(), "METASTORE_HOME="+home)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("peers: hms schematool: %v\n%s", err, tail(string(out), 40))
		}
		if err := os.Rename(filepath.Join(work, "metastore_db"), db); err != nil {
			t.Fatalf("peers: hms: %v", err)
		}
		_ = os.RemoveAll(work)
		Logf(t, "initialised the hive-metastore %s Derby schema with schematool in %s", HMSVersion, time.Since(began).Round(100*time.Millisecond))
	})
	return db
}

func untar(tgz, dst string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if strings.HasPrefix(name, "..") || filepath.IsAbs(name) {
			return fmt.Errorf("unsafe path %q in archive", h.Name)
		}
		p := filepath.Join(dst, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o755|0o600)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, tr); err != nil {
				out.Close()
				return err
			}
			if err := out.Close(); err != nil {
				return err
			}
		}
	}
}

func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
}
