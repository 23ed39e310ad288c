package objstore

import (
	"encoding/json"
	"errors"

	icebergio "github.com/apache/iceberg-go/io"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// gcsProperties adds the GCS settings.
func gcsProperties(cfg config.ObjectStore, p map[string]string) error {
	if js := cfg.GCS.CredentialsJSON; js != "" {
		var key struct {
			Type string `json:"type"`
		}
		// The error text of json.Unmarshal can quote the input: never surface it.
		if json.Unmarshal([]byte(js), &key) != nil {
			return errors.New("object_store.gcs.credentials_json is not valid JSON")
		}
		p[icebergio.GCSJSONKey] = js
		// iceberg-go parses the key as a service account unless told its type.
		if key.Type != "" {
			p[icebergio.GCSCredType] = key.Type
		}
	}
	return nil
}
