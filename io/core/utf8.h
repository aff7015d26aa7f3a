/* UTF-8, strictly: the one decoder fidx uses (JSON output, glob matching
 * of dataset file names). */
#ifndef FIDX_IO_UTF8_H
#define FIDX_IO_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length (1 to 4) of the UTF-8 sequence at s[0..n), with its code point
 * in *cp, or 0 when s does not start a valid one: a stray continuation or
 * invalid lead byte, a truncated sequence, an overlong form, a surrogate or
 * a value past U+10FFFF. A NUL-terminated s may be given any n >= 1: the
 * NUL is not a continuation byte, so decoding stops there. */
size_t fidx_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif
