// Package wordscan passes over text eight bytes (one machine word) at a
// time. Checking a message byte by byte for control characters (validation)
// and for quotes and backslashes (JSON) was an eighth of a submission's CPU
// (docs/performance.md); most words of a message hold none of them.
package wordscan

import "math/bits"

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// word reads eight bytes of s from i; the compiler makes it one load.
func word(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// below reports whether a byte of x is below n (n ≤ 0x80). A byte below n
// borrows into its own high bit, which ^x keeps only for bytes under 0x80;
// a borrow passed on to the next byte comes from such a byte, so the answer
// is exact even where the marked byte is not the one below n.
func below(x uint64, n byte) bool { return (x-ones*uint64(n))&^x&highs != 0 }

// has reports whether a byte of x equals b.
func has(x uint64, b byte) bool { return below(x^(ones*uint64(b)), 1) }

// Clean returns a length, a multiple of eight, such that s[:length] holds
// no control character of ASCII (below 0x20, or 0x7f) and neither a nor b.
// Bytes of 0x80 and above pass. It stops at the first word that may hold
// anything else; the caller goes on byte by byte from there.
func Clean(s string, a, b byte) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := word(s, i)
		if below(x, 0x20) || has(x, 0x7f) || has(x, a) || has(x, b) {
			break
		}
	}
	return i
}

// Runes counts the runes of valid UTF-8 text: its bytes that are not
// continuation bytes (10xxxxxx).
func Runes(s string) int {
	n, i := 0, 0
	for ; i+8 <= len(s); i += 8 {
		x := word(s, i)
		n += 8 - bits.OnesCount64(x&^(x<<1)&highs)
	}
	for ; i < len(s); i++ {
		if s[i]&0xc0 != 0x80 {
			n++
		}
	}
	return n
}
