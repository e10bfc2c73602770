package attachment_test

import (
	"archive/zip"
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/opt-e/kontakt/internal/attachment"
	"github.com/opt-e/kontakt/internal/config"
)

// zipOf builds a zip archive with the named (empty unless given) entries.
func zipOf(t testing.TB, entries ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		name, content, _ := strings.Cut(e, "=")
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Sniff tells a file's type by its content alone: each type kontakt takes
// by a sample of its first bytes, and no type for anything else.
func TestSniffByContentOnly(t *testing.T) {
	samples := map[string][]byte{
		"application/pdf":   []byte("%PDF-1.7\n%âãÏÓ\n1 0 obj"),
		"image/png":         []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
		"image/jpeg":        []byte("\xff\xd8\xff\xe0\x00\x10JFIF"),
		"image/gif":         []byte("GIF89a\x01\x00"),
		"image/webp":        []byte("RIFF\x24\x00\x00\x00WEBPVP8 "),
		"image/heic":        []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"),
		"text/plain":        []byte("Hei!\r\nHer er loggen.\tæøå\n"),
		attachment.TypeDOCX: zipOf(t, "[Content_Types].xml", "word/document.xml"),
		attachment.TypeXLSX: zipOf(t, "[Content_Types].xml", "xl/workbook.xml"),
		attachment.TypeODT:  zipOf(t, "mimetype=application/vnd.oasis.opendocument.text", "content.xml"),
	}
	for typ := range attachment.Types {
		if got := attachment.Sniff(samples[typ]); got != typ {
			t.Errorf("a sample of %s: Sniff = %q", typ, got)
		}
	}
	for name, data := range map[string][]byte{
		"windows executable":     []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"),
		"elf":                    []byte("\x7fELF\x02\x01\x01"),
		"html is not text/plain": []byte("<script>alert(1)</script>\x00"),
		"binary with NUL":        []byte("abc\x00def"),
		"invalid UTF-8":          []byte("abc\xffdef"),
		"empty":                  nil,
		"docm: macros":           zipOf(t, "[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"),
		"odt with Basic macros":  zipOf(t, "mimetype=application/vnd.oasis.opendocument.text", "Basic/Standard/Module1.xml"),
		"any other zip":          zipOf(t, "setup.exe"),
		"truncated zip":          zipOf(t, "[Content_Types].xml", "word/document.xml")[:30],
	} {
		if got := attachment.Sniff(data); got != "" {
			t.Errorf("%s: Sniff = %q, want no type", name, got)
		}
	}
}

func TestTypesAreTheConfigurableOnes(t *testing.T) {
	got := slices.Sorted(maps.Keys(attachment.Types))
	want := slices.Sorted(slices.Values(config.KnownFileTypes))
	if !slices.Equal(got, want) {
		t.Errorf("attachment.Types %v, config.KnownFileTypes %v", got, want)
	}
}

func TestCleanName(t *testing.T) {
	long := strings.Repeat("a", 10000) + ".pdf"
	cases := []struct{ in, typ, want string }{
		{"CV.pdf", "application/pdf", "CV.pdf"},
		{"../../etc/passwd.pdf", "application/pdf", "passwd.pdf"},
		{`C:\Users\kari\Desktop\søknad.PDF`, "application/pdf", "søknad.pdf"},
		{"a\r\nBcc: x@example.com.pdf", "application/pdf", "aBcc_ x@example.com.pdf"},
		{"invoice\u202Efdp.exe", "application/pdf", "invoicefdp.exe.pdf"},
		{"report.exe", "application/pdf", "report.exe.pdf"},
		{"photo", "image/jpeg", "photo.jpg"},
		{"photo.jpeg", "image/jpeg", "photo.jpeg"},
		{"", "image/png", "file.png"},
		{"...", "text/plain", "file.txt"},
		{`a"b<c>d|e?f*.txt`, "text/plain", "a_b_c_d_e_f_.txt"},
		{long, "application/pdf", strings.Repeat("a", attachment.MaxNameRunes-4) + ".pdf"},
	}
	for _, c := range cases {
		if got := attachment.CleanName(c.in, c.typ); got != c.want {
			t.Errorf("CleanName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzCleanName: whatever a browser sends, the name is one line of at most
// MaxNameRunes printable characters with no path in it, ending in an
// extension of its type.
func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"CV.pdf", "../x", "a\r\nb", "\u202Eexe.pdf", strings.Repeat("ø", 300), "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := attachment.CleanName(name, "application/pdf")
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > attachment.MaxNameRunes {
			t.Fatalf("%q: invalid or too long", got)
		}
		if strings.ContainsAny(got, "/\\\"<>|?*:") || !strings.HasSuffix(got, ".pdf") || strings.HasPrefix(got, ".") {
			t.Fatalf("%q: unsafe name", got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("%q: control or format character %U", got, r)
			}
		}
	})
}

// FuzzSniff: any bytes get one of the known types or none, never a panic
// (a zip with a lying directory, a truncated header).
func FuzzSniff(f *testing.F) {
	for _, s := range []string{"%PDF-1.7", "\x89PNG\r\n\x1a\n", "PK\x03\x04", "GIF89a", "RIFF\x00\x00\x00\x00WEBP", "hei\n", "\x00"} {
		f.Add([]byte(s))
	}
	f.Add(zipOf(f, "[Content_Types].xml", "word/document.xml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got := attachment.Sniff(data)
		if _, known := attachment.Types[got]; got != "" && !known {
			t.Fatalf("Sniff = %q, not a known type", got)
		}
	})
}
