#include "wire.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "uri.h"

#define MAX_SIZE 9007199254740992.0 /* 2^53: beyond it a JSON number is not exact */

const char *fidx_hub_etag(const struct fidx_hub_entry *e)
{
	return e->lfs[0] ? e->lfs : e->oid;
}

void fidx_hub_git_blob(struct fidx_sha1 *s, uint64_t size)
{
	char head[32];
	int n = snprintf(head, sizeof head, "blob %llu", (unsigned long long)size);
	fidx_sha1_init(s);
	fidx_sha1_update(s, head, (size_t)n + 1); /* with its NUL */
}

int fidx_hub_is_hex(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

int fidx_hub_path_ok(const char *p, size_t n, const char **why)
{
	size_t i = 0;
	if (n == 0) {
		*why = "an empty path";
		return -1;
	}
	if (n > FIDX_HUB_PATH_MAX) {
		*why = "a path longer than 4096 bytes";
		return -1;
	}
	if (p[0] == '/') {
		*why = "an absolute path";
		return -1;
	}
	while (i < n) {
		size_t c = i;
		while (c < n && p[c] != '/') {
			if ((unsigned char)p[c] < 0x20 || p[c] == 0x7f) {
				*why = "a control character in a path";
				return -1;
			}
			c++;
		}
		if (c == i || (c - i == 1 && p[i] == '.') || (c - i == 2 && p[i] == '.' && p[i + 1] == '.')) {
			*why = "an empty, \".\" or \"..\" component in a path";
			return -1;
		}
		if (c - i > 255) {
			*why = "a path component longer than 255 bytes";
			return -1;
		}
		i = c + 1;
		if (c + 1 == n) {
			*why = "a path ending with '/'";
			return -1;
		}
	}
	return 0;
}

void fidx_hub_tree_free(struct fidx_hub_tree *t)
{
	size_t i;
	for (i = 0; i < t->n; i++)
		free(t->v[i].path);
	free(t->v);
	memset(t, 0, sizeof *t);
}

/* A message about the answer where: what is wrong, and the value (quoted). */
static int bad_answer(struct fidx_err *err, const char *where, const char *what, const char *value)
{
	char q[160];
	if (!value)
		return fidx_err_set(err, FIDX_EAPI, "%s: the Hub's answer is not what fidx expects: %s", where, what);
	fidx_err_quote(q, sizeof q, value, strlen(value));
	return fidx_err_set(err, FIDX_EAPI, "%s: the Hub's answer is not what fidx expects: %s \"%s\"", where, what,
	                    q);
}

static int size_of(const cJSON *v, uint64_t *out)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble >= MAX_SIZE ||
	    v->valuedouble != floor(v->valuedouble))
		return -1;
	*out = (uint64_t)v->valuedouble;
	return 0;
}

/* Adds a file after checking every field; path, oid and lfs are the
 * answer's (lfs NULL for a file in git). */
static int add_file(struct fidx_hub_tree *t, const char *where, const cJSON *path, const cJSON *size,
                    const cJSON *oid, const cJSON *lfs_oid, const cJSON *lfs_size, struct fidx_err *err)
{
	struct fidx_hub_entry *e;
	const char *why;
	uint64_t sz, lsz;

	if (!cJSON_IsString(path))
		return bad_answer(err, where, "a file without a path", NULL);
	if (fidx_hub_path_ok(path->valuestring, strlen(path->valuestring), &why))
		return bad_answer(err, where, why, path->valuestring);
	if (size_of(size, &sz))
		return bad_answer(err, where, "no size, or not a whole number below 2^53, for", path->valuestring);
	if (!cJSON_IsString(oid) || strlen(oid->valuestring) != 40 || !fidx_hub_is_hex(oid->valuestring, 40))
		return bad_answer(err, where, "no git blob id (40 hex digits) for", path->valuestring);
	if (lfs_oid && (!cJSON_IsString(lfs_oid) || strlen(lfs_oid->valuestring) != 64 ||
	                !fidx_hub_is_hex(lfs_oid->valuestring, 64)))
		return bad_answer(err, where, "no LFS SHA-256 (64 hex digits) for", path->valuestring);
	if (lfs_oid && (size_of(lfs_size, &lsz) || lsz != sz))
		return bad_answer(err, where, "an LFS size that is not the file's for", path->valuestring);
	if (t->n >= FIDX_HUB_MAX_FILES)
		return fidx_err_set(err, FIDX_EAPI, "%s: more than %d files listed", where, FIDX_HUB_MAX_FILES);
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct fidx_hub_entry *v = realloc(t->v, cap * sizeof *v);
		if (!v)
			return fidx_err_nomem(err);
		t->v = v;
		t->cap = cap;
	}
	e = &t->v[t->n];
	memset(e, 0, sizeof *e);
	if (!(e->path = strdup(path->valuestring)))
		return fidx_err_nomem(err);
	e->size = sz;
	memcpy(e->oid, oid->valuestring, 41);
	if (lfs_oid)
		memcpy(e->lfs, lfs_oid->valuestring, 65);
	t->n++;
	return 0;
}

