/* HTTP, the one place fidx speaks it: libcurl, loaded when the first
 * client opens (not when a program starts: linked in, it and its TLS and
 * HTTP/2 libraries cost every run about 3 ms of dynamic loading).
 *
 * A client (struct fidx_http) keeps its connections between requests. A
 * request runs alone (fidx_http_do: redirects and retries handled) or with
 * others at once (fidx_http_start, then fidx_http_wait for each to end:
 * what to do with an answer is then the caller's).
 *
 * What every request gets:
 *   - http and https only, TLS verification on, Accept-Encoding: identity
 *     (sizes and ranges are the bytes'), no Expect: 100-continue;
 *   - a connect timeout (10 s), a stall limit (under 1 byte/s for 30 s),
 *     and a limit on the whole request (default 120 s; none for a request
 *     that asks for none, such as a download);
 *   - a cap on a body kept in memory (default 256 MiB): past it the
 *     transfer stops and the request fails as FIDX_HTTP_TOO_BIG;
 *   - redirects never followed by libcurl. fidx_http_do follows them as
 *     huggingface_hub does, when the request asks: a Location on the same
 *     origin (scheme, host and port) keeps the Authorization header, one on
 *     another origin (a CDN) is fetched without it, at most 5 hops, http and
 *     https only. The token goes nowhere but the origin it was given for.
 *   - Retries (fidx_http_do): 408, 429, 500, 502, 503, 504 and network
 *     errors and timeouts, up to policy->retries more attempts, waiting
 *     1, 2, 4, 8, 8 s (times 0.75 to 1, at random) unless the server says
 *     how long (Retry-After, retry-after-ms, or RateLimit's t when r=0);
 *     a wait longer than policy->max_wait fails instead.
 *
 * The token is only ever sent in the Authorization header; it never
 * appears in a message or a log line. */
#ifndef FIDX_IO_HTTP_H
#define FIDX_IO_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct fidx_http_opts {
	long connect_timeout;  /* seconds; 0: 10 */
	long stall_time;       /* seconds under 1 byte/s before giving up; 0: 30 */
	size_t max_body;       /* bytes of a body kept in memory; 0: 256 MiB */
	/* Log lines (requests, retries; never a token), or NULL. */
	void (*log)(void *ctx, const char *line);
	void *ctx;
};

struct fidx_http;

int fidx_http_open(struct fidx_http **h, const struct fidx_http_opts *o, struct fidx_err *err);
void fidx_http_close(struct fidx_http *h);

/* Where a redirect may go (fidx_http_do). */
enum { FIDX_HTTP_NO_REDIRECTS = 0, FIDX_HTTP_REDIRECTS = 1 };

struct fidx_http_req {
	const char *method;          /* NULL: GET, or POST when there is a body */
	const char *url;
	const char *const *headers;  /* NULL-terminated "Name: value" lines, or NULL */
	const char *token;           /* sent as "Authorization: Bearer <token>", or NULL */
	const void *body;            /* sent as it is (not copied: keep it alive) */
	size_t body_len;
	long timeout;                /* seconds for the whole request; 0: 120, -1: none */
	uint64_t range_from;         /* > 0: "Range: bytes=<range_from>-" */
	int redirects;               /* FIDX_HTTP_NO_REDIRECTS or FIDX_HTTP_REDIRECTS */
	/* Sent at most once (a commit): on a connection of its own, as libcurl
	 * sends a request again, unasked, when a reused connection closes
	 * without an answer. */
	int once;
	/* The body of a 2xx answer goes to sink, with the answer's status (a
	 * nonzero return stops the transfer: the request then fails as
	 * FIDX_HTTP_ABORTED), or with sink NULL into the response, up to
	 * max_body bytes; other answers' bodies always go to the response. */
	int (*sink)(void *ctx, long status, const void *p, size_t n);
	void *sink_ctx;
	void *user;                  /* the caller's, handed back by fidx_http_wait */
};

/* Why a request got no answer to use. */
enum fidx_http_failure {
	FIDX_HTTP_OK = 0,        /* an answer came: see status */
	FIDX_HTTP_NETWORK,       /* connection refused or cut, name not found: retryable */
	FIDX_HTTP_TIMEOUT,       /* connect, stall or whole-request limit: retryable */
	FIDX_HTTP_TLS,           /* certificate or TLS failure: not retried */
	FIDX_HTTP_TOO_BIG,       /* the body passed max_body */
	FIDX_HTTP_ABORTED,       /* the sink stopped it */
	FIDX_HTTP_BAD_URL,       /* not an http(s) URL libcurl accepts */
};

