package configs

import (
	"fmt"
	"strings"
)

// expand replaces ${NAME} and ${NAME:-default} in s with values from
// getenv, so that secrets can live in the environment rather than in the
// file. ${NAME:-default} uses default when NAME is unset or empty, as the
// shell does; ${NAME} with NAME unset is an error. "$${" is a literal "${".
// A "$" not followed by "{" is left alone.
func expand(s string, getenv func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' {
			// "$${" escapes: keep one "$" and the "{", expand nothing.
			b.WriteString(s[:i-1] + "${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated %q: want ${NAME} or ${NAME:-default}", s[i:])
		}
		ref := s[i+2 : i+end]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !validEnvName(name) {
			return "", fmt.Errorf("invalid environment variable reference ${%s}: want ${NAME} or ${NAME:-default}", ref)
		}
		val, ok := getenv(name)
		switch {
		case hasDef && val == "":
			val = def
		case !ok:
			return "", fmt.Errorf("environment variable %s is not set (write ${%s:-} to allow it to be empty)", name, name)
		}
		b.WriteString(val)
		s = s[i+end+1:]
	}
}

// validEnvName reports whether name is a portable environment variable
// name: a letter or underscore, then letters, digits or underscores.
func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
