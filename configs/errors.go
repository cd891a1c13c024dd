package configs

import (
	"fmt"
	"strconv"
	"strings"
)

// FieldError is one problem in a config file: where it is and what is
// wrong. Immutable once returned; safe for concurrent use.
type FieldError struct {
	File string // the name given to Parse, or the path given to Load
	Line int    // 1-based; 0 when the problem has no line (an empty file)
	Path string // e.g. "businesses[0].hours.monday[1]"; empty for the whole document
	Msg  string
}

// Error formats e as "file:line: path: message", leaving out empty parts.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ValidationErrors is every problem Parse found in one file, in line
// order. Parse returns it (as an error) whenever the file is rejected; use
// errors.As to get at the list. Safe for concurrent reads.
type ValidationErrors []*FieldError

// Error lists the problems one per line.
func (v ValidationErrors) Error() string {
	switch len(v) {
	case 0:
		return "no problems"
	case 1:
		return v[0].Error()
	}
	lines := make([]string, 0, len(v)+1)
	lines = append(lines, fmt.Sprintf("%s: %d problems:", v[0].File, len(v)))
	for _, e := range v {
		lines = append(lines, "  "+e.Error())
	}
	return strings.Join(lines, "\n")
}
