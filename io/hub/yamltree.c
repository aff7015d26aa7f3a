#include "yamltree.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "number.h"

/* libyaml gives events; nodes are built as they complete, collections on a
 * stack of frames (libyaml itself does not recurse either). Scalars are
 * typed as SafeLoader types them: the implicit resolver's patterns and the
 * constructors' conversions are followed rule by rule (PyYAML 6,
 * resolver.py and constructor.py), including Python's own int(), float()
 * and base64 rules where a tag leads there. */

#define YTAG "tag:yaml.org,2002:"
/* Python 3.11 refuses to turn decimal text of more digits into an int. */
#define MAX_INT_DIGITS 4300

/* Collections. */
enum { C_SEQ, C_MAP, C_SET, C_OMAP, C_PAIRS };
/* What a plain scalar resolves to (SafeLoader's implicit tags), and the
 * explicit scalar tags. */
enum { T_STR, T_NULL, T_BOOL, T_INT, T_FLOAT, T_TIME, T_BINARY, T_MERGE, T_VALUE };

struct ystat {
	size_t nodes, bytes;
	int height; /* levels of collections: 0 for a scalar */
};

struct yent {
	const char *key;
	union {
		cJSON *item; /* a mapping's keys */
		size_t idx;  /* anchors */
	} v;
};

/* Open addressing on NUL-terminated keys. */
struct ytab {
	struct yent *v;
	size_t n, cap;
};

struct yanchor {
	char *name;
	cJSON *node; /* NULL while its node is being built */
	struct ystat st;
};

struct yframe {
	cJSON *node;
	int kind;
	size_t anchor;      /* 1 + index in anchors, or 0 */
	yaml_mark_t mark;
	struct ystat st;    /* of the items so far */
	cJSON *key;         /* the pending key, NULL when a key comes next */
	int key_type;       /* T_MERGE for "<<" */
	yaml_mark_t key_mark;
	struct ytab keys;   /* the mapping's own keys */
	cJSON **merge;      /* mappings to merge, in PyYAML's order */
	size_t nmerge, capmerge;
};

/* Where a scalar is, in characters (libyaml's marks count characters). */
struct yspan {
	size_t start, end;
	int style;
};

struct yload {
	const char *name;
	struct fidx_err *err;
	struct yframe stack[FIDX_YAML_MAX_DEPTH];
	int depth;
	struct yanchor *anchors;
	size_t nanchors, capanchors;
	struct ytab names;
	cJSON *limbo; /* keys and merged mappings: anchors may point into them */
	cJSON *root;
	size_t nodes, bytes;
	struct yspan *spans; /* of every scalar, when the text has a tab */
	size_t nspans, capspans;
};

static int yerr(struct yload *y, yaml_mark_t m, const char *fmt, ...) FIDX_PRINTF(3, 4);

