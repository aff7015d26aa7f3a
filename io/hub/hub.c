#include "hub.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "path.h"
#include "utf8.h"
#include "yamltree.h"

/* Most of README.md read while looking for the end of the front matter. */
#define HUB_README_MAX (64u << 20)
/* Longest glob pattern accepted, in bytes. */
#define HUB_PATTERN_MAX 4096

/* ---- small helpers ---- */

struct hub_entry {
	char *rel;   /* path relative to the walked folder */
	int ignored; /* a README.md, config.json, ... */
};

struct hub_list {
	struct hub_entry *v;
	size_t n, cap;
};

struct hub_idx {
	size_t *v;
	size_t n, cap;
};

static const char *const ignored_names[] = {
	"README.md", "config.json", "dataset_info.json", "dataset_infos.json", "dataset_dict.json",
};

static char *join2(const char *a, const char *sep, const char *b)
{
	size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
	char *s = malloc(la + ls + lb + 1);

	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, sep, ls);
		memcpy(s + la + ls, b, lb + 1);
	}
	return s;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static int list_add(struct hub_list *l, char *rel)
{
	size_t i;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct hub_entry *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].rel = rel;
	l->v[l->n].ignored = 0;
	for (i = 0; i < sizeof ignored_names / sizeof ignored_names[0]; i++)
		if (strcmp(base_name(rel), ignored_names[i]) == 0)
			l->v[l->n].ignored = 1;
	l->n++;
	return 0;
}

/* A source's listing of dir, as a list (the paths are taken over). */
static int list_files(const struct fidx_hub_source *src, const char *dir, struct hub_list *list,
                      struct fidx_err *err)
{
	char **paths;
	size_t n, i;
	int rc = src->list(src->ctx, dir, &paths, &n, err);
	if (rc)
		return rc;
	for (i = 0; i < n; i++)
		if (list_add(list, paths[i]) < 0)
			break;
	if (i < n) {
		for (; i < n; i++)
			free(paths[i]);
		free(paths);
		return fidx_err_nomem(err);
	}
	free(paths);
	return 0;
}

static void list_free(struct hub_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].rel);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static int idx_add(struct hub_idx *x, size_t i)
{
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		size_t *v = realloc(x->v, cap * sizeof *v);
		if (!v)
			return -1;
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n++] = i;
	return 0;
}

/* Quotes s for a message. */
static const char *quote(char *buf, size_t cap, const char *s)
{
	fidx_err_quote(buf, cap, s, strlen(s));
	return buf;
}

/* Python's truth of a value, which datasets tests ("if configs:", "if
 * config.get('default')"). */
static int truthy(const cJSON *v)
{
	if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
		return 0;
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0;
	if (cJSON_IsArray(v) || cJSON_IsObject(v))
		return v->child != NULL;
	return v->valuestring && v->valuestring[0]; /* strings, timestamps, binary */
}

/* A scalar's text as Python's str() gives it (datasets takes str() of
 * split names), or NULL for a collection. */
static const char *scalar_text(const cJSON *v)
{
	return cJSON_IsArray(v) || cJSON_IsObject(v) ? NULL : v->valuestring;
}

/* Appends ", name" (or "name" first) to the list in buf, or "..." once
 * the list is full. */
static void names_add(char *buf, size_t cap, const char *name)
{
	size_t len = strlen(buf), ql;
	char q[128];

	quote(q, sizeof q, name);
	ql = strlen(q);
	if (len >= 3 && strcmp(buf + len - 3, "...") == 0)
		return;
	if (len + ql + 2 + 8 >= cap) {
		if (len + 6 < cap)
			memcpy(buf + len, len ? ", ..." : "...", len ? 6 : 4);
		return;
	}
	if (len) {
		memcpy(buf + len, ", ", 2);
		len += 2;
	}
	memcpy(buf + len, q, ql + 1);
}

/* ---- globs ---- */

enum {
	G_LIT,        /* one character */
	G_ANY,        /* '?': one character but '/' */
	G_CLASS,      /* '[...]', never '/' */
	G_STAR,       /* '*': any run without '/' */
	G_DSTAR,      /* '**' inside a component or at the end: any run */
	G_DIRS_ENTRY, /* "**" then "/", as whole components: nothing, or a run */
	G_DIRS_BODY,  /*   ending with a slash (two states) */
};

struct gtok {
	int kind;
	int neg;
	uint32_t cp;
	size_t lo, n; /* G_CLASS: ranges cls[2 * lo .. 2 * (lo + n)) */
};

struct glob {
	struct gtok *t;
	size_t n;
	uint32_t *cls;
	unsigned char *a, *b; /* NFA state sets, n + 1 each */
};

/* Decodes one UTF-8 character of the NUL-terminated s; a byte that does
 * not start a valid sequence decodes alone as 0xdc00 + byte (as Python's
 * surrogateescape), so that different byte strings never decode alike. */
static size_t utf8_get(const unsigned char *s, uint32_t *cp)
{
	size_t n = fidx_utf8_decode(s, 4, cp);
	if (n)
		return n;
	*cp = 0xdc00 + s[0];
	return 1;
}

static void glob_free(struct glob *g)
{
	free(g->t);
	free(g->cls);
	free(g->a);
	free(g->b);
	memset(g, 0, sizeof *g);
}

