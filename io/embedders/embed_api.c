/* The "api" embedder: texts to vectors through an HTTP embedding API
 * (io/embedders/api.h), with several requests in flight (io/http/http.h).
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
#include <math.h>
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
#include "http.h"
#include "token.h"
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
	int busy;
	struct batch *b;
	char *body;
	double started;
};

struct fidx_api_client {
	char *url, *model;
	int format;
	const char *format_name;
	size_t dim; /* 0 until the first answer, unless given */
	char *token; /* or NULL */
	size_t batch, concurrency;
	int retries;
	double timeout;
	size_t expected;
	void (*progress)(void *ctx, const struct fidx_embed_progress *p);
	void (*log)(void *ctx, const char *line);
	void *ctx;
	unsigned long long seed;
	struct fidx_embed_stats stats;
	double t0; /* when the first text was asked for: --timeout counts from there */
	struct fidx_http *http; /* one for the client's life: its connections are reused */
};

static double now_s(void)
{
	return fidx_http_now();
}

#define logf_(c, ...) fidx_logf((c)->log, (c)->ctx, __VA_ARGS__)

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

/* The model a TEI server runs: GET <base>/info's model_id; NULL when the
 * server does not say (or cannot be asked). */
static char *tei_model(const struct fidx_api_client *c)
{
	struct fidx_http_req req;
	struct fidx_http_resp resp;
	size_t ulen = strlen(c->url);
	char *url = malloc(ulen + 8), *model = NULL;

	if (!url)
		return NULL;
	memcpy(url, c->url, ulen + 1);
	if (ulen >= 6 && strcmp(url + ulen - 6, "/embed") == 0)
		url[ulen - 6] = '\0';
	strcat(url, "/info");
	memset(&req, 0, sizeof req);
	req.url = url;
	req.token = c->token;
	req.timeout = 20;
	if (fidx_http_do(c->http, &req, NULL, &resp, NULL) == 0 && resp.status == 200 && resp.body)
		model = fidx_api_info_model(resp.body, resp.len);
	fidx_http_resp_free(&resp);
	free(url);
	return model;
}

/* Which model the vectors come from: it is recorded in the index and keys
 * the cache, so it must name what the server really runs.
 *   hf      the model in the URL (.../models/<id>/pipeline/...); --model
 *           must agree with it. A URL without one (a dedicated endpoint)
 *           takes --model, else the URL itself names the model.
 *   tei     --model, else what GET /info says, else the URL.
 *   openai  --model (sent with every request), else the default. */
static int settle_model(struct fidx_api_client *c, const char *model, struct fidx_err *err)
{
	char *in_url = c->format == FIDX_API_HF ? fidx_api_hf_model(c->url) : NULL;
	if (in_url && model && strcmp(in_url, model) != 0) {
		int rc = fidx_err_set(err, FIDX_EINPUT, FIDX_SETTING("model") " %s and the API URL's model %s differ", model,
		                      in_url);
		free(in_url);
		return rc;
	}
	if (in_url)
		c->model = in_url;
	else if (model)
		c->model = strdup(model);
	else if (c->format == FIDX_API_OPENAI)
		c->model = strdup(FIDX_API_DEFAULT_MODEL);
	else if (!(c->format == FIDX_API_TEI && (c->model = tei_model(c))))
		c->model = strdup(c->url);
	return c->model ? 0 : fidx_err_nomem(err);
}

static void client_close(void *state);

/* A setting that is a whole number, or dflt when it is not set. */
static int setting_size(const struct fidx_params *p, const char *key, size_t dflt, size_t *out, struct fidx_err *err)
{
	const char *v = fidx_params_get(p, key);
	char *end;
	unsigned long long n;
	if (!v) {
		*out = dflt;
		return 0;
	}
	n = strtoull(v, &end, 10);
	if (end == v || *end || n > (1ull << 40))
		return fidx_err_set(err, FIDX_EINPUT, "the API embedder's %s is not a whole number: \"%s\"", key, v);
	*out = (size_t)n;
	return 0;
}

