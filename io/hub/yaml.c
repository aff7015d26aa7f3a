#include "yaml.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parser reads the text one line at a time. A content line (not blank,
 * not only a comment) is "current" until consumed; block structure comes
 * from the lines' indentation, and everything inside a line (keys, flow
 * collections, quoted and plain scalars) is scanned from the line alone. */

struct yline {
	const char *s; /* content, after the indentation */
	size_t len;    /* without trailing spaces and tabs */
	size_t indent; /* column of s[0] */
	long no;       /* line number, from 1 */
};

struct yparser {
	const char *name;
	const char *text;
	size_t n;
	size_t pos;       /* offset of the next unread line */
	long pos_no;      /* its number */
	struct yline cur; /* the current content line, when have_cur */
	int have_cur;
	size_t blanks;    /* empty lines skipped just before cur */
	int comment;      /* a comment line was skipped just before cur */
	int seen_content; /* a content line or a document marker was seen */
	int ended;        /* a "..." line was seen */
	int depth;
	struct fidx_err *err;
};

struct ykey {
	size_t colon; /* offset of the ':' after the key */
	size_t value; /* offset of what follows, after whitespace */
};

struct yflow {
	const char *s;
	size_t len, i;
	long no;
};

struct ybuf {
	char *p;
	size_t len, cap;
};

struct ykeyset {
	const char **v;
	size_t n, cap;
};

static int parse_block(struct yparser *p, long parent, int seq_same, long no, cJSON **out);
static int flow_node(struct yparser *p, struct yflow *f, cJSON **out);

static int yerr(struct yparser *p, long line, const char *fmt, ...) FIDX_PRINTF(3, 4);

