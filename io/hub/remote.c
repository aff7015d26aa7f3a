#include "remote.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "http.h"
#include "outfile.h"
#include "sha256.h"
#include "uri.h"

#define API_BODY_MAX (64u << 20) /* a JSON answer kept in memory */
#define MAX_PAGES 100000

/* The files of a repository at a commit, and its cache. */
struct repo {
	char name[200];
	char commit[41];
	struct fidx_hub_cache cache;
	struct fidx_hub_tree tree;
	int listed;
	struct repo *next;
};

struct fidx_hub {
	struct fidx_hub_opts o;
	char *endpoint;
	char *token;
	int offline;
	struct fidx_http *http; /* opened on the first request */
	struct repo *repos;
	struct fidx_hub_stats st;
};

static const struct fidx_http_retry retry = {5, 300};

int fidx_hub_offline_env(void)
{
	const char *v = getenv("HF_HUB_OFFLINE");
	if (!v || !*v)
		v = getenv("TRANSFORMERS_OFFLINE");
	return v && (strcasecmp(v, "1") == 0 || strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0 ||
	             strcasecmp(v, "true") == 0);
}

#define logf_(h, ...) fidx_logf((h)->o.log, (h)->o.ctx, __VA_ARGS__)

int fidx_hub_open(struct fidx_hub **out, const struct fidx_hub_opts *o, struct fidx_err *err)
{
	struct fidx_hub *h = calloc(1, sizeof *h);
	const char *ep;
	size_t n;

	*out = NULL;
	if (!h)
		return fidx_err_nomem(err);
	if (o)
		h->o = *o;
	ep = h->o.endpoint ? h->o.endpoint : getenv("HF_ENDPOINT");
	if (!ep || !*ep)
		ep = FIDX_HUB_ENDPOINT;
	h->offline = h->o.offline ? h->o.offline > 0 : fidx_hub_offline_env();
	if (!(h->endpoint = strdup(ep)) || (h->o.token && !(h->token = strdup(h->o.token)))) {
		fidx_hub_close(h);
		return fidx_err_nomem(err);
	}
	h->o.token = NULL;
	n = strlen(h->endpoint);
	while (n && h->endpoint[n - 1] == '/')
		h->endpoint[--n] = '\0';
	if (strncmp(h->endpoint, "http://", 7) != 0 && strncmp(h->endpoint, "https://", 8) != 0) {
		fidx_err_set(err, FIDX_EINPUT, "HF_ENDPOINT \"%s\": not an http:// or https:// URL", h->endpoint);
		fidx_hub_close(h);
		return FIDX_EINPUT;
	}
	*out = h;
	return 0;
}

void fidx_hub_close(struct fidx_hub *h)
{
	if (!h)
		return;
	while (h->repos) {
		struct repo *r = h->repos;
		h->repos = r->next;
		fidx_hub_cache_close(&r->cache);
		fidx_hub_tree_free(&r->tree);
		free(r);
	}
	if (h->http)
		fidx_http_close(h->http);
	if (h->token) {
		explicit_bzero(h->token, strlen(h->token));
		free(h->token);
	}
	free(h->endpoint);
	free(h);
}

int fidx_hub_is_offline(const struct fidx_hub *h)
{
	return h->offline;
}

const char *fidx_hub_endpoint(const struct fidx_hub *h)
{
	return h->endpoint;
}

struct fidx_hub_stats fidx_hub_stats(const struct fidx_hub *h)
{
	struct fidx_hub_stats s = h->st;
	s.requests = h->http ? fidx_http_requests(h->http) : 0;
	return s;
}

static void on_http_log(void *ctx, const char *line)
{
	struct fidx_hub *h = ctx;
	if (h->o.log)
		h->o.log(h->o.ctx, line);
}

/* The HTTP client, opened on the first request; never offline. */
static int http_of(struct fidx_hub *h, struct fidx_err *err)
{
	struct fidx_http_opts ho = {0};
	if (h->http)
		return 0;
	if (h->offline)
		return fidx_err_set(err, FIDX_EINTERNAL, "a request while offline");
	ho.max_body = API_BODY_MAX;
	ho.log = on_http_log;
	ho.ctx = h;
	return fidx_http_open(&h->http, &ho, err);
}