static int client_open(void **state, const struct fidx_embed_config *cfg, struct fidx_err *err)
{
	const struct fidx_params *p = &cfg->params;
	const char *url = fidx_params_get(p, "url"), *model = fidx_params_get(p, "model");
	const char *format = fidx_params_get(p, "format");
	struct fidx_api_client *c;
	char *token = NULL;
	size_t retries = 5, timeout = 0;
	int rc;

	c = calloc(1, sizeof *c);
	if (!c)
		return fidx_err_nomem(err);
	c->progress = cfg->progress;
	c->log = cfg->log;
	c->ctx = cfg->ctx;
	c->expected = cfg->expected;
	c->url = url ? strdup(url) : fidx_api_hf_url(NULL, model ? model : FIDX_API_DEFAULT_MODEL);
	if (!c->url) {
		client_close(c);
		return fidx_err_nomem(err);
	}
	if (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0) {
		rc = fidx_err_set(err, FIDX_EINPUT, "the API URL must start with http:// or https://");
		client_close(c);
		return rc;
	}
	if (!url && offline()) {
		rc = fidx_err_set(err, FIDX_EINPUT, "HF_HUB_OFFLINE is set, and the Hugging Face Inference API "
		                  "needs the network: unset it, or give a local server with " FIDX_SETTING("api_url"));
		client_close(c);
		return rc;
	}
	if (has_userinfo(c->url)) {
		/* It would be recorded in the index and shown in messages. */
		rc = fidx_err_set(err, FIDX_EINPUT, "the API URL has a user name or password in it; "
		                  "give the token with " FIDX_SETTING("token_file") " or the environment instead");
		client_close(c);
		return rc;
	}
	c->format = format ? fidx_api_format_parse(format) : fidx_api_format_of(c->url);
	if (!c->format) {
		rc = fidx_err_set(err, FIDX_EINPUT, "unknown API format \"%s\" (hf, tei or openai)", format);
		client_close(c);
		return rc;
	}
	c->format_name = fidx_api_format_name(c->format);
	if ((rc = setting_size(p, "dim", 0, &c->dim, err)) != 0 ||
	    (rc = setting_size(p, "batch", 32, &c->batch, err)) != 0 ||
	    (rc = setting_size(p, "concurrency", 4, &c->concurrency, err)) != 0 ||
	    (rc = setting_size(p, "retries", 5, &retries, err)) != 0 ||
	    (rc = setting_size(p, "timeout", 0, &timeout, err)) != 0) {
		client_close(c);
		return rc;
	}
	if (c->dim > FIDX_EMBED_MAX_DIM || !c->batch || !c->concurrency) {
		rc = fidx_err_set(err, FIDX_EINPUT, "the API embedder's dim, batch or concurrency is out of range");
		client_close(c);
		return rc;
	}
	c->retries = (int)(retries > 100 ? 100 : retries);
	c->timeout = (double)timeout;
	{
		struct fidx_http_opts ho = {0};
		ho.stall_time = low_speed_time();
		ho.log = cfg->log;
		ho.ctx = cfg->ctx;
		if ((rc = fidx_http_open(&c->http, &ho, err)) != 0) {
			client_close(c);
			return rc;
		}
	}
	c->seed = (unsigned long long)now_s() * 1000003ull ^ (unsigned long long)(uintptr_t)c;
	if ((rc = fidx_token_find(fidx_params_get(p, "token_file"), c->format == FIDX_API_HF ? NULL : "FIDX_API_TOKEN", &token,
	                          err)) != 0) {
		client_close(c);
		return rc;
	}
	if (token) {
		/* Keep the token out of core dumps and /proc/<pid>/mem readers. */
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		c->token = token;
	}
	if ((rc = settle_model(c, model, err)) != 0) {
		client_close(c);
		return rc;
	}
	*state = c;
	return 0;
}

static void client_close(void *state)
{
	struct fidx_api_client *c = state;
	if (!c)
		return;
	fidx_token_free(c->token);
	fidx_http_close(c->http);
	free(c->url);
	free(c->model);
	free(c);
}

static void client_identity(void *state, struct fidx_params *id)
{
	struct fidx_api_client *c = state;
	fidx_params_set(id, "model", c->model);
	fidx_params_set(id, "url", c->url);
	fidx_params_set(id, "format", c->format_name);
}

static size_t client_dim(void *state)
{
	return ((struct fidx_api_client *)state)->dim;
}

