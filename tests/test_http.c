/* io/http/http.c against two small servers run by this test on 127.0.0.1
 * (an origin and a "CDN" on another port): redirects keep the token on
 * the origin and drop it elsewhere, headers of every hop are kept,
 * retries follow the status and the server's wait, bodies are capped, and
 * a sink gets 2xx bodies with their status. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"

#define TOKEN "hf_test_token_0123456789"

struct server {
	int fd, port;
	pthread_t thread;
	pthread_mutex_t lock;
	char log[8192]; /* "PATH auth|noauth\n" per request */
	int hits_503;   /* /flaky: answers 503 this many times first */
	int other_port; /* the CDN's, for absolute redirects */
};

static struct server origin, cdn;

static void record(struct server *s, const char *path, int auth)
{
	pthread_mutex_lock(&s->lock);
	snprintf(s->log + strlen(s->log), sizeof s->log - strlen(s->log), "%s %s\n", path, auth ? "auth" : "noauth");
	pthread_mutex_unlock(&s->lock);
}

static void answer(int c, const char *status, const char *headers, const char *body)
{
	char out[4096];
	int n = snprintf(out, sizeof out, "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n%s", status,
	                 strlen(body), headers, body);
	if (write(c, out, (size_t)n) < 0)
		return;
}

static void serve(struct server *s, int c)
{
	char req[8192] = "", path[512] = "";
	size_t len = 0;
	int auth;
	while (len < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
		ssize_t got = read(c, req + len, sizeof req - 1 - len);
		if (got <= 0)
			return;
		len += (size_t)got;
		req[len] = '\0';
	}
	sscanf(req, "%*s %511s", path);
	auth = strstr(req, "Authorization: Bearer " TOKEN) != NULL;
	record(s, path, auth);
	if (s == &cdn) {
		if (auth)
			answer(c, "403 Forbidden", "", "no Authorization here");
		else if (strstr(req, "Range: bytes=4-"))
			answer(c, "206 Partial Content", "Content-Range: bytes 4-9/10\r\n", "456789");
		else
			answer(c, "200 OK", "ETag: \"cdn-etag\"\r\n", "0123456789");
	} else if (strcmp(path, "/rel") == 0) {
		answer(c, "307 Temporary Redirect", "Location: /final?x=1\r\n", "");
	} else if (strcmp(path, "/final?x=1") == 0) {
		answer(c, "200 OK", "X-Repo-Commit: abc\r\n", "final");
	} else if (strcmp(path, "/lfs") == 0) {
		char h[256];
		snprintf(h, sizeof h, "Location: http://127.0.0.1:%d/blob?sig=secret\r\nX-Linked-Etag: \"sha\"\r\nX-Linked-Size: 10\r\n",
		         s->other_port);
		answer(c, "302 Found", h, "");
	} else if (strcmp(path, "/flaky") == 0) {
		if (s->hits_503-- > 0)
			answer(c, "503 Service Unavailable", "", "busy");
		else
			answer(c, "200 OK", "", "ok");
	} else if (strcmp(path, "/limited") == 0) {
		answer(c, "429 Too Many Requests", "RateLimit: \"api\";r=0;t=3600\r\n", "slow down");
	} else if (strcmp(path, "/big") == 0) {
		char body[3000];
		memset(body, 'x', sizeof body - 1);
		body[sizeof body - 1] = '\0';
		answer(c, "200 OK", "", body);
	} else {
		answer(c, "404 Not Found", "X-Error-Code: EntryNotFound\r\n", "{\"error\": \"no\"}");
	}
}

static void *run(void *arg)
{
	struct server *s = arg;
	for (;;) {
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			return NULL;
		serve(s, c);
		close(c);
	}
}

static void listen_on(struct server *s)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s->fd, 16), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	pthread_mutex_init(&s->lock, NULL);
	assert_int_equal(pthread_create(&s->thread, NULL, run, s), 0);
}

static int setup(void **state)
{
	(void)state;
	listen_on(&origin);
	listen_on(&cdn);
	origin.other_port = cdn.port;
	return 0;
}

