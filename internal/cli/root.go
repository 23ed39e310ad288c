// Package cli is iceberg-remotes' command-line client: push, pull, bulk-push, bulk-pull,
// unpublish, status and operations, over the typed client generated from api/openapi.yaml
// (internal/api/apiclient), with lakectl-style credentials. It shares the binary with the
// server (the serve command, given by cmd/server) but none of its dependencies: it must not
// link iceberg-go (see TestNoHeavyDependencies).
package cli

import (
	"errors"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
)

// Options wire the commands to their process.
type Options struct {
	Version string
	// Environ is the process environment (KEY=value), read instead of os.Getenv.
	Environ        []string
	Stdout, Stderr io.Writer
	// IsTerminal says whether w is a terminal (then bulk commands draw a progress bar);
	// default: an *os.File on a terminal.
	IsTerminal func(w io.Writer) bool
	// Serve is the server command; when set it is also what runs with no subcommand.
	Serve *cobra.Command
}

const rootLong = `iceberg-remotes serves the lakeFS Iceberg remotes API (push and pull of Iceberg tables
between lakeFS and external catalogs) and is its command-line client.

With no command (or "serve") it runs the server. The other commands call a running
server at --url (env ICEBERG_REMOTES_URL, default ` + DefaultURL + `) with lakeFS
credentials, as lakectl finds them: flags, then LAKECTL_CREDENTIALS_ACCESS_KEY_ID /
LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY, then credentials in ~/.lakectl.yaml; or a lakeFS
login token with --token (env ICEBERG_REMOTES_TOKEN).`

// NewRootCommand builds the iceberg-remotes command tree.
func NewRootCommand(o Options) *cobra.Command {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.IsTerminal == nil {
		o.IsTerminal = isTerminal
	}
	root := &cobra.Command{
		Use:   "iceberg-remotes",
		Short: "lakeFS Iceberg remotes: the server and its command-line client",
		Long:  rootLong,
		Example: `  iceberg-remotes --config config.yaml          # run the server
  iceberg-remotes push local --repository example --ref main --table accounting.events
  iceberg-remotes bulk-push local --repository example --ref main --namespace 'accounting.*'
  iceberg-remotes status local --state remote_ahead`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(o.Stdout)
	root.SetErr(o.Stderr)
	root.CompletionOptions.DisableDefaultCmd = true
	if o.Serve != nil {
		root.RunE = o.Serve.RunE
		root.Flags().AddFlagSet(o.Serve.Flags())
		root.AddCommand(o.Serve)
	}
	env := newEnv(o)
	root.AddCommand(
		pushCommand(env), pullCommand(env), bulkPushCommand(env), bulkPullCommand(env),
		unpublishCommand(env), statusCommand(env), operationsCommand(env),
	)
	return root
}

// env is what every client command shares: the process, the connection flags.
type env struct {
	o       Options
	getenv  func(string) string
	url     string
	creds   Credentials
	lakectl string
	timeout time.Duration
	retries int
}

func newEnv(o Options) *env {
	vars := map[string]string{}
	for _, kv := range o.Environ {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				vars[kv[:i]] = kv[i+1:]
				break
			}
		}
	}
	return &env{o: o, getenv: func(k string) string { return vars[k] }}
}

// clientFlags adds the connection flags to a client command.
func (e *env) clientFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&e.url, "url", "", "iceberg-remotes server URL (env "+EnvURL+", default "+DefaultURL+")")
	f.StringVar(&e.creds.AccessKeyID, "access-key-id", "", "lakeFS access key id (env "+EnvAccessKeyID+", or ~/.lakectl.yaml)")
	f.StringVar(&e.creds.SecretAccessKey, "secret-access-key", "", "lakeFS secret access key (env "+EnvSecretAccessKey+", or ~/.lakectl.yaml; prefer those: flags show in ps)")
	f.StringVar(&e.creds.Token, "token", "", "lakeFS login token (JWT), sent as Bearer instead of the access key (env "+EnvToken+")")
	f.StringVar(&e.lakectl, "lakectl-config", "", "lakectl config file to read credentials from (default ~/.lakectl.yaml)")
	f.DurationVar(&e.timeout, "timeout", 30*time.Second, "timeout of each call (for bulk commands: of the wait for each next table)")
	f.IntVar(&e.retries, "retries", 2, "retries of a read (GET) that failed transiently; writes are never retried")
}

func (e *env) client() (*client, error) {
	home := e.getenv("HOME")
	creds, err := credentialSources{flags: e.creds, getenv: e.getenv, lakectlPath: e.lakectl, home: home}.resolve()
	if err != nil {
		return nil, err
	}
	if e.timeout <= 0 {
		return nil, errors.New("--timeout must be positive")
	}
	return newClient(resolveURL(e.url, e.getenv), e.o.Version, creds, e.timeout, max(e.retries, 0))
}

func (e *env) stdout() io.Writer { return e.o.Stdout }
func (e *env) stderr() io.Writer { return e.o.Stderr }