static int yerr(struct yload *y, yaml_mark_t m, const char *fmt, ...)
{
	char msg[FIDX_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return fidx_err_set(y->err, FIDX_EINPUT, "%s:%lu:%lu: %s", y->name,
	                    (unsigned long)m.line + 1, (unsigned long)m.column + 1, msg);
}

/* ---- tables ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 14695981039346656037u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211u;
	}
	return h;
}

static struct yent *tab_find(const struct ytab *t, const char *key)
{
	size_t i;

	if (!t->cap)
		return NULL;
	for (i = (size_t)hash_str(key) & (t->cap - 1); t->v[i].key; i = (i + 1) & (t->cap - 1))
		if (strcmp(t->v[i].key, key) == 0)
			return &t->v[i];
	return NULL;
}

/* A new entry for key (absent; not copied); NULL when out of memory. */
static struct yent *tab_add(struct ytab *t, const char *key)
{
	size_t i;

	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16, j;
		struct yent *v = calloc(cap, sizeof *v);
		if (!v)
			return NULL;
		for (j = 0; j < t->cap; j++) {
			if (!t->v[j].key)
				continue;
			for (i = (size_t)hash_str(t->v[j].key) & (cap - 1); v[i].key; i = (i + 1) & (cap - 1))
				;
			v[i] = t->v[j];
		}
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	for (i = (size_t)hash_str(key) & (t->cap - 1); t->v[i].key; i = (i + 1) & (t->cap - 1))
		;
	t->v[i].key = key;
	t->n++;
	return &t->v[i];
}

static void tab_free(struct ytab *t)
{
	free(t->v);
	memset(t, 0, sizeof *t);
}

/* ---- budget ---- */

static int charge(struct yload *y, const struct ystat *st, yaml_mark_t m)
{
	if (st->nodes > FIDX_YAML_MAX_NODES - y->nodes)
		return yerr(y, m, "more than %u nodes (aliases expanded)", FIDX_YAML_MAX_NODES);
	if (st->bytes > FIDX_YAML_MAX_BYTES - y->bytes)
		return yerr(y, m, "more than %u bytes of text (aliases expanded)", FIDX_YAML_MAX_BYTES);
	y->nodes += st->nodes;
	y->bytes += st->bytes;
	return 0;
}

static void measure(const cJSON *c, struct ystat *st)
{
	const cJSON *k;

	st->nodes++;
	st->bytes += (c->valuestring ? strlen(c->valuestring) : 0) + (c->string ? strlen(c->string) : 0);
	for (k = c->child; k; k = k->next)
		measure(k, st);
}

/* ---- scalars: texts and numbers as Python has them ---- */

static cJSON *mark(cJSON *item, yaml_mark_t m)
{
	if (item)
		item->valueint = (int)m.line + 1;
	return item;
}

/* Gives item (a null, bool, number or raw) its text. */
static cJSON *with_text(cJSON *item, const char *text)
{
	size_t n = strlen(text) + 1;

	if (!item)
		return NULL;
	if (!item->valuestring) {
		if (!(item->valuestring = cJSON_malloc(n))) {
			cJSON_Delete(item);
			return NULL;
		}
		memcpy(item->valuestring, text, n);
	}
	return item;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_pyspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static size_t digits(const char *s, size_t i, size_t n, const char *extra)
{
	while (i < n && (is_digit(s[i]) || (s[i] && strchr(extra, s[i]))))
		i++;
	return i;
}

/* "(:[0-5]?[0-9])+" from s[i]: the end, or i when it does not match. */
static size_t base60(const char *s, size_t i, size_t n)
{
	size_t start = i;

	while (i + 1 < n && s[i] == ':' && is_digit(s[i + 1])) {
		i += 2;
		if (i < n && is_digit(s[i]) && s[i - 1] <= '5')
			i++;
	}
	return i > start ? i : start;
}

static size_t sign(const char *s, size_t n)
{
	return n && (s[0] == '-' || s[0] == '+');
}

static int is_bool_word(const char *s, size_t n)
{
	static const char *const w[] = { "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE",
		                         "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF" };
	size_t i;

	for (i = 0; i < sizeof w / sizeof *w; i++)
		if (strlen(w[i]) == n && memcmp(s, w[i], n) == 0)
			return 1;
	return 0;
}

static int is_null_word(const char *s, size_t n)
{
	return (n == 1 && s[0] == '~') ||
	       (n == 4 && (memcmp(s, "null", 4) == 0 || memcmp(s, "Null", 4) == 0 ||
	                   memcmp(s, "NULL", 4) == 0));
}

static int is_float_text(const char *s, size_t n)
{
	size_t i = sign(s, n), j;

	if (i < n && is_digit(s[i])) {
		j = digits(s, i, n, "_");
		if (j < n && s[j] == ':') { /* base 60 */
			j = base60(s, j, n);
			return j < n && s[j] == '.' && digits(s, j + 1, n, "_") == n;
		}
		if (j == n || s[j] != '.')
			return 0;
		j = digits(s, j + 1, n, "_");
	} else if (i < n && s[i] == '.') {
		if (n - i == 4 && (memcmp(s + i, ".inf", 4) == 0 || memcmp(s + i, ".Inf", 4) == 0 ||
		                   memcmp(s + i, ".INF", 4) == 0))
			return 1;
		if (n == 4 && (memcmp(s, ".nan", 4) == 0 || memcmp(s, ".NaN", 4) == 0 ||
		               memcmp(s, ".NAN", 4) == 0))
			return 1;
		if (i != 0 || i + 1 >= n || !is_digit(s[i + 1]))
			return 0;
		j = digits(s, i + 1, n, "_");
	} else {
		return 0;
	}
	if (j < n && (s[j] == 'e' || s[j] == 'E')) {
		if (j + 2 >= n || (s[j + 1] != '-' && s[j + 1] != '+') || !is_digit(s[j + 2]))
			return 0;
		j = digits(s, j + 2, n, "");
	}
	return j == n;
}

static int is_int_text(const char *s, size_t n)
{
	size_t i = sign(s, n), j;

	const char *set = NULL;

	if (i + 2 < n && s[i] == '0' && s[i + 1] == 'b')
		set = "01_", i += 2;
	else if (i + 2 < n && s[i] == '0' && s[i + 1] == 'x')
		set = "0123456789abcdefABCDEF_", i += 2;
	else if (i + 1 < n && s[i] == '0')
		set = "01234567_", i++;
	else if (i + 1 == n && s[i] == '0')
		return 1;
	if (set) {
		for (j = i; j < n; j++)
			if (!s[j] || !strchr(set, s[j]))
				return 0;
		return 1;
	}
	if (i == n || s[i] < '1' || s[i] > '9')
		return 0;
	j = digits(s, i, n, "_");
	return j == n || base60(s, j, n) == n;
}

struct ytime {
	int year, month, day, hour, minute, second, usec;
	int has_time, has_tz, tz_minutes; /* tz_minutes: east of UTC */
	size_t mlen, dlen;
};

/* Whether s[0..n) matches SafeLoader's timestamp pattern (Python's '$'
 * also matching before a final newline), with its fields. */
static int scan_time(const char *s, size_t n, struct ytime *t)
{
	size_t i, j, m = n && s[n - 1] == '\n' ? n - 1 : n;

	memset(t, 0, sizeof *t);
	if (m < 8 || digits(s, 0, 4, "") != 4 || s[4] != '-')
		return 0;
	t->year = atoi(s);
	for (i = 5, j = 0; i < m && is_digit(s[i]) && j < 2; i++, j++)
		t->month = t->month * 10 + (s[i] - '0');
	t->mlen = j;
	if (!j || i >= m || s[i] != '-')
		return 0;
	for (i++, j = 0; i < m && is_digit(s[i]) && j < 2; i++, j++)
		t->day = t->day * 10 + (s[i] - '0');
	t->dlen = j;
	if (!j)
		return 0;
	if (i == m)
		return 1;
	if (s[i] == 'T' || s[i] == 't')
		i++;
	else if (s[i] == ' ' || s[i] == '\t')
		while (i < m && (s[i] == ' ' || s[i] == '\t'))
			i++;
	else
		return 0;
	for (j = 0; i < m && is_digit(s[i]) && j < 2; i++, j++)
		t->hour = t->hour * 10 + (s[i] - '0');
	if (!j || i + 6 > m || s[i] != ':' || !is_digit(s[i + 1]) || !is_digit(s[i + 2]) ||
	    s[i + 3] != ':' || !is_digit(s[i + 4]) || !is_digit(s[i + 5]))
		return 0;
	t->minute = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
	t->second = (s[i + 4] - '0') * 10 + (s[i + 5] - '0');
	t->has_time = 1;
	i += 6;
	if (i < m && s[i] == '.') {
		for (i++, j = 0; i < m && is_digit(s[i]); i++, j++)
			if (j < 6)
				t->usec = t->usec * 10 + (s[i] - '0');
		for (; j < 6; j++)
			t->usec *= 10;
	}
	while (i < m && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < m && s[i] == 'Z') {
		t->has_tz = 1;
		i++;
	} else if (i < m && (s[i] == '-' || s[i] == '+')) {
		int neg = s[i] == '-', h = 0, mi = 0;
		for (i++, j = 0; i < m && is_digit(s[i]) && j < 2; i++, j++)
			h = h * 10 + (s[i] - '0');
		if (!j)
			return 0;
		if (i + 3 <= m && s[i] == ':' && is_digit(s[i + 1]) && is_digit(s[i + 2])) {
			mi = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
			i += 3;
		}
		t->has_tz = 1;
		t->tz_minutes = neg ? -(h * 60 + mi) : h * 60 + mi;
	}
	return i == m;
}

/* The type SafeLoader's implicit resolver gives a plain scalar. Python's
 * '$' also matches before a final newline, which only text tagged "!"
 * can have. */
static int resolve(const char *s, size_t n)
{
	size_t m = n && s[n - 1] == '\n' ? n - 1 : n;
	struct ytime t;

	if (n == 0)
		return T_NULL;
	switch (s[0]) {
	case 'y': case 'Y': case 'n': case 'N': case 't': case 'T': case 'f': case 'F': case 'o':
	case 'O':
		if (is_bool_word(s, m))
			return T_BOOL;
		return is_null_word(s, m) ? T_NULL : T_STR;
	case '~':
		return is_null_word(s, m) ? T_NULL : T_STR;
	case '<':
		return m == 2 && s[1] == '<' ? T_MERGE : T_STR;
	case '=':
		return m == 1 ? T_VALUE : T_STR;
	case '.':
		return is_float_text(s, m) ? T_FLOAT : T_STR;
	default:
		break;
	}
	if (!is_digit(s[0]) && s[0] != '-' && s[0] != '+')
		return T_STR;
	if (is_float_text(s, m))
		return T_FLOAT;
	if (is_int_text(s, m))
		return T_INT;
	if (is_digit(s[0]) && scan_time(s, n, &t) && (t.has_time || (t.mlen == 2 && t.dlen == 2)))
		return T_TIME;
	return T_STR;
}

/* A copy of s[0..n) without '_', lowercased when lower is set. */
static char *clean(const char *s, size_t n, int lower)
{
	char *d = malloc(n + 1);
	size_t i, o = 0;

	if (!d)
		return NULL;
	for (i = 0; i < n; i++)
		if (s[i] != '_')
			d[o++] = lower && s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
	d[o] = '\0';
	return d;
}

static unsigned digit_val(char c)
{
	if (is_digit(c))
		return (unsigned)(c - '0');
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return (unsigned)((c | 0x20) - 'a' + 10);
	return 99;
}

/* Python's int(s, base) for base 2, 8, 10 or 16 on a NUL-terminated s
 * (whitespace around, a sign, the base's prefix): sets *d and *len to
 * its digits without leading zeros, and *neg. Returns 0, or 1 for what
 * Python refuses. */
static int py_int(const char *s, unsigned base, const char **d, size_t *len, int *neg)
{
	size_t n = strlen(s), i = 0, j;
	static const char prefix[17] = { [2] = 'b', [8] = 'o', [16] = 'x' };

	while (n && is_pyspace(s[n - 1]))
		n--;
	while (i < n && is_pyspace(s[i]))
		i++;
	*neg = i < n && s[i] == '-';
	i += sign(s + i, n - i);
	if (prefix[base] && i + 1 < n && s[i] == '0' && (s[i + 1] | 0x20) == prefix[base])
		i += 2;
	if (i == n)
		return 1;
	for (j = i; j < n; j++)
		if (digit_val(s[j]) >= base)
			return 1;
	while (i + 1 < n && s[i] == '0')
		i++;
	*d = s + i;
	*len = n - i;
	return 0;
}

/* *v = *v * base + the value of d[0..len); 2 beyond 64 bits. */
static int add_u64(uint64_t *v, unsigned base, const char *d, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned x = digit_val(d[i]);
		if (*v > (UINT64_MAX - x) / base)
			return 2;
		*v = *v * base + x;
	}
	return 0;
}

/* SafeLoader's int constructor: sets *out to the decimal text of the value
 * of s[0..n). Returns 0, 1 when Python raises, 2 for what fidx does not
 * read (binary, octal, hex and base 60 beyond 64 bits; decimal beyond
 * MAX_INT_DIGITS digits, which Python refuses too), -1 without memory. */
static int construct_int(const char *s, size_t n, char **out)
{
	char *v = clean(s, n, 0), *p, *colon;
	const char *d = "0";
	size_t len = 1;
	uint64_t u = 0;
	unsigned base = 10;
	int neg, inner = 0, rc = 0, b60 = 0;

	*out = NULL;
	if (!v)
		return -1;
	p = v + sign(v, strlen(v));
	neg = v[0] == '-';
	if (!*p) {
		rc = 1;
	} else if (strcmp(p, "0") == 0) {
		;
	} else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'x')) {
		base = p[1] == 'b' ? 2 : 16;
		rc = py_int(p + 2, base, &d, &len, &inner);
	} else if (p[0] == '0') {
		base = 8;
		rc = py_int(p, 8, &d, &len, &inner);
	} else if (strchr(p, ':')) {
		/* base 60, most significant part first; fidx reads unsigned parts */
		for (b60 = 1; !rc; p = colon + 1) {
			if ((colon = strchr(p, ':')))
				*colon = '\0';
			uint64_t x = 0;
			if (!(rc = py_int(p, 10, &d, &len, &inner)))
				rc = inner ? 2 : add_u64(&x, 10, d, len);
			if (!rc && u > (UINT64_MAX - x) / 60)
				rc = 2;
			u = u * 60 + x;
			if (!colon)
				break;
		}
	} else {
		rc = py_int(p, 10, &d, &len, &inner);
	}
	if (!rc && base != 10)
		rc = add_u64(&u, base, d, len);
	if (!rc && base == 10 && !b60 && len > MAX_INT_DIGITS)
		rc = 2;
	if (!rc && !(*out = malloc(len + 22)))
		rc = -1;
	if (!rc) {
		char *o = *out;
		if (base != 10 || b60)
			len = (size_t)sprintf(o + 1, "%llu", (unsigned long long)u), d = o + 1;
		if (neg != inner && strcmp(d, "0") != 0)
			*o++ = '-';
		memmove(o, d, len);
		o[len] = '\0';
	}
	free(v);
	return rc;
}