static void clear_logs(void)
{
	origin.log[0] = cdn.log[0] = '\0';
}

static char *url(struct server *s, const char *path)
{
	static char buf[4][128];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "http://127.0.0.1:%d%s", s->port, path);
	return buf[k];
}

static void test_relative_redirect_keeps_the_token(void **state)
{
	struct fidx_http *h;
	struct fidx_http_req req = {0};
	struct fidx_http_resp resp;
	struct fidx_err err = {0};
	char v[64];
	(void)state;
	clear_logs();
	assert_int_equal(fidx_http_open(&h, NULL, &err), 0);
	req.url = url(&origin, "/rel");
	req.token = TOKEN;
	req.redirects = FIDX_HTTP_REDIRECTS;
	assert_int_equal(fidx_http_do(h, &req, NULL, &resp, &err), 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.body, "final");
	assert_int_equal(resp.nhops, 2);
	assert_true(fidx_http_header(&resp, -1, "x-repo-commit", v, sizeof v) == 3 && strcmp(v, "abc") == 0);
	assert_true(fidx_http_header(&resp, 0, "Location", v, sizeof v) > 0 && strcmp(v, "/final?x=1") == 0);
	assert_string_equal(origin.log, "/rel auth\n/final?x=1 auth\n");
	fidx_http_resp_free(&resp);
	fidx_http_close(h);
}

static void test_redirect_to_another_origin_drops_the_token(void **state)
{
	struct fidx_http *h;
	struct fidx_http_req req = {0};
	struct fidx_http_resp resp;
	struct fidx_err err = {0};
	char v[64];
	(void)state;
	clear_logs();
	assert_int_equal(fidx_http_open(&h, NULL, &err), 0);
	req.url = url(&origin, "/lfs");
	req.token = TOKEN;
	req.redirects = FIDX_HTTP_REDIRECTS;
	assert_int_equal(fidx_http_do(h, &req, NULL, &resp, &err), 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.body, "0123456789");
	/* The metadata is on the redirect, the CDN has its own ETag. */
	assert_true(fidx_http_header(&resp, 0, "X-Linked-Etag", v, sizeof v) > 0 && strcmp(v, "\"sha\"") == 0);
	assert_true(fidx_http_header(&resp, -1, "ETag", v, sizeof v) > 0 && strcmp(v, "\"cdn-etag\"") == 0);
	assert_int_equal(fidx_http_header(&resp, -1, "X-Linked-Etag", v, sizeof v), -1);
	assert_string_equal(origin.log, "/lfs auth\n");
	assert_string_equal(cdn.log, "/blob?sig=secret noauth\n");
	fidx_http_resp_free(&resp);
	/* Without following, the caller sees the 302. */
	req.redirects = FIDX_HTTP_NO_REDIRECTS;
	assert_int_equal(fidx_http_do(h, &req, NULL, &resp, &err), 0);
	assert_int_equal(resp.status, 302);
	fidx_http_resp_free(&resp);
	fidx_http_close(h);
}

static int sink_status;
static char sunk[64];

static int sink(void *ctx, long status, const void *p, size_t n)
{
	(void)ctx;
	sink_status = (int)status;
	strncat(sunk, p, n < sizeof sunk - 1 - strlen(sunk) ? n : sizeof sunk - 1 - strlen(sunk));
	return 0;
}

static void test_range_and_sink(void **state)
{
	struct fidx_http *h;
	struct fidx_http_req req = {0};
	struct fidx_http_resp resp;
	struct fidx_err err = {0};
	(void)state;
	assert_int_equal(fidx_http_open(&h, NULL, &err), 0);
	req.url = url(&cdn, "/blob");
	req.range_from = 4;
	req.sink = sink;
	sunk[0] = '\0';
	assert_int_equal(fidx_http_do(h, &req, NULL, &resp, &err), 0);
	assert_int_equal(resp.status, 206);
	assert_int_equal(sink_status, 206);
	assert_string_equal(sunk, "456789");
	assert_int_equal(resp.len, 6);
	assert_null(resp.body);
	fidx_http_resp_free(&resp);
	/* An error's body goes to the response, not the sink. */
	sunk[0] = '\0';
	req.url = url(&origin, "/nothing");
	req.range_from = 0;
	assert_int_equal(fidx_http_do(h, &req, NULL, &resp, &err), 0);
	assert_int_equal(resp.status, 404);
	assert_string_equal(sunk, "");
	assert_string_equal(resp.body, "{\"error\": \"no\"}");
	fidx_http_resp_free(&resp);
	fidx_http_close(h);
}

