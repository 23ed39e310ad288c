package cli

import (
	"fmt"
	"strings"
)

// splitTables splits --table and --remote-table (which defaults to --table).
func splitTables(tbl, remoteTbl string) (ns []string, name string, rns []string, rname string, err error) {
	if ns, name, err = splitTable("table", tbl); err != nil {
		return
	}
	rns, rname, err = splitTable("remote-table", first(remoteTbl, tbl))
	return
}

// splitTable reads a dotted table name, "ns1.ns2.table", into its namespace levels and
// table name. Names are checked by the server; here only the shape.
func splitTable(flag, dottedName string) ([]string, string, error) {
	parts := strings.Split(dottedName, ".")
	if len(parts) < 2 {
		return nil, "", fmt.Errorf("--%s %q: want namespace.table (e.g. accounting.events)", flag, dottedName)
	}
	for _, p := range parts {
		if p == "" {
			return nil, "", fmt.Errorf("--%s %q: empty namespace level or table name", flag, dottedName)
		}
	}
	return parts[:len(parts)-1], parts[len(parts)-1], nil
}
