#include "number.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number_fast.h"

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* The slow path: strtof in the C locale on a NUL-terminated copy. The
 * caller has already checked the syntax. */
static int slow_float(const char *s, size_t n, float *out)
{
	char small[64], *buf = small, *end;
	float v;

	if (n >= sizeof small) {
		buf = malloc(n + 1);
		if (!buf)
			return FIDX_NUM_RANGE;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	pthread_once(&c_locale_once, make_c_locale);
	errno = 0;
	v = c_locale ? strtof_l(buf, &end, c_locale) : strtof(buf, &end);
	if (buf != small)
		free(buf);
	if (isinf(v))
		return FIDX_NUM_RANGE;
	*out = v;
	return FIDX_NUM_OK;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int word_at(const char *s, size_t n, const char *w)
{
	size_t i, len = strlen(w);
	if (n < len)
		return 0;
	for (i = 0; i < len; i++)
		if ((s[i] | 0x20) != w[i])
			return 0;
	return 1;
}

/* Eight ASCII digits at p (8 readable bytes) as a number, if they are
 * digits: pairs, then quads, then the whole, each step one multiply for all
 * lanes at once instead of eight dependent multiply-adds. */
static int eight_digits(const char *p, uint64_t *val)
{
	uint64_t x;
	memcpy(&x, p, 8);
	if (((x & UINT64_C(0xF0F0F0F0F0F0F0F0)) |
	     (((x + UINT64_C(0x0606060606060606)) & UINT64_C(0xF0F0F0F0F0F0F0F0)) >> 4)) !=
	    UINT64_C(0x3333333333333333))
		return 0;
	x -= UINT64_C(0x3030303030303030);
	x = (x * 10 + (x >> 8)) & UINT64_C(0x00FF00FF00FF00FF);
	x = (x * 100 + (x >> 16)) & UINT64_C(0x0000FFFF0000FFFF);
	*val = (x & 0xFFFFFFFF) * 10000 + (x >> 32);
	return 1;
}

int fidx_parse_float_prefix(const char *s, size_t n, float *out, size_t *used)
{
	const char *p = s, *end = s + n, *mark;
	uint64_t w = 0, eight;
	int ndig = 0, dropped = 0, exp10 = 0, neg = 0, any = 0;

#ifdef FIDX_HAVE_SSE41_PATH
	if (n >= 16 && fidx_have_sse41() && fidx_parse16(s, out, used))
		return FIDX_NUM_OK;
#endif
	*used = 0;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (p >= end || (!is_digit(*p) && *p != '.')) {
		if (p < end && (word_at(p, (size_t)(end - p), "nan") || word_at(p, (size_t)(end - p), "inf")))
			return FIDX_NUM_NONFINITE;
		return p == end && p == s ? FIDX_NUM_EMPTY : FIDX_NUM_SYNTAX;
	}
	if (end - p >= 2 && p[0] == '0' && (p[1] | 0x20) == 'x')
		return FIDX_NUM_HEX;
	/* Significant digits into w (at most 19), the rest only shift exp10. */
	while (p < end && *p == '0')
		p++, any = 1;
	while (ndig <= 11 && end - p >= 8 && eight_digits(p, &eight))
		w = w * 100000000 + eight, ndig += 8, p += 8, any = 1;
	for (; p < end && is_digit(*p); p++, any = 1) {
		if (ndig < 19)
			w = w * 10 + (uint64_t)(*p - '0'), ndig++;
		else
			exp10++, dropped |= *p != '0';
	}
	if (p < end && *p == '.') {
		p++;
		if (!ndig)
			for (; p < end && *p == '0'; p++, any = 1)
				exp10--;
		while (ndig <= 11 && end - p >= 8 && eight_digits(p, &eight))
			w = w * 100000000 + eight, ndig += 8, exp10 -= 8, p += 8, any = 1;
		for (; p < end && is_digit(*p); p++, any = 1) {
			if (ndig < 19)
				w = w * 10 + (uint64_t)(*p - '0'), ndig++, exp10--;
			else
				dropped |= *p != '0';
		}
	}
	if (!any)
		return FIDX_NUM_SYNTAX;
	mark = p;
	if (p < end && (*p == 'e' || *p == 'E')) {
		int eneg = 0, e = 0, edig = 0;
		const char *q = p + 1;
		if (q < end && (*q == '+' || *q == '-'))
			eneg = *q++ == '-';
		for (; q < end && is_digit(*q); q++, edig++)
			if (e < 100000)
				e = e * 10 + (*q - '0');
			else
				dropped = 1; /* exp10 is no longer exact: strtof decides */
		/* "1e" is the number 1 followed by "e", as strtof reads it. */
		if (edig) {
			exp10 += eneg ? -e : e;
			mark = q;
		}
	}
	*used = (size_t)(mark - s);
	if (w == 0) {
		*out = neg ? -0.0f : 0.0f;
		return FIDX_NUM_OK;
	}
	if (!dropped && fidx_clinger(w, exp10, neg, out))
		return FIDX_NUM_OK;
	return slow_float(s, *used, out);
}

int fidx_parse_float(const char *s, size_t n, float *out)
{
	size_t used;
	int rc;

	while (n && s[0] == ' ')
		s++, n--;
	while (n && s[n - 1] == ' ')
		n--;
	if (!n)
		return FIDX_NUM_EMPTY;
	rc = fidx_parse_float_prefix(s, n, out, &used);
	if (rc == FIDX_NUM_OK && used != n)
		return FIDX_NUM_SYNTAX;
	return rc == FIDX_NUM_EMPTY ? FIDX_NUM_SYNTAX : rc;
}

const char *fidx_num_status_str(int status)
{
	switch (status) {
	case FIDX_NUM_OK: return "a number";
	case FIDX_NUM_EMPTY: return "an empty field (a missing value)";
	case FIDX_NUM_SYNTAX: return "not a number";
	case FIDX_NUM_NONFINITE: return "not a finite number";
	case FIDX_NUM_HEX: return "a hexadecimal float (not accepted)";
	case FIDX_NUM_RANGE: return "out of range";
	}
	return "not a number";
}

int fidx_parse_canonical_i64(const char *s, size_t n, int64_t *out)
{
	uint64_t v = 0, lim;
	size_t i = 0;
	int neg = 0;

	if (n && s[0] == '-')
		neg = 1, i = 1;
	if (i == n || n - i > 19)
		return 0;
	if (s[i] == '0' && (n - i > 1 || neg))
		return 0;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		if (!is_digit(s[i]))
			return 0;
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 1;
}

/* The smallest N <= maxprec for which "%.Ng" reads back as v: glibc's
 * printf rounds correctly, so that N gives the shortest digits, as Python's
 * repr and numpy do. Read back as a float when is_float is set. */
static int shortest_prec(double v, int maxprec, int is_float)
{
	locale_t old = (locale_t)0;
	int prec;

	pthread_once(&c_locale_once, make_c_locale);
	if (c_locale)
		old = uselocale(c_locale);
	/* Reading back exactly is monotonic in the precision: walk down from the
	 * largest until it fails (random floats need 8 or 9 digits). */
	for (prec = maxprec; prec > 1; prec--) {
		char shorter[40];
		int n = snprintf(shorter, sizeof shorter, "%.*g", prec - 1, v);
		if (n < 0 || (size_t)n >= sizeof shorter ||
		    !(is_float ? strtof(shorter, NULL) == (float)v : strtod(shorter, NULL) == v))
			break;
	}
	if (c_locale)
		uselocale(old);
	return prec;
}

/* snprintf(out, cap, fmt, prec, v) in the C locale. */
static int format_c(char *out, size_t cap, const char *fmt, int prec, double v)
{
	locale_t old = (locale_t)0;
	int len;

	pthread_once(&c_locale_once, make_c_locale);
	if (c_locale)
		old = uselocale(c_locale);
	len = snprintf(out, cap, fmt, prec, v);
	if (c_locale)
		uselocale(old);
	return len;
}

int fidx_format_double(double v, char out[32])
{
	char e[40], dig[20] = "0";
	int exp, o = 0, nd = 0, i;
	const char *p = e;

	/* The shortest digits as "d.ddde+XX", then laid out as Python's repr
	 * does: fixed notation for exponents -4 to 15 (keeping ".0" on
	 * integral values), else "d.ddde+XX" with at least two exponent
	 * digits. */
	format_c(e, sizeof e, "%.*e", shortest_prec(v, 17, 0) - 1, v);
	if (*p == '-')
		out[o++] = *p++;
	for (; *p != 'e'; p++)
		if (*p != '.')
			dig[nd++] = *p;
	exp = atoi(p + 1);
	if (exp < -4 || exp >= 16) {
		out[o++] = dig[0];
		if (nd > 1) {
			out[o++] = '.';
			memcpy(out + o, dig + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		o += snprintf(out + o, 32 - (size_t)o, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
	} else if (exp < 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (i = -1; i > exp; i--)
			out[o++] = '0';
		memcpy(out + o, dig, (size_t)nd);
		o += nd;
	} else {
		for (i = 0; i <= exp; i++)
			out[o++] = i < nd ? dig[i] : '0';
		out[o++] = '.';
		if (nd > exp + 1) {
			memcpy(out + o, dig + exp + 1, (size_t)(nd - exp - 1));
			o += nd - exp - 1;
		} else {
			out[o++] = '0';
		}
	}
	out[o] = '\0';
	return o;
}

double fidx_strtod_c(const char *s, char **end)
{
	pthread_once(&c_locale_once, make_c_locale);
	return c_locale ? strtod_l(s, end, c_locale) : strtod(s, end);
}

size_t fidx_format_csv_line(const float *vec, size_t dim, char *out)
{
	size_t len = 0, i;
	for (i = 0; i < dim; i++) {
		if (i)
			out[len++] = ',';
		len += (size_t)(vec ? fidx_format_float(vec[i], out + len) : snprintf(out + len, 24, "%zu", i));
	}
	out[len++] = '\n';
	return len;
}

int fidx_format_float(float v, char out[24])
{
	return format_c(out, 24, "%.*g", shortest_prec((double)v, 9, 1), (double)v);
}
