package object

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// dialTimeout bounds one attempt to open a connection. A server that
// answers at all answers a TCP handshake in well under a second; a host
// that drops packets would otherwise cost the system's timeout of minutes.
const dialTimeout = 10 * time.Second

// ConnectError means the server could not be reached at all: no TCP
// connection, no such host, or a TLS handshake that failed. Its text is
// short and names the URL and the reason; the SDK's error stays in the
// chain for errors.As.
type ConnectError struct {
	URL    string // scheme and host, without the path
	Reason string // "connection refused", "no such host", "TLS: …"
	err    error
}

func (e *ConnectError) Error() string {
	return "cannot connect to " + e.URL + " (" + e.Reason + ")"
}

func (e *ConnectError) Unwrap() error { return e.err }

// connectFailure recognises an error of the connection rather than of the
// request. permanent says that trying again in a few seconds would not
// help: a refused port, a name that does not exist, a dial that timed out,
// a certificate that does not verify, a server that speaks plain http.
func connectFailure(err error) (ce *ConnectError, permanent bool) {
	var reason string
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			reason, permanent = "no such host", true
		} else {
			reason = "DNS: " + dnsErr.Err
		}
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalid):
		reason, permanent = "TLS: "+tlsReason(err), true
	case errors.As(err, &recordErr), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		reason, permanent = "the server answers in plain http, not https", true
	case errors.As(err, &opErr) && opErr.Op == "dial":
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			reason, permanent = "connection refused", true
		case opErr.Timeout():
			reason, permanent = "timeout", true
		case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
			reason = "no route to host"
		default:
			reason = opErr.Err.Error()
		}
	default:
		return nil, false
	}
	return &ConnectError{URL: requestHost(err), Reason: reason, err: err}, permanent
}

// tlsReason is the certificate problem in a few words.
func tlsReason(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknownCA):
		return "certificate signed by an unknown authority"
	case errors.As(err, &hostErr):
		return "certificate is not valid for " + hostErr.Host
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "certificate has expired or is not yet valid"
	}
	return "certificate does not verify"
}

// requestHost is the scheme and host of the request that failed, which is
// the endpoint, or the bucket's host name with virtual-hosted addressing.
func requestHost(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Addr != nil {
		return opErr.Addr.String()
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.Name
	}
	return "the server"
}

// connectRetryer gives up at once on a permanent connection failure as
// long as the store has never connected: a wrong endpoint then fails in a
// second instead of after five attempts and their back-off (18 s and more).
// Once a connection succeeded, the same errors are a server restarting or a
// network hiccup mid-transfer, and they are retried as before. Certificate
// and plain-http failures are never retried.
type connectRetryer struct {
	aws.Retryer
	connected *atomic.Bool
}

func (r connectRetryer) IsErrorRetryable(err error) bool {
	if isBodyError(err) {
		return false // the body failed, not the network: see BodyError
	}
	if ce, permanent := connectFailure(err); ce != nil && permanent {
		if !r.connected.Load() || strings.HasPrefix(ce.Reason, "TLS") || strings.Contains(ce.Reason, "plain http") {
			return false
		}
	}
	return r.Retryer.IsErrorRetryable(err)
}

func (r connectRetryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if v2, ok := r.Retryer.(aws.RetryerV2); ok {
		return v2.GetAttemptToken(ctx)
	}
	return r.GetInitialToken(), nil
}

// dialMarking dials with dialTimeout and records the first success.
func dialMarking(dial func(ctx context.Context, network, addr string) (net.Conn, error), connected *atomic.Bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		conn, err := dial(ctx, network, addr)
		if err == nil {
			connected.Store(true)
		}
		return conn, err
	}
}