int fidx_hub_tree_parse(const char *body, size_t len, const char *where, struct fidx_hub_tree *t,
                        struct fidx_err *err)
{
	cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *item;
	int rc = 0;

	if (!cJSON_IsArray(root)) {
		cJSON_Delete(root);
		return bad_answer(err, where, "not a JSON array of files", NULL);
	}
	cJSON_ArrayForEach(item, root) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type"), *lfs;
		if (!cJSON_IsObject(item) || !cJSON_IsString(type)) {
			rc = bad_answer(err, where, "an entry without a type", NULL);
			break;
		}
		if (strcmp(type->valuestring, "file") != 0)
			continue; /* folders, and what fidx does not know */
		lfs = cJSON_GetObjectItemCaseSensitive(item, "lfs");
		if (lfs && !cJSON_IsNull(lfs) && !cJSON_IsObject(lfs)) {
			rc = bad_answer(err, where, "an lfs field that is not an object", NULL);
			break;
		}
		if (lfs && !cJSON_IsObject(lfs))
			lfs = NULL;
		rc = add_file(t, where, cJSON_GetObjectItemCaseSensitive(item, "path"),
		              cJSON_GetObjectItemCaseSensitive(item, "size"),
		              cJSON_GetObjectItemCaseSensitive(item, "oid"),
		              lfs ? cJSON_GetObjectItemCaseSensitive(lfs, "oid") : NULL,
		              lfs ? cJSON_GetObjectItemCaseSensitive(lfs, "size") : NULL, err);
		if (rc)
			break;
	}
	cJSON_Delete(root);
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct fidx_hub_entry *)a)->path, ((const struct fidx_hub_entry *)b)->path);
}

int fidx_hub_tree_finish(struct fidx_hub_tree *t, const char *where, struct fidx_err *err)
{
	size_t i;
	if (t->n > 1)
		qsort(t->v, t->n, sizeof *t->v, cmp_entry);
	for (i = 1; i < t->n; i++) {
		size_t pl = strlen(t->v[i - 1].path);
		if (strcmp(t->v[i - 1].path, t->v[i].path) == 0)
			return bad_answer(err, where, "a file listed twice:", t->v[i].path);
		/* a/b as a file and as the folder of a/b/c */
		if (strncmp(t->v[i - 1].path, t->v[i].path, pl) == 0 && t->v[i].path[pl] == '/')
			return bad_answer(err, where, "a file that is also a folder:", t->v[i - 1].path);
	}
	return 0;
}

const struct fidx_hub_entry *fidx_hub_tree_find(const struct fidx_hub_tree *t, const char *path)
{
	struct fidx_hub_entry key;
	key.path = (char *)path;
	return t->n ? bsearch(&key, t->v, t->n, sizeof *t->v, cmp_entry) : NULL;
}

int fidx_hub_tree_cache_parse(const char *body, size_t len, const char *where, struct fidx_hub_tree *t,
                              struct fidx_err *err)
{
	cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "format_version");
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(root, "files"), *f;
	int rc = 0;

	memset(t, 0, sizeof *t);
	if (!cJSON_IsObject(root) || !cJSON_IsNumber(version)) {
		cJSON_Delete(root);
		return bad_answer(err, where, "not a tree listing", NULL);
	}
	if (version->valuedouble != 1) {
		cJSON_Delete(root);
		return 0;
	}
	if (!cJSON_IsObject(files)) {
		cJSON_Delete(root);
		return bad_answer(err, where, "no files", NULL);
	}
	cJSON_ArrayForEach(f, files) {
		cJSON path;
		const cJSON *sha = cJSON_GetObjectItemCaseSensitive(f, "lfs_sha256");
		memset(&path, 0, sizeof path);
		path.type = cJSON_String;
		path.valuestring = f->string;
		if (!cJSON_IsObject(f)) {
			rc = bad_answer(err, where, "a file that is not an object:", f->string);
			break;
		}
		if ((rc = add_file(t, where, &path, cJSON_GetObjectItemCaseSensitive(f, "size"),
		                   cJSON_GetObjectItemCaseSensitive(f, "blob_id"), cJSON_IsNull(sha) ? NULL : sha,
		                   cJSON_GetObjectItemCaseSensitive(f, "lfs_size"), err)) != 0)
			break;
	}
	cJSON_Delete(root);
	if (rc == 0)
		rc = fidx_hub_tree_finish(t, where, err);
	if (rc)
		fidx_hub_tree_free(t);
	return rc ? rc : 1;
}

