#include "http.h"

/* No type-checking wrappers: the functions are called through pointers. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef FIDX_VERSION
#define FIDX_VERSION "unknown"
#endif

#define MAX_BODY (256u << 20)
#define MAX_HEADERS (64u << 10)
#define MAX_HOPS 5

/* ---- libcurl, loaded on first use ---- */

static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
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
	CURLU *(*url)(void);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
	void (*url_cleanup)(CURLU *);
	void (*free)(void *);
} lc;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;
static char curl_problem[300];

static void init_curl(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	const char *missing = NULL;

	if (!h) {
		snprintf(curl_problem, sizeof curl_problem, "HTTP needs libcurl: %s", dlerror());
		return;
	}
#define SYM(field, name)                                         \
	if (!missing && !(*(void **)&lc.field = dlsym(h, name))) \
		missing = name;
	SYM(global_init, "curl_global_init")
	SYM(easy_init, "curl_easy_init")
	SYM(easy_setopt, "curl_easy_setopt")
	SYM(easy_getinfo, "curl_easy_getinfo")
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
	SYM(url, "curl_url")
	SYM(url_set, "curl_url_set")
	SYM(url_get, "curl_url_get")
	SYM(url_cleanup, "curl_url_cleanup")
	SYM(free, "curl_free")
#undef SYM
	if (missing)
		snprintf(curl_problem, sizeof curl_problem, "libcurl.so.4 has no %s: it is older than 7.66", missing);
	else if (lc.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		snprintf(curl_problem, sizeof curl_problem, "libcurl failed to initialise");
	else
		curl_ok = 1;
}

/* ---- the client ---- */

struct xfer {
	CURL *h;
	struct fidx_http_req req;
	struct curl_slist *headers;
	char *auth;        /* the Authorization line, wiped when done */
	struct fidx_http_resp resp;
	size_t cap;        /* of resp.body */
	size_t max_body;
	char *hdr;         /* the current answer's header block */
	size_t hdr_len;
	int too_big, aborted;
	char errbuf[CURL_ERROR_SIZE];
	char range[32];
	struct xfer *next;
};

struct fidx_http {
	unsigned long long requests;
	CURLM *multi;
	struct fidx_http_opts o;
	unsigned long long seed;
	struct xfer *active;
	size_t nactive;
};

double fidx_http_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int fidx_http_open(struct fidx_http **out, const struct fidx_http_opts *o, struct fidx_err *err)
{
	struct fidx_http *h;

	*out = NULL;
	pthread_once(&curl_once, init_curl);
	if (!curl_ok)
		return fidx_err_set(err, FIDX_EINTERNAL, "%s", curl_problem);
	if (!(h = calloc(1, sizeof *h)))
		return fidx_err_nomem(err);
	if (o)
		h->o = *o;
	if (!h->o.connect_timeout)
		h->o.connect_timeout = 10;
	if (!h->o.stall_time)
		h->o.stall_time = 30;
	if (!h->o.max_body)
		h->o.max_body = MAX_BODY;
	h->seed = (unsigned long long)(fidx_http_now() * 1e6) * 1000003ull ^ (unsigned long long)(uintptr_t)h;
	if (!(h->multi = lc.multi_init())) {
		free(h);
		return fidx_err_nomem(err);
	}
	*out = h;
	return 0;
}

static void xfer_free(struct fidx_http *h, struct xfer *x)
{
	if (!x)
		return;
	if (x->h) {
		lc.multi_remove_handle(h->multi, x->h);
		lc.easy_cleanup(x->h);
	}
	lc.slist_free_all(x->headers);
	if (x->auth) {
		explicit_bzero(x->auth, strlen(x->auth));
		free(x->auth);
	}
	fidx_http_resp_free(&x->resp);
	free(x->hdr);
	free(x);
}

void fidx_http_cancel(struct fidx_http *h)
{
	while (h->active) {
		struct xfer *x = h->active;
		h->active = x->next;
		xfer_free(h, x);
	}
	h->nactive = 0;
}

void fidx_http_close(struct fidx_http *h)
{
	if (!h)
		return;
	fidx_http_cancel(h);
	lc.multi_cleanup(h->multi);
	free(h);
}

void fidx_http_resp_free(struct fidx_http_resp *r)
{
	size_t i;
	free(r->body);
	free(r->url);
	for (i = 0; i < r->nhops; i++)
		free(r->hops[i]);
	memset(r, 0, sizeof *r);
}

#define logf_(h, ...) fidx_logf((h)->o.log, (h)->o.ctx, __VA_ARGS__)

/* A URL for messages: without its query (signed URLs carry secrets there). */
static void url_for_message(const char *url, char *out, size_t cap)
{
	size_t n = strcspn(url, "?#");
	snprintf(out, cap, "%.*s", (int)(n < 400 ? n : 400), url);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	long status = 0;

	lc.easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (x->req.sink && status >= 200 && status < 300) {
		x->resp.len += len;
		x->resp.sunk += len;
		if (x->req.sink(x->req.sink_ctx, status, p, len)) {
			x->aborted = 1;
			return 0;
		}
		return len;
	}
	if (x->resp.len + len > x->max_body) {
		x->too_big = 1;
		return 0;
	}
	if (x->resp.len + len + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 16384;
		char *nb;
		while (cap < x->resp.len + len + 1)
			cap *= 2;
		if (!(nb = realloc(x->resp.body, cap)))
			return 0;
		x->resp.body = nb;
		x->cap = cap;
	}
	memcpy(x->resp.body + x->resp.len, p, len);
	x->resp.len += len;
	x->resp.body[x->resp.len] = '\0';
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	char *nb;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0)
		x->hdr_len = 0; /* a new answer (after 100 Continue, say) */
	if (x->hdr_len + len + 1 > MAX_HEADERS)
		return len; /* the rest is dropped, not the transfer */
	if (!(nb = realloc(x->hdr, x->hdr_len + len + 1)))
		return 0;
	x->hdr = nb;
	memcpy(x->hdr + x->hdr_len, p, len);
	x->hdr_len += len;
	x->hdr[x->hdr_len] = '\0';
	return len;
}