/* The repository's state in h, made on first use. */
static int repo_of(struct fidx_hub *h, const char *name, struct repo **out, struct fidx_err *err)
{
	struct repo *r;
	int rc;
	for (r = h->repos; r; r = r->next)
		if (strcmp(r->name, name) == 0) {
			*out = r;
			return 0;
		}
	if (strlen(name) >= sizeof r->name)
		return fidx_err_set(err, FIDX_EINPUT, "%s: not a repository id", name);
	if (!(r = calloc(1, sizeof *r)))
		return fidx_err_nomem(err);
	strcpy(r->name, name);
	if ((rc = fidx_hub_cache_open(&r->cache, h->o.cache, name, err)) != 0) {
		free(r);
		return rc;
	}
	r->next = h->repos;
	h->repos = r;
	*out = r;
	return 0;
}

/* What a request was about, for fidx_hub_error. */
static struct fidx_hub_about about(const struct fidx_hub *h, const char *repo, const char *rev, const char *path)
{
	struct fidx_hub_about a;
	a.endpoint = h->endpoint;
	a.repo = repo;
	a.revision = rev;
	a.path = path;
	a.token = h->token != NULL;
	return a;
}

int fidx_hub_answer_error(const struct fidx_http_resp *resp, const struct fidx_hub_about *a, struct fidx_err *err)
{
	struct fidx_hub_answer ans;
	char code[128], msg[512];
	memset(&ans, 0, sizeof ans);
	ans.status = resp->status;
	ans.error_code = fidx_http_header(resp, -1, "X-Error-Code", code, sizeof code) >= 0 ? code : NULL;
	ans.error_message = fidx_http_header(resp, -1, "X-Error-Message", msg, sizeof msg) >= 0 ? msg : NULL;
	ans.body = resp->body;
	ans.len = resp->body ? resp->len : 0;
	ans.retry_after = fidx_http_retry_after(resp);
	return fidx_hub_error(&ans, a, err);
}

/* GET url (a JSON API answer) into resp: 0 on 200, else the error. */
static int api_get(struct fidx_hub *h, const char *url, const struct fidx_hub_about *a, struct fidx_http_resp *resp,
                   struct fidx_err *err)
{
	struct fidx_http_req req;
	int rc;
	memset(&req, 0, sizeof req);
	memset(resp, 0, sizeof *resp);
	if ((rc = http_of(h, err)) != 0)
		return rc;
	req.url = url;
	req.token = h->token;
	req.redirects = FIDX_HTTP_REDIRECTS;
	if ((rc = fidx_http_do(h->http, &req, &retry, resp, err)) != 0) {
		char *what = fidx_hf_uri_format(a->repo, a->revision, a->path ? a->path : "");
		fidx_err_prefix(err, "%s", what ? what : a->repo);
		free(what);
		return rc;
	}
	if (resp->status == 200)
		return 0;
	return fidx_hub_answer_error(resp, a, err);
}

int fidx_hub_commit(struct fidx_hub *h, const char *repo, const char *revision, char commit[41],
                    struct fidx_err *err)
{
	const char *rev = revision ? revision : "main";
	struct fidx_hub_about a = about(h, repo, revision, NULL);
	struct fidx_http_resp resp;
	struct repo *r;
	char *q, *url, *what;
	size_t need;
	int rc;

	if ((rc = repo_of(h, repo, &r, err)) != 0)
		return rc;
	if (strlen(rev) == 40 && fidx_hub_is_hex(rev, 40)) {
		memcpy(commit, rev, 41);
		return 0;
	}
	if (h->offline) {
		if ((rc = fidx_hub_cache_ref(&r->cache, rev, commit, err)) == 1)
			return 0;
		if (rc < 0)
			return rc;
		what = fidx_hf_uri_format(repo, revision, "");
		rc = fidx_err_set(err, FIDX_EIO,
		                  "%s: not in the Hugging Face cache (%s has no refs/%s) and HF_HUB_OFFLINE is set: "
		                  "run once online first, or name a commit",
		                  what ? what : repo, r->cache.repo, rev);
		free(what);
		return rc;
	}
	if (!(q = fidx_hf_quote(rev, 0)))
		return fidx_err_nomem(err);
	need = strlen(h->endpoint) + strlen(repo) + strlen(q) + 40;
	if (!(url = malloc(need))) {
		free(q);
		return fidx_err_nomem(err);
	}
	snprintf(url, need, "%s/api/datasets/%s/revision/%s", h->endpoint, repo, q);
	free(q);
	rc = api_get(h, url, &a, &resp, err);
	if (rc == 0) {
		what = fidx_hf_uri_format(repo, revision, "");
		/* The ref is best effort, as huggingface_hub's: a cache that cannot
		 * be written (read-only, shared) still serves what it has. */
		if ((rc = fidx_hub_info_parse(resp.body, resp.len, what ? what : repo, commit, err)) == 0)
			fidx_hub_cache_set_ref(&r->cache, rev, commit, NULL);
		free(what);
	}
	fidx_http_resp_free(&resp);
	free(url);
	return rc;
}