/* Python's float() of a NUL-terminated s: whitespace around, a sign, inf,
 * infinity, nan (any case) or decimal digits with an optional point and
 * exponent. Returns 0 or 1 for a syntax error. */
static int py_float(const char *s, double *out)
{
	size_t n = strlen(s), i = 0, j, d;
	int neg;

	while (n && is_pyspace(s[n - 1]))
		n--;
	while (i < n && is_pyspace(s[i]))
		i++;
	neg = i < n && s[i] == '-';
	i += sign(s + i, n - i);
	if ((n - i == 3 || n - i == 8) && strncasecmp(s + i, "infinity", n - i) == 0) {
		*out = neg ? -INFINITY : INFINITY;
		return 0;
	}
	if (n - i == 3 && strncasecmp(s + i, "nan", 3) == 0) {
		*out = NAN;
		return 0;
	}
	j = digits(s, i, n, "");
	d = j - i;
	if (j < n && s[j] == '.') {
		size_t k = digits(s, j + 1, n, "");
		d += k - j - 1;
		j = k;
	}
	if (!d)
		return 1;
	if (j < n && (s[j] == 'e' || s[j] == 'E')) {
		size_t k = j + 1 + sign(s + j + 1, n - j - 1);
		if (digits(s, k, n, "") == k)
			return 1;
		j = digits(s, k, n, "");
	}
	if (j != n)
		return 1;
	*out = fidx_strtod_c(s, NULL); /* reads what was checked, spaces around */
	return 0;
}

