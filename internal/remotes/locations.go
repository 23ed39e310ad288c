package remotes

import (
	"slices"
	"strings"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

// checkPulledLocation is the one rule for which metadata locations a pull may read and link
// (docs/design.md section 13, the confused deputy): a remote catalog is written by others, and
// whatever it names is read with the service's own object-store credentials and then served
// by lakeFS with lakeFS's. lakeLoc is lakeFS's form of the location (the location_map
// reversed), readLoc the remote's form, which is what gets read.
//
// Accepted: lakeLoc under the destination repository's storage namespace or under one of
// the remote's allowed_locations (each compared in lakeFS's form too, so either form may be
// configured); and, when readLoc is file://, only if the remote sets allow_file_locations.
// A location with "." or ".." path segments is refused outright. Refusals are 409: the
// request is fine, the remote's state is not acceptable.
func checkPulledLocation(rc config.Remote, storageNamespace, lakeLoc, readLoc string) error {
	refuse := func(why string) error {
		return apperr.Conflict("remote catalog %q points at metadata %s, %s: refusing to read or link it", rc.ID, readLoc, why)
	}
	m := catalog.LocationMap(rc.LocationMap)
	if m.FromRemote(readLoc) != lakeLoc {
		// What is read must be what is linked: a location_map whose rules do not map the
		// read location back to the linked one could pair one object's size and checksum
		// with another object.
		return refuse("which the remote's location_map does not map back to the lakeFS location " + lakeLoc)
	}
	for _, loc := range []string{lakeLoc, readLoc} {
		if hasDotSegment(loc) {
			return refuse(`whose path has "." or ".." segments`)
		}
	}
	if scheme, _, _ := strings.Cut(readLoc, "://"); strings.EqualFold(scheme, "file") && !rc.AllowFileLocations {
		return refuse("on the service's own disk (file:// is allowed only where iceberg_catalog.remotes[].allow_file_locations is set)")
	}
	if storageNamespace != "" && under(lakeLoc, storageNamespace) {
		return nil
	}
	for _, p := range rc.AllowedLocations {
		if under(lakeLoc, p) || under(lakeLoc, m.FromRemote(p)) {
			return nil
		}
	}
	return refuse("outside the repository's storage namespace " + storageNamespace +
		" and the remote's iceberg_catalog.remotes[].allowed_locations")
}

// under reports whether loc lies inside the folder prefix (a path boundary, so
// "s3://b/w" does not contain "s3://b/wx/...").
func under(loc, prefix string) bool {
	prefix = strings.TrimRight(prefix, "/")
	if prefix == "" || !strings.Contains(prefix, "://") {
		return false
	}
	if _, rest, _ := strings.Cut(prefix, "://"); rest == "" {
		return false // a bare scheme ("s3://") is no folder
	}
	return strings.HasPrefix(loc, prefix+"/")
}

func hasDotSegment(loc string) bool {
	_, rest, ok := strings.Cut(loc, "://")
	if !ok {
		rest = loc
	}
	return slices.ContainsFunc(strings.Split(rest, "/"), func(s string) bool { return s == "." || s == ".." })
}
