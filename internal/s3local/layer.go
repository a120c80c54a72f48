package s3local

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// operation is the S3 call a request is, as far as the layer cares.
type operation int

const (
	opPassThrough    operation = iota
	opPutObject                // PutObject and CopyObject: the class comes from the request
	opCreateUpload             // CreateMultipartUpload: remember the class by UploadId
	opCompleteUpload           // CompleteMultipartUpload: give the key its class; If-None-Match
	opAbortUpload              // AbortMultipartUpload
	opDeleteObject             // DeleteObject: forget the key
	opDeleteObjects            // DeleteObjects: forget every deleted key
	opHeadObject               // add x-amz-storage-class and x-amz-restore
	opGetObject                // the same, or InvalidObjectState while archived
	opListObjects              // ListObjects(V2): StorageClass and RestoreStatus
	opRestoreObject            // answered by the layer itself
	opGetAttributes            // GetObjectAttributes: StorageClass and ObjectParts
)

// call is what ServeHTTP learnt about a request, handed on to
// ModifyResponse through the request context.
type call struct {
	op          operation
	id          objectID
	class       string // requested by PutObject or CreateMultipartUpload
	uploadID    string
	withRestore bool            // listing asked for RestoreStatus
	parts       []partRecord    // the parts a CompleteMultipartUpload names
	attributes  attributesQuery // what a GetObjectAttributes asks for
}

type callKey struct{}

// maxRewrittenBody bounds the answers the layer reads whole to rewrite or
// inspect: listings, upload results, delete results. None comes near it.
const maxRewrittenBody = 64 << 20

// layer is the Deep Archive reverse proxy in front of versitygw.
type layer struct {
	proxy    *httputil.ReverseProxy
	state    *stateStore
	verifier *verifier
	// direct reaches versitygw without the layer, signed with the layer's
	// own credentials, to check that a key exists before a restore.
	direct *s3.Client
	tiers  map[string]time.Duration
	day    time.Duration
	log    *log.Logger
	now    func() time.Time
	// completing runs the CompleteMultipartUploads of one key one at a
	// time (see refuseExisting).
	completing keyLocks
}

type layerConfig struct {
	upstream  *url.URL
	state     *stateStore
	verifier  *verifier
	direct    *s3.Client
	transport *http.Transport
	tiers     map[string]time.Duration
	day       time.Duration
	log       *log.Logger
	now       func() time.Time
}

func newLayer(c layerConfig) *layer {
	l := &layer{
		state:    c.state,
		verifier: c.verifier,
		direct:   c.direct,
		tiers:    c.tiers,
		day:      c.day,
		log:      c.log,
		now:      c.now,
	}
	upstream := c.upstream
	l.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// Host, path, query and every signed header go out as they came,
			// so versitygw checks the client's own signature.
			pr.Out.URL.Scheme = upstream.Scheme
			pr.Out.URL.Host = upstream.Host
			pr.Out.URL.RawQuery = pr.In.URL.RawQuery
			// This server already answered 100-continue to the client;
			// versitygw's own interim answer would reach it a second time.
			pr.Out.Header.Del("Expect")
		},
		Transport:      c.transport,
		BufferPool:     newBufferPool(256 << 10),
		ModifyResponse: l.modifyResponse,
		ErrorHandler:   l.proxyError,
		ErrorLog:       c.log,
	}
	return l
}

// newTransport is tuned for one loopback upstream carrying large bodies:
// many idle connections, big buffers, no compression.
func newTransport() *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        128,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		WriteBufferSize:     256 << 10,
		ReadBufferSize:      256 << 10,
	}
}

func (l *layer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := classify(r)
	switch c.op {
	case opPutObject, opCreateUpload:
		if !knownClasses[c.class] {
			errInvalidStorageClass(c.class).write(w, r)
			return
		}
	case opRestoreObject:
		l.serveRestore(w, r, c)
		return
	case opCompleteUpload:
		body, e := readCompleteBody(r)
		if e == nil {
			e = l.collectParts(r, c, body)
		}
		if e != nil {
			e.write(w, r)
			return
		}
		unlock, err := l.completing.lock(r.Context(), c.id)
		if err != nil {
			return // the client went away
		}
		defer unlock()
		if e := l.refuseExisting(r, c, body); e != nil {
			e.write(w, r)
			return
		}
	}
	if c.op == opHeadObject || c.op == opGetObject {
		w = &lowercaseMeta{ResponseWriter: w}
	}
	l.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
}