/* SafeLoader's float constructor on s[0..n). Returns 0, 1 when Python
 * raises, -1 without memory. */
static int construct_float(const char *s, size_t n, double *out)
{
	char *v = clean(s, n, 1), *p;
	double sgn = 1;
	int rc = 0;

	if (!v)
		return -1;
	p = v;
	if (*p == '-')
		sgn = -1;
	if (*p == '-' || *p == '+')
		p++;
	if (!*p) {
		rc = 1;
	} else if (strcmp(p, ".inf") == 0) {
		*out = sgn * INFINITY;
	} else if (strcmp(p, ".nan") == 0) {
		*out = NAN;
	} else if (strchr(p, ':')) {
		/* sum of part * 60^k, the last part first, as PyYAML adds them */
		double value = 0, base = 1, d;
		char *part = p + strlen(p);
		for (;;) {
			char *start = part;
			while (start > p && start[-1] != ':')
				start--;
			*part = '\0';
			if ((rc = py_float(start, &d)))
				break;
			value += d * base;
			base *= 60;
			if (start == p)
				break;
			part = start - 1;
		}
		*out = sgn * value;
	} else {
		double d = 0;
		rc = py_float(p, &d);
		*out = sgn * d;
	}
	free(v);
	return rc;
}

static void float_text(double d, char out[32])
{
	if (isnan(d))
		strcpy(out, "nan");
	else if (isinf(d))
		strcpy(out, d < 0 ? "-inf" : "inf");
	else
		fidx_format_double(d, out);
}

/* Python's datetime checks, then str() of the date or datetime. Returns
 * NULL with *why set for a value Python refuses. */
static int time_text(const struct ytime *t, char out[48], const char **why)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (t->year % 4 == 0 && t->year % 100 != 0) || t->year % 400 == 0, o;

	*why = NULL;
	if (t->year < 1)
		*why = "year 0 is out of range";
	else if (t->month < 1 || t->month > 12)
		*why = "month must be in 1..12";
	else if (t->day < 1 || t->day > days[t->month - 1] + (t->month == 2 && leap))
		*why = "day is out of range for month";
	else if (t->hour > 23)
		*why = "hour must be in 0..23";
	else if (t->minute > 59)
		*why = "minute must be in 0..59";
	else if (t->second > 59)
		*why = "second must be in 0..59";
	else if (t->tz_minutes <= -1440 || t->tz_minutes >= 1440)
		*why = "the time zone offset must be within 24 hours";
	if (*why)
		return 1;
	o = snprintf(out, 48, "%04d-%02d-%02d", t->year, t->month, t->day);
	if (!t->has_time)
		return 0;
	o += snprintf(out + o, 48 - (size_t)o, " %02d:%02d:%02d", t->hour, t->minute, t->second);
	if (t->usec)
		o += snprintf(out + o, 48 - (size_t)o, ".%06d", t->usec);
	if (t->has_tz)
		snprintf(out + o, 48 - (size_t)o, "%c%02d:%02d", t->tz_minutes < 0 ? '-' : '+',
		         abs(t->tz_minutes) / 60, abs(t->tz_minutes) % 60);
	return 0;
}

/* !!binary as Python's base64.decodebytes reads it (characters outside
 * the alphabet skipped; '=' padding after two or three characters ends the
 * data): sets *out to the data characters, padded. Returns 0, 1 for data
 * Python refuses, -1 without memory. */
static int construct_binary(const char *s, size_t n, char **out, const char **why)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;
	int pads = 0;

	if (!(*out = malloc(n + 4)))
		return -1;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80) {
			*why = "failed to convert base64 data into ascii";
			break;
		}
		if (s[i] == '=' && o % 4 >= 2 && o % 4 + (size_t)++pads >= 4)
			break;
		if (s[i] != '=' && s[i] && strchr(b64, s[i])) {
			(*out)[o++] = s[i];
			pads = 0;
		}
	}
	if (i == n && o % 4)
		*why = o % 4 == 1 ? "the number of data characters cannot be 1 more than a multiple of 4"
		                  : "incorrect padding";
	while (o % 4)
		(*out)[o++] = '=';
	(*out)[o] = '\0';
	if (*why) {
		free(*out);
		*out = NULL;
		return 1;
	}
	return 0;
}

/* The explicit scalar tags SafeLoader constructs. */
static int tag_type(const char *tag)
{
	static const struct {
		const char *name;
		int type;
	} tags[] = { { YTAG "str", T_STR },     { YTAG "null", T_NULL },   { YTAG "bool", T_BOOL },
		     { YTAG "int", T_INT },     { YTAG "float", T_FLOAT }, { YTAG "timestamp", T_TIME },
		     { YTAG "binary", T_BINARY } };
	size_t i;

	for (i = 0; i < sizeof tags / sizeof *tags; i++)
		if (strcmp(tag, tags[i].name) == 0)
			return tags[i].type;
	return -1;
}