/* Compiles pat. Returns 0 or -1 when out of memory. */
static int glob_compile(struct glob *g, const char *pat)
{
	size_t len = strlen(pat), m = 0, i = 0, ncls = 0;
	uint32_t *cp;

	memset(g, 0, sizeof *g);
	cp = malloc((len + 1) * sizeof *cp);
	g->t = malloc((len + 1) * sizeof *g->t);
	g->cls = malloc((2 * len + 2) * sizeof *g->cls);
	if (!cp || !g->t || !g->cls) {
		free(cp);
		glob_free(g);
		return -1;
	}
	for (i = 0; i < len;)
		i += utf8_get((const unsigned char *)pat + i, &cp[m++]);
	i = 0;
	while (i < m) {
		struct gtok *t = &g->t[g->n];
		memset(t, 0, sizeof *t);
		if (cp[i] == '*') {
			size_t r = 1;
			while (i + r < m && cp[i + r] == '*')
				r++;
			if (r == 1) {
				t->kind = G_STAR;
				i++;
			} else if ((i == 0 || cp[i - 1] == '/') && i + r < m && cp[i + r] == '/') {
				t->kind = G_DIRS_ENTRY;
				g->t[g->n + 1].kind = G_DIRS_BODY;
				g->n++;
				i += r + 1;
			} else {
				t->kind = G_DSTAR;
				i += r;
			}
		} else if (cp[i] == '?') {
			t->kind = G_ANY;
			i++;
		} else if (cp[i] == '[') {
			size_t j = i + 1, start, k;
			int neg = 0;
			if (j < m && cp[j] == '!') {
				neg = 1;
				j++;
			}
			start = j;
			if (j < m && cp[j] == ']')
				j++;
			while (j < m && cp[j] != ']' && cp[j] != '/')
				j++;
			if (j >= m || cp[j] != ']') {
				t->kind = G_LIT;
				t->cp = '[';
				i++;
			} else {
				t->kind = G_CLASS;
				t->neg = neg;
				t->lo = ncls;
				for (k = start; k < j;) {
					uint32_t lo = cp[k], hi = lo;
					if (k + 2 < j && cp[k + 1] == '-') {
						hi = cp[k + 2];
						k += 3;
					} else {
						k++;
					}
					if (lo <= hi) {
						g->cls[2 * ncls] = lo;
						g->cls[2 * ncls + 1] = hi;
						ncls++;
						t->n++;
					}
				}
				i = j + 1;
			}
		} else {
			t->kind = G_LIT;
			t->cp = cp[i];
			i++;
		}
		g->n++;
	}
	free(cp);
	g->a = malloc(g->n + 1);
	g->b = malloc(g->n + 1);
	if (!g->a || !g->b) {
		glob_free(g);
		return -1;
	}
	return 0;
}

/* Follows the transitions that consume nothing. */
static void glob_close(const struct glob *g, unsigned char *s)
{
	size_t k;

	for (k = 0; k < g->n; k++) {
		if (!s[k])
			continue;
		if (g->t[k].kind == G_STAR || g->t[k].kind == G_DSTAR) {
			s[k + 1] = 1;
		} else if (g->t[k].kind == G_DIRS_ENTRY) {
			s[k + 1] = 1;
			s[k + 2] = 1;
		}
	}
}

static int class_has(const struct glob *g, const struct gtok *t, uint32_t c)
{
	size_t k;

	for (k = t->lo; k < t->lo + t->n; k++)
		if (c >= g->cls[2 * k] && c <= g->cls[2 * k + 1])
			return 1;
	return 0;
}

static int glob_match(const struct glob *g, const char *path)
{
	const unsigned char *s = (const unsigned char *)path;
	unsigned char *a = g->a, *b = g->b, *tmp;

	memset(a, 0, g->n + 1);
	a[0] = 1;
	glob_close(g, a);
	while (*s) {
		uint32_t c;
		size_t k;
		int live = 0;

		s += utf8_get(s, &c);
		memset(b, 0, g->n + 1);
		for (k = 0; k < g->n; k++) {
			const struct gtok *t = &g->t[k];
			if (!a[k])
				continue;
			switch (t->kind) {
			case G_LIT:
				if (c == t->cp)
					b[k + 1] = 1;
				break;
			case G_ANY:
				if (c != '/')
					b[k + 1] = 1;
				break;
			case G_CLASS:
				if (c != '/' && class_has(g, t, c) != t->neg)
					b[k + 1] = 1;
				break;
			case G_STAR:
				if (c != '/')
					b[k] = 1;
				break;
			case G_DSTAR:
				b[k] = 1;
				break;
			case G_DIRS_BODY:
				b[k] = 1;
				if (c == '/')
					b[k + 1] = 1;
				break;
			default:
				break;
			}
		}
		glob_close(g, b);
		for (k = 0; k <= g->n && !live; k++)
			live = b[k];
		if (!live)
			return 0;
		tmp = a;
		a = b;
		b = tmp;
	}
	return a[g->n];
}

/* ---- README.md front matter ---- */

