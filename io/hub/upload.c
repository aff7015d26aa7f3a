#include "upload.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "remote.h"
#include "sha256.h"
#include "uri.h"
#include "wire.h"

static const struct fidx_http_retry retry = {5, 300};
static const char *const json_headers[] = {"Content-Type: application/json", NULL};
static const char *const lfs_headers[] = {"Accept: application/vnd.git-lfs+json",
                                          "Content-Type: application/vnd.git-lfs+json", NULL};

/* One file on its way: what the Hub is told and what it says. */
struct item {
	const struct fidx_hub_file *f;
	char sha256[65], oid[41];
	int lfs, skip;
};

struct up {
	const struct fidx_hub_commit_opts *o;
	struct fidx_http *http;
	const char *endpoint;
	char *rev;  /* the branch, percent-encoded */
	struct fidx_hub_commit_result *res;
};

#define logf_(u, ...) fidx_logf((u)->o->log, (u)->o->ctx, __VA_ARGS__)

static char *b64(const unsigned char *p, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;
	size_t i;
	if (!out)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		*o++ = a[p[i] >> 2];
		*o++ = a[(p[i] & 3) << 4 | p[i + 1] >> 4];
		*o++ = a[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
		*o++ = a[p[i + 2] & 63];
	}
	if (i < n) {
		*o++ = a[p[i] >> 2];
		*o++ = a[(p[i] & 3) << 4 | (i + 1 < n ? p[i + 1] >> 4 : 0)];
		*o++ = i + 1 < n ? a[(p[i + 1] & 15) << 2] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* What a request was about, for the Hub's errors. */
static struct fidx_hub_about about(const struct up *u, const char *path)
{
	struct fidx_hub_about a;
	a.endpoint = u->endpoint;
	a.repo = u->o->repo;
	a.revision = u->o->branch;
	a.path = path;
	a.token = 1;
	return a;
}

static int hub_error(const struct up *u, const struct fidx_http_resp *resp, const char *path, struct fidx_err *err)
{
	struct fidx_hub_about a = about(u, path);
	return fidx_hub_answer_error(resp, &a, err);
}

/* One request: body (may be NULL), token only to the endpoint's origin.
 * 0 with resp filled for any answer; the caller frees resp. */
static int send_req(struct up *u, const char *method, const char *url, const char *const *headers, const void *body,
                    size_t len, int retried, struct fidx_http_resp *resp, struct fidx_err *err)
{
	struct fidx_http_req req;
	memset(&req, 0, sizeof req);
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.body = body;
	req.body_len = len;
	req.timeout = -1; /* bodies of any size: a stall limit only */
	req.token = fidx_http_same_origin(url, u->endpoint) ? u->o->token : NULL;
	req.redirects = FIDX_HTTP_NO_REDIRECTS;
	req.once = !retried;
	return fidx_http_do(u->http, &req, retried ? &retry : NULL, resp, err);
}

/* POSTs a JSON object to url and parses the 200 answer's JSON into *out
 * (NULL: not needed). ok2 is another status taken as success (0: none). */
static int post_json(struct up *u, const char *url, const char *const *headers, cJSON *body, long ok2,
                     long *status, cJSON **out, struct fidx_err *err)
{
	struct fidx_http_resp resp;
	char *text = cJSON_PrintUnformatted(body);
	int rc;
	if (out)
		*out = NULL;
	if (!text)
		return fidx_err_nomem(err);
	rc = send_req(u, "POST", url, headers, text, strlen(text), 1, &resp, err);
	free(text);
	if (rc == 0 && status)
		*status = resp.status;
	if (rc == 0 && resp.status != 200 && resp.status != ok2)
		rc = hub_error(u, &resp, NULL, err);
	if (rc == 0 && out && resp.status == 200 &&
	    !(*out = resp.body ? cJSON_ParseWithLength(resp.body, resp.len) : NULL))
		rc = fidx_err_set(err, FIDX_EAPI, "%s: the Hub's answer is not JSON", url);
	fidx_http_resp_free(&resp);
	return rc;
}

static char *url_of(struct up *u, const char *fmt, const char *a, const char *b)
{
	size_t need = strlen(u->endpoint) + strlen(fmt) + strlen(a) + (b ? strlen(b) : 0) + 1;
	char *s = malloc(need), *t;
	if (!s)
		return NULL;
	t = s + sprintf(s, "%s", u->endpoint);
	sprintf(t, fmt, a, b);
	return s;
}

static int create_repo(struct up *u, struct fidx_err *err)
{
	const char *slash = strchr(u->o->repo, '/');
	char owner[200], *url = url_of(u, "/api/repos/create%s", "", NULL);
	cJSON *body = cJSON_CreateObject();
	long status = 0;
	int rc;

	snprintf(owner, sizeof owner, "%.*s", (int)(slash - u->o->repo), u->o->repo);
	if (!url || !body || !cJSON_AddStringToObject(body, "name", slash + 1) ||
	    !cJSON_AddStringToObject(body, "organization", owner) || !cJSON_AddStringToObject(body, "type", "dataset") ||
	    !cJSON_AddBoolToObject(body, "private", u->o->private)) {
		free(url);
		cJSON_Delete(body);
		return fidx_err_nomem(err);
	}
	rc = post_json(u, url, json_headers, body, 409, &status, NULL, err);
	if (rc == FIDX_EDENIED && status == 403)
		rc = 0; /* a token that may write, not create: the repository may be there (step 2 tells) */
	else if (rc == 0 && status == 200)
		u->res->created = 1;
	free(url);
	cJSON_Delete(body);
	return rc;
}

static int parent_commit(struct up *u, char sha[41], struct fidx_err *err)
{
	char *url = url_of(u, "/api/datasets/%s/revision/%s", u->o->repo, u->rev);
	struct fidx_http_resp resp;
	int rc;
	if (!url)
		return fidx_err_nomem(err);
	rc = send_req(u, NULL, url, NULL, NULL, 0, 1, &resp, err);
	if (rc == 0 && resp.status != 200) {
		rc = hub_error(u, &resp, NULL, err);
		if (rc == FIDX_EINPUT && resp.status == 404 && strstr(err->msg, "no revision"))
			fidx_err_set(err, FIDX_EINPUT, "hf://datasets/%s: no branch \"%s\" to publish to: make it on the Hub first",
			             u->o->repo, u->o->branch ? u->o->branch : "main");
	}
	if (rc == 0)
		rc = fidx_hub_info_parse(resp.body, resp.len, url, sha, err);
	fidx_http_resp_free(&resp);
	free(url);
	return rc;
}

static int preupload(struct up *u, struct item *it, size_t n, struct fidx_err *err)
{
	char *url = url_of(u, "/api/datasets/%s/preupload/%s", u->o->repo, u->rev);
	cJSON *body = cJSON_CreateObject(), *files = body ? cJSON_AddArrayToObject(body, "files") : NULL, *ans = NULL, *f;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		char *sample = b64(it[i].f->data, it[i].f->size < 512 ? (size_t)it[i].f->size : 512);
		if (!o || !sample || !cJSON_AddItemToArray(files, o) || !cJSON_AddStringToObject(o, "path", it[i].f->path) ||
		    !cJSON_AddStringToObject(o, "sample", sample) || !cJSON_AddNumberToObject(o, "size", (double)it[i].f->size))
			rc = fidx_err_nomem(err);
		free(sample);
	}
	if (!url || !files)
		rc = fidx_err_nomem(err);
	if (rc == 0)
		rc = post_json(u, url, json_headers, body, 0, NULL, &ans, err);
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(ans, "files")) {
		const cJSON *path = cJSON_GetObjectItemCaseSensitive(f, "path");
		const cJSON *mode = cJSON_GetObjectItemCaseSensitive(f, "uploadMode");
		const cJSON *oid = cJSON_GetObjectItemCaseSensitive(f, "oid");
		for (i = 0; cJSON_IsString(path) && i < n; i++)
			if (strcmp(it[i].f->path, path->valuestring) == 0)
				break;
		if (!cJSON_IsString(path) || i == n || !cJSON_IsString(mode) ||
		    (strcmp(mode->valuestring, "lfs") != 0 && strcmp(mode->valuestring, "regular") != 0)) {
			rc = fidx_err_set(err, FIDX_EAPI, "%s: the Hub's answer is not what fidx expects: a file without a "
			                                  "path it asked about or an upload mode", url);
			break;
		}
		/* An empty file goes in the commit itself: S3 takes no empty upload. */
		it[i].lfs = strcmp(mode->valuestring, "lfs") == 0 && it[i].f->size > 0;
		it[i].skip = cJSON_IsString(oid) && strcmp(oid->valuestring, it[i].lfs ? it[i].sha256 : it[i].oid) == 0;
		if (it[i].skip)
			logf_(u, "%s: unchanged on the Hub, left out of the commit", it[i].f->path);
	}
	if (rc == 0 && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(ans, "files")))
		rc = fidx_err_set(err, FIDX_EAPI, "%s: the Hub's answer is not what fidx expects: no files", url);
	cJSON_Delete(body);
	cJSON_Delete(ans);
	free(url);
	return rc;
}