/* Quotes a scalar or tag for a message. */
static const char *q(char *buf, size_t cap, const char *s, size_t n)
{
	fidx_err_quote(buf, cap, s, n);
	return buf;
}

/* A scalar of type t from s[0..n) (NUL-terminated). */
static int make_scalar(struct yload *y, int t, const char *s, size_t n, yaml_mark_t m, cJSON **out)
{
	static const char *const names[] = { "str", "null", "bool", "int", "float", "timestamp", "binary" };
	char text[48], qs[64], *dyn = NULL;
	const char *why = NULL;
	int rc = 0;
	double d;

	*out = NULL;
	switch (t) {
	case T_NULL:
		*out = with_text(cJSON_CreateNull(), "None");
		break;
	case T_BOOL: {
		static const char *const yes[] = { "yes", "true", "on" }, *const no[] = { "no", "false", "off" };
		size_t i;
		for (i = 0; i < 3 && !*out; i++) {
			if (strlen(yes[i]) == n && strncasecmp(s, yes[i], n) == 0)
				*out = with_text(cJSON_CreateTrue(), "True");
			else if (strlen(no[i]) == n && strncasecmp(s, no[i], n) == 0)
				*out = with_text(cJSON_CreateFalse(), "False");
			else
				continue;
			if (!*out)
				return fidx_err_nomem(y->err);
		}
		if (!*out)
			rc = 1;
		break;
	}
	case T_INT:
		if ((rc = construct_int(s, n, &dyn)) == 0)
			*out = with_text(cJSON_CreateNumber(fidx_strtod_c(dyn, NULL)), dyn);
		if (rc == 2)
			why = "more than 4300 digits, or beyond 64 bits in base 2, 8, 16 or 60";
		break;
	case T_FLOAT:
		if ((rc = construct_float(s, n, &d)) == 0) {
			float_text(d, text);
			*out = with_text(cJSON_CreateNumber(d), text);
		}
		break;
	case T_TIME: {
		struct ytime tm;
		if (!scan_time(s, n, &tm))
			rc = 1;
		else if (!(rc = time_text(&tm, text, &why)))
			*out = with_text(cJSON_CreateRaw(text), text);
		break;
	}
	case T_BINARY:
		if ((rc = construct_binary(s, n, &dyn, &why)) == 0)
			*out = cJSON_CreateRaw(dyn);
		break;
	default:
		*out = cJSON_CreateString(s);
		break;
	}
	free(dyn);
	if (rc < 0)
		return fidx_err_nomem(y->err);
	if (rc)
		return yerr(y, m, "\"%s\" is not a valid %s%s%s", q(qs, sizeof qs, s, n), names[t],
		            why ? ": " : "", why ? why : "");
	if (!*out)
		return fidx_err_nomem(y->err);
	mark(*out, m);
	return 0;
}

/* ---- collections ---- */

static int deliver(struct yload *y, cJSON *node, int type, const struct ystat *st, yaml_mark_t m);

static const char *kind_name(const cJSON *c)
{
	return cJSON_IsArray(c) ? "a sequence" : cJSON_IsObject(c) ? "a mapping" : "a scalar";
}

/* Puts node in limbo: detached, alive until the end. */
static void to_limbo(struct yload *y, cJSON *node)
{
	cJSON_AddItemToArray(y->limbo, node);
}

/* Sets key's text as node's key; takes node. */
static int add_pair(struct yload *y, struct ytab *t, cJSON *obj, const char *key, cJSON *node,
                    int replace, yaml_mark_t km)
{
	struct yent *e = tab_find(t, key);
	char qk[96];

	if (e && !replace) {
		cJSON_Delete(node);
		return yerr(y, km, "duplicate key \"%s\"", q(qk, sizeof qk, key, strlen(key)));
	}
	if (e) {
		/* a merged value overridden: same place, new value */
		size_t kl = strlen(key) + 1;
		char *ks = cJSON_malloc(kl);
		if (!ks) {
			cJSON_Delete(node);
			return fidx_err_nomem(y->err);
		}
		memcpy(ks, key, kl);
		cJSON_free(node->string);
		node->string = ks;
		cJSON_ReplaceItemViaPointer(obj, e->v.item, node);
		e->key = node->string;
		e->v.item = node;
		return 0;
	}
	if (!cJSON_AddItemToObject(obj, key, node)) {
		cJSON_Delete(node);
		return fidx_err_nomem(y->err);
	}
	if (!(e = tab_add(t, node->string)))
		return fidx_err_nomem(y->err);
	e->v.item = node;
	return 0;
}

/* The merge key's value: a mapping, or a sequence of mappings (taken last
 * first, as PyYAML does). */
static int add_merge(struct yload *y, struct yframe *f, cJSON *node, yaml_mark_t m)
{
	cJSON *c;
	size_t need = 1;

	to_limbo(y, node);
	if (cJSON_IsArray(node)) {
		need = (size_t)cJSON_GetArraySize(node);
		for (c = node->child; c; c = c->next)
			if (!cJSON_IsObject(c))
				return yerr(y, m, "expected a mapping for merging, found %s", kind_name(c));
	} else if (!cJSON_IsObject(node)) {
		return yerr(y, m, "expected a mapping or a list of mappings for merging, found %s",
		            kind_name(node));
	}
	if (f->nmerge + need > f->capmerge) {
		size_t cap = f->capmerge * 2 + need;
		cJSON **v = realloc(f->merge, cap * sizeof *v);
		if (!v)
			return fidx_err_nomem(y->err);
		f->merge = v;
		f->capmerge = cap;
	}
	if (!cJSON_IsArray(node)) {
		f->merge[f->nmerge++] = node;
		return 0;
	}
	f->nmerge += need;
	for (c = node->child, need = f->nmerge; c; c = c->next)
		f->merge[--need] = c;
	return 0;
}

/* A mapping with merges: the merged pairs first, then its own (a key seen
 * again keeps its place and takes the later value), as PyYAML builds it. */
