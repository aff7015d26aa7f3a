#include "uri.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX FIDX_HF_SCHEME "datasets/"
#define REPO_MAX 96

int fidx_hf_is_uri(const char *s)
{
	return strncmp(s, FIDX_HF_SCHEME, strlen(FIDX_HF_SCHEME)) == 0;
}

int fidx_hf_is_glob(const char *path)
{
	return strpbrk(path, "*?[") != NULL;
}

void fidx_hf_uri_free(struct fidx_hf_uri *u)
{
	free(u->revision);
	free(u->path);
	u->revision = u->path = NULL;
	u->repo[0] = '\0';
}

static int is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* One of OWNER or NAME: [\w.-]+ between word boundaries. */
static int repo_part_ok(const char *s, size_t n)
{
	size_t i;
	if (n == 0 || !is_word(s[0]) || !is_word(s[n - 1]))
		return 0;
	for (i = 0; i < n; i++)
		if (!is_word(s[i]) && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/* "refs/convert/NAME" or "refs/pr/N" at the start of s: its length, or 0. */
static size_t special_ref(const char *s)
{
	size_t n = 0;
	if (strncmp(s, "refs/convert/", 13) == 0) {
		while (is_word(s[13 + n]) || s[13 + n] == '.' || s[13 + n] == '-')
			n++;
		return n ? 13 + n : 0;
	}
	if (strncmp(s, "refs/pr/", 8) == 0) {
		while (s[8 + n] >= '0' && s[8 + n] <= '9')
			n++;
		return n ? 8 + n : 0;
	}
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* s[0..n) percent-decoded as Python's unquote does (a '%' not followed by
 * two hex digits stays as it is), as a new string. */
static char *unquote(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	size_t i;
	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static int has_control(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

static int bad(struct fidx_err *err, const char *s, const char *why)
{
	char q[300];
	fidx_err_quote(q, sizeof q, s, strlen(s));
	return fidx_err_set(err, FIDX_EINPUT, "\"%s\": %s (expected hf://datasets/OWNER/NAME[@REVISION][/PATH])", q, why);
}

int fidx_hf_uri_parse(const char *s, struct fidx_hf_uri *u, struct fidx_err *err)
{
	const char *body, *at, *slash, *rest;
	size_t len, rlen, i;

	memset(u, 0, sizeof *u);
	if (!fidx_hf_is_uri(s))
		return bad(err, s, "not an hf:// URL");
	body = s + strlen(FIDX_HF_SCHEME);
	if (strncmp(body, "datasets/", 9) != 0) {
		const char *why = strncmp(body, "dataset/", 8) == 0 ? "the type is written in the plural: datasets/"
		                  : strncmp(body, "models/", 7) == 0 || strncmp(body, "spaces/", 7) == 0 ||
		                            strncmp(body, "kernels/", 8) == 0 || strncmp(body, "buckets/", 8) == 0
		                          ? "fidx reads datasets, not other kinds of repositories"
		                          : "fidx reads datasets: the URL starts with hf://datasets/";
		return bad(err, s, why);
	}
	body += 9;
	while (*body == '/')
		body++;
	len = strlen(body);
	while (len && body[len - 1] == '/')
		len--;
	if (has_control(body, len))
		return bad(err, s, "a control character");
	/* The '@' counts when at most one '/' comes before it. */
	at = memchr(body, '@', len);
	if (at) {
		size_t slashes = 0;
		for (i = 0; body + i < at; i++)
			slashes += body[i] == '/';
		if (slashes > 1)
			at = NULL;
	}
	slash = memchr(body, '/', len);
	if (!slash || (at && at < slash))
		return bad(err, s, "no repository: give OWNER/NAME");
	{
		const char *name = slash + 1, *end = at ? at : memchr(name, '/', len - (size_t)(name - body));
		if (!end)
			end = body + len;
		rlen = (size_t)(end - body);
		if (!repo_part_ok(body, (size_t)(slash - body)) || !repo_part_ok(name, (size_t)(end - name)) ||
		    (size_t)(slash - body) > REPO_MAX || (size_t)(end - name) > REPO_MAX)
			return bad(err, s, "OWNER and NAME are letters, digits, '-', '_' and '.', at most 96 each, "
			                   "starting and ending with a letter, digit or '_'");
		for (i = 0; i + 1 < rlen; i++)
			if ((body[i] == '-' || body[i] == '.') && body[i + 1] == body[i])
				return bad(err, s, "\"--\" and \"..\" are not allowed in a repository id");
		if (rlen >= 4 && memcmp(end - 4, ".git", 4) == 0)
			return bad(err, s, "a repository id does not end in .git");
		memcpy(u->repo, body, rlen);
		u->repo[rlen] = '\0';
		rest = end;
	}
	if (at) {
		const char *r = at + 1, *rend;
		size_t sp = special_ref(r);
		if (sp && (size_t)(r - body) + sp <= len)
			rend = r + sp;
		else if (!(rend = memchr(r, '/', len - (size_t)(r - body))))
			rend = body + len;
		if (!(u->revision = unquote(r, (size_t)(rend - r))))
			return fidx_err_nomem(err);
		if (!u->revision[0]) {
			fidx_hf_uri_free(u);
			return bad(err, s, "an empty revision after '@'");
		}
		if (has_control(u->revision, strlen(u->revision))) {
			fidx_hf_uri_free(u);
			return bad(err, s, "a control character in the revision");
		}
		rest = rend;
	}
	if (*rest == '/')
		rest++;
	if (rest > body + len)
		rest = body + len;
	{
		size_t plen = (size_t)(body + len - rest);
		const char *c = rest;
		while (c < body + len) {
			size_t cl = 0;
			while (c + cl < body + len && c[cl] != '/')
				cl++;
			if (cl == 0 || (cl == 1 && c[0] == '.') || (cl == 2 && c[0] == '.' && c[1] == '.')) {
				fidx_hf_uri_free(u);
				return bad(err, s, "the path has an empty, \".\" or \"..\" component");
			}
			c += cl + 1;
		}
		if (!(u->path = malloc(plen + 1))) {
			fidx_hf_uri_free(u);
			return fidx_err_nomem(err);
		}
		memcpy(u->path, rest, plen);
		u->path[plen] = '\0';
	}
	return 0;
}

char *fidx_hf_quote(const char *s, int keep_slash)
{
	char *out = malloc(3 * strlen(s) + 1), *o = out;
	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (is_word((char)c) || c == '.' || c == '-' || c == '~' || (c == '/' && keep_slash))
			*o++ = (char)c;
		else
			o += sprintf(o, "%%%02X", c);
	}
	*o = '\0';
	return out;
}

char *fidx_hf_uri_format(const char *repo, const char *revision, const char *path)
{
	size_t rl = revision ? strlen(revision) : 0, need = strlen(PREFIX) + strlen(repo) + 3 * rl + strlen(path) + 4;
	char *out = malloc(need), *o;
	size_t sp = revision ? special_ref(revision) : 0, i;

	if (!out)
		return NULL;
	o = out + snprintf(out, need, "%s%s", PREFIX, repo);
	if (revision) {
		*o++ = '@';
		for (i = 0; i < rl; i++) {
			if ((revision[i] == '/' && !(sp == rl)) || revision[i] == '%')
				o += sprintf(o, "%%%02X", (unsigned char)revision[i]);
			else
				*o++ = revision[i];
		}
	}
	if (*path)
		o += sprintf(o, "/%s", path);
	*o = '\0';
	return out;
}
