// Package attachment decides which files a visitor may send: what a file
// is (by its content, never by its name or the type the browser declared),
// a file name safe to put in an email header, and the per-form limits of
// size and count. It is pure: no network, no storage.
package attachment

import (
	"archive/zip"
	"bytes"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Types kontakt can recognise by content, with the extension a file of
// that type gets when its name has none of the type's own. A form allows
// a subset (config.FileRules.Types).
var Types = map[string][]string{
	"application/pdf": {".pdf"},
	"image/png":       {".png"},
	"image/jpeg":      {".jpg", ".jpeg"},
	"image/gif":       {".gif"},
	"image/webp":      {".webp"},
	"image/heic":      {".heic", ".heif"},
	"text/plain":      {".txt", ".text", ".log", ".csv"},
	TypeDOCX:          {".docx"},
	TypeXLSX:          {".xlsx"},
	TypeODT:           {".odt"},
}

// Office Open XML and OpenDocument types: zip archives told apart by what
// they hold.
const (
	TypeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	TypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	TypeODT  = "application/vnd.oasis.opendocument.text"
)

// Sniff returns the type of data from Types, or "" when it is none of them
// (an executable renamed report.pdf, a macro-enabled document, a zip of
// anything else). data is the whole file: an office document is recognised
// by its archive's table of contents, which is at the end.
func Sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return "application/pdf"
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return "image/gif"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "image/webp"
	case len(data) >= 12 && string(data[4:8]) == "ftyp" && heifBrand(string(data[8:12])):
		return "image/heic"
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return sniffZip(data)
	case isText(data):
		return "text/plain"
	}
	return ""
}

func heifBrand(b string) bool {
	switch b {
	case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1":
		return true
	}
	return false
}

// sniffZip tells a Word, Excel or OpenDocument text file from any other zip.
// Documents that carry macros (a vbaProject part, Basic scripts) are
// refused: they are how malware reaches office staff.
func sniffZip(data []byte) string {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return ""
	}
	var word, excel, content bool
	var odt bool
	for _, f := range zr.File {
		name := strings.ToLower(f.Name)
		switch {
		case strings.HasSuffix(name, "vbaproject.bin"), strings.HasPrefix(name, "basic/"), strings.HasSuffix(name, ".bin") && strings.Contains(name, "activex"):
			return ""
		case name == "[content_types].xml":
			content = true
		case name == "word/document.xml":
			word = true
		case name == "xl/workbook.xml":
			excel = true
		case name == "mimetype":
			odt = zipEntryIs(f, "application/vnd.oasis.opendocument.text")
		}
	}
	switch {
	case content && word && !excel:
		return TypeDOCX
	case content && excel && !word:
		return TypeXLSX
	case odt:
		return TypeODT
	}
	return ""
}

func zipEntryIs(f *zip.File, want string) bool {
	if f.UncompressedSize64 != uint64(len(want)) {
		return false
	}
	rc, err := f.Open()
	if err != nil {
		return false
	}
	defer rc.Close()
	buf := make([]byte, len(want)+1)
	n, _ := rc.Read(buf)
	return string(buf[:n]) == want
}

// isText: UTF-8 without control characters other than tab, line breaks and
// form feed. Anything binary is not text, whatever its name.
func isText(data []byte) bool {
	if len(data) == 0 || !utf8.Valid(data) {
		return false
	}
	for _, r := range string(data) {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' || r == 0x7f {
			return false
		}
	}
	return true
}

// MaxNameRunes bounds a file name: long enough for any real one, short
// enough for a header line and a list in an email.
const MaxNameRunes = 100

// CleanName turns what the browser sent as a file name into one safe in a
// MIME header and on staff's disk: no directories, no control, format or
// bidirectional characters (which can make "exe.pdf" read as "fdp.exe"), no
// characters Windows forbids, at most MaxNameRunes, and an extension that
// matches the file's sniffed type (one is added when it does not, so that
// no program opens a PDF as something else because of its name).
func CleanName(name, sniffed string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = strings.TrimPrefix(path.Base("/"+name), "/")
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
			continue
		case strings.ContainsRune(`<>:"/\|?*`, r):
			b.WriteByte('_')
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	name = strings.Trim(b.String(), " .")
	exts := Types[sniffed]
	ext := strings.ToLower(path.Ext(name))
	matches := false
	for _, e := range exts {
		if ext == e {
			matches = true
		}
	}
	stem := name
	if matches {
		stem = strings.TrimSuffix(name, name[len(name)-len(ext):])
	} else if len(exts) > 0 {
		ext = exts[0]
	} else {
		ext = ""
	}
	stem = strings.Trim(stem, " .")
	if stem == "" {
		stem = "file"
	}
	if r := []rune(stem); len(r)+len(ext) > MaxNameRunes {
		stem = strings.TrimRight(string(r[:MaxNameRunes-len(ext)]), " .")
	}
	return stem + ext
}