/* PUTs bytes to a signed URL (no token); the answer's ETag into etag. */
static int put(struct up *u, const char *href, const void *p, size_t n, const char *what, char *etag, size_t cap,
               struct fidx_err *err)
{
	struct fidx_http_resp resp;
	int rc = send_req(u, "PUT", href, NULL, p, n, 1, &resp, err);
	if (rc == 0 && (resp.status < 200 || resp.status > 299)) {
		char words[200];
		snprintf(words, sizeof words, "%.*s", resp.body ? (int)(resp.len < 150 ? resp.len : 150) : 0,
		         resp.body ? resp.body : "");
		for (char *c = words; *c; c++)
			if ((unsigned char)*c < 0x20)
				*c = ' ';
		rc = fidx_err_set(err, FIDX_EAPI, "%s: the LFS upload failed: HTTP %ld%s%s", what, resp.status,
		                  words[0] ? ": " : "", words);
	}
	if (rc == 0) {
		u->res->bytes += n;
		if (etag && fidx_http_header(&resp, -1, "ETag", etag, cap) <= 0)
			rc = fidx_err_set(err, FIDX_EAPI, "%s: the LFS upload of a part gave no ETag", what);
	}
	fidx_http_resp_free(&resp);
	return rc;
}

/* Uploads one LFS object as the batch answer's object o says. */
static int upload_object(struct up *u, const struct item *it, const cJSON *o, struct fidx_err *err)
{
	const cJSON *actions = cJSON_GetObjectItemCaseSensitive(o, "actions");
	const cJSON *upload = cJSON_GetObjectItemCaseSensitive(actions, "upload");
	const cJSON *verify = cJSON_GetObjectItemCaseSensitive(actions, "verify");
	const cJSON *href = cJSON_GetObjectItemCaseSensitive(upload, "href");
	const cJSON *header = cJSON_GetObjectItemCaseSensitive(upload, "header");
	const cJSON *chunk = cJSON_GetObjectItemCaseSensitive(header, "chunk_size");
	const char *what = it->f->path;
	int rc = 0;

	if (!upload) {
		logf_(u, "%s: the Hub has its content already", what);
		return 0;
	}
	if (!cJSON_IsString(href))
		return fidx_err_set(err, FIDX_EAPI, "%s: the LFS batch answer has no upload URL", what);
	logf_(u, "%s: uploading %llu bytes to LFS", what, (unsigned long long)it->f->size);
	if (chunk) {
		/* Multipart: parts "00001"... of chunk_size bytes, then completion. */
		double cs = cJSON_IsString(chunk) ? atof(chunk->valuestring) : cJSON_IsNumber(chunk) ? chunk->valuedouble : 0;
		uint64_t size = it->f->size, parts, i;
		cJSON *body = NULL, *list = NULL;
		if (!(cs >= 1 && cs < 1e15))
			return fidx_err_set(err, FIDX_EAPI, "%s: the LFS batch answer has a bad chunk_size", what);
		parts = (size + (uint64_t)cs - 1) / (uint64_t)cs;
		if (!(body = cJSON_CreateObject()) || !cJSON_AddStringToObject(body, "oid", it->sha256) ||
		    !(list = cJSON_AddArrayToObject(body, "parts")))
			rc = fidx_err_nomem(err);
		for (i = 0; rc == 0 && i < parts; i++) {
			char key[24], etag[256];
			const cJSON *purl;
			cJSON *part;
			uint64_t off = i * (uint64_t)cs, len = size - off < (uint64_t)cs ? size - off : (uint64_t)cs;
			snprintf(key, sizeof key, "%05llu", (unsigned long long)(i + 1));
			purl = cJSON_GetObjectItemCaseSensitive(header, key);
			if (!cJSON_IsString(purl)) {
				rc = fidx_err_set(err, FIDX_EAPI, "%s: the LFS batch answer has no URL for part %s of %llu", what,
				                  key, (unsigned long long)parts);
				break;
			}
			if ((rc = put(u, purl->valuestring, (const char *)it->f->data + off, (size_t)len, what, etag, sizeof etag,
			              err)) != 0)
				break;
			if (!(part = cJSON_CreateObject()) || !cJSON_AddItemToArray(list, part) ||
			    !cJSON_AddNumberToObject(part, "partNumber", (double)(i + 1)) ||
			    !cJSON_AddStringToObject(part, "etag", etag))
				rc = fidx_err_nomem(err);
		}
		if (rc == 0)
			rc = post_json(u, href->valuestring, lfs_headers, body, 0, NULL, NULL, err);
		cJSON_Delete(body);
	} else {
		rc = put(u, href->valuestring, it->f->data, (size_t)it->f->size, what, NULL, 0, err);
	}
	if (rc == 0 && verify) {
		const cJSON *vhref = cJSON_GetObjectItemCaseSensitive(verify, "href");
		cJSON *body = cJSON_CreateObject();
		if (!cJSON_IsString(vhref))
			rc = fidx_err_set(err, FIDX_EAPI, "%s: the LFS batch answer has a verify action without a URL", what);
		else if (!body || !cJSON_AddStringToObject(body, "oid", it->sha256) ||
		         !cJSON_AddNumberToObject(body, "size", (double)it->f->size))
			rc = fidx_err_nomem(err);
		else
			rc = post_json(u, vhref->valuestring, lfs_headers, body, 0, NULL, NULL, err);
		cJSON_Delete(body);
	}
	if (rc == 0)
		u->res->uploaded++;
	return rc;
}

