package s3local

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"strconv"
)

// s3Error is an error answer in the shape S3 gives it, so SDKs map it to
// the same typed errors they would see from AWS.
type s3Error struct {
	XMLName      xml.Name `xml:"Error"`
	Status       int      `xml:"-"`
	Code         string   `xml:"Code"`
	Message      string   `xml:"Message"`
	Condition    string   `xml:"Condition,omitempty"`
	StorageClass string   `xml:"StorageClass,omitempty"`
	Resource     string   `xml:"Resource,omitempty"`
	RequestID    string   `xml:"RequestId"`
	HostID       string   `xml:"HostId"`
}

func (e *s3Error) Error() string { return e.Code + ": " + e.Message }

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

// body renders the XML document and fills in the request IDs.
func (e *s3Error) body() []byte {
	if e.RequestID == "" {
		e.RequestID = newRequestID()
	}
	e.HostID = "s3local"
	b, err := xml.Marshal(e)
	if err != nil {
		// Every field is a plain string, so this cannot happen; answer
		// something an SDK still parses rather than nothing.
		b = []byte("<Error><Code>InternalError</Code><Message>encode error document</Message></Error>")
	}
	return append([]byte(xml.Header), b...)
}

// write sends the error. A HEAD answer carries the status only, as in S3.
func (e *s3Error) write(w http.ResponseWriter, r *http.Request) {
	b := e.body()
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("X-Amz-Request-Id", e.RequestID)
	if r.Method == http.MethodHead {
		w.WriteHeader(e.Status)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}

func errInvalidStorageClass(class string) *s3Error {
	return &s3Error{Status: http.StatusBadRequest, Code: "InvalidStorageClass",
		Message: "The storage class you specified is not valid: " + class}
}

func errInvalidObjectState(class string) *s3Error {
	return &s3Error{Status: http.StatusForbidden, Code: "InvalidObjectState",
		Message: "The operation is not valid for the object's storage class", StorageClass: class}
}

func errInternal(msg string) *s3Error {
	return &s3Error{Status: http.StatusInternalServerError, Code: "InternalError", Message: msg}
}
