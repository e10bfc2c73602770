package email

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/opt-e/kontakt/internal/submission"
)

// FileNote says how one file of a submission reaches staff: attached to
// the email, or a link to download it (which needs no AWS login and works
// until LinkUntil), or withheld because the malware scan flagged it.
type FileNote struct {
	Attached  bool
	Link      string
	LinkUntil time.Time
	Withheld  bool
	// ScanFirst: the link opens once the malware scan found nothing.
	ScanFirst bool
}

type fileLabels struct {
	files, attached, download, until, withheld, noLink, scanFirst string
}

var fileTexts = map[string]fileLabels{
	"nb": {files: "Vedlegg", attached: "vedlagt", download: "last ned", until: "lenken virker uten innlogging til",
		withheld: "holdt tilbake: skanningen fant skadelig innhold", noLink: "lagret; spør driftsansvarlig",
		scanFirst: "åpnes når skanningen ikke har funnet skadelig innhold"},
	"en": {files: "Files", attached: "attached", download: "download", until: "the link works without a login until",
		withheld: "withheld: the scan found malicious content", noLink: "stored; ask the operator",
		scanFirst: "opens once the malware scan found nothing"},
}

// writeFiles lists s's files in both parts: how many there were, and for
// each its name, type and size and how it reaches staff. Said even when the
// email carries none of them, so staff know files came with the message.
func writeFiles(t, h *strings.Builder, lang string, s *submission.Submission, notes []FileNote) {
	if len(s.Files) == 0 {
		return
	}
	l, ok := fileTexts[lang]
	if !ok {
		l = fileTexts["en"]
	}
	head := fmt.Sprintf("%s (%d)", l.files, len(s.Files))
	t.WriteString(head + ":\n")
	h.WriteString(`<p><b>`)
	htmlEscaper.WriteString(h, head)
	h.WriteString(`:</b></p><ul>`)
	for i, f := range s.Files {
		desc := fmt.Sprintf("%s (%s, %s)", oneLine(f.Name), f.Type, Size(f.Size))
		var note FileNote
		if i < len(notes) {
			note = notes[i]
		}
		t.WriteString("- " + desc)
		h.WriteString(`<li>`)
		htmlEscaper.WriteString(h, desc)
		switch until := note.LinkUntil.In(oslo()).Format("2006-01-02 15:04 MST"); {
		case note.Withheld:
			t.WriteString(": " + l.withheld)
			htmlEscaper.WriteString(h, ": "+l.withheld)
		case note.Attached:
			t.WriteString(": " + l.attached)
			htmlEscaper.WriteString(h, ": "+l.attached)
		case note.Link != "":
			scan := ""
			if note.ScanFirst {
				scan = "; " + l.scanFirst
			}
			t.WriteString(": " + l.download + " " + note.Link + " (" + l.until + " " + until + scan + ")")
			h.WriteString(`: <a href="`)
			htmlEscaper.WriteString(h, note.Link)
			h.WriteString(`">`)
			htmlEscaper.WriteString(h, l.download)
			h.WriteString(`</a> (`)
			htmlEscaper.WriteString(h, l.until+" "+until+scan)
			h.WriteString(`)`)
		case notes != nil:
			t.WriteString(": " + l.noLink)
			htmlEscaper.WriteString(h, ": "+l.noLink)
		}
		t.WriteString("\n")
		h.WriteString(`</li>`)
	}
	t.WriteString("\n")
	h.WriteString(`</ul>`)
}

// Size is n bytes as people read it: 512 B, 120 KB, 4.2 MB.
func Size(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1000*1000:
		return strconv.FormatInt((n+500)/1000, 10) + " KB"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
}