static int upload_lfs(struct up *u, struct item *it, size_t n, struct fidx_err *err)
{
	char *url = url_of(u, "/datasets/%s.git/info/lfs/objects/batch", u->o->repo, NULL);
	cJSON *body = cJSON_CreateObject(), *objs = NULL, *ans = NULL, *o, *transfers, *ref;
	size_t i, count = 0;
	int rc = 0;

	if (!url || !body || !(transfers = cJSON_AddArrayToObject(body, "transfers")) ||
	    !cJSON_AddItemToArray(transfers, cJSON_CreateString("basic")) ||
	    !cJSON_AddItemToArray(transfers, cJSON_CreateString("multipart")) ||
	    !cJSON_AddStringToObject(body, "operation", "upload") || !(objs = cJSON_AddArrayToObject(body, "objects")) ||
	    !cJSON_AddStringToObject(body, "hash_algo", "sha256") || !(ref = cJSON_AddObjectToObject(body, "ref")) ||
	    !cJSON_AddStringToObject(ref, "name", u->o->branch ? u->o->branch : "main"))
		rc = fidx_err_nomem(err);
	for (i = 0; rc == 0 && i < n; i++) {
		cJSON *obj;
		if (!it[i].lfs || it[i].skip)
			continue;
		if (!(obj = cJSON_CreateObject()) || !cJSON_AddItemToArray(objs, obj) ||
		    !cJSON_AddStringToObject(obj, "oid", it[i].sha256) || !cJSON_AddNumberToObject(obj, "size", (double)it[i].f->size))
			rc = fidx_err_nomem(err);
		count++;
	}
	if (rc == 0 && count)
		rc = post_json(u, url, lfs_headers, body, 0, NULL, &ans, err);
	if (rc == 0 && count && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(ans, "objects")))
		rc = fidx_err_set(err, FIDX_EAPI, "%s: the Hub's answer is not what fidx expects: no objects", url);
	for (i = 0; rc == 0 && i < n; i++) {
		const cJSON *e;
		if (!it[i].lfs || it[i].skip)
			continue;
		for (o = cJSON_GetObjectItemCaseSensitive(ans, "objects")->child; o; o = o->next) {
			const cJSON *oid = cJSON_GetObjectItemCaseSensitive(o, "oid");
			if (cJSON_IsString(oid) && strcmp(oid->valuestring, it[i].sha256) == 0)
				break;
		}
		if (!o) {
			rc = fidx_err_set(err, FIDX_EAPI, "%s: the LFS batch answer says nothing of %s", it[i].f->path,
			                  it[i].sha256);
			break;
		}
		if ((e = cJSON_GetObjectItemCaseSensitive(o, "error")) != NULL) {
			const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
			rc = fidx_err_set(err, FIDX_EAPI, "%s: the Hub refuses the LFS upload: %s", it[i].f->path,
			                  cJSON_IsString(m) ? m->valuestring : "no reason given");
			break;
		}
		rc = upload_object(u, &it[i], o, err);
	}
	cJSON_Delete(body);
	cJSON_Delete(ans);
	free(url);
	return rc;
}