/* Lists the files of r at its commit with the tree API. */
static int list_tree(struct fidx_hub *h, struct repo *r, struct fidx_err *err)
{
	struct fidx_hub_about a = about(h, r->name, r->commit, NULL);
	size_t need = strlen(h->endpoint) + strlen(r->name) + 128;
	char *url = malloc(need), *next = NULL, *what = fidx_hf_uri_format(r->name, r->commit, "");
	int rc = 0, pages = 0;

	if (!url || !what) {
		free(url);
		free(what);
		return fidx_err_nomem(err);
	}
	snprintf(url, need, "%s/api/datasets/%s/tree/%s?recursive=true&expand=false", h->endpoint, r->name, r->commit);
	while (url && rc == 0) {
		struct fidx_http_resp resp;
		char link[4096];
		if (++pages > MAX_PAGES) {
			rc = fidx_err_set(err, FIDX_EAPI, "%s: more than %d pages of files", what, MAX_PAGES);
			break;
		}
		if ((rc = api_get(h, url, &a, &resp, err)) == 0 &&
		    (rc = fidx_hub_tree_parse(resp.body, resp.len, what, &r->tree, err)) == 0 &&
		    fidx_http_header(&resp, -1, "Link", link, sizeof link) > 0 &&
		    (rc = fidx_hub_link_next(link, &next, err)) == 1) {
			rc = 0;
			/* The token goes to the endpoint's origin only. */
			if (!fidx_http_same_origin(next, h->endpoint))
				rc = fidx_err_set(err, FIDX_EAPI,
				                  "%s: the Hub's next page of files is not on %s: refused", what,
				                  h->endpoint);
		}
		fidx_http_resp_free(&resp);
		free(url);
		url = next;
		next = NULL;
	}
	free(url);
	free(what);
	return rc;
}

int fidx_hub_files(struct fidx_hub *h, const char *repo, const char *commit, const struct fidx_hub_tree **t,
                   struct fidx_err *err)
{
	struct repo *r;
	char *where;
	int rc;

	*t = NULL;
	if ((rc = repo_of(h, repo, &r, err)) != 0)
		return rc;
	if (r->listed && strcmp(r->commit, commit) == 0) {
		*t = &r->tree;
		return 0;
	}
	fidx_hub_tree_free(&r->tree);
	r->listed = 0;
	memcpy(r->commit, commit, 41);
	if ((rc = fidx_hub_cache_tree(&r->cache, commit, &r->tree, err)) == 1) {
		logf_(h, "hf://datasets/%s@%s: its files from the cache (trees/%s.json)", repo, commit, commit);
	} else if (rc < 0) {
		return rc;
	} else if (h->offline) {
		if ((rc = fidx_hub_cache_walk(&r->cache, commit, &r->tree, err)) != 0)
			return rc;
	} else {
		if (!(where = fidx_hf_uri_format(repo, commit, "")))
			return fidx_err_nomem(err);
		rc = list_tree(h, r, err);
		if (rc == 0)
			rc = fidx_hub_tree_finish(&r->tree, where, err);
		free(where);
		if (rc) {
			fidx_hub_tree_free(&r->tree);
			return rc;
		}
		/* A listing at a commit never changes: kept for the next run (and
		 * for huggingface_hub). A cache that cannot be written is no error. */
		fidx_hub_cache_set_tree(&r->cache, commit, &r->tree, NULL);
	}
	r->listed = 1;
	*t = &r->tree;
	return 0;
}