static int apply_merges(struct yload *y, struct yframe *f)
{
	cJSON *obj = cJSON_CreateObject(), *c;
	struct ytab t = { 0 };
	size_t i;
	int rc = 0;

	if (!obj)
		return fidx_err_nomem(y->err);
	obj->valueint = f->node->valueint;
	for (i = 0; i < f->nmerge && !rc; i++) {
		for (c = f->merge[i]->child; c && !rc; c = c->next) {
			struct ystat st = { 0, 0, 0 };
			cJSON *copy;
			measure(c, &st);
			if ((rc = charge(y, &st, f->mark)))
				break;
			f->st.nodes += st.nodes;
			f->st.bytes += st.bytes;
			if (!(copy = cJSON_Duplicate(c, 1)))
				rc = fidx_err_nomem(y->err);
			else
				rc = add_pair(y, &t, obj, c->string, copy, 1, f->mark);
		}
	}
	while (!rc && (c = f->node->child)) {
		char *key = c->string;
		cJSON_DetachItemViaPointer(f->node, c);
		c->string = NULL;
		rc = add_pair(y, &t, obj, key, c, 1, f->mark);
		cJSON_free(key);
	}
	tab_free(&t);
	if (rc) {
		cJSON_Delete(obj);
		return rc;
	}
	cJSON_Delete(f->node);
	f->node = obj;
	return 0;
}

/* A finished !!set (its keys), !!omap or !!pairs ([key, value] pairs). */
static int convert(struct yload *y, struct yframe *f)
{
	cJSON *arr = cJSON_CreateArray(), *c;

	if (!arr)
		return fidx_err_nomem(y->err);
	arr->valueint = f->node->valueint;
	for (c = f->node->child; c; c = c->next) {
		/* a !!set's key, or an !!omap item: a mapping of one pair */
		const cJSON *kv = f->kind == C_SET ? c : c->child;
		cJSON *item = cJSON_CreateString(kv->string), *v = NULL;
		if (item)
			item->valueint = c->valueint;
		if (item && f->kind != C_SET) {
			cJSON *pair = cJSON_CreateArray();
			if (pair && (v = cJSON_Duplicate(kv, 1))) {
				cJSON_free(v->string);
				v->string = NULL;
			}
			if (!pair || !v || !cJSON_AddItemToArray(pair, item)) {
				cJSON_Delete(pair);
				cJSON_Delete(v);
				cJSON_Delete(item);
				item = NULL;
			} else {
				cJSON_AddItemToArray(pair, v);
				pair->valueint = c->valueint;
				item = pair;
			}
		}
		if (!item || !cJSON_AddItemToArray(arr, item)) {
			cJSON_Delete(item);
			cJSON_Delete(arr);
			return fidx_err_nomem(y->err);
		}
	}
	/* The items themselves may be anchors' nodes: kept to the end. */
	to_limbo(y, f->node);
	f->node = arr;
	return 0;
}

/* Registers anchor (its node NULL until complete); returns its index + 1 in
 * *slot. */
static int new_anchor(struct yload *y, const char *anchor, yaml_mark_t m, size_t *slot)
{
	struct yent *e = tab_find(&y->names, anchor);
	struct yanchor *a;

	if (e)
		return yerr(y, m, "the anchor &%s is defined twice", anchor);
	if (y->nanchors == y->capanchors) {
		size_t cap = y->capanchors ? y->capanchors * 2 : 16;
		struct yanchor *v = realloc(y->anchors, cap * sizeof *v);
		if (!v)
			return fidx_err_nomem(y->err);
		y->anchors = v;
		y->capanchors = cap;
	}
	a = &y->anchors[y->nanchors];
	memset(a, 0, sizeof *a);
	if (!(a->name = strdup(anchor)) || !(e = tab_add(&y->names, a->name))) {
		free(a->name);
		return fidx_err_nomem(y->err);
	}
	e->v.idx = y->nanchors++;
	*slot = y->nanchors;
	return 0;
}

/* The error for a tag SafeLoader cannot construct on this kind of node. */
static int tag_error(struct yload *y, const char *tag, const char *kind, yaml_mark_t m)
{
	static const char *const known[] = { "map", "seq", "set", "omap", "pairs" };
	char qt[96];
	size_t i;

	for (i = 0; i < sizeof known / sizeof *known; i++)
		if (strncmp(tag, YTAG, strlen(YTAG)) == 0 && strcmp(tag + strlen(YTAG), known[i]) == 0)
			break;
	if (i < sizeof known / sizeof *known || tag_type(tag) >= 0)
		return yerr(y, m, "the tag \"%s\" does not apply to a %s",
		            q(qt, sizeof qt, tag, strlen(tag)), kind);
	return yerr(y, m, "unsupported tag \"%s\"", q(qt, sizeof qt, tag, strlen(tag)));
}

static int start_collection(struct yload *y, int is_map, const char *tag, const char *anchor,
                            yaml_mark_t m)
{
	struct yframe *f;
	struct ystat one = { 1, 0, 0 };
	int kind = is_map ? C_MAP : C_SEQ, rc;

	if (tag && strcmp(tag, "!") != 0) {
		if (strcmp(tag, is_map ? YTAG "map" : YTAG "seq") == 0)
			;
		else if (is_map && strcmp(tag, YTAG "set") == 0)
			kind = C_SET;
		else if (!is_map && strcmp(tag, YTAG "omap") == 0)
			kind = C_OMAP;
		else if (!is_map && strcmp(tag, YTAG "pairs") == 0)
			kind = C_PAIRS;
		else
			return tag_error(y, tag, is_map ? "mapping" : "sequence", m);
	}
	if (y->depth >= FIDX_YAML_MAX_DEPTH)
		return yerr(y, m, "nesting deeper than %d levels", FIDX_YAML_MAX_DEPTH);
	if ((rc = charge(y, &one, m)))
		return rc;
	f = &y->stack[y->depth];
	memset(f, 0, sizeof *f);
	f->kind = kind;
	f->mark = m;
	f->st = one;
	if (!(f->node = mark(is_map ? cJSON_CreateObject() : cJSON_CreateArray(), m)))
		return fidx_err_nomem(y->err);
	y->depth++;
	return anchor ? new_anchor(y, anchor, m, &f->anchor) : 0;
}