static int start_xfer(struct fidx_http *h, const struct fidx_http_req *req, struct xfer **out,
                      struct fidx_err *err)
{
	struct xfer *x = calloc(1, sizeof *x);
	const char *method = req->method ? req->method : req->body ? "POST" : "GET";
	size_t i;
	int ok;

	*out = NULL;
	if (!x)
		return fidx_err_nomem(err);
	x->req = *req;
	x->max_body = h->o.max_body;
	if (!(x->h = lc.easy_init())) {
		free(x);
		return fidx_err_nomem(err);
	}
	/* Sizes and ranges are the bytes'; no Expect: 100-continue (a round
	 * trip per request, or a stall with servers that never answer it). */
	x->headers = lc.slist_append(NULL, "Accept-Encoding: identity");
	ok = x->headers && (x->headers = lc.slist_append(x->headers, "Expect:")) != NULL;
	for (i = 0; ok && req->headers && req->headers[i]; i++)
		ok = (x->headers = lc.slist_append(x->headers, req->headers[i])) != NULL;
	if (ok && req->token) {
		size_t need = strlen(req->token) + 32;
		ok = (x->auth = malloc(need)) != NULL;
		if (ok) {
			snprintf(x->auth, need, "Authorization: Bearer %s", req->token);
			ok = (x->headers = lc.slist_append(x->headers, x->auth)) != NULL;
		}
	}
	if (!ok) {
		xfer_free(h, x);
		return fidx_err_nomem(err);
	}
	lc.easy_setopt(x->h, CURLOPT_URL, req->url);
	lc.easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "http,https");
	lc.easy_setopt(x->h, CURLOPT_FOLLOWLOCATION, 0L);
	lc.easy_setopt(x->h, CURLOPT_HTTPHEADER, x->headers);
	lc.easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_body);
	lc.easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	lc.easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
	lc.easy_setopt(x->h, CURLOPT_HEADERDATA, x);
	lc.easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->errbuf);
	lc.easy_setopt(x->h, CURLOPT_PRIVATE, x);
	lc.easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
	lc.easy_setopt(x->h, CURLOPT_USERAGENT, "fidx/" FIDX_VERSION);
	lc.easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT, h->o.connect_timeout);
	lc.easy_setopt(x->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	lc.easy_setopt(x->h, CURLOPT_LOW_SPEED_TIME, h->o.stall_time);
	lc.easy_setopt(x->h, CURLOPT_TIMEOUT, req->timeout < 0 ? 0L : req->timeout ? req->timeout : 120L);
	if (!req->sink)
		lc.easy_setopt(x->h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->o.max_body);
	if (strcmp(method, "HEAD") == 0)
		lc.easy_setopt(x->h, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0)
		lc.easy_setopt(x->h, CURLOPT_CUSTOMREQUEST, method);
	if (req->body) {
		lc.easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		lc.easy_setopt(x->h, CURLOPT_POSTFIELDS, req->body);
	}
	if (req->once) {
		lc.easy_setopt(x->h, CURLOPT_FRESH_CONNECT, 1L);
		lc.easy_setopt(x->h, CURLOPT_FORBID_REUSE, 1L);
	}
	if (req->range_from) {
		snprintf(x->range, sizeof x->range, "%llu-", (unsigned long long)req->range_from);
		lc.easy_setopt(x->h, CURLOPT_RANGE, x->range);
	}
	if (lc.multi_add_handle(h->multi, x->h) != CURLM_OK) {
		xfer_free(h, x);
		return fidx_err_set(err, FIDX_EINTERNAL, "libcurl refused a request");
	}
	x->resp.attempts = 1;
	h->requests++;
	x->next = h->active;
	h->active = x;
	h->nactive++;
	*out = x;
	return 0;
}