#define FIDX_HTTP_MAX_HOPS 6

struct fidx_http_resp {
	int failure;             /* enum fidx_http_failure */
	long status;             /* the final answer's; 0 when none came */
	char error[256];         /* libcurl's words for a failure */
	char *body;              /* NUL-terminated (sink NULL), or NULL */
	size_t len;              /* body bytes received (also with a sink) */
	size_t sunk;             /* of those, the bytes given to the sink */
	char *url;               /* the URL of the final answer */
	/* Header blocks of the answers, the first request's first; the last
	 * is the final answer's. */
	char *hops[FIDX_HTTP_MAX_HOPS];
	size_t nhops;
	int attempts;            /* requests made, retries included */
};

/* The value of header name (case-insensitive) in answer hop (-1: the
 * final one; else 0 .. nhops-1), leading and trailing white space dropped,
 * into out (cap bytes, NUL-terminated); its length, or -1 when absent. */
long fidx_http_header(const struct fidx_http_resp *r, int hop, const char *name, char *out, size_t cap);

/* The wait the final answer asks for, in seconds: retry-after-ms,
 * Retry-After (seconds, not a date), or the RateLimit header's t when its
 * r is 0; -1 when it asks for none. */
double fidx_http_retry_after(const struct fidx_http_resp *r);

/* Whether the answer (or its failure) is worth another attempt: 408, 429,
 * 500, 502, 503, 504, network errors and timeouts. */
int fidx_http_retryable(const struct fidx_http_resp *r);

/* The wait before retry attempt n (1 for the first retry): 1, 2, 4, 8,
 * 8 ... s, times a random 0.75 to 1. */
double fidx_http_backoff(struct fidx_http *h, int attempt);

void fidx_http_resp_free(struct fidx_http_resp *r);

/* ---- one request, redirects and retries handled ---- */

struct fidx_http_retry {
	int retries;     /* further attempts after the first; 0: none */
	double max_wait; /* longest wait a server may ask for; 0: 60 s */
};

/* Runs req to its end: follows redirects if req->redirects says so, and
 * retries what can be retried (policy NULL: never; a request whose sink got
 * bytes is never retried: resuming is the caller's; an error answer's body
 * is not the sink's and does not count). Returns 0 with resp
 * filled when an answer came, whatever its status; a negative code with err
 * filled when none did: FIDX_EAPI after the retries (a network error, a
 * timeout, or a wait longer than policy allows; the message names the URL,
 * never a token), FIDX_EINPUT for a bad URL, FIDX_ENOMEM. resp is filled
 * either way; free it with fidx_http_resp_free. */
int fidx_http_do(struct fidx_http *h, const struct fidx_http_req *req, const struct fidx_http_retry *policy,
                 struct fidx_http_resp *resp, struct fidx_err *err);

/* ---- several requests at once ---- */

/* Starts req (copied, but not what it points to: keep those alive until it
 * ends). Redirects are not followed. */
int fidx_http_start(struct fidx_http *h, const struct fidx_http_req *req, struct fidx_err *err);
/* Drops every request started and not yet ended. */
void fidx_http_cancel(struct fidx_http *h);
/* Requests started and not yet ended. */
size_t fidx_http_active(const struct fidx_http *h);
/* Waits at most timeout_ms for a started request to end. Returns 1 with
 * its user pointer and its response (free it), 0 when none ended in time,
 * or a negative fidx_code. */
int fidx_http_wait(struct fidx_http *h, int timeout_ms, void **user, struct fidx_http_resp *resp,
                   struct fidx_err *err);

/* Seconds of the monotonic clock, for callers that schedule retries. */
double fidx_http_now(void);

/* Sleeps for a wait between attempts. Test builds (FIDX_TEST_HOOKS) scale
 * every such wait, fidx_http_do's included, by FIDX_TEST_HTTP_WAIT (e.g.
 * 0.01), so that tests of retries take milliseconds. */
void fidx_http_pause(double seconds);

/* Requests h has sent so far: every attempt and every redirect counted. */
unsigned long long fidx_http_requests(const struct fidx_http *h);

/* Whether two absolute http(s) URLs share scheme, host and port (the
 * default port counted as given): where a token given for one may go.
 * Only once a client has been opened (libcurl is loaded then). */
int fidx_http_same_origin(const char *a, const char *b);

#endif