static void frame_free(struct yframe *f)
{
	cJSON_Delete(f->node);
	cJSON_Delete(f->key);
	tab_free(&f->keys);
	free(f->merge);
	memset(f, 0, sizeof *f);
}

static int end_collection(struct yload *y)
{
	struct yframe *f = &y->stack[y->depth - 1];
	struct ystat st;
	yaml_mark_t m = f->mark;
	cJSON *node;
	int rc = 0;

	if (f->nmerge)
		rc = apply_merges(y, f);
	if (!rc && f->kind != C_SEQ && f->kind != C_MAP)
		rc = convert(y, f);
	if (rc)
		return rc;
	node = f->node;
	f->node = NULL;
	st = f->st;
	if (f->anchor) {
		y->anchors[f->anchor - 1].node = node;
		y->anchors[f->anchor - 1].st = st;
	}
	frame_free(f);
	y->depth--;
	return deliver(y, node, T_STR, &st, m);
}

/* Hands a finished node (taken in all cases) to its parent. type is
 * T_MERGE or T_VALUE for the scalars SafeLoader accepts only as keys. */
static int deliver(struct yload *y, cJSON *node, int type, const struct ystat *st, yaml_mark_t m)
{
	struct yframe *f;

	if (node->string) { /* an alias's copy of a mapping's value */
		cJSON_free(node->string);
		node->string = NULL;
	}
	if (y->depth == 0) {
		if (type == T_MERGE || type == T_VALUE)
			goto no_constructor;
		y->root = node;
		return 0;
	}
	f = &y->stack[y->depth - 1];
	f->st.nodes += st->nodes;
	f->st.bytes += st->bytes;
	if (st->height + 1 > f->st.height)
		f->st.height = st->height + 1;
	if (f->kind == C_SEQ || f->kind == C_OMAP || f->kind == C_PAIRS) {
		if (type == T_MERGE || type == T_VALUE)
			goto no_constructor;
		if (f->kind != C_SEQ && (!cJSON_IsObject(node) || cJSON_GetArraySize(node) != 1)) {
			cJSON_Delete(node);
			return yerr(y, m, "each item of a %s must be a mapping of one pair",
			            f->kind == C_OMAP ? "!!omap" : "!!pairs");
		}
		if (!cJSON_AddItemToArray(f->node, node)) {
			cJSON_Delete(node);
			return fidx_err_nomem(y->err);
		}
		return 0;
	}
	if (!f->key) {
		if (cJSON_IsArray(node) || cJSON_IsObject(node)) {
			cJSON_Delete(node);
			return yerr(y, m, "a mapping key must be a scalar, found %s",
			            cJSON_IsArray(node) ? "a sequence" : "a mapping");
		}
		f->key = node;
		f->key_type = type;
		f->key_mark = m;
		return 0;
	}
	if (type == T_MERGE || type == T_VALUE)
		goto no_constructor;
	{
		cJSON *key = f->key;
		f->key = NULL;
		to_limbo(y, key);
		if (f->key_type == T_MERGE)
			return add_merge(y, f, node, m);
		return add_pair(y, &f->keys, f->node, key->valuestring, node, 0, f->key_mark);
	}
no_constructor:
	{
		const char *text = type == T_MERGE ? "<<" : "=";
		cJSON_Delete(node);
		return yerr(y, m, "\"%s\" is only allowed as a mapping key (quote it for a string)", text);
	}
}

static int scalar_event(struct yload *y, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *anchor = (const char *)ev->data.scalar.anchor;
	size_t n = ev->data.scalar.length;
	yaml_mark_t m = ev->start_mark;
	struct ystat st = { 1, n, 0 };
	size_t slot;
	cJSON *node;
	int t, rc;

	if (memchr(s, '\0', n))
		return yerr(y, m, "a NUL character in a string is not supported");
	if (y->spans) {
		if (y->nspans == y->capspans) {
			size_t cap = y->capspans * 2;
			struct yspan *v = realloc(y->spans, cap * sizeof *v);
			if (!v)
				return fidx_err_nomem(y->err);
			y->spans = v;
			y->capspans = cap;
		}
		y->spans[y->nspans].start = ev->start_mark.index;
		y->spans[y->nspans].end = ev->end_mark.index;
		y->spans[y->nspans++].style = ev->data.scalar.style;
	}
	if (!tag || strcmp(tag, "!") == 0) {
		/* PyYAML resolves "!" scalars as plain ones, whatever their style */
		t = tag || ev->data.scalar.plain_implicit ? resolve(s, n) : T_STR;
	} else if ((t = tag_type(tag)) < 0) {
		return tag_error(y, tag, "scalar", m);
	}
	if ((rc = charge(y, &st, m)))
		return rc;
	if (t == T_MERGE || t == T_VALUE)
		rc = make_scalar(y, T_STR, s, n, m, &node);
	else
		rc = make_scalar(y, t, s, n, m, &node);
	if (rc)
		return rc;
	if (anchor) {
		if ((rc = new_anchor(y, anchor, m, &slot))) {
			cJSON_Delete(node);
			return rc;
		}
		y->anchors[slot - 1].node = node;
		y->anchors[slot - 1].st = st;
	}
	return deliver(y, node, t, &st, m);
}

static int alias_event(struct yload *y, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct yent *e = tab_find(&y->names, name);
	const struct yanchor *a;
	yaml_mark_t m = ev->start_mark;
	cJSON *copy;
	int rc;

	if (!e)
		return yerr(y, m, "found undefined alias *%s", name);
	a = &y->anchors[e->v.idx];
	if (!a->node)
		return yerr(y, m, "the alias *%s is inside the node it names", name);
	if (y->depth + a->st.height > FIDX_YAML_MAX_DEPTH)
		return yerr(y, m, "nesting deeper than %d levels (aliases expanded)", FIDX_YAML_MAX_DEPTH);
	if ((rc = charge(y, &a->st, m)))
		return rc;
	if (!(copy = cJSON_Duplicate(a->node, 1)))
		return fidx_err_nomem(y->err);
	copy->valueint = (int)m.line + 1;
	return deliver(y, copy, T_STR, &a->st, m);
}