/* ---- downloads ---- */

struct sink {
	struct fidx_hub *h;
	const char *name;     /* for progress */
	int fd;
	uint64_t written, expected;
	int lfs;
	int fresh;            /* no byte of the current answer yet */
	struct fidx_sha256 s256;
	struct fidx_sha1 s1;
	int too_long, failed, err_no;
};

static void sink_reset(struct sink *s)
{
	s->written = 0;
	if (s->lfs)
		fidx_sha256_init(&s->s256);
	else
		fidx_hub_git_blob(&s->s1, s->expected);
}

static int on_bytes(void *ctx, long status, const void *p, size_t n)
{
	struct sink *s = ctx;
	/* A 200 to a Range request: the whole file again, from its start. */
	if (s->fresh && status == 200 && s->written) {
		if (ftruncate(s->fd, 0) != 0) {
			s->failed = 1;
			s->err_no = errno;
			return 1;
		}
		sink_reset(s);
	}
	s->fresh = 0;
	if (n > s->expected - s->written) {
		s->too_long = 1;
		return 1;
	}
	if (fidx_pwrite_all(s->fd, p, n, s->written, s->name, NULL) != 0) {
		s->failed = 1;
		s->err_no = errno;
		return 1;
	}
	if (s->lfs)
		fidx_sha256_update(&s->s256, p, n);
	else
		fidx_sha1_update(&s->s1, p, n);
	s->written += n;
	s->h->st.bytes += n;
	if (s->h->o.progress)
		s->h->o.progress(s->h->o.ctx, s->name, s->written, s->expected);
	return 0;
}

/* Downloads e into blob b, checked. */
static int download(struct fidx_hub *h, struct repo *r, const struct fidx_hub_entry *e, const char *what,
                    struct fidx_hub_blob *b, struct fidx_err *err)
{
	struct fidx_hub_about a = about(h, r->name, r->commit, e->path);
	struct sink s;
	char *q = fidx_hf_quote(e->path, 1), *url = NULL;
	int rc = 0;
	size_t need;

	if (!q)
		return fidx_err_nomem(err);
	need = strlen(h->endpoint) + strlen(r->name) + strlen(q) + 80;
	if (!(url = malloc(need))) {
		free(q);
		return fidx_err_nomem(err);
	}
	snprintf(url, need, "%s/datasets/%s/resolve/%s/%s", h->endpoint, r->name, r->commit, q);
	free(q);
	memset(&s, 0, sizeof s);
	s.h = h;
	s.name = what;
	s.fd = b->fd;
	s.expected = e->size;
	s.lfs = e->lfs[0] != '\0';
	sink_reset(&s);
	if ((rc = http_of(h, err)) != 0)
		goto done;
	logf_(h, "%s: downloading %llu bytes", what, (unsigned long long)e->size);
	for (;;) {
		struct fidx_http_req req;
		struct fidx_http_resp resp;
		uint64_t before = s.written;
		int cut;
		memset(&req, 0, sizeof req);
		req.url = url;
		req.token = h->token;
		req.redirects = FIDX_HTTP_REDIRECTS;
		req.timeout = -1; /* a stall limit, no limit on the whole */
		req.range_from = s.written;
		req.sink = on_bytes;
		req.sink_ctx = &s;
		s.fresh = 1;
		/* Failures before any byte are retried there; a transfer cut
		 * after some is resumed here, from where it stopped. */
		rc = fidx_http_do(h->http, &req, &retry, &resp, err);
		cut = rc != 0 && (resp.failure == FIDX_HTTP_NETWORK || resp.failure == FIDX_HTTP_TIMEOUT) &&
		      s.written > before;
		if (s.failed)
			rc = fidx_err_sys(err, FIDX_EIO, s.err_no, "%s", b->tmp);
		else if (s.too_long)
			rc = fidx_err_set(err, FIDX_EAPI,
			                  "%s: the Hub sent more than the %llu bytes its listing gives the file: refused, "
			                  "nothing kept",
			                  what, (unsigned long long)e->size);
		else if (rc == 0 && (resp.status == 200 || resp.status == 206))
			cut = s.written < e->size && s.written > before; /* ended early, without an error */
		else if (rc == 0)
			rc = fidx_hub_answer_error(&resp, &a, err);
		fidx_http_resp_free(&resp);
		if (!cut || s.failed || s.too_long)
			break;
		logf_(h, "%s: cut after %llu of %llu bytes, resuming", what, (unsigned long long)s.written,
		      (unsigned long long)e->size);
		fidx_http_pause(1);
		rc = 0;
	}
	if (rc == 0 && s.written != e->size)
		rc = fidx_err_set(err, FIDX_EAPI,
		                  "%s: the Hub sent %llu bytes, its listing gives the file %llu: refused, nothing kept", what,
		                  (unsigned long long)s.written, (unsigned long long)e->size);
	if (rc == 0) {
		char hex[65];
		unsigned char d[32];
		if (s.lfs) {
			fidx_sha256_final(&s.s256, d);
			fidx_sha256_hex(d, hex);
		} else {
			fidx_sha1_final(&s.s1, d);
			fidx_sha1_hex(d, hex);
		}
		if (strcmp(hex, fidx_hub_etag(e)) != 0)
			rc = fidx_err_set(err, FIDX_EAPI,
			                  "%s: the downloaded bytes do not match the Hub's listing (%s %s, expected %s): "
			                  "refused, nothing kept",
			                  what, s.lfs ? "SHA-256" : "git blob id", hex, fidx_hub_etag(e));
	}
	if (rc == 0) {
		h->st.downloaded++;
		logf_(h, "%s: downloaded and checked", what);
	}
done:
	free(url);
	return rc;
}

