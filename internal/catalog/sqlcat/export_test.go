package sqlcat

// SchemaVersion exposes the detected schema version ("V0", "V1", "unknown") to tests.
func SchemaVersion(a *Adapter) string {
	a.schemaMu.Lock()
	defer a.schemaMu.Unlock()
	return a.schema.String()
}

// PrepareSQLiteDSN exposes prepareSQLiteDSN to tests.
var PrepareSQLiteDSN = prepareSQLiteDSN