// classify works out the operation from method, path and query. Only
// path-style addressing is understood: the endpoint is an IP address.
func classify(r *http.Request) *call {
	c := &call{op: opPassThrough}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket == "" {
		return c
	}
	c.id = objectID{bucket, key}
	q := r.URL.Query()
	if key == "" {
		switch {
		case r.Method == http.MethodGet && (q.Has("list-type") || onlyParams(q, listParams)):
			c.op = opListObjects
			c.withRestore = wantsRestoreStatus(r.Header)
		case r.Method == http.MethodPost && q.Has("delete"):
			c.op = opDeleteObjects
		}
		return c
	}
	switch r.Method {
	case http.MethodPut:
		if onlyParams(q, nil) {
			c.op = opPutObject
			c.class = requestedClass(r.Header)
		}
	case http.MethodPost:
		switch {
		case q.Has("restore"):
			c.op = opRestoreObject
		case q.Has("uploads"):
			c.op = opCreateUpload
			c.class = requestedClass(r.Header)
		case q.Has("uploadId"):
			c.op = opCompleteUpload
			c.uploadID = q.Get("uploadId")
		}
	case http.MethodDelete:
		switch {
		case q.Has("uploadId"):
			c.op = opAbortUpload
			c.uploadID = q.Get("uploadId")
		case onlyParams(q, nil):
			c.op = opDeleteObject
		}
	case http.MethodHead:
		c.op = opHeadObject
	case http.MethodGet:
		// Anything that is not a known sub-resource reads the data, so an
		// unfamiliar parameter cannot sneak archived bytes out.
		switch {
		case !hasAnyParam(q, objectSubresources):
			c.op = opGetObject
		case q.Has("attributes"):
			c.op = opGetAttributes
			c.attributes = parseAttributesQuery(r.Header)
		}
	}
	return c
}

// listParams are the parameters of ListObjects (v1); a bucket GET with any
// other parameter is some bucket sub-resource.
var listParams = map[string]bool{
	"prefix": true, "delimiter": true, "marker": true, "max-keys": true, "encoding-type": true,
}

// objectSubresources are object GETs that do not return the object's data.
var objectSubresources = []string{
	"acl", "tagging", "attributes", "uploadId", "retention", "legal-hold", "torrent",
}

// onlyParams reports whether q holds nothing but allowed parameters and the
// SDK's x-id marker.
func onlyParams(q url.Values, allowed map[string]bool) bool {
	for k := range q {
		if k != "x-id" && !allowed[k] {
			return false
		}
	}
	return true
}

func hasAnyParam(q url.Values, names []string) bool {
	for _, n := range names {
		if q.Has(n) {
			return true
		}
	}
	return false
}

func requestedClass(h http.Header) string {
	if c := h.Get("X-Amz-Storage-Class"); c != "" {
		return c
	}
	return classStandard
}

func wantsRestoreStatus(h http.Header) bool {
	for _, v := range h.Values("X-Amz-Optional-Object-Attributes") {
		for a := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(a) == "RestoreStatus" {
				return true
			}
		}
	}
	return false
}

// modifyResponse applies Deep Archive behaviour to versitygw's answer. It
// acts on successes only: a refused or failed request changes nothing.
func (l *layer) modifyResponse(resp *http.Response) error {
	c, _ := resp.Request.Context().Value(callKey{}).(*call)
	if c == nil || resp.StatusCode/100 != 2 {
		return nil
	}
	switch c.op {
	case opPutObject:
		return l.state.setClass(c.id, c.class)
	case opCreateUpload:
		body, err := readBody(resp)
		if err != nil {
			return err
		}
		var res struct {
			UploadID string `xml:"UploadId"`
		}
		if err := xml.Unmarshal(body, &res); err != nil || res.UploadID == "" {
			return fmt.Errorf("create multipart upload answer without upload id: %w", errors.Join(err, errors.New(string(body))))
		}
		return l.state.beginUpload(c.id, res.UploadID, c.class)
	case opCompleteUpload:
		body, err := readBody(resp)
		if err != nil {
			return err
		}
		// S3 may report a failed completion as a 200 carrying an Error
		// document; only a real result gives the key its class.
		if rootElement(body) != "CompleteMultipartUploadResult" {
			return nil
		}
		return l.state.completeUpload(c.id, c.uploadID, c.parts)
	case opAbortUpload:
		return l.state.abortUpload(c.uploadID)
	case opDeleteObject:
		return l.state.forget(c.id)
	case opDeleteObjects:
		return l.forgetDeleted(resp, c.id.bucket)
	case opHeadObject:
		l.decorate(resp.Header, c.id)
	case opGetObject:
		l.serveGet(resp, c.id)
	case opListObjects:
		return l.rewriteList(resp, c)
	case opGetAttributes:
		return l.rewriteAttributes(resp, c)
	}
	return nil
}

// readBody reads a small answer whole and puts an identical body back for
// the client.
func readBody(resp *http.Response) ([]byte, error) {
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && ce != "identity" {
		return nil, fmt.Errorf("cannot inspect a %s-encoded answer", ce)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRewrittenBody+1))
	if err != nil {
		return nil, fmt.Errorf("read versitygw answer: %w", err)
	}
	if len(body) > maxRewrittenBody {
		return nil, fmt.Errorf("versitygw answer larger than %d bytes", maxRewrittenBody)
	}
	setBody(resp, body)
	return body, nil
}