int fidx_hub_fetch(struct fidx_hub *h, const char *repo, const char *commit, const struct fidx_hub_entry *e,
                   char **local, struct fidx_err *err)
{
	const char *etag = fidx_hub_etag(e);
	struct repo *r;
	struct fidx_hub_blob b;
	char *what;
	int rc, lock = -1;

	*local = NULL;
	if ((rc = repo_of(h, repo, &r, err)) != 0)
		return rc;
	if (!(what = fidx_hf_uri_format(repo, commit, e->path)))
		return fidx_err_nomem(err);
	if (fidx_hub_cache_has(&r->cache, commit, e->path, e->size)) {
		h->st.cached++;
		logf_(h, "%s: from the cache", what);
		goto found;
	}
	if (h->offline) {
		rc = fidx_err_set(err, FIDX_EIO,
		                  "%s: not in the Hugging Face cache (%s) and HF_HUB_OFFLINE is set: run once online "
		                  "first",
		                  what, r->cache.root);
		goto done;
	}
	if (e->size > FIDX_HUB_MAX_DOWNLOAD) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: %llu bytes, more than fidx downloads (50 GB)", what,
		                  (unsigned long long)e->size);
		goto done;
	}
	if (!etag[0] || (rc = fidx_hub_cache_lock(&r->cache, etag, &lock, err)) != 0) {
		if (!etag[0])
			rc = fidx_err_set(err, FIDX_EIO, "%s: the cache does not say what the file holds", what);
		goto done;
	}
	/* Another fidx (or huggingface_hub) may have brought the blob while we
	 * waited for the lock, or for another path with the same content. */
	if (fidx_hub_cache_has_blob(&r->cache, etag, e->size)) {
		h->st.cached++;
		logf_(h, "%s: its content from the cache (blobs/%s)", what, etag);
	} else {
		if ((rc = fidx_hub_cache_blob_begin(&r->cache, etag, &b, err)) != 0)
			goto done;
		if ((rc = download(h, r, e, what, &b, err)) == 0)
			rc = fidx_hub_cache_blob_commit(&b, err);
		fidx_hub_cache_blob_abort(&b);
		if (rc)
			goto done;
	}
	if ((rc = fidx_hub_cache_link(&r->cache, commit, e->path, etag, err)) != 0)
		goto done;
found:
	if (!(*local = fidx_hub_cache_snapshot(&r->cache, commit, e->path)))
		rc = fidx_err_nomem(err);
done:
	fidx_hub_cache_unlock(lock);
	free(what);
	return rc;
}

/* ---- a folder of the repository as a source of files (hub.h) ---- */

