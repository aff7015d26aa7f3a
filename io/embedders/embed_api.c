/* The "api" embedder: texts to vectors through an HTTP embedding API
 * (io/embedders/api.h), with libcurl's multi interface.
 *
 * Texts go in batches of `batch`, with up to `concurrency` requests in
 * flight; vectors land in input order whatever order answers come in.
 * Failures are sorted as the reliability checklist asks:
 *   503 with estimated_time   the model is loading: wait that long (<= 60 s)
 *   429, 5xx, timeouts,       retried with capped exponential backoff and
 *   dropped connections       jitter, Retry-After honoured up to 60 s
 *   413 (batch too large)     the batch is split in two and sent again
 *   401, 403, 404, 410, 400,  fail at once, with the server's message
 *   422 and other 4xx
 *   3xx                       fail: redirects are not followed, so the token
 *                             never goes anywhere but the URL given
 * Retries per batch and the whole job's time are bounded. Every answer is
 * checked (JSON, count, dimension, finite numbers) before it is used; a bad
 * one fails the job, naming the batch. The token is read from the
 * environment or a file, sent only in the Authorization header, and never
 * appears in a message, a log line or the command line. */
/* No type-checking wrappers: the functions are called through pointers. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <time.h>

#include "api.h"
#include "embed.h"
#include "embed_api.h"
#include "vcache.h"
#include "vec.h"

#define MAX_RESPONSE (256u << 20)
#define MAX_WAIT 60.0
#define MAX_LOADING 600.0

struct batch {
	size_t first, count;  /* texts[first .. first + count) of the miss list */
	int attempts;
	double loading;       /* seconds waited for the model to load */
	double not_before;    /* monotonic seconds */
	struct batch *next;
};

struct request {
	CURL *h;
	struct batch *b;
	char *body;
	char *resp;
	size_t len, cap;
	int too_big;
	struct curl_slist *headers;
	char curl_error[CURL_ERROR_SIZE];
	double started;
	double retry_after;
	int retry_after_ms;
};

struct fidx_api_client {
	char *url, *model;
	int format;
	char *auth; /* "Authorization: Bearer ..." or NULL */
	size_t batch, concurrency;
	int retries;
	double timeout;
	struct fidx_vcache *cache;
	const struct fidx_embedder_spec *spec;
	unsigned long long seed;
	struct fidx_api_stats stats;
	double t0; /* when the first text was asked for: --timeout counts from there */
	CURLM *multi; /* one for the client's life: its connections are reused */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* libcurl is loaded when the first API client opens, not when a fidx
 * program starts: linked in, it and the TLS, HTTP/2, LDAP and Kerberos
 * libraries it pulls cost every run of every program about 3 ms of dynamic
 * loading (measured: an empty program 0.7 ms, the same linked with libcurl
 * 3.7 ms), which is most of a whole `fidx search`. */
static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	CURLcode (*easy_perform)(CURL *);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
} lc;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;
static char curl_problem[300];

