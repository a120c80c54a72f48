package profile

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/awnumar/memguard"
)

const paperVectorPath = "../testdata/profile/paper-vector.txt"

// vectorPaperProfile is the profile of testdata/profile/vector.json, whose
// sheet is paper-vector.txt (checked independently by
// check_paper_vector.py).
func vectorPaperProfile(t testing.TB) *Profile {
	v, _ := loadVector(t)
	return &Profile{
		MasterKey:       memguard.NewEnclave(mustHexTB(t, v.MasterKey)),
		AccessKeyID:     enclave(v.AccessKeyID),
		SecretAccessKey: enclave(v.SecretAccessKey),
		Bucket:          v.Bucket,
		Region:          v.Region,
		Endpoint:        v.Endpoint,
		Prefix:          v.Prefix,
		PathStyle:       v.PathStyle,
	}
}

func mustHexTB(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readPaperVector(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(paperVectorPath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertSamePaper compares what a sheet carries: the master key and the
// settings. A sheet never carries AWS keys.
func assertSamePaper(t *testing.T, got, want *Profile) {
	t.Helper()
	if got.AccessKeyID != nil || got.SecretAccessKey != nil {
		t.Error("a profile read from a sheet has AWS keys")
	}
	if !bytes.Equal(openEnclave(t, got.MasterKey), openEnclave(t, want.MasterKey)) {
		t.Error("master key differs")
	}
	if got.Bucket != want.Bucket || got.Region != want.Region || got.Endpoint != want.Endpoint ||
		got.Prefix != want.Prefix || got.PathStyle != want.PathStyle || got.LegacyArchives != want.LegacyArchives {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestPaperKnownAnswer(t *testing.T) {
	p := vectorPaperProfile(t)
	want := readPaperVector(t)
	var got bytes.Buffer
	if err := WritePaper(&got, p); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("sheet:\n%s\nwant:\n%s", got.Bytes(), want)
	}
	for _, secret := range []string{"AKIAEXAMPLE", "wJalrXUtnFEMI"} {
		if bytes.Contains(got.Bytes(), []byte(secret)) {
			t.Errorf("the sheet holds an AWS key (%s)", secret)
		}
	}
	read, err := ParsePaper(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	assertSamePaper(t, read, p)
}

func TestPaperRoundTrip(t *testing.T) {
	for _, settings := range []Profile{
		{Bucket: "b"},
		{Bucket: "my-backups", Region: "eu-west-1", Endpoint: "http://127.0.0.1:7070", PathStyle: true},
		{Bucket: "b", Prefix: "host/é \"quoted\" \\ back\tslash\nnew line  ", LegacyArchives: true},
		{Bucket: "b", Prefix: "#not a comment: key 1", Region: "  spaces  "},
	} {
		p, err := New()
		if err != nil {
			t.Fatal(err)
		}
		settings.MasterKey = p.MasterKey
		var sheet bytes.Buffer
		if err := WritePaper(&sheet, &settings); err != nil {
			t.Fatal(err)
		}
		got, err := ParsePaper(&sheet)
		if err != nil {
			t.Fatalf("%q: %v", settings.Prefix, err)
		}
		assertSamePaper(t, got, &settings)
	}
}

// A sheet typed by hand: other case, look-alike letters, no or other
// separators, lines in another order, comments left out or added, bare
// settings, CRLF line ends.
func TestPaperReadsWhatPeopleType(t *testing.T) {
	want := vectorPaperProfile(t)
	typed := strings.Join([]string{
		"bucket: ogive-test",
		"Key1: 810m-4gt4-8n34-ej29-rj",
		"  KEY 2 :995MRKAE9X852MJK7A",
		"# a comment",
		"",
		"key 3: AHAN CNTR B5D5 PQ2X JO", // O for 0
		"key   4: BSFS GAJR QY9G 3OKV X9",
		"region: eu-west-1",
		"endpoint: https://s3.eu-west-1.amazonaws.com",
		"prefix:",
		"Path-Style: NO",
		"2019 Archives: no",
		"FORMAT: OGIVE-PAPER-1",
		"settings check: jwe6",
	}, "\r\n")
	got, err := ParsePaper(strings.NewReader(typed))
	if err != nil {
		t.Fatal(err)
	}
	assertSamePaper(t, got, want)

	// I and L read as 1.
	withOnes := strings.Replace(string(readPaperVector(t)), "810M", "8I0M", 1)
	if _, err := ParsePaper(strings.NewReader(withOnes)); err != nil {
		t.Errorf("I for 1: %v", err)
	}
	withOnes = strings.Replace(string(readPaperVector(t)), "810M", "8l0M", 1)
	if _, err := ParsePaper(strings.NewReader(withOnes)); err != nil {
		t.Errorf("l for 1: %v", err)
	}
}

// Reading stops once every field is in, so a sheet typed on a terminal
// needs no end of file, and what follows it is never read.
func TestPaperStopsAtTheLastField(t *testing.T) {
	r := io.MultiReader(bytes.NewReader(readPaperVector(t)), iotest.ErrReader(errors.New("read past the sheet")))
	if _, err := ParsePaper(r); err != nil {
		t.Fatal(err)
	}
}

func TestPaperCatchesTypos(t *testing.T) {
	sheet := string(readPaperVector(t))
	change := func(old, new string) string {
		t.Helper()
		if !strings.Contains(sheet, old) {
			t.Fatalf("%q not in the sheet", old)
		}
		return strings.Replace(sheet, old, new, 1)
	}
	for _, c := range []struct {
		name, sheet string
		want        string // in the error
	}{
		{"a data character", change("4GT4", "4GT5"), "line 6: key line 1: recovery sheet mistyped"},
		{"a check character", change("PQ2X  J0", "PQ2X  J1"), "line 8: key line 3: recovery sheet mistyped"},
		{"two characters swapped", change("QY9G", "Q9YG"), "line 9: key line 4: recovery sheet mistyped"},
		{"a character left out", change("995M", "95M"), "line 7: key line 2: not a readable recovery sheet: 17 characters, want 18"},
		{"lines swapped", change("key 1:          810M 4GT4 8N34 EJ29  RJ\nkey 2:          995M RKAE 9X85 2MJK  7A",
			"key 2:          810M 4GT4 8N34 EJ29  RJ\nkey 1:          995M RKAE 9X85 2MJK  7A"), "line 6: key line 2: recovery sheet mistyped"},
		{"the bucket", change(`"ogive-test"`, `"ogive-tset"`), "line 16: recovery sheet mistyped: the settings do not match their check JWE6"},
		{"the prefix", change(`prefix:         ""`, `prefix:         "a"`), "settings do not match"},
		{"path-style", change("path-style:     no", "path-style:     yes"), "settings do not match"},
		{"2019 archives", change("2019 archives:  no", "2019 archives:  yes"), "settings do not match"},
		{"the settings check", change("JWE6", "JWE7"), "settings do not match their check JWE7"},
	} {
		_, err := ParsePaper(strings.NewReader(c.sheet))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(c.want, "mistyped") && !errors.Is(err, ErrSheetTypo) {
			t.Errorf("%s: %v is not ErrSheetTypo", c.name, err)
		}
	}
}

// Two changes in one line can slip past its 10-bit check; the whole-key
// check still catches them.
func TestPaperWholeKeyCheck(t *testing.T) {
	sheet := string(readPaperVector(t))
	const line = "810M4GT48N34EJ29"
	check := string(lineCheck(0, []byte(line)))
	for i := 0; i < len(line); i++ {
		for j := i + 1; j < len(line); j++ {
			for _, a := range crockfordAlphabet {
				changed := []byte(line)
				if byte(a) == changed[i] {
					continue
				}
				changed[i] = byte(a)
				changed[j] = crockfordAlphabet[(strings.IndexByte(crockfordAlphabet, changed[j])+1)%32]
				if string(lineCheck(0, changed)) != check {
					continue
				}
				typed := strings.Replace(sheet, "810M 4GT4 8N34 EJ29", string(changed), 1)
				_, err := ParsePaper(strings.NewReader(typed))
				if !errors.Is(err, ErrSheetTypo) || !strings.Contains(err.Error(), "the key does not match its own") {
					t.Fatalf("%s passes its line check: %v, want the whole-key check to fail", changed, err)
				}
				return
			}
		}
	}
	t.Fatal("found no change that passes the line check")
}

func TestPaperRejects(t *testing.T) {
	sheet := string(readPaperVector(t))
	change := func(old, new string) string {
		t.Helper()
		if !strings.Contains(sheet, old) {
			t.Fatalf("%q not in the sheet", old)
		}
		return strings.Replace(sheet, old, new, 1)
	}
	for _, c := range []struct {
		name, sheet, want string
	}{
		{"empty", "", `the sheet ends without "format", "key 1"`},
		{"cut short", sheet[:strings.Index(sheet, "2019 archives")], `ends without "2019 archives", "settings check"`},
		{"another format", change("ogive-paper-1", "ogive-paper-2"), `line 5: not a readable recovery sheet: format "ogive-paper-2"`},
		{"an unknown field", change("region:", "regoin:"), `line 11: not a readable recovery sheet: unknown field "regoin"`},
		{"a field twice", change("region:         \"eu-west-1\"", "bucket: \"x\""), `line 11: not a readable recovery sheet: "bucket" again, already on line 10`},
		{"no colon", change("path-style:     no", "path-style no"), "line 14: not a readable recovery sheet: no \"name:\""},
		{"a U", change("4GT4", "4GU4"), `line 6: key line 1: not a readable recovery sheet: "U" is not a recovery sheet character`},
		{"too many characters", change("810M", "810MM"), "more than 18 characters"},
		{"a bad yes/no", change("path-style:     no", "path-style:     maybe"), `"maybe" is neither yes nor no`},
		{"bad quoting", change(`"ogive-test"`, `"ogive-test`), "malformed quoted text"},
		{"invalid UTF-8", change(`"ogive-test"`, `"ogive-\xfftest"`), "not valid UTF-8"},
		{"a NUL", change(`"ogive-test"`, `"ogive-\x00test"`), "not valid UTF-8"},
		{"a long line", change("# It", "# "+strings.Repeat("a", paperMaxLine)), "line 2: not a readable recovery sheet: longer than"},
		{"key 5", change("key 4:", "key 5:"), `unknown field "key 5"`},
	} {
		_, err := ParsePaper(strings.NewReader(c.sheet))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
		if err != nil && !errors.Is(err, ErrBadSheet) {
			t.Errorf("%s: %v is not ErrBadSheet", c.name, err)
		}
	}

	// An empty bucket is refused even when its check is right.
	p := vectorPaperProfile(t)
	p.Bucket = ""
	typed := change(`bucket:         "ogive-test"`, `bucket:         ""`)
	typed = strings.Replace(typed, "JWE6", settingsCheck(p), 1)
	if _, err := ParsePaper(strings.NewReader(typed)); !errors.Is(err, ErrBadSheet) || !strings.Contains(err.Error(), "bucket is empty") {
		t.Errorf("empty bucket: %v", err)
	}
}

func TestWritePaperRefuses(t *testing.T) {
	var out bytes.Buffer
	if err := WritePaper(&out, &Profile{Bucket: "b"}); err == nil {
		t.Error("a profile without master key was written")
	}
	p := vectorPaperProfile(t)
	p.Bucket = ""
	if err := WritePaper(&out, p); err == nil {
		t.Error("a profile without bucket was written")
	}
	if out.Len() != 0 {
		t.Errorf("a refused sheet wrote %q", out.Bytes())
	}
	if err := WritePaper(failingWriter{}, vectorPaperProfile(t)); err == nil {
		t.Error("a failing writer was not reported")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// FuzzParsePaper reads arbitrary text as a sheet. It must never panic;
// every failure is ErrBadSheet or ErrSheetTypo; and whatever it accepts
// must be written back as a sheet that reads as the same profile.
func FuzzParsePaper(f *testing.F) {
	sheet := readPaperVector(f)
	f.Add(sheet)
	f.Add(bytes.ReplaceAll(sheet, []byte("\n"), []byte("\r\n")))
	f.Add(bytes.Replace(sheet, []byte("4GT4"), []byte("4GT5"), 1))
	f.Add([]byte("format: ogive-paper-1\nkey 1: 0000\n"))
	f.Add([]byte("bucket: \"\\u00e9\\x00\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePaper(bytes.NewReader(data))
		if err != nil {
			if p != nil {
				t.Fatalf("profile returned with error %v", err)
			}
			if !errors.Is(err, ErrBadSheet) && !errors.Is(err, ErrSheetTypo) {
				t.Fatalf("error without sentinel: %v", err)
			}
			return
		}
		var again bytes.Buffer
		if err := WritePaper(&again, p); err != nil {
			t.Fatalf("accepted sheet cannot be written back: %v", err)
		}
		read, err := ParsePaper(&again)
		if err != nil {
			t.Fatalf("written sheet cannot be read: %v\n%s", err, again.Bytes())
		}
		assertSamePaper(t, read, p)
	})
}

// Settings that do not fit on a sheet line are refused when the sheet is
// written, not discovered when it is read back.
func TestWritePaperRefusesLongSettings(t *testing.T) {
	p := vectorPaperProfile(t)
	p.Prefix = strings.Repeat("p", paperMaxLine)
	var out bytes.Buffer
	if err := WritePaper(&out, p); !errors.Is(err, ErrBadSheet) || out.Len() != 0 {
		t.Errorf("long prefix: %v, and %d bytes written; want ErrBadSheet and nothing", err, out.Len())
	}
	p.Prefix = strings.Repeat("p", 1024) // the longest S3 key
	out.Reset()
	if err := WritePaper(&out, p); err != nil {
		t.Fatal(err)
	}
	got, err := ParsePaper(&out)
	if err != nil {
		t.Fatal(err)
	}
	assertSamePaper(t, got, p)
}