/* Appends a JSON line to the NDJSON body. */
static int ndjson_add(char **buf, size_t *len, cJSON *line)
{
	char *s = cJSON_PrintUnformatted(line), *nb;
	size_t n;
	cJSON_Delete(line);
	if (!s)
		return -1;
	n = strlen(s);
	if (!(nb = realloc(*buf, *len + n + 2))) {
		free(s);
		return -1;
	}
	memcpy(nb + *len, s, n);
	nb[*len + n] = '\n';
	nb[*len + n + 1] = '\0';
	*buf = nb;
	*len += n + 1;
	free(s);
	return 0;
}

static cJSON *keyed(const char *key, cJSON **value)
{
	cJSON *line = cJSON_CreateObject();
	if (!line || !cJSON_AddStringToObject(line, "key", key) || !(*value = cJSON_AddObjectToObject(line, "value"))) {
		cJSON_Delete(line);
		return NULL;
	}
	return line;
}

static int commit(struct up *u, const struct item *it, size_t n, const char *parent, struct fidx_err *err)
{
	char *url = url_of(u, "/api/datasets/%s/commit/%s", u->o->repo, u->rev), *body = NULL;
	static const char *const headers[] = {"Content-Type: application/x-ndjson", NULL};
	struct fidx_http_resp resp;
	size_t len = 0, i;
	cJSON *v, *line = keyed("header", &v), *ans = NULL;
	int ok = url && line && cJSON_AddStringToObject(v, "summary", u->o->summary) &&
	         cJSON_AddStringToObject(v, "description", u->o->description ? u->o->description : "") &&
	         cJSON_AddStringToObject(v, "parentCommit", parent) && ndjson_add(&body, &len, line) == 0;
	int rc;

	for (i = 0; ok && i < n; i++) {
		if (it[i].skip)
			continue;
		if (it[i].lfs) {
			ok = (line = keyed("lfsFile", &v)) && cJSON_AddStringToObject(v, "path", it[i].f->path) &&
			     cJSON_AddStringToObject(v, "algo", "sha256") && cJSON_AddStringToObject(v, "oid", it[i].sha256) &&
			     cJSON_AddNumberToObject(v, "size", (double)it[i].f->size) && ndjson_add(&body, &len, line) == 0;
		} else {
			char *content = b64(it[i].f->data, (size_t)it[i].f->size);
			ok = content && (line = keyed("file", &v)) && cJSON_AddStringToObject(v, "content", content) &&
			     cJSON_AddStringToObject(v, "path", it[i].f->path) &&
			     cJSON_AddStringToObject(v, "encoding", "base64") && ndjson_add(&body, &len, line) == 0;
			free(content);
			if (ok)
				u->res->uploaded++;
		}
	}
	if (!ok) {
		free(url);
		free(body);
		return fidx_err_nomem(err);
	}
	/* Once: a retry after a lost answer could make the commit twice. */
	rc = send_req(u, "POST", url, headers, body, len, 0, &resp, err);
	if (rc)
		fidx_err_prefix(err,
		                "hf://datasets/%s: the commit request failed, and whether it was made is not known: look "
		                "at %s/datasets/%s/commits/%s before publishing again (what is there already is not "
		                "sent again)",
		                u->o->repo, u->endpoint, u->o->repo, u->rev);
	else if (resp.status == 412 || resp.status == 409)
		rc = fidx_err_set(err, FIDX_EAPI,
		                  "hf://datasets/%s: the branch moved while fidx was publishing (HTTP %ld): publish again",
		                  u->o->repo, resp.status);
	else if (resp.status != 200)
		rc = hub_error(u, &resp, NULL, err);
	else if (!(ans = resp.body ? cJSON_ParseWithLength(resp.body, resp.len) : NULL))
		rc = fidx_err_set(err, FIDX_EAPI, "%s: the Hub's answer is not JSON", url);
	if (rc == 0) {
		const cJSON *oid = cJSON_GetObjectItemCaseSensitive(ans, "commitOid");
		const cJSON *curl = cJSON_GetObjectItemCaseSensitive(ans, "commitUrl");
		if (!cJSON_IsString(oid) || strlen(oid->valuestring) != 40 || !fidx_hub_is_hex(oid->valuestring, 40))
			rc = fidx_err_set(err, FIDX_EAPI, "%s: the Hub's answer has no commitOid", url);
		else {
			memcpy(u->res->commit, oid->valuestring, 41);
			if (cJSON_IsString(curl))
				snprintf(u->res->url, sizeof u->res->url, "%s", curl->valuestring);
			else
				snprintf(u->res->url, sizeof u->res->url, "%s/datasets/%s/commit/%s", u->endpoint, u->o->repo,
				         u->res->commit);
		}
	}
	fidx_http_resp_free(&resp);
	cJSON_Delete(ans);
	free(url);
	free(body);
	return rc;
}