/* ---- tabs ---- */

/* PyYAML's scanner, unlike libyaml's, never takes a tab for a separator:
 * a tab is only allowed inside quotes, in the lines of a block scalar and
 * in comments. Checks that rule on a text libyaml has read, with the spans
 * of its scalars in document order. */
static int check_tabs(struct yload *y, const char *text, size_t n)
{
	size_t i = 0, chars = 0, k = 0, from = 0, to = 0, line = 0, col = 0;
	int legit = 0, plain = 0, comment = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c & 0xc0) != 0x80) {
			/* a character starts: enter or leave the scalar spans */
			while (k < y->nspans && chars >= y->spans[k].end)
				k++;
			plain = legit = 0;
			if (k < y->nspans && chars >= y->spans[k].start) {
				int st = y->spans[k].style;
				plain = st == YAML_PLAIN_SCALAR_STYLE;
				if (from != y->spans[k].start || !to) {
					/* quoted: from the quote; block: from the header's end */
					from = y->spans[k].start;
					to = 0;
				}
				if (st == YAML_SINGLE_QUOTED_SCALAR_STYLE || st == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
					to = to || c == '\'' || c == '"';
				else if (st == YAML_LITERAL_SCALAR_STYLE || st == YAML_FOLDED_SCALAR_STYLE)
					to = to || c == '\n' || c == '\r';
				legit = to;
			}
			chars++;
		}
		if (c == '\n' || c == '\r') {
			comment = 0;
			if (c == '\n' || i + 1 == n || text[i + 1] != '\n') {
				line++;
				col = 0;
			}
			continue;
		}
		if (c == '#' && !plain && !legit)
			comment = 1;
		if (c == '\t' && !legit && !comment) {
			yaml_mark_t m = { 0, line, col };
			return yerr(y, m, "a tab is only allowed in quoted or block scalars and comments "
			                  "(PyYAML refuses it here)");
		}
		if ((c & 0xc0) != 0x80)
			col++;
	}
	return 0;
}

/* libyaml's error, located. */
static int parser_error(struct yload *y, const yaml_parser_t *p, const char *text, size_t n)
{
	if (p->error == YAML_MEMORY_ERROR)
		return fidx_err_nomem(y->err);
	if (p->error == YAML_READER_ERROR) {
		/* an offset into the bytes: count lines and characters to it */
		yaml_mark_t m = { 0, 0, 0 };
		size_t i;
		for (i = 0; i < p->problem_offset && i < n; i++) {
			if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == n || text[i + 1] != '\n'))) {
				m.line++;
				m.column = 0;
			} else if (((unsigned char)text[i] & 0xc0) != 0x80 && text[i] != '\r') {
				m.column++;
			}
		}
		if (p->problem_value >= 0 && strstr(p->problem, "UTF-8"))
			return yerr(y, m, "%s (byte 0x%02x)", p->problem, (unsigned)p->problem_value);
		if (p->problem_value >= 0)
			return yerr(y, m, "%s (U+%04X)", p->problem, (unsigned)p->problem_value);
		return yerr(y, m, "%s", p->problem);
	}
	if (p->context)
		return yerr(y, p->problem_mark, "%s (%s at line %lu)", p->problem, p->context,
		            (unsigned long)p->context_mark.line + 1);
	return yerr(y, p->problem_mark, "%s", p->problem ? p->problem : "invalid YAML");
}

int fidx_yaml_parse(const char *name, const char *text, size_t n, cJSON **out,
                    struct fidx_err *err)
{
	yaml_parser_t parser;
	struct yload *y;
	int rc = 0, docs = 0, done = 0, i;

	*out = NULL;
	if (!name)
		name = "<yaml>";
	if (!text)
		n = 0;
	if (n > FIDX_YAML_MAX_SIZE)
		return fidx_err_set(err, FIDX_EINPUT, "%s: larger than %u bytes", name,
		                    FIDX_YAML_MAX_SIZE);
	/* libyaml, told the text is UTF-8, would keep a byte order mark */
	if (n >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		n -= 3;
	}
	if (!(y = calloc(1, sizeof *y)))
		return fidx_err_nomem(err);
	y->name = name;
	y->err = err;
	if (n && memchr(text, '\t', n)) {
		y->capspans = 64;
		y->spans = malloc(y->capspans * sizeof *y->spans);
	}
	if ((!y->spans && y->capspans) || !(y->limbo = cJSON_CreateArray()) ||
	    !yaml_parser_initialize(&parser)) {
		cJSON_Delete(y->limbo);
		free(y->spans);
		free(y);
		return fidx_err_nomem(err);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)(text ? text : ""), n);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (!rc && !done) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = parser_error(y, &parser, text, n);
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (docs++)
				rc = yerr(y, ev.start_mark, "expected a single document, found another one");
			break;
		case YAML_SCALAR_EVENT:
			rc = scalar_event(y, &ev);
			break;
		case YAML_ALIAS_EVENT:
			rc = alias_event(y, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			rc = start_collection(y, 0, (const char *)ev.data.sequence_start.tag,
			                      (const char *)ev.data.sequence_start.anchor, ev.start_mark);
			break;
		case YAML_MAPPING_START_EVENT:
			rc = start_collection(y, 1, (const char *)ev.data.mapping_start.tag,
			                      (const char *)ev.data.mapping_start.anchor, ev.start_mark);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			rc = end_collection(y);
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (!rc && y->spans)
		rc = check_tabs(y, text, n);
	free(y->spans);
	for (i = 0; i < y->depth; i++)
		frame_free(&y->stack[i]);
	for (i = 0; (size_t)i < y->nanchors; i++)
		free(y->anchors[i].name);
	free(y->anchors);
	tab_free(&y->names);
	cJSON_Delete(y->limbo);
	if (!rc && !y->root) {
		yaml_mark_t m = { 0, 0, 0 };
		if (!(y->root = mark(with_text(cJSON_CreateNull(), "None"), m)))
			rc = fidx_err_nomem(err);
	}
	if (rc)
		cJSON_Delete(y->root);
	else
		*out = y->root;
	free(y);
	return rc;
}