static int yerr(struct yparser *p, long line, const char *fmt, ...)
{
	char msg[FIDX_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return fidx_err_set(p->err, FIDX_EINPUT, "%s:%ld: %s", p->name, line, msg);
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static int is_flow_ind(char c)
{
	return c == ',' || c == '[' || c == ']' || c == '{' || c == '}';
}

static cJSON *mark(cJSON *item, long no)
{
	if (item)
		item->valueint = (int)no;
	return item;
}

static char *dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int ybuf_add(struct ybuf *b, const char *s, size_t n)
{
	if (b->cap - b->len <= n) {
		size_t cap = b->cap ? b->cap : 64;
		char *np;
		while (cap - b->len <= n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 14695981039346656037u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211u;
	}
	return h;
}

/* Whether key is in the set. */
static int keyset_has(const struct ykeyset *ks, const char *key)
{
	size_t i;

	if (!ks->cap)
		return 0;
	for (i = (size_t)hash_str(key) & (ks->cap - 1); ks->v[i]; i = (i + 1) & (ks->cap - 1))
		if (strcmp(ks->v[i], key) == 0)
			return 1;
	return 0;
}

/* Adds key (not copied; must outlive the set), known to be absent. */
static int keyset_add(struct ykeyset *ks, const char *key)
{
	size_t i;

	if ((ks->n + 1) * 2 > ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 16, j;
		const char **v = calloc(cap, sizeof *v);
		if (!v)
			return -1;
		for (j = 0; j < ks->cap; j++) {
			if (!ks->v[j])
				continue;
			for (i = (size_t)hash_str(ks->v[j]) & (cap - 1); v[i]; i = (i + 1) & (cap - 1))
				;
			v[i] = ks->v[j];
		}
		free(ks->v);
		ks->v = v;
		ks->cap = cap;
	}
	for (i = (size_t)hash_str(key) & (ks->cap - 1); ks->v[i]; i = (i + 1) & (ks->cap - 1))
		;
	ks->v[i] = key;
	ks->n++;
	return 0;
}

static int dup_error(struct yparser *p, const char *key, long no)
{
	char q[96];

	fidx_err_quote(q, sizeof q, key, strlen(key));
	return yerr(p, no, "duplicate key \"%s\"", q);
}

/* Adds val under key to obj, unless key is already there. Takes val in
 * all cases; key stays the caller's. */
static int obj_add(struct yparser *p, cJSON *obj, struct ykeyset *ks, const char *key,
                   cJSON *val, long no)
{
	if (keyset_has(ks, key)) {
		cJSON_Delete(val);
		return dup_error(p, key, no);
	}
	if (!cJSON_AddItemToObject(obj, key, val)) {
		cJSON_Delete(val);
		return fidx_err_nomem(p->err);
	}
	/* val->string is the object's copy of the key: it lives as long as
	 * the object. */
	if (keyset_add(ks, val->string) < 0)
		return fidx_err_nomem(p->err);
	return 0;
}

static int enter(struct yparser *p, long no)
{
	if (++p->depth > FIDX_YAML_MAX_DEPTH)
		return yerr(p, no, "nesting deeper than %d levels", FIDX_YAML_MAX_DEPTH);
	return 0;
}

/* Whether s[i..len) is only whitespace, possibly followed by a comment. */
static int rest_blank(const char *s, size_t i, size_t len)
{
	while (i < len && is_ws(s[i]))
		i++;
	if (i == len)
		return 1;
	return s[i] == '#' && (i == 0 || is_ws(s[i - 1]));
}

/* Takes the next line from the text: its bytes up to the line break. */
static void raw_line(struct yparser *p, const char **s, size_t *len, long *no)
{
	size_t i = p->pos;

	*s = p->text + i;
	*no = p->pos_no;
	while (i < p->n && p->text[i] != '\n' && p->text[i] != '\r')
		i++;
	*len = i - p->pos;
	if (i < p->n) {
		if (p->text[i] == '\r' && i + 1 < p->n && p->text[i + 1] == '\n')
			i++;
		i++;
	}
	p->pos = i;
	p->pos_no++;
}

/* Makes the next content line current (if it is not already) and points
 * *out at it, or sets *out to NULL at the end of the text. */
static int peek(struct yparser *p, struct yline **out)
{
	*out = NULL;
	if (p->have_cur) {
		*out = &p->cur;
		return 0;
	}
	p->blanks = 0;
	p->comment = 0;
	while (p->pos < p->n) {
		const char *s;
		size_t len, i = 0;
		long no;

		raw_line(p, &s, &len, &no);
		while (i < len && s[i] == ' ')
			i++;
		if (i < len && s[i] == '\t') {
			size_t j = i;
			while (j < len && is_ws(s[j]))
				j++;
			if (j < len && s[j] != '#')
				return yerr(p, no, "tabs are not allowed for indentation");
			i = j;
		}
		if (i == len) {
			p->blanks++;
			continue;
		}
		if (s[i] == '#') {
			p->comment = 1;
			continue;
		}
		while (len > i && is_ws(s[len - 1]))
			len--;
		if (p->ended)
			return yerr(p, no, "multiple documents are not supported");
		if (i == 0 && len >= 3 && (memcmp(s, "---", 3) == 0 || memcmp(s, "...", 3) == 0) &&
		    (len == 3 || is_ws(s[3]))) {
			if (s[0] == '-' && p->seen_content)
				return yerr(p, no, "multiple documents are not supported");
			if (!rest_blank(s, 3, len))
				return yerr(p, no, "content on a document marker line is not supported");
			if (s[0] == '.')
				p->ended = 1;
			p->seen_content = 1;
			continue;
		}
		if (i == 0 && s[0] == '%' && !p->seen_content)
			return yerr(p, no, "directives are not supported");
		p->seen_content = 1;
		p->cur.s = s + i;
		p->cur.len = len - i;
		p->cur.indent = i;
		p->cur.no = no;
		p->have_cur = 1;
		*out = &p->cur;
		return 0;
	}
	return 0;
}

static void advance(struct yparser *p)
{
	p->have_cur = 0;
}

static int is_seq_entry(const struct yline *l)
{
	return l->s[0] == '-' && (l->len == 1 || is_ws(l->s[1]));
}

/* Whether a plain scalar may start at s[i]. */
static int plain_start(const char *s, size_t i, size_t len, int flow)
{
	char c = s[i];
	char next = i + 1 < len ? s[i + 1] : '\0';

	if (c == '-' || c == '?' || c == ':')
		return next != '\0' && !is_ws(next) && !(flow && is_flow_ind(next));
	return strchr(",[]{}#&*!|>'\"%@`", c) == NULL;
}

/* The error for a value that starts with an indicator character. */
static int indicator_error(struct yparser *p, const char *s, size_t i, long no)
{
	switch (s[i]) {
	case '&':
		return yerr(p, no, "anchors ('&') are not supported");
	case '*':
		return yerr(p, no, "aliases ('*') are not supported");
	case '!':
		return yerr(p, no, "tags ('!') are not supported");
	case '|':
	case '>':
		return yerr(p, no, "block scalars ('%c') are not supported", s[i]);
	case '?':
		return yerr(p, no, "complex mapping keys ('?') are not supported");
	case '-':
		return yerr(p, no, "a sequence entry ('-') is not allowed here");
	case '@':
	case '`':
		return yerr(p, no, "a plain scalar cannot start with the reserved character '%c'",
		            s[i]);
	case '%':
		return yerr(p, no, "a plain scalar cannot start with '%%' (quote the value)");
	default:
		return yerr(p, no, "unexpected '%c'", s[i]);
	}
}

/* Finds the closing quote of the quoted scalar at s[i]; returns its
 * offset, or len if the scalar does not end on the line. */
static size_t quoted_end(const char *s, size_t i, size_t len)
{
	char q = s[i];

	for (i++; i < len; i++) {
		if (q == '\'' && s[i] == '\'') {
			if (i + 1 < len && s[i + 1] == '\'')
				i++;
			else
				return i;
		} else if (q == '"' && s[i] == '\\') {
			i++;
		} else if (q == '"' && s[i] == '"') {
			return i;
		}
	}
	return len;
}

/* Whether the line is a mapping entry "key: ...", with k filled. */
static int scan_key(const struct yline *l, struct ykey *k)
{
	const char *s = l->s;
	size_t len = l->len, i;

	if (s[0] == '"' || s[0] == '\'') {
		i = quoted_end(s, 0, len);
		if (i >= len)
			return 0;
		for (i++; i < len && is_ws(s[i]); i++)
			;
		if (i >= len || s[i] != ':' || (i + 1 < len && !is_ws(s[i + 1])))
			return 0;
	} else {
		if (!plain_start(s, 0, len, 0))
			return 0;
		for (i = 0; i < len; i++) {
			if (s[i] == ':' && (i + 1 == len || is_ws(s[i + 1])))
				break;
			if (s[i] == '#' && i > 0 && is_ws(s[i - 1]))
				return 0;
		}
		if (i == len)
			return 0;
	}
	k->colon = i;
	for (i++; i < len && is_ws(s[i]); i++)
		;
	k->value = i;
	return 1;
}

static size_t utf8_put(char *b, uint32_t cp)
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | (cp >> 18));
	b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	b[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the escape after a backslash at s[*j] (the character after the
 * backslash) into b; advances *j past it. Returns the bytes written, or a
 * negative code. */
static int unescape(struct yparser *p, const char *s, size_t len, size_t *j, char *b, long no)
{
	char c = s[*j];
	uint32_t cp = 0;
	size_t digits = 0, k;

	(*j)++;
	switch (c) {
	case 'a': b[0] = '\a'; return 1;
	case 'b': b[0] = '\b'; return 1;
	case 't':
	case '\t': b[0] = '\t'; return 1;
	case 'n': b[0] = '\n'; return 1;
	case 'v': b[0] = '\v'; return 1;
	case 'f': b[0] = '\f'; return 1;
	case 'r': b[0] = '\r'; return 1;
	case 'e': b[0] = '\x1b'; return 1;
	case ' ': b[0] = ' '; return 1;
	case '"': b[0] = '"'; return 1;
	case '/': b[0] = '/'; return 1;
	case '\\': b[0] = '\\'; return 1;
	case 'N': return (int)utf8_put(b, 0x85);
	case '_': return (int)utf8_put(b, 0xa0);
	case 'L': return (int)utf8_put(b, 0x2028);
	case 'P': return (int)utf8_put(b, 0x2029);
	case '0': return yerr(p, no, "the escape \\0 (a NUL character) is not supported");
	case 'x': digits = 2; break;
	case 'u': digits = 4; break;
	case 'U': digits = 8; break;
	default:
		if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
			return yerr(p, no, "invalid escape \\%c in a double-quoted scalar", c);
		return yerr(p, no, "invalid escape \\\\x%02x in a double-quoted scalar",
		            (unsigned char)c);
	}
	for (k = 0; k < digits; k++) {
		int v = *j + k < len ? hex_val(s[*j + k]) : -1;
		if (v < 0)
			return yerr(p, no, "invalid escape \\%c: expected %zu hexadecimal digits", c,
			            digits);
		cp = cp * 16 + (uint32_t)v;
	}
	*j += digits;
	if (cp == 0)
		return yerr(p, no, "the escape \\%c for a NUL character is not supported", c);
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return yerr(p, no, "invalid escape \\%c: U+%04lX is not a unicode scalar value", c,
		            (unsigned long)cp);
	return (int)utf8_put(b, cp);
}

/* Decodes the quoted scalar starting at s[*i] into a new string; moves *i
 * past the closing quote. */
static int scan_quoted(struct yparser *p, const char *s, size_t len, size_t *i, long no,
                       char **out)
{
	char q = s[*i];
	size_t j = *i + 1, o = 0;
	/* No escape makes more than 3 bytes of 2 input bytes. */
	char *b = malloc(2 * (len - *i) + 1);

	*out = NULL;
	if (!b)
		return fidx_err_nomem(p->err);
	for (;;) {
		char c;
		if (j >= len) {
			free(b);
			return yerr(p, no, "unterminated quoted scalar (a quoted scalar must end on "
			                   "the line where it starts)");
		}
		c = s[j];
		if (c == q) {
			if (q == '\'' && j + 1 < len && s[j + 1] == '\'') {
				b[o++] = '\'';
				j += 2;
				continue;
			}
			j++;
			break;
		}
		if (q == '"' && c == '\\') {
			int w;
			j++;
			if (j >= len) {
				free(b);
				return yerr(p, no, "unterminated quoted scalar (a quoted scalar must end "
				                   "on the line where it starts)");
			}
			w = unescape(p, s, len, &j, b + o, no);
			if (w < 0) {
				free(b);
				return w;
			}
			o += (size_t)w;
			continue;
		}
		b[o++] = c;
		j++;
	}
	b[o] = '\0';
	*i = j;
	*out = b;
	return 0;
}

/* A node for a plain scalar: null, a bool or a string. */
static cJSON *plain_node(const char *s, size_t n, long no)
{
	char *str;
	cJSON *item;

	if ((n == 1 && s[0] == '~') ||
	    (n == 4 && (memcmp(s, "null", 4) == 0 || memcmp(s, "Null", 4) == 0 ||
	                memcmp(s, "NULL", 4) == 0)))
		return mark(cJSON_CreateNull(), no);
	if (n == 4 && (memcmp(s, "true", 4) == 0 || memcmp(s, "True", 4) == 0 ||
	               memcmp(s, "TRUE", 4) == 0))
		return mark(cJSON_CreateTrue(), no);
	if (n == 5 && (memcmp(s, "false", 5) == 0 || memcmp(s, "False", 5) == 0 ||
	               memcmp(s, "FALSE", 5) == 0))
		return mark(cJSON_CreateFalse(), no);
	str = dupn(s, n);
	if (!str)
		return NULL;
	item = mark(cJSON_CreateString(str), no);
	free(str);
	return item;
}

static cJSON *string_node(const char *s, long no)
{
	return mark(cJSON_CreateString(s), no);
}

/* Skips whitespace inside a flow collection; errors if the line ends
 * first. */
static int flow_more(struct yparser *p, struct yflow *f)
{
	while (f->i < f->len && is_ws(f->s[f->i]))
		f->i++;
	if (f->i >= f->len || (f->s[f->i] == '#' && f->i > 0 && is_ws(f->s[f->i - 1])))
		return yerr(p, f->no, "unterminated flow collection (a flow collection must end "
		                      "on the line where it starts)");
	return 0;
}

/* The end of a plain scalar inside a flow collection, starting at f->i,
 * without trailing whitespace. */
static size_t flow_plain_end(const struct yflow *f, size_t *stop)
{
	size_t j = f->i;

	while (j < f->len) {
		char c = f->s[j];
		if (is_flow_ind(c))
			break;
		if (c == ':' && (j + 1 == f->len || is_ws(f->s[j + 1]) || is_flow_ind(f->s[j + 1])))
			break;
		if (c == '#' && j > f->i && is_ws(f->s[j - 1]))
			break;
		j++;
	}
	*stop = j;
	while (j > f->i && is_ws(f->s[j - 1]))
		j--;
	return j;
}

static int flow_seq(struct yparser *p, struct yflow *f, cJSON **out)
{
	cJSON *arr = mark(cJSON_CreateArray(), f->no);
	int rc = 0;

	*out = NULL;
	if (!arr)
		return fidx_err_nomem(p->err);
	f->i++;
	for (;;) {
		cJSON *item;
		char c;
		if ((rc = flow_more(p, f)))
			break;
		if (f->s[f->i] == ']') {
			f->i++;
			break;
		}
		if ((rc = flow_node(p, f, &item)))
			break;
		if (!cJSON_AddItemToArray(arr, item)) {
			cJSON_Delete(item);
			rc = fidx_err_nomem(p->err);
			break;
		}
		if ((rc = flow_more(p, f)))
			break;
		c = f->s[f->i];
		if (c == ',') {
			f->i++;
			continue;
		}
		if (c == ']') {
			f->i++;
			break;
		}
		if (c == ':')
			rc = yerr(p, f->no, "mappings inside flow sequences are not supported "
			                    "(write {key: value})");
		else
			rc = yerr(p, f->no, "expected ',' or ']' in a flow sequence, found '%c'", c);
		break;
	}
	if (rc) {
		cJSON_Delete(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

static int flow_map(struct yparser *p, struct yflow *f, cJSON **out)
{
	cJSON *obj = mark(cJSON_CreateObject(), f->no);
	struct ykeyset ks = { 0 };
	int rc = 0;

	*out = NULL;
	if (!obj)
		return fidx_err_nomem(p->err);
	f->i++;
	for (;;) {
		cJSON *val = NULL;
		char *key = NULL, c;
		if ((rc = flow_more(p, f)))
			break;
		c = f->s[f->i];
		if (c == '}') {
			f->i++;
			break;
		}
		if (c == '"' || c == '\'') {
			if ((rc = scan_quoted(p, f->s, f->len, &f->i, f->no, &key)))
				break;
		} else if (c == '[' || c == '{') {
			rc = yerr(p, f->no, "collections as mapping keys are not supported");
			break;
		} else if (!plain_start(f->s, f->i, f->len, 1)) {
			rc = indicator_error(p, f->s, f->i, f->no);
			break;
		} else {
			size_t stop, end = flow_plain_end(f, &stop);
			key = dupn(f->s + f->i, end - f->i);
			f->i = stop;
			if (!key) {
				rc = fidx_err_nomem(p->err);
				break;
			}
		}
		if ((rc = flow_more(p, f))) {
			free(key);
			break;
		}
		c = f->s[f->i];
		if (c == ':') {
			f->i++;
			if ((rc = flow_more(p, f))) {
				free(key);
				break;
			}
			c = f->s[f->i];
			if (c != ',' && c != '}')
				rc = flow_node(p, f, &val);
		} else if (c != ',' && c != '}') {
			rc = yerr(p, f->no, "expected ':' after a key in a flow mapping, found '%c'", c);
		}
		if (!rc && !val && !(val = mark(cJSON_CreateNull(), f->no)))
			rc = fidx_err_nomem(p->err);
		if (!rc)
			rc = obj_add(p, obj, &ks, key, val, f->no);
		free(key);
		if (rc || (rc = flow_more(p, f)))
			break;
		c = f->s[f->i];
		if (c == ',') {
			f->i++;
			continue;
		}
		if (c == '}') {
			f->i++;
			break;
		}
		rc = yerr(p, f->no, "expected ',' or '}' in a flow mapping, found '%c'", c);
		break;
	}
	free(ks.v);
	if (rc) {
		cJSON_Delete(obj);
		return rc;
	}
	*out = obj;
	return 0;
}

static int flow_node(struct yparser *p, struct yflow *f, cJSON **out)
{
	char c;
	int rc;

	*out = NULL;
	if ((rc = flow_more(p, f)))
		return rc;
	c = f->s[f->i];
	if (c == '[' || c == '{') {
		if (!(rc = enter(p, f->no)))
			rc = c == '[' ? flow_seq(p, f, out) : flow_map(p, f, out);
		p->depth--;
		return rc;
	}
	if (c == '"' || c == '\'') {
		char *s;
		if ((rc = scan_quoted(p, f->s, f->len, &f->i, f->no, &s)))
			return rc;
		*out = string_node(s, f->no);
		free(s);
		return *out ? 0 : fidx_err_nomem(p->err);
	}
	if (!plain_start(f->s, f->i, f->len, 1))
		return indicator_error(p, f->s, f->i, f->no);
	{
		size_t stop, end = flow_plain_end(f, &stop);
		*out = plain_node(f->s + f->i, end - f->i, f->no);
		f->i = stop;
	}
	return *out ? 0 : fidx_err_nomem(p->err);
}

/* Scans one line's worth of a plain scalar in block context: s[i..*end),
 * trimmed; *comment is set when a comment follows on the line. */
static int plain_line(struct yparser *p, const char *s, size_t len, size_t i, long no,
                      size_t *end, int *comment)
{
	size_t j = i;

	*comment = 0;
	for (; j < len; j++) {
		if (s[j] == ':' && (j + 1 == len || is_ws(s[j + 1])))
			return yerr(p, no, "a mapping value is not allowed here (quote a value that "
			                   "contains \": \")");
		if (s[j] == '#' && j > i && is_ws(s[j - 1])) {
			*comment = 1;
			break;
		}
	}
	while (j > i && is_ws(s[j - 1]))
		j--;
	*end = j;
	return 0;
}

/* A plain scalar starting at cur.s[off], continued on following lines
 * indented more than parent. */
static int parse_plain(struct yparser *p, size_t off, long parent, cJSON **out)
{
	struct ybuf b = { 0 };
	struct yline *l = &p->cur;
	long no = l->no;
	size_t end;
	int comment, rc;

	*out = NULL;
	if ((rc = plain_line(p, l->s, l->len, off, no, &end, &comment)))
		return rc;
	if (ybuf_add(&b, l->s + off, end - off) < 0)
		return fidx_err_nomem(p->err);
	advance(p);
	while (!comment) {
		if ((rc = peek(p, &l)))
			break;
		if (!l || (long)l->indent <= parent || p->comment)
			break;
		if ((rc = plain_line(p, l->s, l->len, 0, l->no, &end, &comment)))
			break;
		if (p->blanks) {
			size_t k;
			for (k = 0; k < p->blanks && !rc; k++)
				rc = ybuf_add(&b, "\n", 1);
		} else {
			rc = ybuf_add(&b, " ", 1);
		}
		if (rc || ybuf_add(&b, l->s, end) < 0) {
			rc = fidx_err_nomem(p->err);
			break;
		}
		advance(p);
	}
	if (!rc && !(*out = plain_node(b.p, b.len, no)))
		rc = fidx_err_nomem(p->err);
	free(b.p);
	return rc;
}

/* The value on the current line from offset off (a flow collection, a
 * quoted or a plain scalar); consumes the line, and for plain scalars the
 * continuation lines indented more than parent. */
static int parse_inline(struct yparser *p, size_t off, long parent, cJSON **out)
{
	struct yline *l = &p->cur;
	char c = l->s[off];
	int rc;

	*out = NULL;
	if (c == '[' || c == '{') {
		struct yflow f;
		f.s = l->s;
		f.len = l->len;
		f.i = off;
		f.no = l->no;
		if ((rc = flow_node(p, &f, out)))
			return rc;
		if (!rest_blank(l->s, f.i, l->len)) {
			cJSON_Delete(*out);
			*out = NULL;
			return yerr(p, l->no, "unexpected content after a flow collection");
		}
		advance(p);
		return 0;
	}
	if (c == '"' || c == '\'') {
		char *s;
		size_t i = off;
		if ((rc = scan_quoted(p, l->s, l->len, &i, l->no, &s)))
			return rc;
		if (!rest_blank(l->s, i, l->len)) {
			free(s);
			return yerr(p, l->no, "unexpected content after a quoted scalar");
		}
		*out = string_node(s, l->no);
		free(s);
		if (!*out)
			return fidx_err_nomem(p->err);
		advance(p);
		return 0;
	}
	if (!plain_start(l->s, off, l->len, 0))
		return indicator_error(p, l->s, off, l->no);
	return parse_plain(p, off, parent, out);
}

/* The error for a line where a mapping entry was expected. */
static int key_error(struct yparser *p, const struct yline *l)
{
	char c = l->s[0];

	if (is_seq_entry(l))
		return yerr(p, l->no, "a sequence entry ('-') is not allowed here (expected a "
		                      "mapping key)");
	if (c != '"' && c != '\'' && c != '[' && c != '{' && !plain_start(l->s, 0, l->len, 0))
		return indicator_error(p, l->s, 0, l->no);
	return yerr(p, l->no, "expected a mapping entry (\"key: value\")");
}

/* A block mapping whose first entry is the current line. */
static int parse_map(struct yparser *p, cJSON **out)
{
	size_t ind = p->cur.indent;
	struct ykeyset ks = { 0 };
	cJSON *obj;
	int rc;

	*out = NULL;
	if ((rc = enter(p, p->cur.no))) {
		p->depth--;
		return rc;
	}
	obj = mark(cJSON_CreateObject(), p->cur.no);
	if (!obj) {
		p->depth--;
		return fidx_err_nomem(p->err);
	}
	for (;;) {
		struct yline *l;
		struct ykey k;
		cJSON *val = NULL;
		char *key;
		long no;

		if ((rc = peek(p, &l)) || !l || l->indent < ind)
			break;
		if (l->indent > ind) {
			rc = yerr(p, l->no, "unexpected indentation");
			break;
		}
		if (!scan_key(l, &k)) {
			rc = key_error(p, l);
			break;
		}
		no = l->no;
		if (l->s[0] == '"' || l->s[0] == '\'') {
			size_t i = 0;
			if ((rc = scan_quoted(p, l->s, l->len, &i, no, &key)))
				break;
		} else {
			size_t end = k.colon;
			while (end > 0 && is_ws(l->s[end - 1]))
				end--;
			if (!(key = dupn(l->s, end))) {
				rc = fidx_err_nomem(p->err);
				break;
			}
		}
		if (keyset_has(&ks, key)) {
			rc = dup_error(p, key, no);
			free(key);
			break;
		}
		if (k.value >= l->len || l->s[k.value] == '#') {
			advance(p);
			rc = parse_block(p, (long)ind, 1, no, &val);
		} else {
			rc = parse_inline(p, k.value, (long)ind, &val);
		}
		if (!rc)
			rc = obj_add(p, obj, &ks, key, val, no);
		free(key);
		if (rc)
			break;
	}
	free(ks.v);
	p->depth--;
	if (rc) {
		cJSON_Delete(obj);
		return rc;
	}
	*out = obj;
	return 0;
}

static int parse_seq(struct yparser *p, cJSON **out);

/* The content after "- " on the current line (already made the line's
 * content): a nested sequence, a mapping or a scalar. */
static int parse_compact(struct yparser *p, long parent, cJSON **out)
{
	struct ykey k;

	if (is_seq_entry(&p->cur))
		return parse_seq(p, out);
	if (scan_key(&p->cur, &k))
		return parse_map(p, out);
	return parse_inline(p, 0, parent, out);
}

/* A block sequence whose first entry is the current line. */
static int parse_seq(struct yparser *p, cJSON **out)
{
	size_t ind = p->cur.indent;
	cJSON *arr;
	int rc;

	*out = NULL;
	if ((rc = enter(p, p->cur.no))) {
		p->depth--;
		return rc;
	}
	arr = mark(cJSON_CreateArray(), p->cur.no);
	if (!arr) {
		p->depth--;
		return fidx_err_nomem(p->err);
	}
	for (;;) {
		struct yline *l;
		cJSON *item = NULL;
		size_t off = 1;

		if ((rc = peek(p, &l)) || !l || l->indent < ind)
			break;
		if (l->indent > ind) {
			rc = yerr(p, l->no, "unexpected indentation");
			break;
		}
		if (!is_seq_entry(l))
			break;
		while (off < l->len && is_ws(l->s[off]))
			off++;
		if (off == l->len || l->s[off] == '#') {
			long no = l->no;
			advance(p);
			rc = parse_block(p, (long)ind, 0, no, &item);
		} else {
			p->cur.s += off;
			p->cur.len -= off;
			p->cur.indent += off;
			rc = parse_compact(p, (long)ind, &item);
		}
		if (rc)
			break;
		if (!cJSON_AddItemToArray(arr, item)) {
			cJSON_Delete(item);
			rc = fidx_err_nomem(p->err);
			break;
		}
	}
	p->depth--;
	if (rc) {
		cJSON_Delete(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

/* The node under a parent at indentation parent (-1 for the document):
 * the next line if it is indented more (or, when seq_same, a sequence at
 * the parent's own indentation), else null at line no. */
static int parse_block(struct yparser *p, long parent, int seq_same, long no, cJSON **out)
{
	struct yline *l;
	struct ykey k;
	int rc;

	*out = NULL;
	if ((rc = peek(p, &l)))
		return rc;
	if (!l || (long)l->indent < parent ||
	    ((long)l->indent == parent && !(seq_same && is_seq_entry(l)))) {
		*out = mark(cJSON_CreateNull(), no);
		return *out ? 0 : fidx_err_nomem(p->err);
	}
	if (is_seq_entry(l))
		return parse_seq(p, out);
	if (scan_key(l, &k))
		return parse_map(p, out);
	return parse_inline(p, 0, parent, out);
}

int fidx_yaml_parse(const char *name, const char *text, size_t n, cJSON **out,
                    struct fidx_err *err)
{
	struct yparser p;
	struct yline *l;
	cJSON *root = NULL;
	long no = 1;
	size_t i;
	int rc;

	*out = NULL;
	if (!name)
		name = "<yaml>";
	if (!text)
		n = 0;
	if (n > FIDX_YAML_MAX_SIZE)
		return fidx_err_set(err, FIDX_EINPUT, "%s: larger than %u bytes", name,
		                    FIDX_YAML_MAX_SIZE);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n' || (c == '\r' && (i + 1 == n || text[i + 1] != '\n')))
			no++;
		else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return fidx_err_set(err, FIDX_EINPUT,
			                    "%s:%ld: control character 0x%02x is not allowed", name, no,
			                    c);
	}
	if (n >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		n -= 3;
	}
	memset(&p, 0, sizeof p);
	p.name = name;
	p.text = text;
	p.n = n;
	p.pos_no = 1;
	p.err = err;
	rc = parse_block(&p, -1, 0, 1, &root);
	if (!rc && !(rc = peek(&p, &l)) && l)
		rc = yerr(&p, l->no, "unexpected content (check the indentation)");
	if (rc) {
		cJSON_Delete(root);
		return rc;
	}
	*out = root;
	return 0;
}
