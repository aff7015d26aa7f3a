/* libFuzzer target for io/core/number.c: the exact float parser and its 16-byte
 * fast path. The input is one field's bytes. Invariants:
 *   - whatever fidx_parse_float / fidx_parse_float_prefix accept is exactly
 *     what strtof (C locale) gives for the same bytes, bit for bit, and
 *     strtof consumes all of them;
 *   - the prefix parser's `used` is at most the size;
 *   - the same bytes followed by ",1" and padding (as in a CSV row, where
 *     more bytes are readable and the 16-byte path runs) give the same
 *     status, length and value;
 *   - an accepted value formats (fidx_format_float) to a decimal that
 *     parses back to the same bits;
 *   - fidx_parse_canonical_i64 accepts only what "%lld" prints back.
 * An input that starts with 0xff is also run-length decoded (see expand)
 * and checked the same way, to reach fields of up to 256 KiB.
 * Rejected input is fine; only a broken invariant aborts. */
#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAD 64
#define RLE_MAX (256u << 10)

static locale_t c_locale;

static uint32_t bits(float v)
{
	uint32_t b;
	memcpy(&b, &v, sizeof b);
	return b;
}

/* strtof in the C locale over a NUL-terminated copy of s[0..n); the bytes
 * it consumed in *consumed. */
static float c_strtof(const char *s, size_t n, size_t *consumed)
{
	char *copy = malloc(n + 1), *end;
	locale_t old;
	float v;

	if (!copy)
		abort();
	memcpy(copy, s, n);
	copy[n] = '\0';
	if (!c_locale && !(c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0)))
		abort();
	old = uselocale(c_locale);
	v = strtof(copy, &end);
	uselocale(old);
	*consumed = (size_t)(end - copy);
	free(copy);
	return v;
}

static void check_same_as_strtof(const char *s, size_t n, float v)
{
	size_t consumed;
	float want = c_strtof(s, n, &consumed);
	if (consumed != n || bits(want) != bits(v))
		abort();
}

static void check_round_trip(float v)
{
	char out[24];
	float back;
	int len = fidx_format_float(v, out);
	if (len <= 0 || len >= 24 || out[len] != '\0')
		abort();
	if (fidx_parse_float(out, (size_t)len, &back) != FIDX_NUM_OK || bits(back) != bits(v))
		abort();
}

static int valid_status(int st)
{
	return st == FIDX_NUM_OK || st == FIDX_NUM_EMPTY || st == FIDX_NUM_SYNTAX ||
	       st == FIDX_NUM_NONFINITE || st == FIDX_NUM_HEX || st == FIDX_NUM_RANGE;
}

/* All the invariants over one field s[0..size). */
static void check(const char *s, size_t size)
{
	float v = 0, pv = 0, qv = 0;
	size_t used = (size_t)-1, qused = (size_t)-1, b, e;
	int st, pst, qst;
	char *buf;
	int64_t i64;

	/* The whole field, spaces around it allowed. */
	st = fidx_parse_float(s, size, &v);
	if (!valid_status(st))
		abort();
	if (st == FIDX_NUM_OK) {
		for (b = 0; b < size && s[b] == ' '; b++)
			;
		for (e = size; e > b && s[e - 1] == ' '; e--)
			;
		if (b == e)
			abort();
		check_same_as_strtof(s + b, e - b, v);
		check_round_trip(v);
	}

	/* The number at the start. */
	pst = fidx_parse_float_prefix(s, size, &pv, &used);
	if (!valid_status(pst) || used > size)
		abort();
	if (pst == FIDX_NUM_OK) {
		if (used == 0)
			abort();
		check_same_as_strtof(s, used, pv);
		/* A whole field that parses is its own prefix. */
		if (st == FIDX_NUM_OK && size && s[0] != ' ' && s[size - 1] != ' ' &&
		    (used != size || bits(pv) != bits(v)))
			abort();
	}

	/* The same bytes inside a longer buffer: ",1" then padding that would
	 * change the value if it were read as part of the number. */
	buf = malloc(size + 2 + PAD);
	if (!buf)
		return;
	if (size)
		memcpy(buf, s, size);
	memcpy(buf + size, ",1", 2);
	memset(buf + size + 2, '7', PAD);
	qst = fidx_parse_float_prefix(buf, size + 2 + PAD, &qv, &qused);
	if (!valid_status(qst) || qused > size)
		abort();
	/* Only the empty input differs: "" is empty, ",1" is not a number. */
	if (size == 0 ? qst != FIDX_NUM_SYNTAX : qst != pst)
		abort();
	if (qst == FIDX_NUM_OK && (qused != used || bits(qv) != bits(pv)))
		abort();
	free(buf);

	if (fidx_parse_canonical_i64(s, size, &i64)) {
		char back[24];
		int len = snprintf(back, sizeof back, "%lld", (long long)i64);
		if (len < 0 || (size_t)len != size || memcmp(back, s, size) != 0)
			abort();
	}
}

/* Expands "\xff" (count, byte)...: a count below 0x80 is that many copies,
 * from 0x80 up (count - 0x7f) * 1024 copies; at most RLE_MAX bytes in all.
 * Returns the length, or 0. */
static size_t expand(const uint8_t *data, size_t size, char **out)
{
	size_t i, len = 0;
	char *buf;

	for (i = 1; i + 1 < size; i += 2)
		len += data[i] < 0x80 ? data[i] : (size_t)(data[i] - 0x7f) * 1024;
	if (len == 0 || len > RLE_MAX || !(buf = malloc(len)))
		return 0;
	for (len = 0, i = 1; i + 1 < size; i += 2) {
		size_t n = data[i] < 0x80 ? data[i] : (size_t)(data[i] - 0x7f) * 1024;
		memset(buf + len, data[i + 1], n);
		len += n;
	}
	*out = buf;
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *big = NULL;
	size_t n;

	check((const char *)data, size);
	/* Fields far longer than libFuzzer's inputs: counters and caps that
	 * only long digit strings reach. */
	if (size > 0 && data[0] == 0xff && (n = expand(data, size, &big)) != 0) {
		check(big, n);
		free(big);
	}
	return 0;
}
