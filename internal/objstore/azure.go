package objstore

import (
	"errors"

	icebergio "github.com/apache/iceberg-go/io"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// azureProperties adds the Azure settings.
func azureProperties(cfg config.ObjectStore, p map[string]string) error {
	az := cfg.Azure
	if az.StorageAccessKey != "" && az.StorageAccount == "" {
		return errors.New("object_store.azure: storage_access_key needs storage_account")
	}
	if az.StorageAccount != "" && az.StorageAccessKey != "" {
		p[icebergio.ADLSSharedKeyAccountName] = az.StorageAccount
		p[icebergio.ADLSSharedKeyAccountKey] = az.StorageAccessKey
	}
	// With only storage_account set, iceberg-go uses DefaultAzureCredential for the account
	// named in the location.
	return nil
}
