// Builds Pebble, Let's Encrypt's ACME test server, and its challenge test server (the DNS server
// that tells Pebble where a preview host is; tests/cluster/edge.py) from the published Go module at
// the version tests/cluster/components.py pins. The requirements below it are the module's own
// go.mod, verbatim, so the build list is the one its release is built with. The module has no
// replace directives. godebug keeps the defaults of its own go line (1.25.0).
module github.com/k8s-ee/platform/tests/cluster/components/pebble

go 1.25.0

godebug default=go1.25

tool (
	github.com/letsencrypt/pebble/v2/cmd/pebble
	github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv
)

require github.com/letsencrypt/pebble/v2 v2.10.3

require (
	github.com/go-jose/go-jose/v4 v4.1.8
	github.com/letsencrypt/challtestsrv v1.4.2
	github.com/miekg/dns v1.1.62
)

require (
	golang.org/x/mod v0.24.0 // indirect
	golang.org/x/net v0.55.0 // indirect
	golang.org/x/sync v0.14.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
	golang.org/x/tools v0.33.0 // indirect
)