int fidx_http_start(struct fidx_http *h, const struct fidx_http_req *req, struct fidx_err *err)
{
	struct xfer *x;
	return start_xfer(h, req, &x, err);
}

size_t fidx_http_active(const struct fidx_http *h)
{
	return h->nactive;
}

/* Fills the response of a finished transfer and unlinks it. */
static int finish(struct fidx_http *h, struct xfer *x, CURLcode res, struct fidx_err *err)
{
	struct xfer **p;
	char *url = NULL;

	for (p = &h->active; *p && *p != x; p = &(*p)->next)
		;
	if (*p) {
		*p = x->next;
		h->nactive--;
	}
	lc.easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->resp.status);
	lc.easy_getinfo(x->h, CURLINFO_EFFECTIVE_URL, &url);
	if (!(x->resp.url = strdup(url ? url : x->req.url)))
		return fidx_err_nomem(err);
	if (x->hdr) {
		x->resp.hops[0] = x->hdr;
		x->resp.nhops = 1;
		x->hdr = NULL;
	}
	if (res == CURLE_OK)
		x->resp.failure = FIDX_HTTP_OK;
	else if (x->too_big || res == CURLE_FILESIZE_EXCEEDED)
		x->resp.failure = FIDX_HTTP_TOO_BIG;
	else if (x->aborted)
		x->resp.failure = FIDX_HTTP_ABORTED;
	else if (res == CURLE_OPERATION_TIMEDOUT)
		x->resp.failure = FIDX_HTTP_TIMEOUT;
	else if (res == CURLE_UNSUPPORTED_PROTOCOL || res == CURLE_URL_MALFORMAT)
		x->resp.failure = FIDX_HTTP_BAD_URL;
	else if (res == CURLE_PEER_FAILED_VERIFICATION || res == CURLE_SSL_CACERT_BADFILE ||
	         res == CURLE_SSL_CONNECT_ERROR || res == CURLE_SSL_CERTPROBLEM)
		x->resp.failure = FIDX_HTTP_TLS;
	else
		x->resp.failure = FIDX_HTTP_NETWORK;
	if (res != CURLE_OK) {
		x->resp.status = 0;
		snprintf(x->resp.error, sizeof x->resp.error, "%s",
		         x->too_big ? "the answer is too large" : x->errbuf[0] ? x->errbuf : lc.easy_strerror(res));
	}
	return 0;
}

int fidx_http_wait(struct fidx_http *h, int timeout_ms, void **user, struct fidx_http_resp *resp,
                   struct fidx_err *err)
{
	double end = fidx_http_now() + timeout_ms / 1000.0;
	for (;;) {
		int still, msgs, rc;
		CURLMsg *msg;
		double left;
		lc.multi_perform(h->multi, &still);
		while ((msg = lc.multi_info_read(h->multi, &msgs)) != NULL) {
			struct xfer *x = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			lc.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			rc = finish(h, x, msg->data.result, err);
			*user = x->req.user;
			*resp = x->resp;
			memset(&x->resp, 0, sizeof x->resp);
			xfer_free(h, x);
			return rc ? rc : 1;
		}
		left = end - fidx_http_now();
		if (left <= 0 || !h->nactive)
			return 0;
		lc.multi_poll(h->multi, NULL, 0, (int)(left * 1000) + 1, NULL);
	}
}

/* ---- answers ---- */

