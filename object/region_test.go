package object_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ogive-project/ogive/object"
)

// AWS answers a request signed for the wrong region with 301
// PermanentRedirect and the bucket's region in x-amz-bucket-region; the
// store reports it as a RegionError. What the header holds is checked, as a
// proxy may write anything there.
func TestS3WrongRegionRedirect(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"eu-central-1", "eu-central-1"},
		{"eu-central-1; rm -rf ~", ""},
		{"", ""},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.header != "" {
				w.Header()["X-Amz-Bucket-Region"] = []string{tc.header}
			}
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusMovedPermanently)
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code>` +
				`<Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message>` +
				`<Endpoint>bucket.s3.eu-central-1.amazonaws.com</Endpoint><Bucket>bucket</Bucket></Error>`))
		}))
		s := newS3(t, object.S3Config{Bucket: "bucket", Region: "eu-west-1", Endpoint: srv.URL,
			Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLE", "secret", "")})
		err := object.Probe(t.Context(), s)
		srv.Close()
		var re *object.RegionError
		switch {
		case tc.want == "" && errors.As(err, &re):
			t.Errorf("header %q: %v, want no RegionError", tc.header, err)
		case tc.want != "" && (!errors.As(err, &re) || re.Region != tc.want):
			t.Errorf("header %q: %v, want a RegionError for %s", tc.header, err, tc.want)
		case tc.want != "" && err.Error() != "list: the bucket is in region "+tc.want:
			t.Errorf("header %q: %q", tc.header, err)
		}
	}
}