static int is_blank_line(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* From the README text, builds the YAML to parse: the front matter (the
 * lines between the "---" lines, which huggingface_hub hands whole to
 * yaml.safe_load), after as many empty lines as the README has before it,
 * so that line numbers stay the README's. *yaml is NULL when there is no
 * front matter. */
static int front_matter(const char *readme, const char *s, size_t n, int full, char **yaml,
                        size_t *ylen, struct fidx_err *err)
{
	char *out;
	size_t pos = 0, o = 0;
	int state = 0;

	*yaml = NULL;
	*ylen = 0;
	/* Each line gives at most its bytes and a '\n'. */
	out = malloc(2 * n + 2);
	if (!out)
		return fidx_err_nomem(err);
	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < n) {
		const char *line = s + pos;
		size_t len = 0;

		while (pos + len < n && line[len] != '\n' && line[len] != '\r')
			len++;
		pos += len;
		if (pos < n) {
			if (s[pos] == '\r' && pos + 1 < n && s[pos + 1] == '\n')
				pos++;
			pos++;
		}
		if (state == 0) {
			size_t i = 0;
			if (is_blank_line(line, len)) {
				out[o++] = '\n';
				continue;
			}
			while (i < len && (line[i] == ' ' || line[i] == '\t'))
				i++;
			/* "---" then a line break, as huggingface_hub's regex */
			if (len - i != 3 || memcmp(line + i, "---", 3) != 0 || line + len == s + n)
				break; /* no front matter */
			out[o++] = '\n';
			state = 1;
			continue;
		}
		if (len == 3 && memcmp(line, "---", 3) == 0) {
			state = 2;
			break;
		}
		memcpy(out + o, line, len);
		o += len;
		out[o++] = '\n';
	}
	if (state == 1 && !full) {
		free(out);
		return fidx_err_set(err, FIDX_EINPUT,
		                    "%s: the front matter does not end in the first %u bytes", readme,
		                    HUB_README_MAX);
	}
	if (state != 2) {
		free(out);
		return 0;
	}
	*yaml = out;
	*ylen = o;
	return 0;
}

/* ---- resolution ---- */

struct hub {
	const struct fidx_hub_source *src;
	const char *folder; /* the source's name, for messages */
	char *readme;       /* folder/README.md, for messages */
	struct fidx_err *err;
};

/* Normalizes a relative path inside the folder in place: drops leading
 * "./" and, when trailing, final slashes. Returns 0, or -1 for an
 * absolute path, a URL or a ".." component. */
static int normalize_rel(char *s, int trailing)
{
	size_t len;
	const char *c;

	while (s[0] == '.' && s[1] == '/')
		memmove(s, s + 2, strlen(s + 2) + 1);
	if (s[0] == '/' || strstr(s, "://"))
		return -1;
	for (c = s; *c;) {
		size_t cl = strcspn(c, "/");
		if (cl == 2 && c[0] == '.' && c[1] == '.')
			return -1;
		c += cl;
		if (*c)
			c++;
	}
	len = strlen(s);
	while (trailing && len > 0 && s[len - 1] == '/')
		s[--len] = '\0';
	if (trailing && strcmp(s, ".") == 0)
		s[0] = '\0';
	return 0;
}

static const char *const kw_train[] = { "train", "training", NULL };
static const char *const kw_validation[] = { "validation", "valid", "dev", "val", NULL };
static const char *const kw_test[] = { "test", "testing", "eval", "evaluation", NULL };
static const char *const split_names[] = { "train", "validation", "test" };
static const char *const *const split_kws[] = { kw_train, kw_validation, kw_test };

static int is_sep(char c)
{
	return c == '-' || c == '.' || c == '_' || c == ' ' || (c >= '0' && c <= '9');
}

/* Whether name[0..len) matches, for keyword kw, the pattern kind of
 * datasets' split patterns:
 *   folders: 0 "kw", 1 "kw[sep]*", 2 "*[sep]kw", 3 "*[sep]kw[sep]*";
 *   files:   4 "kw[sep]*", 5 "*[sep]kw[sep]*". */
static int kw_match(const char *name, size_t len, const char *kw, int kind)
{
	size_t kl = strlen(kw), p;

	if (len < kl)
		return 0;
	switch (kind) {
	case 0:
		return len == kl && memcmp(name, kw, kl) == 0;
	case 1:
	case 4:
		return len > kl && memcmp(name, kw, kl) == 0 && is_sep(name[kl]);
	case 2:
		return len > kl && memcmp(name + len - kl, kw, kl) == 0 && is_sep(name[len - kl - 1]);
	default:
		for (p = 1; p + kl < len; p++)
			if (is_sep(name[p - 1]) && memcmp(name + p, kw, kl) == 0 && is_sep(name[p + kl]))
				return 1;
		return 0;
	}
}

/* Whether path matches the folder patterns (dir) or the file patterns
 * (!dir) of keyword kw with pattern kind (0-3 folders, 0-1 files). */
static int kw_path_match(const char *path, const char *kw, int dir, int kind)
{
	const char *c = path;

	if (!dir) {
		const char *b = base_name(path);
		return kw_match(b, strlen(b), kw, kind + 4);
	}
	for (;;) {
		const char *slash = strchr(c, '/');
		if (!slash)
			return 0;
		if (kw_match(c, (size_t)(slash - c), kw, kind))
			return 1;
		c = slash + 1;
	}
}

/* The rank of path's first match among split s's patterns of a group
 * (dir: folder names, else file names), or -1. */
static int kw_rank(const char *path, int s, int dir)
{
	int kinds = dir ? 4 : 2, k, kind;

	for (k = 0; split_kws[s][k]; k++)
		for (kind = 0; kind < kinds; kind++)
			if (kw_path_match(path, split_kws[s][k], dir, kind))
				return k * kinds + kind;
	return -1;
}