long fidx_http_header(const struct fidx_http_resp *r, int hop, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	const char *p;

	if (hop < 0)
		hop = (int)r->nhops - 1;
	if (hop < 0 || (size_t)hop >= r->nhops || !cap)
		return -1;
	for (p = r->hops[hop]; p && *p;) {
		size_t len = strcspn(p, "\r\n");
		if (len > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
			const char *v = p + nl + 1, *e = p + len;
			size_t k;
			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			k = (size_t)(e - v) < cap - 1 ? (size_t)(e - v) : cap - 1;
			memcpy(out, v, k);
			out[k] = '\0';
			return (long)(e - v);
		}
		p += len;
		while (*p == '\r' || *p == '\n')
			p++;
	}
	return -1;
}

static double seconds_of(const char *s, double scale)
{
	char *end;
	double v = strtod(s, &end);
	while (*end == ' ')
		end++;
	return end != s && *end == '\0' && v >= 0 && isfinite(v) ? v * scale : -1;
}

double fidx_http_retry_after(const struct fidx_http_resp *r)
{
	char v[128], *t;
	double s;
	if (fidx_http_header(r, -1, "retry-after-ms", v, sizeof v) >= 0 && (s = seconds_of(v, 0.001)) >= 0)
		return s;
	if (fidx_http_header(r, -1, "Retry-After", v, sizeof v) >= 0 && (s = seconds_of(v, 1)) >= 0)
		return s;
	/* RateLimit: "api";r=0;t=42 (IETF draft, as the Hub sends it). */
	if (fidx_http_header(r, -1, "RateLimit", v, sizeof v) >= 0 && strstr(v, ";r=0") && (t = strstr(v, ";t="))) {
		char *end;
		double w = strtod(t + 3, &end);
		if (end != t + 3 && w >= 0 && isfinite(w))
			return w;
	}
	return -1;
}

int fidx_http_retryable(const struct fidx_http_resp *r)
{
	if (r->failure == FIDX_HTTP_NETWORK || r->failure == FIDX_HTTP_TIMEOUT)
		return 1;
	return r->failure == FIDX_HTTP_OK &&
	       (r->status == 408 || r->status == 429 || r->status == 500 || r->status == 502 || r->status == 503 ||
	        r->status == 504);
}

double fidx_http_backoff(struct fidx_http *h, int attempt)
{
	double base = attempt < 1 ? 1 : attempt > 4 ? 8 : (double)(1 << (attempt - 1));
	h->seed = h->seed * 6364136223846793005ull + 1442695040888963407ull;
	return base * (1 - 0.25 * (double)(h->seed >> 11) / 9007199254740992.0);
}

/* ---- one request to its end ---- */

unsigned long long fidx_http_requests(const struct fidx_http *h)
{
	return h->requests;
}

