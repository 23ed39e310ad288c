package objstore

import (
	"strings"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// supportedSchemes are the location schemes Read accepts, by backend.
var supportedSchemes = map[string]string{
	"s3": "s3", "s3a": "s3", "s3n": "s3",
	"gs":   "gcs",
	"abfs": "azure", "abfss": "azure", "wasb": "azure", "wasbs": "azure",
	"file": "file",
}

// validateLocation rejects what no backend can read, before any I/O. It splits the URI by
// hand rather than with net/url: object keys are opaque (a literal "%" is a valid key
// character that url.Parse refuses), and url.Parse lower-cases the scheme while iceberg-go's
// backends accept lower-case schemes only.
func validateLocation(location string) error {
	scheme, rest, ok := strings.Cut(location, "://")
	backend, known := supportedSchemes[scheme]
	if !ok || !known {
		return apperr.BadRequest("unsupported object store location %q (supported schemes: s3, s3a, s3n, gs, abfs, abfss, wasb, wasbs, file)", location)
	}
	authority, key, _ := strings.Cut(rest, "/")
	switch backend {
	case "file":
		if authority != "" && !strings.EqualFold(authority, "localhost") {
			return apperr.BadRequest("file location %s names a remote host", location)
		}
	case "azure":
		container, host, _ := strings.Cut(authority, "@")
		if container == "" || host == "" {
			return apperr.BadRequest("azure location %s must look like %s://container@account.dfs.core.windows.net/path", location, scheme)
		}
	default:
		if authority == "" {
			return apperr.BadRequest("location %s names no bucket", location)
		}
	}
	if strings.Trim(key, "/") == "" {
		return apperr.BadRequest("location %s names no object", location)
	}
	return nil
}