/* Whether s is "-NNNNN-of-NNNNN" followed by text holding a '.'. */
static int shard_suffix(const char *s)
{
	int i;

	if (s[0] != '-')
		return 0;
	for (i = 1; i <= 5; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	if (strncmp(s + 6, "-of-", 4) != 0)
		return 0;
	for (i = 10; i <= 14; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return strchr(s + 15, '.') != NULL;
}

/* The split name of a sharded file name: the longest prefix followed by
 * a shard suffix; -1 if there is none. */
static long shard_split_len(const char *b)
{
	size_t len = strlen(b), p;

	for (p = len; p-- > 0;)
		if (b[p] == '-' && shard_suffix(b + p))
			return (long)p;
	return -1;
}

/* \w+(\.\w+)* with \w taken as ASCII letters, digits, '_' and any byte of
 * a non-ASCII character. */
static int valid_split_name(const char *s, size_t n)
{
	size_t i;
	int after_dot = 1;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (after_dot)
				return 0;
			after_dot = 1;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		           c == '_' || c >= 0x80) {
			after_dot = 0;
		} else {
			return 0;
		}
	}
	return n > 0 && !after_dot;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Group 1: data/{split}-NNNNN-of-NNNNN*.*. Returns 1 when the group
 * applies (with the split's files in out), 0 when it does not. */
static int infer_sharded(struct hub *h, const char *base, const struct hub_list *list,
                         const char *split, struct hub_idx *out)
{
	char **names = NULL;
	size_t nn = 0, i, sl = strlen(split);
	int rc = 0, have = 0;

	for (i = 0; i < list->n && !rc; i++) {
		const char *rel = list->v[i].rel, *b = rel + 5;
		long p;
		char q[256], *name, **nv;

		if (list->v[i].ignored || strncmp(rel, "data/", 5) != 0 || strchr(b, '/'))
			continue;
		p = shard_split_len(b);
		if (p < 0)
			continue;
		if (!valid_split_name(b, (size_t)p)) {
			rc = fidx_err_set(h->err, FIDX_EINPUT,
			                  "%s/%s: the split name in a sharded file name must be letters, "
			                  "digits, '_' and '.' (\"data/SPLIT-00000-of-00001.EXT\")",
			                  base, quote(q, sizeof q, rel));
			break;
		}
		if ((size_t)p == sl && memcmp(b, split, sl) == 0)
			have = 1;
		name = malloc((size_t)p + 1);
		nv = realloc(names, (nn + 1) * sizeof *names);
		if (!name || !nv) {
			free(name);
			if (nv)
				names = nv;
			rc = fidx_err_nomem(h->err);
			break;
		}
		names = nv;
		memcpy(name, b, (size_t)p);
		name[p] = '\0';
		names[nn++] = name;
	}
	if (!rc && nn && have) {
		for (i = 0; i < list->n && !rc; i++) {
			const char *rel = list->v[i].rel, *b = rel + 5;
			if (!list->v[i].ignored && strncmp(rel, "data/", 5) == 0 && !strchr(b, '/') &&
			    strncmp(b, split, sl) == 0 && shard_suffix(b + sl) && idx_add(out, i) < 0)
				rc = fidx_err_nomem(h->err);
		}
	} else if (!rc && nn) {
		char avail[512] = "", q[128];
		size_t s, k;
		qsort(names, nn, sizeof *names, cmp_str);
		for (s = 0; s < 3; s++)
			for (k = 0; k < nn; k++)
				if (strcmp(names[k], split_names[s]) == 0) {
					names_add(avail, sizeof avail, split_names[s]);
					break;
				}
		for (k = 0; k < nn; k++) {
			if ((k > 0 && strcmp(names[k], names[k - 1]) == 0) ||
			    strcmp(names[k], "train") == 0 || strcmp(names[k], "validation") == 0 ||
			    strcmp(names[k], "test") == 0)
				continue;
			names_add(avail, sizeof avail, names[k]);
		}
		rc = fidx_err_set(h->err, FIDX_EINPUT,
		                  "%s: no data files for split \"%s\" (available splits: %s)", base,
		                  quote(q, sizeof q, split), avail);
	}
	for (i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	return rc ? rc : nn > 0;
}

/* Groups 2 and 3: split keywords in folder names (dir) or file names.
 * Returns 1 when the group applies, 0 when it does not. */
static int infer_keywords(struct hub *h, const char *base, const struct hub_list *list,
                          const char *split, int dir, struct hub_idx *out)
{
	int *split_of, *rank, want = -1, s, rc = 0, present[3] = { 0, 0, 0 }, ranks;
	size_t i;

	split_of = malloc((list->n + 1) * sizeof *split_of);
	rank = malloc((list->n + 1) * sizeof *rank);
	if (!split_of || !rank) {
		free(split_of);
		free(rank);
		return fidx_err_nomem(h->err);
	}
	for (i = 0; i < list->n; i++) {
		split_of[i] = -1;
		if (list->v[i].ignored)
			continue;
		for (s = 0; s < 3 && split_of[i] < 0; s++)
			if (kw_rank(list->v[i].rel, s, dir) >= 0)
				split_of[i] = s;
		if (split_of[i] >= 0)
			present[split_of[i]] = 1;
	}
	if (!present[0] && !present[1] && !present[2]) {
		free(split_of);
		free(rank);
		return 0;
	}
	for (s = 0; s < 3; s++)
		if (strcmp(split, split_names[s]) == 0 && present[s])
			want = s;
	if (want < 0) {
		char avail[256] = "", q[128];
		for (s = 0; s < 3; s++)
			if (present[s])
				names_add(avail, sizeof avail, split_names[s]);
		free(split_of);
		free(rank);
		return fidx_err_set(h->err, FIDX_EINPUT,
		                    "%s: no data files for split \"%s\" (available splits: %s)", base,
		                    quote(q, sizeof q, split), avail);
	}
	/* datasets lists a split's files pattern by pattern, each pattern's
	 * matches sorted: order by the first pattern matched, then path. */
	ranks = 0;
	while (split_kws[want][ranks])
		ranks++;
	ranks *= dir ? 4 : 2;
	for (i = 0; i < list->n; i++)
		rank[i] = split_of[i] == want ? kw_rank(list->v[i].rel, want, dir) : -1;
	for (s = 0; s < ranks && !rc; s++)
		for (i = 0; i < list->n && !rc; i++)
			if (rank[i] == s && idx_add(out, i) < 0)
				rc = fidx_err_nomem(h->err);
	free(split_of);
	free(rank);
	return rc ? rc : 1;
}

/* Infers the split's files under base (folder[/data_dir]). */
static int infer(struct hub *h, const char *base, const struct hub_list *list,
                 const char *split, struct hub_idx *out)
{
	size_t i, files = 0;
	char q[128];
	int rc;

	for (i = 0; i < list->n; i++)
		files += !list->v[i].ignored;
	if (!files)
		return fidx_err_set(h->err, FIDX_EINPUT, "%s: no data files found", base);
	if ((rc = infer_sharded(h, base, list, split, out)) != 0)
		return rc < 0 ? rc : 0;
	if ((rc = infer_keywords(h, base, list, split, 1, out)) != 0)
		return rc < 0 ? rc : 0;
	if ((rc = infer_keywords(h, base, list, split, 0, out)) != 0)
		return rc < 0 ? rc : 0;
	if (strcmp(split, "train") != 0)
		return fidx_err_set(h->err, FIDX_EINPUT,
		                    "%s: no data files for split \"%s\" (available splits: train)",
		                    base, quote(q, sizeof q, split));
	for (i = 0; i < list->n; i++)
		if (!list->v[i].ignored && idx_add(out, i) < 0)
			return fidx_err_nomem(h->err);
	return 0;
}

/* Appends the files matching each pattern of pats (a string or an array
 * of strings), in order, without repeats. */
static int match_patterns(struct hub *h, const char *cname, const char *split,
                          const cJSON *pats, const struct hub_list *list, struct hub_idx *out)
{
	unsigned char *taken = calloc(list->n + 1, 1);
	const cJSON *p = cJSON_IsArray(pats) ? pats->child : pats;
	char qc[128], qs[128], qp[256];
	int rc = 0;

	if (!taken)
		return fidx_err_nomem(h->err);
	quote(qc, sizeof qc, cname);
	quote(qs, sizeof qs, split);
	for (; p && !rc; p = cJSON_IsArray(pats) ? p->next : NULL) {
		struct glob g;
		char *pat;
		const char *last;
		size_t i;
		int matched = 0;

		quote(qp, sizeof qp, p->valuestring);
		if (strlen(p->valuestring) > HUB_PATTERN_MAX) {
			rc = fidx_err_set(h->err, FIDX_EINPUT,
			                  "%s:%d: config \"%s\", split \"%s\": pattern \"%s\" is longer "
			                  "than %d bytes",
			                  h->readme, p->valueint, qc, qs, qp, HUB_PATTERN_MAX);
			break;
		}
		if (!(pat = join2(p->valuestring, "", ""))) {
			rc = fidx_err_nomem(h->err);
			break;
		}
		if (normalize_rel(pat, 0) < 0) {
			free(pat);
			rc = fidx_err_set(h->err, FIDX_EINPUT,
			                  "%s:%d: config \"%s\", split \"%s\": pattern \"%s\" must be a "
			                  "relative path inside the dataset folder",
			                  h->readme, p->valueint, qc, qs, qp);
			break;
		}
		if (glob_compile(&g, pat) < 0) {
			free(pat);
			rc = fidx_err_nomem(h->err);
			break;
		}
		last = base_name(pat);
		for (i = 0; i < list->n; i++) {
			if (list->v[i].ignored && strcmp(base_name(list->v[i].rel), last) != 0)
				continue;
			if (!glob_match(&g, list->v[i].rel))
				continue;
			matched = 1;
			if (taken[i])
				continue;
			taken[i] = 1;
			if (idx_add(out, i) < 0) {
				rc = fidx_err_nomem(h->err);
				break;
			}
		}
		glob_free(&g);
		free(pat);
		if (!rc && !matched)
			rc = fidx_err_set(h->err, FIDX_EINPUT,
			                  "%s:%d: config \"%s\", split \"%s\": pattern \"%s\" matches no "
			                  "files",
			                  h->readme, p->valueint, qc, qs, qp);
	}
	free(taken);
	return rc;
}

/* Whether node is a string or an array of strings. */
static int is_patterns(const cJSON *node)
{
	const cJSON *c;

	if (cJSON_IsString(node))
		return 1;
	if (!cJSON_IsArray(node))
		return 0;
	for (c = node->child; c; c = c->next)
		if (!cJSON_IsString(c))
			return 0;
	return 1;
}

/* Finds split's patterns in a config's data_files. *pats is NULL when the
 * config has no such split; avail then lists the splits it has. */
static int find_split(struct hub *h, const char *cname, const cJSON *df, const char *split,
                      const cJSON **pats, char *avail, size_t acap)
{
	char qc[128];
	const cJSON *c, *d;

	*pats = NULL;
	quote(qc, sizeof qc, cname);
	if (cJSON_IsString(df) || (cJSON_IsArray(df) && is_patterns(df))) {
		names_add(avail, acap, "train");
		if (strcmp(split, "train") == 0)
			*pats = df;
		return 0;
	}
	if (cJSON_IsObject(df)) {
		for (c = df->child; c; c = c->next) {
			if (!is_patterns(c))
				return fidx_err_set(h->err, FIDX_EINPUT,
				                    "%s:%d: config \"%s\": the data_files of a split must be a "
				                    "pattern or a list of patterns",
				                    h->readme, c->valueint, qc);
			names_add(avail, acap, c->string);
			if (strcmp(c->string, split) == 0)
				*pats = c;
		}
		return 0;
	}
	if (!cJSON_IsArray(df))
		return fidx_err_set(h->err, FIDX_EINPUT,
		                    "%s:%d: config \"%s\": data_files must be a pattern, a list of "
		                    "patterns or a list of {split, path}",
		                    h->readme, df->valueint, qc);
	for (c = df->child; c; c = c->next) {
		const cJSON *sp = cJSON_GetObjectItemCaseSensitive(c, "split");
		const cJSON *pa = cJSON_GetObjectItemCaseSensitive(c, "path");
		if (!cJSON_IsObject(c) || !sp || !pa || cJSON_GetArraySize(c) != 2)
			return fidx_err_set(h->err, FIDX_EINPUT,
			                    "%s:%d: config \"%s\": each data_files entry must be a mapping "
			                    "with exactly the keys split and path",
			                    h->readme, c->valueint, qc);
		if (!scalar_text(sp))
			return fidx_err_set(h->err, FIDX_EINPUT,
			                    "%s:%d: config \"%s\": split must be a string", h->readme,
			                    sp->valueint, qc);
		if (!is_patterns(pa))
			return fidx_err_set(h->err, FIDX_EINPUT,
			                    "%s:%d: config \"%s\": path must be a pattern or a list of "
			                    "patterns",
			                    h->readme, pa->valueint, qc);
		for (d = df->child; d != c; d = d->next) {
			const cJSON *ds = cJSON_GetObjectItemCaseSensitive(d, "split");
			if (strcmp(scalar_text(ds), scalar_text(sp)) == 0) {
				char qs[128];
				return fidx_err_set(h->err, FIDX_EINPUT,
				                    "%s:%d: config \"%s\": split \"%s\" appears twice in "
				                    "data_files",
				                    h->readme, sp->valueint, qc,
				                    quote(qs, sizeof qs, scalar_text(sp)));
			}
		}
		names_add(avail, acap, scalar_text(sp));
		if (strcmp(scalar_text(sp), split) == 0)
			*pats = pa;
	}
	return 0;
}

/* Chooses the config: by name, or the default one. */
static int pick_config(struct hub *h, const cJSON *configs, const char *want,
                       const cJSON **out)
{
	const cJSON *c, *d, *by_flag = NULL, *by_name = NULL, *only = NULL;
	char avail[512] = "", q[128], q2[128];
	int count = 0;

	*out = NULL;
	for (c = configs->child; c; c = c->next) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "config_name");
		if (!cJSON_IsObject(c))
			return fidx_err_set(h->err, FIDX_EINPUT,
			                    "%s:%d: each configs entry must be a mapping", h->readme,
			                    c->valueint);
		if (!name)
			return fidx_err_set(h->err, FIDX_EINPUT,
			                    "%s:%d: a configs entry has no config_name", h->readme,
			                    c->valueint);
		if (!cJSON_IsString(name))
			return fidx_err_set(h->err, FIDX_EINPUT, "%s:%d: config_name must be a string",
			                    h->readme, name->valueint);
		for (d = configs->child; d != c; d = d->next)
			if (strcmp(cJSON_GetObjectItemCaseSensitive(d, "config_name")->valuestring,
			           name->valuestring) == 0)
				return fidx_err_set(h->err, FIDX_EINPUT,
				                    "%s:%d: config name \"%s\" appears twice", h->readme,
				                    name->valueint, quote(q, sizeof q, name->valuestring));
		names_add(avail, sizeof avail, name->valuestring);
		count++;
		only = c;
		if (want) {
			if (strcmp(name->valuestring, want) == 0)
				*out = c;
			continue;
		}
		if (truthy(cJSON_GetObjectItemCaseSensitive(c, "default"))) {
			if (by_flag)
				return fidx_err_set(
					h->err, FIDX_EINPUT,
					"%s:%d: configs \"%s\" and \"%s\" are both marked default: true",
					h->readme, c->valueint,
					quote(q, sizeof q,
				              cJSON_GetObjectItemCaseSensitive(by_flag, "config_name")
				                      ->valuestring),
					quote(q2, sizeof q2, name->valuestring));
			by_flag = c;
		}
		if (strcmp(name->valuestring, "default") == 0)
			by_name = c;
	}
	if (want) {
		if (!*out)
			return fidx_err_set(h->err, FIDX_EINPUT,
			                    "%s:%d: no config named \"%s\" (available: %s)", h->readme,
			                    configs->valueint, quote(q, sizeof q, want), avail);
		return 0;
	}
	*out = by_flag ? by_flag : by_name ? by_name : count == 1 ? only : NULL;
	if (!*out)
		return fidx_err_set(h->err, FIDX_EINPUT,
		                    "%s:%d: no default config: name one of %s (or mark one "
		                    "default: true)",
		                    h->readme, configs->valueint, avail);
	return 0;
}

/* Builds out->paths from the chosen files. */
static int make_paths(struct hub *h, const char *dir, const struct hub_list *list,
                      const struct hub_idx *idx, struct fidx_hub_files *out)
{
	char *prefix;
	size_t i;

	if (!idx->n)
		return 0;
	prefix = join2(dir, "", "");
	out->paths = calloc(idx->n, sizeof *out->paths);
	if (!prefix || !out->paths) {
		free(prefix);
		return fidx_err_nomem(h->err);
	}
	for (i = 0; i < idx->n; i++) {
		char *p = prefix[0] ? fidx_path_join(prefix, list->v[idx->v[i]].rel) : join2(list->v[idx->v[i]].rel, "", "");
		if (!p) {
			free(prefix);
			return fidx_err_nomem(h->err);
		}
		out->paths[out->n++] = p;
	}
	free(prefix);
	return 0;
}

/* Whether rel is CONFIG/SPLIT/NNNN.parquet: the layout of the Hub's
 * refs/convert/parquet branch. Sets the lengths of its first two parts. */
static int convert_path(const char *rel, size_t *clen, size_t *slen)
{
	const char *a = strchr(rel, '/'), *b = a ? strchr(a + 1, '/') : NULL;
	size_t i;
	if (!a || !b || a == rel || b == a + 1 || strchr(b + 1, '/') || strlen(b + 1) != 12 ||
	    strcmp(b + 5, ".parquet") != 0)
		return 0;
	for (i = 1; i <= 4; i++)
		if (b[i] < '0' || b[i] > '9')
			return 0;
	*clen = (size_t)(a - rel);
	*slen = (size_t)(b - a - 1);
	return 1;
}

/* The refs/convert/parquet layout, when every data file follows it: the
 * config folder (config, else "default", else the only one) and the split
 * folder (split, or "partial-" split for a split converted in part), its
 * files sorted by name. Returns 1 with the files in idx, 0 when the folder
 * has another layout, or a negative code. */
static int convert_layout(struct hub *h, const struct hub_list *list, const char *config,
                          const char *split, struct hub_idx *idx)
{
	size_t i, clen, slen, n = 0, sl = strlen(split);
	const char *pick = NULL;
	size_t pick_len = 0;
	int several = 0;
	char avail[512] = "", name[256], q[128];

	for (i = 0; i < list->n; i++) {
		const char *rel = list->v[i].rel;
		if (list->v[i].ignored)
			continue;
		if (!convert_path(rel, &clen, &slen))
			return 0;
		n++;
		if (config ? strlen(config) == clen && strncmp(rel, config, clen) == 0
		           : clen == 7 && strncmp(rel, "default", 7) == 0) {
			pick = rel;
			pick_len = clen;
		}
	}
	if (!n)
		return 0;
	if (!pick) { /* no such config: the only one, or an error naming them */
		for (i = 0; i < list->n; i++) {
			const char *rel = list->v[i].rel;
			if (list->v[i].ignored || !convert_path(rel, &clen, &slen))
				continue;
			if (pick && (clen != pick_len || strncmp(rel, pick, clen) != 0))
				several = 1;
			if (!pick || several) {
				snprintf(name, sizeof name, "%.*s", (int)clen, rel);
				if (!strstr(avail, name))
					names_add(avail, sizeof avail, name);
			}
			if (!pick) {
				pick = rel;
				pick_len = clen;
			}
		}
		if (config || several)
			return fidx_err_set(h->err, FIDX_EINPUT, config
			                    ? "%s: no config named \"%s\" (available configs: %s)"
			                    : "%s%s: several configs (%s): choose one with " FIDX_SETTING("config"), h->folder,
			                    config ? quote(q, sizeof q, config) : "", avail);
	}
	avail[0] = '\0'; /* from here on: the config's splits */
	for (i = 0; i < list->n; i++) {
		const char *rel = list->v[i].rel, *sp;
		if (list->v[i].ignored || !convert_path(rel, &clen, &slen) || clen != pick_len ||
		    strncmp(rel, pick, clen) != 0)
			continue;
		sp = rel + clen + 1;
		if ((slen == sl && strncmp(sp, split, sl) == 0) ||
		    (slen == sl + 8 && strncmp(sp, "partial-", 8) == 0 && strncmp(sp + 8, split, sl) == 0)) {
			if (idx_add(idx, i))
				return fidx_err_nomem(h->err);
		} else {
			snprintf(name, sizeof name, "%.*s", (int)slen, sp);
			if (!strstr(avail, name))
				names_add(avail, sizeof avail, name);
		}
	}
	/* A folder that only looks like the layout (one config, no such split)
	 * is left to split inference, as datasets would; with a config named,
	 * its splits are the answer. */
	if (!idx->n && !config)
		return 0;
	if (!idx->n)
		return fidx_err_set(h->err, FIDX_EINPUT, "%s/%.*s: no data files for split \"%s\" "
		                    "(available splits: %s)", h->folder, (int)pick_len, pick,
		                    quote(q, sizeof q, split), avail);
	return 1;
}

/* Resolves split in a YAML config. */
static int resolve_config(struct hub *h, const cJSON *cfg, const char *split,
                          struct fidx_hub_files *out)
{
	const char *cname = cJSON_GetObjectItemCaseSensitive(cfg, "config_name")->valuestring;
	const cJSON *df = cJSON_GetObjectItemCaseSensitive(cfg, "data_files");
	const cJSON *dd = cJSON_GetObjectItemCaseSensitive(cfg, "data_dir");
	struct hub_list list = { 0 };
	struct hub_idx idx = { 0 };
	char *dir = NULL, *base = NULL, qc[128], qs[128];
	int rc;

	quote(qc, sizeof qc, cname);
	quote(qs, sizeof qs, split);
	if (dd && !cJSON_IsNull(dd)) {
		if (!cJSON_IsString(dd))
			return fidx_err_set(h->err, FIDX_EINPUT,
			                    "%s:%d: config \"%s\": data_dir must be a string", h->readme,
			                    dd->valueint, qc);
		if (!(dir = join2(dd->valuestring, "", "")))
			return fidx_err_nomem(h->err);
		if (normalize_rel(dir, 1) < 0) {
			char q[256];
			rc = fidx_err_set(h->err, FIDX_EINPUT,
			                  "%s:%d: config \"%s\": data_dir \"%s\" must be a relative path "
			                  "inside the dataset folder",
			                  h->readme, dd->valueint, qc, quote(q, sizeof q, dd->valuestring));
			free(dir);
			return rc;
		}
	} else if (!(dir = join2("", "", ""))) {
		return fidx_err_nomem(h->err);
	}
	base = dir[0] ? fidx_path_join(h->folder, dir) : join2(h->folder, "", "");
	if (!base) {
		free(dir);
		return fidx_err_nomem(h->err);
	}
	if ((rc = list_files(h->src, dir, &list, h->err)))
		goto done;
	if (!df || cJSON_IsNull(df)) {
		rc = infer(h, base, &list, split, &idx);
	} else {
		char avail[512] = "";
		const cJSON *pats;
		if ((rc = find_split(h, cname, df, split, &pats, avail, sizeof avail)))
			goto done;
		if (!pats) {
			rc = fidx_err_set(h->err, FIDX_EINPUT,
			                  "%s:%d: config \"%s\" has no split \"%s\" (available: %s)",
			                  h->readme, cfg->valueint, qc, qs, avail);
			goto done;
		}
		rc = match_patterns(h, cname, split, pats, &list, &idx);
		if (!rc && !idx.n)
			rc = fidx_err_set(h->err, FIDX_EINPUT,
			                  "%s:%d: config \"%s\", split \"%s\": no data files", h->readme,
			                  pats->valueint, qc, qs);
	}
	if (!rc)
		rc = make_paths(h, dir, &list, &idx, out);
done:
	free(idx.v);
	list_free(&list);
	free(base);
	free(dir);
	return rc;
}

/* Reads the configs list of README.md's front matter into *root; *configs
 * is NULL when there is none. */
static int load_configs(struct hub *h, cJSON **root, const cJSON **configs)
{
	char *data, *yaml;
	size_t n, ylen;
	int full, rc;
	const cJSON *c;

	*root = NULL;
	*configs = NULL;
	if ((rc = h->src->card(h->src->ctx, HUB_README_MAX, &data, &n, &full, h->err)) || !data)
		return rc;
	rc = front_matter(h->readme, data, n, full, &yaml, &ylen, h->err);
	free(data);
	if (rc || !yaml)
		return rc;
	rc = fidx_yaml_parse(h->readme, yaml, ylen, root, h->err);
	free(yaml);
	if (rc)
		return rc;
	/* huggingface_hub wants a mapping (or nothing); datasets takes configs
	 * when the value is true in Python's sense. */
	if (!cJSON_IsNull(*root) && !cJSON_IsObject(*root))
		return fidx_err_set(h->err, FIDX_EINPUT, "%s:%d: the front matter must be a mapping",
		                    h->readme, (*root)->valueint);
	c = cJSON_GetObjectItemCaseSensitive(*root, "configs");
	if (!truthy(c))
		return 0;
	if (!cJSON_IsArray(c))
		return fidx_err_set(h->err, FIDX_EINPUT, "%s:%d: configs must be a list", h->readme,
		                    c->valueint);
	*configs = c;
	return 0;
}

int fidx_hub_choose(const struct fidx_hub_source *src, const char *config, const char *split,
                    struct fidx_hub_files *out, struct fidx_err *err)
{
	struct hub h;
	cJSON *root = NULL;
	const cJSON *configs, *cfg;
	int rc;

	out->paths = NULL;
	out->n = 0;
	if (!split)
		split = "train";
	memset(&h, 0, sizeof h);
	h.src = src;
	h.folder = src->name;
	h.err = err;
	if (!(h.readme = fidx_path_join(src->name, "README.md")))
		return fidx_err_nomem(err);
	if ((rc = load_configs(&h, &root, &configs)))
		goto done;
	if (configs) {
		if (!(rc = pick_config(&h, configs, config, &cfg)))
			rc = resolve_config(&h, cfg, split, out);
	} else {
		struct hub_list list = { 0 };
		struct hub_idx idx = { 0 };
		char q[128];
		if (!(rc = list_files(src, "", &list, err)) &&
		    (rc = convert_layout(&h, &list, config, split, &idx)) == 0) {
			if (config && strcmp(config, "default") != 0)
				rc = fidx_err_set(err, FIDX_EINPUT,
				                  "%s: no config named \"%s\" (the README.md defines no configs: the "
				                  "only config is \"default\")",
				                  src->name, quote(q, sizeof q, config));
			else
				rc = infer(&h, src->name, &list, split, &idx);
		}
		if (rc >= 0)
			rc = make_paths(&h, "", &list, &idx, out);
		free(idx.v);
		list_free(&list);
	}
done:
	if (rc)
		fidx_hub_files_free(out);
	cJSON_Delete(root);
	free(h.readme);
	return rc;
}

int fidx_hub_resolve(const char *folder, const char *config, const char *split,
                     struct fidx_hub_files *out, struct fidx_err *err)
{
	struct fidx_hub_source src;
	size_t i;
	int rc;

	out->paths = NULL;
	out->n = 0;
	if ((rc = fidx_hub_folder_open(&src, folder, err)) != 0)
		return rc;
	rc = fidx_hub_choose(&src, config, split, out, err);
	for (i = 0; rc == 0 && i < out->n; i++) {
		char *p = fidx_path_join(src.name, out->paths[i]);
		if (!p) {
			rc = fidx_err_nomem(err);
			fidx_hub_files_free(out);
			break;
		}
		free(out->paths[i]);
		out->paths[i] = p;
	}
	src.close(src.ctx);
	return rc;
}

int fidx_hub_match(const char *pattern, const char *const *paths, size_t n, unsigned char *match,
                   struct fidx_err *err)
{
	struct glob g;
	size_t i;
	if (glob_compile(&g, pattern) != 0)
		return fidx_err_nomem(err);
	for (i = 0; i < n; i++)
		match[i] = (unsigned char)glob_match(&g, paths[i]);
	glob_free(&g);
	return 0;
}

void fidx_hub_files_free(struct fidx_hub_files *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++)
		free(f->paths[i]);
	free(f->paths);
	f->paths = NULL;
	f->n = 0;
}