static void init_curl(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	const char *missing = NULL;

	if (!h) {
		snprintf(curl_problem, sizeof curl_problem, "the API embedder needs libcurl: %s", dlerror());
		return;
	}
#define SYM(field, name)                                         \
	if (!missing && !(*(void **)&lc.field = dlsym(h, name))) \
		missing = name;
	SYM(global_init, "curl_global_init")
	SYM(easy_init, "curl_easy_init")
	SYM(easy_setopt, "curl_easy_setopt")
	SYM(easy_getinfo, "curl_easy_getinfo")
	SYM(easy_perform, "curl_easy_perform")
	SYM(easy_cleanup, "curl_easy_cleanup")
	SYM(easy_strerror, "curl_easy_strerror")
	SYM(slist_append, "curl_slist_append")
	SYM(slist_free_all, "curl_slist_free_all")
	SYM(multi_init, "curl_multi_init")
	SYM(multi_add_handle, "curl_multi_add_handle")
	SYM(multi_remove_handle, "curl_multi_remove_handle")
	SYM(multi_perform, "curl_multi_perform")
	SYM(multi_poll, "curl_multi_poll")
	SYM(multi_info_read, "curl_multi_info_read")
	SYM(multi_cleanup, "curl_multi_cleanup")
#undef SYM
	if (missing)
		snprintf(curl_problem, sizeof curl_problem, "libcurl.so.4 has no %s: it is older than 7.66", missing);
	else if (lc.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		snprintf(curl_problem, sizeof curl_problem, "libcurl failed to initialise");
	else
		curl_ok = 1;
}

/* curl.h defines these two as macros of themselves (an argument count
 * check); the calls below go through the loaded library instead. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_init (*lc.easy_init)
#define curl_easy_setopt (*lc.easy_setopt)
#define curl_easy_getinfo (*lc.easy_getinfo)
#define curl_easy_perform (*lc.easy_perform)
#define curl_easy_cleanup (*lc.easy_cleanup)
#define curl_easy_strerror (*lc.easy_strerror)
#define curl_slist_append (*lc.slist_append)
#define curl_slist_free_all (*lc.slist_free_all)
#define curl_multi_init (*lc.multi_init)
#define curl_multi_add_handle (*lc.multi_add_handle)
#define curl_multi_remove_handle (*lc.multi_remove_handle)
#define curl_multi_perform (*lc.multi_perform)
#define curl_multi_poll (*lc.multi_poll)
#define curl_multi_info_read (*lc.multi_info_read)
#define curl_multi_cleanup (*lc.multi_cleanup)

static void logf_(const struct fidx_api_client *c, const char *fmt, ...) FIDX_PRINTF(2, 3);
static void logf_(const struct fidx_api_client *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	if (!c->spec->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->spec->log(c->spec->ctx, line);
}

/* HF_HUB_OFFLINE, as huggingface_hub reads it. */
static int offline(void)
{
	const char *v = getenv("HF_HUB_OFFLINE");
	return v && (!strcasecmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") || !strcasecmp(v, "true"));
}

/* Whether scheme://user[:password]@host... */
static int has_userinfo(const char *url)
{
	const char *auth = strstr(url, "://") + 3;
	size_t end = strcspn(auth, "/?#");
	return memchr(auth, '@', end) != NULL;
}

static void request_free(struct request *r);

static size_t on_data(char *p, size_t size, size_t n, void *ud);

/* The model a TEI server runs: GET <base>/info's model_id; NULL when the
 * server does not say (or cannot be asked). */
static char *tei_model(const struct fidx_api_client *c)
{
	struct request r;
	size_t ulen = strlen(c->url);
	char *url = malloc(ulen + 8), *model = NULL;
	long status = 0;
	memset(&r, 0, sizeof r);
	if (!url)
		return NULL;
	memcpy(url, c->url, ulen + 1);
	if (ulen >= 6 && strcmp(url + ulen - 6, "/embed") == 0)
		url[ulen - 6] = '\0';
	strcat(url, "/info");
	r.h = curl_easy_init();
	if (c->auth)
		r.headers = curl_slist_append(NULL, c->auth);
	if (r.h && (r.headers || !c->auth)) {
		curl_easy_setopt(r.h, CURLOPT_URL, url);
		curl_easy_setopt(r.h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(r.h, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(r.h, CURLOPT_HTTPHEADER, r.headers);
		curl_easy_setopt(r.h, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(r.h, CURLOPT_WRITEDATA, &r);
		curl_easy_setopt(r.h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(r.h, CURLOPT_USERAGENT, "fidx/" FIDX_VERSION);
		curl_easy_setopt(r.h, CURLOPT_CONNECTTIMEOUT, 10L);
		curl_easy_setopt(r.h, CURLOPT_TIMEOUT, 20L);
		if (curl_easy_perform(r.h) == CURLE_OK &&
		    curl_easy_getinfo(r.h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200 && r.resp)
			model = fidx_api_info_model(r.resp, r.len);
	}
	free(url);
	request_free(&r);
	return model;
}

/* Which model the vectors come from: it is recorded in the index and keys
 * the cache, so it must name what the server really runs.
 *   hf      the model in the URL (.../models/<id>/pipeline/...); --model
 *           must agree with it. A URL without one (a dedicated endpoint)
 *           takes --model, else the URL itself names the model.
 *   tei     --model, else what GET /info says, else the URL.
 *   openai  --model (sent with every request), else the default. */
static int settle_model(struct fidx_api_client *c, const struct fidx_embedder_spec *spec,
                        struct fidx_err *err)
{
	char *in_url = c->format == FIDX_API_HF ? fidx_api_hf_model(c->url) : NULL;
	if (in_url && spec->model && strcmp(in_url, spec->model) != 0) {
		int rc = fidx_err_set(err, FIDX_EINPUT, "--model %s and the API URL's model %s differ", spec->model,
		                      in_url);
		free(in_url);
		return rc;
	}
	if (in_url)
		c->model = in_url;
	else if (spec->model)
		c->model = strdup(spec->model);
	else if (c->format == FIDX_API_OPENAI)
		c->model = strdup(FIDX_API_DEFAULT_MODEL);
	else if (!(c->format == FIDX_API_TEI && (c->model = tei_model(c))))
		c->model = strdup(c->url);
	return c->model ? 0 : fidx_err_nomem(err);
}

int fidx_api_client_open(struct fidx_api_client **out, const struct fidx_embedder_spec *spec,
                         struct fidx_err *err)
{
	struct fidx_api_client *c;
	char *token = NULL;
	int rc;

	*out = NULL;
	pthread_once(&curl_once, init_curl);
	if (!curl_ok)
		return fidx_err_set(err, FIDX_EINTERNAL, "%s", curl_problem);
	c = calloc(1, sizeof *c);
	if (!c)
		return fidx_err_nomem(err);
	c->spec = spec;
	c->url = spec->url ? strdup(spec->url)
	                   : fidx_api_hf_url(NULL, spec->model ? spec->model : FIDX_API_DEFAULT_MODEL);
	if (!c->url) {
		fidx_api_client_close(c);
		return fidx_err_nomem(err);
	}
	if (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0) {
		rc = fidx_err_set(err, FIDX_EINPUT, "the API URL must start with http:// or https://");
		fidx_api_client_close(c);
		return rc;
	}
	if (!spec->url && offline()) {
		rc = fidx_err_set(err, FIDX_EINPUT, "HF_HUB_OFFLINE is set, and the Hugging Face Inference API "
		                  "needs the network: unset it, or give a local server with --api-url");
		fidx_api_client_close(c);
		return rc;
	}
	if (has_userinfo(c->url)) {
		/* It would be recorded in the index and shown in messages. */
		rc = fidx_err_set(err, FIDX_EINPUT, "the API URL has a user name or password in it; "
		                  "give the token with --token-file or the environment instead");
		fidx_api_client_close(c);
		return rc;
	}
	c->format = spec->format ? fidx_api_format_parse(spec->format) : fidx_api_format_of(c->url);
	if (!c->format) {
		rc = fidx_err_set(err, FIDX_EINPUT, "unknown API format \"%s\" (hf, tei or openai)", spec->format);
		fidx_api_client_close(c);
		return rc;
	}
	if (!(c->multi = curl_multi_init())) {
		fidx_api_client_close(c);
		return fidx_err_nomem(err);
	}
	c->batch = spec->batch ? spec->batch : 32;
	c->concurrency = spec->concurrency ? spec->concurrency : 4;
	c->retries = spec->retries > 0 ? spec->retries : spec->retries < 0 ? 0 : 5;
	c->timeout = spec->timeout > 0 ? spec->timeout : 0;
	c->seed = (unsigned long long)now_s() * 1000003ull ^ (unsigned long long)(uintptr_t)c;
	if ((rc = fidx_api_token(c->format, spec->token_file, &token, err)) != 0) {
		fidx_api_client_close(c);
		return rc;
	}
	if (token) {
		size_t need = strlen(token) + 32;
		/* Keep the token out of core dumps and /proc/<pid>/mem readers. */
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		if (!(c->auth = malloc(need))) {
			fidx_api_token_free(token);
			fidx_api_client_close(c);
			return fidx_err_nomem(err);
		}
		snprintf(c->auth, need, "Authorization: Bearer %s", token);
		fidx_api_token_free(token);
	}
	if ((rc = settle_model(c, spec, err)) != 0) {
		fidx_api_client_close(c);
		return rc;
	}
	if (!spec->no_cache &&
	    (rc = fidx_vcache_open(&c->cache, spec->cache_dir, "api", c->model, err)) != 0) {
		fidx_api_client_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void fidx_api_client_close(struct fidx_api_client *c)
{
	if (!c)
		return;
	if (c->auth) {
		explicit_bzero(c->auth, strlen(c->auth));
		free(c->auth);
	}
	fidx_vcache_close(c->cache);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	free(c->url);
	free(c->model);
	free(c);
}

const char *fidx_api_client_url(const struct fidx_api_client *c) { return c->url; }
size_t fidx_api_client_chunk(const struct fidx_api_client *c) { return c->batch * c->concurrency * 8; }
const char *fidx_api_client_model(const struct fidx_api_client *c) { return c->model; }
int fidx_api_client_format(const struct fidx_api_client *c) { return c->format; }
const struct fidx_api_stats *fidx_api_client_stats(const struct fidx_api_client *c) { return &c->stats; }

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct request *r = ud;
	size_t len = size * n;
	if (r->len + len > MAX_RESPONSE) {
		r->too_big = 1;
		return 0; /* aborts the transfer */
	}
	if (r->len + len + 1 > r->cap) {
		size_t ncap = r->cap ? r->cap : 65536;
		char *nr;
		while (ncap < r->len + len + 1)
			ncap *= 2;
		if (!(nr = realloc(r->resp, ncap)))
			return 0;
		r->resp = nr;
		r->cap = ncap;
	}
	memcpy(r->resp + r->len, p, len);
	r->len += len;
	r->resp[r->len] = '\0';
	return len;
}

/* A header's value as a number of seconds, or -1 (an HTTP date, say). */
static double header_seconds(const char *p, size_t len, size_t name_len, double scale)
{
	char buf[64], *end;
	size_t k = len - name_len < sizeof buf - 1 ? len - name_len : sizeof buf - 1;
	double v;
	memcpy(buf, p + name_len, k);
	buf[k] = '\0';
	v = strtod(buf, &end);
	return end != buf && v >= 0 && isfinite(v) ? v * scale : -1;
}

/* Retry-After: <seconds>, or OpenAI's retry-after-ms, which wins. */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct request *r = ud;
	size_t len = size * n;
	double v;
	if (len > 15 && strncasecmp(p, "retry-after-ms:", 15) == 0) {
		if ((v = header_seconds(p, len, 15, 0.001)) >= 0) {
			r->retry_after = v;
			r->retry_after_ms = 1;
		}
	} else if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0 && !r->retry_after_ms) {
		if ((v = header_seconds(p, len, 12, 1)) >= 0)
			r->retry_after = v;
	}
	return len;
}

static void request_free(struct request *r)
{
	if (r->h)
		curl_easy_cleanup(r->h);
	curl_slist_free_all(r->headers);
	if (r->body) {
		explicit_bzero(r->body, strlen(r->body));
		free(r->body);
	}
	free(r->resp);
	memset(r, 0, sizeof *r);
}

/* Seconds a transfer may move less than a byte a second: 30. Test builds
 * may shorten it (FIDX_TEST_LOW_SPEED), so that a test sees the limit trip
 * in seconds. */
static long low_speed_time(void)
{
#ifdef FIDX_TEST_HOOKS
	const char *v = getenv("FIDX_TEST_LOW_SPEED");
	if (v && atol(v) > 0)
		return atol(v);
#endif
	return 30;
}

static int start(struct fidx_api_client *c, CURLM *m, struct request *r, struct batch *b,
                 const char *const *texts, const size_t *lens, struct fidx_err *err)
{
	memset(r, 0, sizeof *r);
	r->b = b;
	r->retry_after = -1;
	r->body = fidx_api_request(c->format, c->model, texts + b->first, lens + b->first, b->count);
	r->h = curl_easy_init();
	r->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (r->headers)
		r->headers = curl_slist_append(r->headers, "Accept: application/json");
	/* No "Expect: 100-continue" on large bodies: it costs a round trip per
	 * request, or a second's stall with servers that never answer it. */
	if (r->headers)
		r->headers = curl_slist_append(r->headers, "Expect:");
	if (r->headers && c->auth)
		r->headers = curl_slist_append(r->headers, c->auth);
	if (!r->body || !r->h || !r->headers) {
		request_free(r);
		return fidx_err_nomem(err);
	}
	curl_easy_setopt(r->h, CURLOPT_URL, c->url);
	curl_easy_setopt(r->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->h, CURLOPT_ERRORBUFFER, r->curl_error);
	curl_easy_setopt(r->h, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->h, CURLOPT_USERAGENT, "fidx/" FIDX_VERSION);
	/* Connect within 10 s; drop a transfer that moves less than 1 byte/s
	 * for 30 s, or takes longer than two minutes. */
	curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(r->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(r->h, CURLOPT_LOW_SPEED_TIME, low_speed_time());
	curl_easy_setopt(r->h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(r->h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MAX_RESPONSE);
	r->started = now_s();
	if (curl_multi_add_handle(m, r->h) != CURLM_OK) {
		request_free(r);
		return fidx_err_set(err, FIDX_EINTERNAL, "libcurl refused a request");
	}
	c->stats.requests++;
	return 0;
}

/* Capped exponential backoff with jitter: min(0.5 * 2^n, 8) x (0.75..1). */
static double backoff(struct fidx_api_client *c, int attempt)
{
	double base = 0.5 * pow(2, attempt);
	c->seed = c->seed * 6364136223846793005ull + 1442695040888963407ull;
	if (base > 8)
		base = 8;
	return base * (1 - 0.25 * (double)(c->seed >> 11) / 9007199254740992.0);
}

/* A batch, for messages; which texts it holds is reported through *bad. */
static void batch_name(const struct batch *b, char *out, size_t cap)
{
	snprintf(out, cap, "a batch of %zu text%s", b->count, b->count == 1 ? "" : "s");
}

static void put_back(struct batch **queue, struct batch *b)
{
	struct batch **p = queue;
	while (*p)
		p = &(*p)->next;
	b->next = NULL;
	*p = b;
}

int fidx_api_client_embed(struct fidx_api_client *c, const char *const *texts, const size_t *lens,
                          size_t n, size_t *dim, float *out, size_t *bad, struct fidx_err *err)
{
	CURLM *m = c->multi;
	struct request *slots = NULL;
	struct batch *queue = NULL, *b;
	size_t *miss = NULL, nmiss = 0, i, active = 0, done = 0;
	const char **mtexts = NULL;
	size_t *mlens = NULL;
	double deadline, last_progress = 0, call_start;
	int rc = 0;

	if (bad)
		*bad = SIZE_MAX;
	if (!n)
		return 0;
	call_start = now_s();
	if (!c->t0)
		c->t0 = call_start;
	deadline = c->timeout > 0 ? c->t0 + c->timeout : HUGE_VAL;
	/* Cached texts need no request. */
	if (!(miss = malloc(n * sizeof *miss)) || !(mtexts = malloc(n * sizeof *mtexts)) ||
	    !(mlens = malloc(n * sizeof *mlens))) {
		rc = fidx_err_nomem(err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		size_t got = 0;
		if (c->cache && fidx_vcache_get(c->cache, texts[i], lens[i], *dim, out + i * *dim, &got)) {
			if (!*dim)
				*dim = got;
			c->stats.cached++;
			continue;
		}
		miss[nmiss] = i;
		mtexts[nmiss] = texts[i];
		mlens[nmiss] = lens[i];
		nmiss++;
	}
	if (!nmiss)
		goto out;
	for (i = 0; i < nmiss; i += c->batch) {
		if (!(b = calloc(1, sizeof *b))) {
			rc = fidx_err_nomem(err);
			goto out;
		}
		b->first = i;
		b->count = nmiss - i < c->batch ? nmiss - i : c->batch;
		put_back(&queue, b);
	}
	if (!(slots = calloc(c->concurrency, sizeof *slots))) {
		rc = fidx_err_nomem(err);
		goto out;
	}
	while (done < nmiss && !rc) {
		int still, msgs;
		CURLMsg *msg;
		double now = now_s(), wake = 0.25;
		if (now > deadline) {
			rc = fidx_err_set(err, FIDX_EAPI, "%s: gave up after %.0f s (--timeout) with %zu texts embedded",
			                  c->url, c->timeout, c->stats.cached + c->stats.embedded);
			break;
		}
		/* Start what may start. */
		for (i = 0; i < c->concurrency && queue; i++) {
			struct batch **p = &queue;
			if (slots[i].h)
				continue;
			while (*p && (*p)->not_before > now)
				p = &(*p)->next;
			if (!*p)
				break;
			b = *p;
			*p = b->next;
			if ((rc = start(c, m, &slots[i], b, mtexts, mlens, err)) != 0) {
				free(b);
				break;
			}
			active++;
		}
		if (rc)
			break;
		for (b = queue; b; b = b->next)
			if (b->not_before > now && b->not_before - now < wake)
				wake = b->not_before - now;
		/* Wait for sockets (or libcurl's own timers, or the next batch
		 * due), then move transfers on and handle every one that ended
		 * before waiting again: a finished transfer must not sit behind a
		 * poll with its slot empty. */
		curl_multi_poll(m, NULL, 0, (int)(wake * 1000) + 1, NULL);
		curl_multi_perform(m, &still);
		while (!rc && (msg = curl_multi_info_read(m, &msgs)) != NULL) {
			struct request *r;
			long status = 0;
			char name[96], what[300];
			double wait = -1;
			int retry = 0, loading = 0;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
			b = r->b;
			if (bad)
				*bad = miss[b->first]; /* kept only if this answer fails the job */
			batch_name(b, name, sizeof name);
			if (msg->data.result != CURLE_OK) {
				if (r->too_big) {
					rc = fidx_err_set(err, FIDX_EAPI, "%s: %s: the response is larger than %u MB",
					                  c->url, name, MAX_RESPONSE >> 20);
				} else if (msg->data.result == CURLE_UNSUPPORTED_PROTOCOL ||
				           msg->data.result == CURLE_URL_MALFORMAT ||
				           msg->data.result == CURLE_PEER_FAILED_VERIFICATION ||
				           msg->data.result == CURLE_SSL_CACERT_BADFILE) {
					rc = fidx_err_set(err, FIDX_EAPI, "%s: %s", c->url,
					                  r->curl_error[0] ? r->curl_error : curl_easy_strerror(msg->data.result));
				} else {
					retry = 1;
					snprintf(what, sizeof what, "%s", r->curl_error[0] ? r->curl_error : curl_easy_strerror(msg->data.result));
				}
			} else if (status == 200) {
				float *vecs = NULL;
				size_t d = *dim, k;
				if ((rc = fidx_api_parse(c->format, r->resp ? r->resp : "", r->len, b->count, &d,
				                         FIDX_EMBED_MAX_DIM, &vecs, err)) != 0) {
					fidx_err_prefix(err, "%s: %s", c->url, name);
				} else if (!*dim) {
					/* The first answer sets the dimension; out was sized by the
					 * caller for *dim, so it must have been given. */
					*dim = d;
				}
				for (k = 0; !rc && k < b->count; k++) {
					float *dst = out + miss[b->first + k] * d;
					memcpy(dst, vecs + k * d, d * sizeof *dst);
					if (fidx_vec_normalize(dst, dst, d)) {
						rc = fidx_err_set(err, FIDX_EAPI, "%s: %s: text %zu came back as a zero vector",
						                  c->url, name, miss[b->first + k] + 1);
						break;
					}
					if (c->cache && fidx_vcache_put(c->cache, mtexts[b->first + k], mlens[b->first + k], dst, d,
					                                 err) != 0) {
						logf_(c, "cache: %s (going on without it)", err->msg);
						fidx_vcache_close(c->cache);
						c->cache = NULL;
					}
				}
				free(vecs);
				if (!rc) {
					done += b->count;
					c->stats.embedded += b->count;
					logf_(c, "%s: %s from text %zu: 200 in %.2f s", c->url, name, miss[b->first] + 1,
					      now_s() - r->started);
					free(b);
					b = NULL;
				}
			} else {
				fidx_api_error_message(r->resp ? r->resp : "", r->len, what, sizeof what);
				if (status == 503 && (wait = fidx_api_estimated_time(r->resp ? r->resp : "", r->len)) >= 0) {
					/* The model is loading: wait as long as it says, at
					 * least a second, at most MAX_WAIT, then ask again. */
					retry = loading = 1;
					wait = wait < 1 ? 1 : wait > MAX_WAIT ? MAX_WAIT : wait;
				} else if (status == 429 || status == 408 || status >= 500) {
					retry = 1;
					if (r->retry_after >= 0) {
						if (r->retry_after > MAX_WAIT)
							rc = fidx_err_set(err, FIDX_EAPI,
							                  "%s: %s: HTTP %ld, and the server asks to wait %.0f s (more than %.0f s): %s",
							                  c->url, name, status, r->retry_after, MAX_WAIT, what);
						wait = r->retry_after;
					}
				} else if (status == 413 && b->count > 1) {
					/* Too large a batch: split it in two and go on. */
					struct batch *half = calloc(1, sizeof *half);
					if (!half) {
						rc = fidx_err_nomem(err);
					} else {
						half->first = b->first + b->count / 2;
						half->count = b->count - b->count / 2;
						b->count /= 2;
						b->attempts = 0;
						b->not_before = half->not_before = 0;
						logf_(c, "%s: %s: HTTP 413, splitting the batch", c->url, name);
						put_back(&queue, b);
						put_back(&queue, half);
						b = NULL;
					}
				} else if (status == 410) {
					rc = fidx_err_set(err, FIDX_EAPI,
					                  "%s: HTTP 410 Gone: this API endpoint is retired; the Hugging Face "
					                  "Inference API is now at %s/hf-inference/models/<model>/pipeline/"
					                  "feature-extraction (the default of --api-url) (%s)",
					                  c->url, FIDX_API_ROUTER, what);
				} else if (status >= 300 && status < 400) {
					char *loc = NULL;
					curl_easy_getinfo(r->h, CURLINFO_REDIRECT_URL, &loc);
					rc = fidx_err_set(err, FIDX_EAPI, "%s: HTTP %ld: the server redirects to %s; "
					                  "fidx does not follow redirects: give that URL with --api-url",
					                  c->url, status, loc ? loc : "another address");
				} else {
					rc = fidx_err_set(err, FIDX_EAPI, "%s: %s: HTTP %ld: %s%s", c->url, name, status, what,
					                  status == 401 || status == 403
					                      ? " (check the token: HF_TOKEN, the Hugging Face token file, or --token-file)"
					                      : "");
				}
			}
			if (retry && !rc && b) {
				/* Waiting for a model to load is not a failed attempt: it
				 * says when it will be ready. It is bounded apart. */
				if (loading)
					b->loading += wait;
				else
					b->attempts++;
				c->stats.retries++;
				if (b->loading > MAX_LOADING) {
					rc = fidx_err_set(err, FIDX_EAPI, "%s: %s: the model is still loading after %.0f s: %s",
					                  c->url, name, MAX_LOADING, what);
				} else if (b->attempts > c->retries) {
					if (status)
						rc = fidx_err_set(err, FIDX_EAPI, "%s: %s: HTTP %ld after %d attempts: %s",
						                  c->url, name, status, b->attempts, what);
					else
						rc = fidx_err_set(err, FIDX_EAPI, "%s: %s: %s after %d attempts", c->url, name,
						                  what, b->attempts);
				} else {
					if (wait < 0)
						wait = backoff(c, b->attempts - 1);
					if (status)
						logf_(c, "%s: %s from text %zu: HTTP %ld (%s), retrying in %.1f s (attempt %d of %d)",
						      c->url, name, miss[b->first] + 1, status, what, wait, b->attempts + 1,
						      c->retries + 1);
					else
						logf_(c, "%s: %s from text %zu: %s, retrying in %.1f s (attempt %d of %d)", c->url,
						      name, miss[b->first] + 1, what, wait, b->attempts + 1, c->retries + 1);
					b->not_before = now_s() + wait;
					put_back(&queue, b);
					b = NULL;
				}
			}
			if (!rc && bad)
				*bad = SIZE_MAX;
			free(b);
			curl_multi_remove_handle(m, r->h);
			request_free(r);
			active--;
		}
		if (c->spec->progress && (now_s() - last_progress > 0.25 || done == nmiss)) {
			struct fidx_embed_progress p = {c->stats.cached + c->stats.embedded, c->spec->expected,
			                                c->stats.retries, now_s() - c->t0};
			c->spec->progress(c->spec->ctx, &p);
			last_progress = now_s();
		}
	}
out:
	if (slots) {
		for (i = 0; i < c->concurrency; i++) {
			if (slots[i].h) {
				free(slots[i].b);
				curl_multi_remove_handle(m, slots[i].h);
				request_free(&slots[i]);
			}
		}
		free(slots);
	}
	while (queue) {
		b = queue->next;
		free(queue);
		queue = b;
	}
	free(miss);
	free(mtexts);
	free(mlens);
	c->stats.seconds += now_s() - call_start;
	return rc;
}