char *fidx_hub_tree_cache_format(const struct fidx_hub_tree *t)
{
	cJSON *root = cJSON_CreateObject(), *files = cJSON_CreateObject();
	char *out = NULL;
	size_t i;
	int ok = root && files && cJSON_AddNumberToObject(root, "format_version", 1) != NULL &&
	         cJSON_AddItemToObject(root, "files", files);

	if (!ok)
		cJSON_Delete(files);
	else
		files = NULL;
	for (i = 0; ok && i < t->n; i++) {
		const struct fidx_hub_entry *e = &t->v[i];
		cJSON *f = cJSON_CreateObject();
		ok = f && cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(root, "files"), e->path, f);
		if (!ok) {
			cJSON_Delete(f);
			break;
		}
		ok = cJSON_AddNumberToObject(f, "size", (double)e->size) && cJSON_AddStringToObject(f, "blob_id", e->oid);
		if (ok && e->lfs[0])
			ok = cJSON_AddStringToObject(f, "lfs_sha256", e->lfs) &&
			     cJSON_AddNumberToObject(f, "lfs_size", (double)e->size);
	}
	if (ok)
		out = cJSON_Print(root);
	cJSON_Delete(root);
	return out;
}

int fidx_hub_info_parse(const char *body, size_t len, const char *where, char sha[41], struct fidx_err *err)
{
	cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "sha");
	int rc = 0;
	if (!cJSON_IsObject(root))
		rc = bad_answer(err, where, "not a JSON object", NULL);
	else if (!cJSON_IsString(s) || strlen(s->valuestring) != 40 || !fidx_hub_is_hex(s->valuestring, 40))
		rc = bad_answer(err, where, "no commit (sha: 40 hex digits)", cJSON_IsString(s) ? s->valuestring : NULL);
	else
		memcpy(sha, s->valuestring, 41);
	cJSON_Delete(root);
	return rc;
}

int fidx_hub_link_next(const char *link, char **url, struct fidx_err *err)
{
	const char *p = link;
	*url = NULL;
	/* link-value = "<" URI ">" *( ";" param ), link-values separated by ','. */
	while ((p = strchr(p, '<')) != NULL) {
		const char *end = strchr(p, '>'), *params, *next;
		int is_next = 0;
		if (!end)
			return 0;
		params = end + 1;
		next = strchr(params, '<');
		{
			const char *q = params;
			while ((q = strstr(q, "rel")) != NULL && (!next || q < next)) {
				const char *v = q + 3;
				while (*v == ' ')
					v++;
				if (*v == '=') {
					v++;
					while (*v == ' ')
						v++;
					if (*v == '"')
						v++;
					/* rel may hold several space-separated types */
					while (*v && *v != '"' && *v != ';' && *v != ',') {
						size_t w = strcspn(v, " \";,");
						if (w == 4 && strncmp(v, "next", 4) == 0)
							is_next = 1;
						v += w;
						while (*v == ' ')
							v++;
					}
				}
				q += 3;
			}
		}
		if (is_next) {
			size_t n = (size_t)(end - p - 1);
			if (!(*url = malloc(n + 1)))
				return fidx_err_nomem(err);
			memcpy(*url, p + 1, n);
			(*url)[n] = '\0';
			return 1;
		}
		p = end + 1;
	}
	return 0;
}

/* The Hub's own words: X-Error-Message, else the body's "error" (a string,
 * or the first of a list), else its "errors"[0].message; control
 * characters replaced, cut. */