void fidx_http_pause(double wait)
{
	struct timespec ts;
#ifdef FIDX_TEST_HOOKS
	const char *scale = getenv("FIDX_TEST_HTTP_WAIT");
	if (scale && atof(scale) >= 0)
		wait *= atof(scale);
#endif
	if (!(wait > 0))
		return;
	ts.tv_sec = (time_t)wait;
	ts.tv_nsec = (long)((wait - (double)(time_t)wait) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int same_origin(const char *a, const char *b);

int fidx_http_same_origin(const char *a, const char *b)
{
	if (!curl_ok)
		return 0;
	return same_origin(a, b);
}

/* Whether two absolute URLs share scheme, host and port. */
static int same_origin(const char *a, const char *b)
{
	CURLU *ua = lc.url(), *ub = lc.url();
	static const CURLUPart parts[] = {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT};
	int same = ua && ub && lc.url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
	           lc.url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK;
	size_t i;
	for (i = 0; same && i < 3; i++) {
		char *pa = NULL, *pb = NULL;
		same = lc.url_get(ua, parts[i], &pa, CURLU_DEFAULT_PORT) == CURLUE_OK &&
		       lc.url_get(ub, parts[i], &pb, CURLU_DEFAULT_PORT) == CURLUE_OK && strcasecmp(pa, pb) == 0;
		lc.free(pa);
		lc.free(pb);
	}
	if (ua)
		lc.url_cleanup(ua);
	if (ub)
		lc.url_cleanup(ub);
	return same;
}

/* One attempt: the request and the redirects it may follow. */
static int attempt(struct fidx_http *h, const struct fidx_http_req *req, struct fidx_http_resp *resp,
                   struct fidx_err *err)
{
	struct fidx_http_req r = *req;
	char *hops[FIDX_HTTP_MAX_HOPS], *url = NULL;
	size_t nhops = 0, i;
	int rc;

	memset(resp, 0, sizeof *resp);
	for (;;) {
		struct xfer *x;
		void *user;
		char *loc = NULL;
		if ((rc = start_xfer(h, &r, &x, err)) != 0)
			break;
		while ((rc = fidx_http_wait(h, 1000, &user, resp, err)) == 0)
			;
		if (rc < 0)
			break;
		rc = 0;
		if (!req->redirects || resp->failure || resp->status < 300 || resp->status > 399 ||
		    resp->status == 304 || nhops >= MAX_HOPS)
			break;
		/* Follow: keep this answer's headers, drop its body. */
		if (!(loc = resp->url)) /* the URL that answered, to resolve against */
			break;
		{
			CURLU *u = lc.url();
			char *next = NULL;
			char where[1024];
			int ok = u && lc.url_set(u, CURLUPART_URL, loc, 0) == CURLUE_OK &&
			         fidx_http_header(resp, -1, "Location", where, sizeof where) > 0 &&
			         lc.url_set(u, CURLUPART_URL, where, 0) == CURLUE_OK &&
			         lc.url_get(u, CURLUPART_URL, &next, 0) == CURLUE_OK;
			if (u)
				lc.url_cleanup(u);
			if (!ok || (strncmp(next, "http://", 7) != 0 && strncmp(next, "https://", 8) != 0)) {
				lc.free(next);
				break; /* not followed: the caller sees the 3xx */
			}
			free(url);
			if (!(url = strdup(next))) {
				lc.free(next);
				rc = fidx_err_nomem(err);
				break;
			}
			lc.free(next);
			if (r.token && !same_origin(loc, url))
				r.token = NULL; /* another origin (a CDN): no token */
			r.url = url;
		}
		hops[nhops++] = resp->hops[0];
		resp->hops[0] = NULL;
		resp->nhops = 0;
		fidx_http_resp_free(resp);
	}
	if (rc == 0 && nhops) {
		/* The hops' header blocks first, the final answer's last. */
		char *last = resp->nhops ? resp->hops[0] : NULL;
		for (i = 0; i < nhops; i++)
			resp->hops[i] = hops[i];
		resp->nhops = nhops;
		if (last)
			resp->hops[resp->nhops++] = last;
		nhops = 0;
	}
	for (i = 0; i < nhops; i++)
		free(hops[i]);
	free(url);
	return rc;
}

int fidx_http_do(struct fidx_http *h, const struct fidx_http_req *req, const struct fidx_http_retry *policy,
                 struct fidx_http_resp *resp, struct fidx_err *err)
{
	int retries = policy ? policy->retries : 0, tries = 0, rc;
	double max_wait = policy && policy->max_wait > 0 ? policy->max_wait : 60;
	char shown[512];

	url_for_message(req->url, shown, sizeof shown);
	if (h->nactive)
		return fidx_err_set(err, FIDX_EINTERNAL, "%s: a request while others are in flight", shown);
	for (;;) {
		double wait;
		if ((rc = attempt(h, req, resp, err)) != 0)
			return rc;
		resp->attempts = ++tries;
		if (resp->failure == FIDX_HTTP_BAD_URL)
			return fidx_err_set(err, FIDX_EINPUT, "%s: %s", shown, resp->error);
		if (!fidx_http_retryable(resp) || tries > retries || resp->sunk)
			break;
		wait = fidx_http_retry_after(resp);
		if (wait > max_wait)
			return fidx_err_set(err, FIDX_EAPI, "%s: HTTP %ld, and the server asks to wait %.0f s (more than %.0f s)",
			                    shown, resp->status, wait, max_wait);
		if (wait < 0)
			wait = fidx_http_backoff(h, tries);
		else if (resp->status == 429)
			wait += 1; /* as huggingface_hub: the window's end, and a second */
		if (resp->failure)
			logf_(h, "%s: %s, retrying in %.1f s (attempt %d of %d)", shown, resp->error, wait, tries + 1,
			      retries + 1);
		else
			logf_(h, "%s: HTTP %ld, retrying in %.1f s (attempt %d of %d)", shown, resp->status, wait,
			      tries + 1, retries + 1);
		fidx_http_resp_free(resp);
		fidx_http_pause(wait);
	}
	if (resp->failure != FIDX_HTTP_OK)
		return fidx_err_set(err, FIDX_EAPI, "%s: %s%s", shown, resp->error,
		                    tries > 1 ? " (after retries)" : "");
	return 0;
}