int fidx_hub_commit_files(const struct fidx_hub_commit_opts *o, const struct fidx_hub_file *files, size_t n,
                          struct fidx_hub_commit_result *res, struct fidx_err *err)
{
	struct up u;
	struct item *it = calloc(n ? n : 1, sizeof *it);
	char parent[41], *ep = NULL;
	const char *env = getenv("HF_ENDPOINT");
	size_t i, todo = 0;
	int rc = 0;

	memset(res, 0, sizeof *res);
	memset(&u, 0, sizeof u);
	u.o = o;
	u.res = res;
	if (!it)
		return fidx_err_nomem(err);
	if (!o->token) {
		free(it);
		return fidx_err_set(err, FIDX_EDENIED, "publishing needs a token");
	}
	if (!(ep = strdup(o->endpoint ? o->endpoint : env && *env ? env : FIDX_HUB_ENDPOINT)) ||
	    !(u.rev = fidx_hf_quote(o->branch ? o->branch : "main", 0))) {
		free(it);
		free(ep);
		return fidx_err_nomem(err);
	}
	for (i = strlen(ep); i && ep[i - 1] == '/'; i--)
		ep[i - 1] = '\0';
	u.endpoint = ep;
	for (i = 0; i < n; i++) {
		struct fidx_sha256 s;
		struct fidx_sha1 g;
		unsigned char d[32];
		it[i].f = &files[i];
		fidx_sha256_init(&s);
		fidx_sha256_update(&s, files[i].data, (size_t)files[i].size);
		fidx_sha256_final(&s, d);
		fidx_sha256_hex(d, it[i].sha256);
		fidx_hub_git_blob(&g, files[i].size);
		fidx_sha1_update(&g, files[i].data, (size_t)files[i].size);
		fidx_sha1_final(&g, d);
		fidx_sha1_hex(d, it[i].oid);
	}
	if ((rc = fidx_http_open(&u.http, NULL, err)) == 0 && (rc = create_repo(&u, err)) == 0 &&
	    (rc = parent_commit(&u, parent, err)) == 0 && (rc = preupload(&u, it, n, err)) == 0) {
		for (i = 0; i < n; i++)
			todo += !it[i].skip;
		if (!todo) {
			memcpy(res->commit, parent, 41);
			logf_(&u, "nothing to commit: the dataset holds these files already");
		} else if ((rc = upload_lfs(&u, it, n, err)) == 0) {
			rc = commit(&u, it, n, parent, err);
		}
	}
	if (u.http)
		res->requests = fidx_http_requests(u.http);
	fidx_http_close(u.http);
	free(u.rev);
	free(ep);
	free(it);
	return rc;
}