static void hub_words(const struct fidx_hub_answer *a, char *out, size_t cap)
{
	cJSON *root = NULL;
	const char *msg = a->error_message && *a->error_message ? a->error_message : NULL;
	size_t i;

	out[0] = '\0';
	if (!msg && a->body && a->len) {
		const cJSON *e, *es;
		root = cJSON_ParseWithLength(a->body, a->len);
		e = cJSON_GetObjectItemCaseSensitive(root, "error");
		es = cJSON_GetObjectItemCaseSensitive(root, "errors");
		if (cJSON_IsArray(e))
			e = cJSON_GetArrayItem(e, 0);
		if (cJSON_IsArray(es))
			es = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(es, 0), "message");
		msg = cJSON_IsString(e) ? e->valuestring : cJSON_IsString(es) ? es->valuestring : NULL;
	}
	if (msg) {
		snprintf(out, cap, "%s", msg);
		for (i = 0; out[i]; i++)
			if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
				out[i] = ' ';
		if (strlen(out) > 200)
			strcpy(out + 197, "...");
	}
	cJSON_Delete(root);
}

int fidx_hub_error(const struct fidx_hub_answer *a, const struct fidx_hub_about *w, struct fidx_err *err)
{
	const char *code = a->error_code ? a->error_code : "";
	char words[256], said[300], *what;
	int rc;

	hub_words(a, words, sizeof words);
	if (words[0])
		snprintf(said, sizeof said, " (the Hub says: %s)", words);
	else
		snprintf(said, sizeof said, " (HTTP %ld)", a->status);
	what = fidx_hf_uri_format(w->repo, w->revision, w->path ? w->path : "");
	if (!what)
		return fidx_err_nomem(err);
	if (strcmp(code, "RevisionNotFound") == 0)
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: the dataset has no revision \"%s\"%s", what,
		                  w->revision ? w->revision : "main", said);
	else if (strcmp(code, "EntryNotFound") == 0)
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: no such file or folder in the dataset%s", what, said);
	else if (strcmp(code, "GatedRepo") == 0)
		rc = fidx_err_set(err, FIDX_EDENIED,
		                  w->token ? "%s: the dataset is gated and your token's account has no access to it yet: "
		                             "ask for it on %s/datasets/%s%s"
		                           : "%s: the dataset is gated: ask for access on %s/datasets/%s, then set HF_TOKEN "
		                             "(or log in) with a token of that account%s",
		                  what, w->endpoint, w->repo, said);
	else if (a->error_message && strcmp(a->error_message, "Access to this resource is disabled.") == 0)
		rc = fidx_err_set(err, FIDX_EDENIED, "%s: the dataset is disabled on the Hub%s", what, said);
	else if (a->status == 401 && strstr(words, "Invalid credentials in Authorization header"))
		rc = fidx_err_set(err, FIDX_EDENIED,
		                  "%s: the Hub refuses the token (from HF_TOKEN or the Hugging Face token file): it is "
		                  "invalid or expired; make a new one, or unset it for public datasets%s",
		                  what, said);
	else if (strcmp(code, "RepoNotFound") == 0 || a->status == 401)
		rc = w->token && a->status != 401
		             ? fidx_err_set(err, FIDX_EINPUT,
		                            "%s: no such dataset on %s, or it is private and your token cannot read it%s",
		                            what, w->endpoint, said)
		             : fidx_err_set(err, FIDX_EDENIED,
		                            "%s: no such dataset on %s, or it is private or gated and needs a token: set "
		                            "HF_TOKEN (or log in) if you may read it%s",
		                            what, w->endpoint, said);
	else if (a->status == 403)
		rc = fidx_err_set(err, FIDX_EDENIED, "%s: the Hub refuses access%s", what, said);
	else if (a->status == 429)
		rc = a->retry_after >= 0
		             ? fidx_err_set(err, FIDX_EAPI,
		                            "%s: rate limited by the Hub, still after the retries: try again in %.0f s, "
		                            "or with a token (HF_TOKEN), which has a higher limit%s",
		                            what, a->retry_after, said)
		             : fidx_err_set(err, FIDX_EAPI,
		                            "%s: rate limited by the Hub, still after the retries: try again later, or "
		                            "with a token (HF_TOKEN), which has a higher limit%s",
		                            what, said);
	else if (a->status == 404)
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: not found on the Hub%s", what, said);
	else if (a->status >= 500)
		rc = fidx_err_set(err, FIDX_EAPI, "%s: the Hub failed%s; try again later", what, said);
	else
		rc = fidx_err_set(err, FIDX_EAPI, "%s: the Hub answered HTTP %ld%s", what, a->status,
		                  words[0] ? said : "");
	free(what);
	return rc;
}