struct folder {
	struct fidx_hub *h;
	char repo[200];
	char commit[41];
	char *dir;  /* "" or "a/b" */
	char *name; /* hf://datasets/REPO@COMMIT[/dir] */
};

/* Whether a path (relative to the listed folder) is to be skipped: a
 * hidden file or folder, or a folder named "__*", at any level. */
static int skipped(const char *rel)
{
	const char *c = rel;
	for (;;) {
		const char *slash = strchr(c, '/');
		if (c[0] == '.' || (slash && c[0] == '_' && c[1] == '_'))
			return 1;
		if (!slash)
			return 0;
		c = slash + 1;
	}
}

static int folder_list(void *ctx, const char *dir, char ***paths, size_t *n, struct fidx_err *err)
{
	struct folder *f = ctx;
	const struct fidx_hub_tree *t;
	char *base;
	size_t i, bl, count = 0;
	int rc, any = 0;

	*paths = NULL;
	*n = 0;
	if ((rc = fidx_hub_files(f->h, f->repo, f->commit, &t, err)) != 0)
		return rc;
	if (!(base = malloc(strlen(f->dir) + strlen(dir) + 3)))
		return fidx_err_nomem(err);
	sprintf(base, "%s%s%s", f->dir, f->dir[0] && dir[0] ? "/" : "", dir);
	bl = strlen(base);
	if (!(*paths = malloc((t->n ? t->n : 1) * sizeof **paths))) {
		free(base);
		return fidx_err_nomem(err);
	}
	for (i = 0; i < t->n; i++) {
		const char *p = t->v[i].path, *rel;
		if (bl && (strncmp(p, base, bl) != 0 || p[bl] != '/'))
			continue;
		rel = bl ? p + bl + 1 : p;
		any = 1;
		if (skipped(rel))
			continue;
		if (!((*paths)[count] = strdup(rel))) {
			while (count)
				free((*paths)[--count]);
			free(*paths);
			*paths = NULL;
			free(base);
			return fidx_err_nomem(err);
		}
		count++;
	}
	if (!any && bl) {
		free(*paths);
		*paths = NULL;
		rc = fidx_err_set(err, FIDX_EINPUT, "%s/%s: no such folder", f->name, dir);
	}
	*n = count;
	free(base);
	return rc;
}

static int folder_card(void *ctx, size_t max, char **text, size_t *len, int *full, struct fidx_err *err)
{
	struct folder *f = ctx;
	const struct fidx_hub_tree *t;
	const struct fidx_hub_entry *e;
	char *path, *local = NULL;
	int rc;

	*text = NULL;
	*len = 0;
	*full = 1;
	if ((rc = fidx_hub_files(f->h, f->repo, f->commit, &t, err)) != 0)
		return rc;
	if (!(path = malloc(strlen(f->dir) + 16)))
		return fidx_err_nomem(err);
	sprintf(path, "%s%sREADME.md", f->dir, f->dir[0] ? "/" : "");
	e = fidx_hub_tree_find(t, path);
	free(path);
	if (!e)
		return 0;
	if ((rc = fidx_hub_fetch(f->h, f->repo, f->commit, e, &local, err)) != 0)
		return rc;
	rc = fidx_hub_read_card(local, max, text, len, full, err);
	free(local);
	return rc;
}

static void folder_close(void *ctx)
{
	struct folder *f = ctx;
	if (!f)
		return;
	free(f->dir);
	free(f->name);
	free(f);
}

int fidx_hub_source(struct fidx_hub *h, const char *repo, const char *commit, const char *dir,
                    struct fidx_hub_source *s, struct fidx_err *err)
{
	struct folder *f = calloc(1, sizeof *f);

	memset(s, 0, sizeof *s);
	if (!f || strlen(repo) >= sizeof f->repo || !(f->dir = strdup(dir)) ||
	    !(f->name = fidx_hf_uri_format(repo, commit, dir))) {
		folder_close(f);
		return fidx_err_nomem(err);
	}
	f->h = h;
	strcpy(f->repo, repo);
	memcpy(f->commit, commit, 41);
	s->name = f->name;
	s->ctx = f;
	s->list = folder_list;
	s->card = folder_card;
	s->close = folder_close;
	return 0;
}