static void test_retries(void **state)
{
	struct fidx_http *h;
	struct fidx_http_req req = {0};
	struct fidx_http_resp resp;
	struct fidx_http_retry policy = {5, 60};
	struct fidx_err err = {0};
	(void)state;
	assert_int_equal(fidx_http_open(&h, NULL, &err), 0);
	origin.hits_503 = 2;
	req.url = url(&origin, "/flaky");
	assert_int_equal(fidx_http_do(h, &req, &policy, &resp, &err), 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.attempts, 3);
	fidx_http_resp_free(&resp);
	/* No retries asked: the first answer. */
	origin.hits_503 = 1;
	assert_int_equal(fidx_http_do(h, &req, NULL, &resp, &err), 0);
	assert_int_equal(resp.status, 503);
	assert_int_equal(resp.attempts, 1);
	fidx_http_resp_free(&resp);
	/* A wait longer than allowed fails at once, naming the URL only. */
	req.url = url(&origin, "/limited");
	req.token = TOKEN;
	assert_int_equal(fidx_http_do(h, &req, &policy, &resp, &err), FIDX_EAPI);
	assert_non_null(strstr(err.msg, "/limited: HTTP 429, and the server asks to wait 3600 s"));
	assert_null(strstr(err.msg, TOKEN));
	assert_int_equal(resp.attempts, 1);
	fidx_http_resp_free(&resp);
	fidx_http_close(h);
}

static void test_body_cap(void **state)
{
	struct fidx_http *h;
	struct fidx_http_opts o = {0};
	struct fidx_http_req req = {0};
	struct fidx_http_resp resp;
	struct fidx_err err = {0};
	(void)state;
	o.max_body = 1000;
	assert_int_equal(fidx_http_open(&h, &o, &err), 0);
	req.url = url(&origin, "/big");
	assert_int_equal(fidx_http_do(h, &req, NULL, &resp, &err), FIDX_EAPI);
	assert_int_equal(resp.failure, FIDX_HTTP_TOO_BIG);
	fidx_http_resp_free(&resp);
	fidx_http_close(h);
}

static void test_headers_and_waits(void **state)
{
	struct fidx_http_resp r;
	char v[32];
	(void)state;
	memset(&r, 0, sizeof r);
	r.hops[0] = strdup("HTTP/1.1 429 Too Many\r\nratelimit: \"api\";r=0;t=7\r\nX-A:  spaced  \r\n\r\n");
	r.nhops = 1;
	r.status = 429;
	assert_true(fidx_http_retry_after(&r) == 7);
	assert_int_equal(fidx_http_header(&r, -1, "x-a", v, sizeof v), 6);
	assert_string_equal(v, "spaced");
	assert_true(fidx_http_retryable(&r));
	free(r.hops[0]);
	r.hops[0] = strdup("HTTP/1.1 503 x\r\nRetry-After: 2\r\nRateLimit: \"api\";r=5;t=9\r\n\r\n");
	assert_true(fidx_http_retry_after(&r) == 2);
	free(r.hops[0]);
	r.hops[0] = strdup("HTTP/1.1 503 x\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n");
	assert_true(fidx_http_retry_after(&r) == -1);
	free(r.hops[0]);
	r.status = 404;
	r.nhops = 0;
	assert_false(fidx_http_retryable(&r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relative_redirect_keeps_the_token),
		cmocka_unit_test(test_redirect_to_another_origin_drops_the_token),
		cmocka_unit_test(test_range_and_sink),
		cmocka_unit_test(test_retries),
		cmocka_unit_test(test_body_cap),
		cmocka_unit_test(test_headers_and_waits),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
