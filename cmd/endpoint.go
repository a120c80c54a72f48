package cmd

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
)

// warnPlainHTTP warns, on one line that --quiet keeps, when endpoint is
// plain http to a host other than this machine. Requests there cross a
// network in clear: SigV4 signs each request's headers, but uploads are
// sent as UNSIGNED-PAYLOAD and responses are not signed at all, so an
// on-path attacker can change what is stored (fixing up its CRC-32C) and
// what ogive is told. Loopback stays quiet: it is the local test server's.
//
// An endpoint without a scheme, which init no longer accepts but older
// profiles may hold, gets a warning too: it is taken as https, silently so
// far, which fails against a plain http server.
func warnPlainHTTP(w io.Writer, endpoint string) {
	if endpoint != "" && !strings.Contains(endpoint, "://") {
		fmt.Fprintf(w, "warning: endpoint %s has no scheme, so ogive uses https://%s; "+
			"to change it: ogive init --reinit --endpoint http://… (or https://…)\n", oneLine(endpoint), oneLine(endpoint))
	}
	host, plain := plainHTTPHost(endpoint)
	if !plain {
		return
	}
	fmt.Fprintf(w, "warning: endpoint %s is plain http: anyone on the network path can read your access key ID "+
		"and the storage IDs and sizes, and alter or drop requests and responses; SigV4 covers neither responses "+
		"nor uploaded bytes, so damage may show only at restore, but archives stay encrypted and authenticated\n",
		oneLine(host))
}

// plainHTTPHost returns the host of an http:// endpoint that is not
// loopback: not "localhost", 127.0.0.0/8 or ::1. An endpoint without a
// scheme is https, as object reads it.
func plainHTTPHost(endpoint string) (string, bool) {
	if !strings.Contains(endpoint, "://") {
		return "", false
	}
	u, err := url.Parse(endpoint) // lowercases the scheme
	if err != nil || u.Scheme != "http" {
		return "", false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return "", false
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return "", false
	}
	return u.Host, true
}

// checkEndpointScheme refuses an endpoint without http:// or https://:
// taken as https, "127.0.0.1:9000" fails against a local server in a way
// that does not say why. The empty endpoint is AWS's.
func checkEndpointScheme(endpoint string) error {
	if endpoint == "" || strings.Contains(endpoint, "://") {
		return nil
	}
	e := oneLine(endpoint)
	return usagef("endpoint %s has no scheme: use http://%s or https://%s", e, e, e)
}