/* Texts worth handing over per call: enough batches that the requests in
 * flight rarely wait for the end of a call. */
static size_t client_chunk(void *state)
{
	struct fidx_api_client *c = state;
	return c->batch * c->concurrency * 8;
}

static void client_stats(void *state, struct fidx_embed_stats *s)
{
	*s = ((struct fidx_api_client *)state)->stats;
}

static void request_free(struct request *r)
{
	if (r->body) {
		explicit_bzero(r->body, strlen(r->body));
		free(r->body);
	}
	memset(r, 0, sizeof *r);
}

static int start(struct fidx_api_client *c, struct request *r, struct batch *b, const char *const *texts,
                 const size_t *lens, struct fidx_err *err)
{
	static const char *const headers[] = {"Content-Type: application/json", "Accept: application/json", NULL};
	struct fidx_http_req req;
	int rc;

	memset(r, 0, sizeof *r);
	r->b = b;
	if (!(r->body = fidx_api_request(c->format, c->model, texts + b->first, lens + b->first, b->count)))
		return fidx_err_nomem(err);
	memset(&req, 0, sizeof req);
	req.url = c->url;
	req.headers = headers;
	req.token = c->token;
	req.body = r->body;
	req.body_len = strlen(r->body);
	req.user = r;
	/* Each request is cut after two minutes; a stall, after the client's
	 * stall time. */
	req.timeout = 120;
	if ((rc = fidx_http_start(c->http, &req, err)) != 0) {
		request_free(r);
		return rc;
	}
	r->busy = 1;
	r->started = now_s();
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

/* Embeds texts[0..n) into out (n * *dim floats, L2-normalized). *dim may
 * be 0 only for n == 1 with room for FIDX_EMBED_MAX_DIM floats: it is then
 * set from the answer. On failure, *bad (when not NULL) is the index of the
 * first text of the batch that failed, or SIZE_MAX when the failure is not
 * one batch's (the job's time ran out, no memory). */
static int client_embed(void *state, const char *const *texts, const size_t *lens, size_t n, size_t *dim,
                        float *out, size_t *bad, const struct fidx_embed_sink *sink, struct fidx_err *err)
{
	struct fidx_api_client *c = state;
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
	/* Said before any request rather than learned from a 401 (or, offline,
	 * from a name that does not resolve). */
	if (!c->token && fidx_api_needs_token(c->url))
		return fidx_api_no_token(c->format, err);
	call_start = now_s();
	if (!c->t0)
		c->t0 = call_start;
	deadline = c->timeout > 0 ? c->t0 + c->timeout : HUGE_VAL;
	/* Every text goes (the cache, if any, is the embedder interface's). */
	if (!(miss = malloc(n * sizeof *miss)) || !(mtexts = malloc(n * sizeof *mtexts)) ||
	    !(mlens = malloc(n * sizeof *mlens))) {
		rc = fidx_err_nomem(err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		miss[nmiss] = i;
		mtexts[nmiss] = texts[i];
		mlens[nmiss] = lens[i];
		nmiss++;
	}
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
		struct fidx_http_resp resp;
		void *user;
		int got, first = 1;
		double now = now_s(), wake = 0.25;
		if (now > deadline) {
			rc = fidx_err_set(err, FIDX_EAPI, "%s: gave up after %.0f s (" FIDX_SETTING("timeout") ") with %zu texts embedded",
			                  c->url, c->timeout, c->stats.cached + c->stats.embedded);
			break;
		}
		/* Start what may start. */
		for (i = 0; i < c->concurrency && queue; i++) {
			struct batch **p = &queue;
			if (slots[i].busy)
				continue;
			while (*p && (*p)->not_before > now)
				p = &(*p)->next;
			if (!*p)
				break;
			b = *p;
			*p = b->next;
			if ((rc = start(c, &slots[i], b, mtexts, mlens, err)) != 0) {
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
		/* Wait for an answer (or the next batch due), then handle every
		 * one that ended before waiting again: a finished request must not
		 * sit behind a wait with its slot empty. */
		while (!rc && (got = fidx_http_wait(c->http, first ? (int)(wake * 1000) + 1 : 0, &user, &resp, err)) != 0) {
			struct request *r = user;
			long status = resp.status;
			const char *body = resp.body ? resp.body : "";
			char name[96], what[300];
			double wait = -1;
			int retry = 0, loading = 0;
			first = 0;
			if (got < 0) {
				rc = got;
				break;
			}
			b = r->b;
			if (bad)
				*bad = miss[b->first]; /* kept only if this answer fails the job */
			batch_name(b, name, sizeof name);
			if (resp.failure != FIDX_HTTP_OK) {
				if (resp.failure == FIDX_HTTP_TOO_BIG) {
					rc = fidx_err_set(err, FIDX_EAPI, "%s: %s: the response is larger than %u MB",
					                  c->url, name, MAX_RESPONSE >> 20);
				} else if (resp.failure == FIDX_HTTP_BAD_URL || resp.failure == FIDX_HTTP_TLS) {
					rc = fidx_err_set(err, FIDX_EAPI, "%s: %s", c->url, resp.error);
				} else {
					retry = 1;
					snprintf(what, sizeof what, "%s", resp.error);
				}
			} else if (status == 200) {
				float *vecs = NULL;
				size_t d = *dim, k;
				if ((rc = fidx_api_parse(c->format, body, resp.len, b->count, &d,
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
					if (sink)
						sink->row(sink->ctx, miss[b->first + k], dst, d);
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
				fidx_api_error_message(body, resp.len, what, sizeof what);
				if (status == 503 && (wait = fidx_api_estimated_time(body, resp.len)) >= 0) {
					/* The model is loading: wait as long as it says, at
					 * least a second, at most MAX_WAIT, then ask again. */
					retry = loading = 1;
					wait = wait < 1 ? 1 : wait > MAX_WAIT ? MAX_WAIT : wait;
				} else if (status == 429 || status == 408 || status >= 500) {
					double asked = fidx_http_retry_after(&resp);
					retry = 1;
					if (asked >= 0) {
						if (asked > MAX_WAIT)
							rc = fidx_err_set(err, FIDX_EAPI,
							                  "%s: %s: HTTP %ld, and the server asks to wait %.0f s (more than %.0f s): %s",
							                  c->url, name, status, asked, MAX_WAIT, what);
						wait = asked;
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
					                  "feature-extraction (the default of " FIDX_SETTING("api_url") ") (%s)",
					                  c->url, FIDX_API_ROUTER, what);
				} else if (status >= 300 && status < 400) {
					char loc[1024];
					rc = fidx_err_set(err, FIDX_EAPI, "%s: HTTP %ld: the server redirects to %s; "
					                  "fidx does not follow redirects: give that URL with " FIDX_SETTING("api_url"),
					                  c->url, status,
					                  fidx_http_header(&resp, -1, "Location", loc, sizeof loc) > 0 ? loc
					                                                                               : "another address");
				} else {
					rc = fidx_err_set(err, FIDX_EAPI, "%s: %s: HTTP %ld: %s%s", c->url, name, status, what,
					                  status == 401 || status == 403
					                      ? " (check the token: HF_TOKEN, the Hugging Face token file, or " FIDX_SETTING("token_file") ")"
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
			fidx_http_resp_free(&resp);
			request_free(r);
			active--;
		}
		if (c->progress && (now_s() - last_progress > 0.25 || done == nmiss)) {
			struct fidx_embed_progress p = {c->stats.embedded, c->expected, c->stats.retries, now_s() - c->t0};
			c->progress(c->ctx, &p);
			last_progress = now_s();
		}
	}
out:
	if (slots) {
		/* Requests still in flight (after a failure) are dropped. */
		fidx_http_cancel(c->http);
		for (i = 0; i < c->concurrency; i++) {
			if (slots[i].busy) {
				free(slots[i].b);
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
	if (rc == 0 && !c->dim)
		c->dim = *dim;
	return rc;
}

const struct fidx_embedder_ops fidx_embedder_api = {
	.name = FIDX_API_EMBEDDER,
	.flags = FIDX_EMBEDDER_CACHE,
	.open = client_open,
	.identity = client_identity,
	.dim = client_dim,
	.embed = client_embed,
	.chunk = client_chunk,
	.stats = client_stats,
	.close = client_close,
};