func setBody(resp *http.Response, body []byte) {
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.TransferEncoding = nil
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

func rootElement(body []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return ""
		}
		if s, ok := tok.(xml.StartElement); ok {
			return s.Name.Local
		}
	}
}

func (l *layer) forgetDeleted(resp *http.Response, bucket string) error {
	body, err := readBody(resp)
	if err != nil {
		return err
	}
	var res struct {
		Deleted []struct {
			Key string `xml:"Key"`
		} `xml:"Deleted"`
	}
	if err := xml.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("parse delete result: %w", err)
	}
	for _, d := range res.Deleted {
		if err := l.state.forget(objectID{bucket, d.Key}); err != nil {
			return err
		}
	}
	return nil
}

// decorate sets the headers S3 adds to HEAD and GET: the storage class
// (absent for STANDARD) and, for an archived object with a live restore,
// x-amz-restore.
func (l *layer) decorate(h http.Header, id objectID) {
	class, restore := l.state.lookup(id)
	h.Del("X-Amz-Storage-Class")
	h.Del("X-Amz-Restore")
	if class != classStandard {
		h.Set("X-Amz-Storage-Class", class)
	}
	if isArchived(class) {
		switch restore.phase(l.now()) {
		case phaseOngoing:
			h.Set("X-Amz-Restore", `ongoing-request="true"`)
		case phaseRestored:
			h.Set("X-Amz-Restore", `ongoing-request="false", expiry-date="`+restore.Expiry.UTC().Format(http.TimeFormat)+`"`)
		}
	}
}

// lowercaseMeta sends x-amz-meta-* names in lowercase, as S3 does. It has
// to act on the final header map, just before the status goes out: the
// reverse proxy canonicalizes names again when it copies versitygw's
// answer.
type lowercaseMeta struct {
	http.ResponseWriter
	done bool
}

func (m *lowercaseMeta) WriteHeader(status int) {
	if !m.done && status >= 200 {
		m.done = true
		h := m.Header()
		var meta []string
		for k := range h {
			if len(k) > len("x-amz-meta-") && strings.EqualFold(k[:len("x-amz-meta-")], "x-amz-meta-") && k != strings.ToLower(k) {
				meta = append(meta, k)
			}
		}
		for _, k := range meta {
			// Assigning the map directly keeps the spelling; Header.Set
			// would canonicalize it.
			h[strings.ToLower(k)] = h[k]
			delete(h, k)
		}
	}
	m.ResponseWriter.WriteHeader(status)
}

func (m *lowercaseMeta) Write(b []byte) (int, error) {
	if !m.done {
		m.WriteHeader(http.StatusOK)
	}
	return m.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's Flush.
func (m *lowercaseMeta) Unwrap() http.ResponseWriter { return m.ResponseWriter }

// serveGet lets a GET through when the object is readable and otherwise
// replaces versitygw's answer with InvalidObjectState. Replacing only a 2xx
// means versitygw has already checked the signature and the key.
func (l *layer) serveGet(resp *http.Response, id objectID) {
	class, restore := l.state.lookup(id)
	if !isArchived(class) || restore.phase(l.now()) == phaseRestored {
		l.decorate(resp.Header, id)
		return
	}
	// Closing before reading drops the connection to versitygw instead of
	// draining a possibly huge body.
	_ = resp.Body.Close()
	e := errInvalidObjectState(class)
	body := e.body()
	resp.StatusCode = http.StatusForbidden
	resp.Status = "403 Forbidden"
	resp.Header = http.Header{
		"Content-Type":     {"application/xml"},
		"X-Amz-Request-Id": {e.RequestID},
	}
	resp.Trailer = nil
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.TransferEncoding = nil
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

func (l *layer) rewriteList(resp *http.Response, c *call) error {
	body, err := readBody(resp)
	if err != nil {
		return err
	}
	bucket := c.id.bucket
	describe := func(key string) (string, *restoreWindow) {
		return l.state.lookup(objectID{bucket, key})
	}
	out, err := rewriteListing(body, describe, l.now(), c.withRestore)
	if err != nil {
		return err
	}
	setBody(resp, out)
	return nil
}

// proxyError answers when versitygw could not be reached or its answer
// could not be handled.
func (l *layer) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		// The client went away; nobody reads the answer.
		return
	}
	l.log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
	errInternal("s3local: "+err.Error()).write(w, r)
}

// bufferPool recycles the proxy's copy buffers: 256 KiB moves a large body
// in far fewer system calls than the default 32 KiB.
type bufferPool struct{ pool sync.Pool }

func newBufferPool(size int) *bufferPool {
	return &bufferPool{pool: sync.Pool{New: func() any { b := make([]byte, size); return &b }}}
}

func (p *bufferPool) Get() []byte  { return *(p.pool.Get().(*[]byte)) }
func (p *bufferPool) Put(b []byte) { p.pool.Put(&b) }
