#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads a small file whole; returns 0, 1 when it does not exist, or a
 * negative code. */
static int read_small(const char *path, char **out, struct fidx_err *err)
{
	char buf[4096];
	ssize_t got;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return errno == ENOENT ? 1 : fidx_err_sys(err, FIDX_EINPUT, errno, "token file %s", path);
	while ((got = read(fd, buf + n, sizeof buf - 1 - n)) > 0 || (got < 0 && errno == EINTR))
		if (got > 0)
			n += (size_t)got;
	close(fd);
	if (got < 0) {
		explicit_bzero(buf, sizeof buf);
		return fidx_err_sys(err, FIDX_EINPUT, errno, "token file %s", path);
	}
	if (n == sizeof buf - 1) {
		explicit_bzero(buf, sizeof buf);
		return fidx_err_set(err, FIDX_EINPUT, "token file %s is larger than %zu bytes: not a token",
		                    path, sizeof buf - 2);
	}
	buf[n] = '\0';
	*out = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	return *out ? 0 : fidx_err_nomem(err);
}

/* Drops white space around the token in place; frees it when empty. */
static char *trim(char *t)
{
	size_t a = 0, n;
	if (!t)
		return NULL;
	n = strlen(t);
	while (a < n && (t[a] == ' ' || t[a] == '\t' || t[a] == '\n' || t[a] == '\r'))
		a++;
	while (n > a && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\n' || t[n - 1] == '\r'))
		n--;
	memmove(t, t + a, n - a);
	explicit_bzero(t + (n - a), strlen(t + (n - a)));
	t[n - a] = '\0';
	if (!t[0]) {
		free(t);
		return NULL;
	}
	return t;
}

/* Trims the token read from `from`; refuses one that cannot go in an HTTP
 * header as it is (control characters or spaces inside would let a file
 * inject headers). The message names where it came from, never its bytes. */
static int finish_token(char **token, const char *from, struct fidx_err *err)
{
	const char *p;
	*token = trim(*token);
	for (p = *token; p && *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			fidx_token_free(*token);
			*token = NULL;
			return fidx_err_set(err, FIDX_EINPUT,
			                    "the API token from %s has a space or a character that is not "
			                    "printable ASCII inside it; a token is one word",
			                    from);
		}
	}
	return 0;
}

static int token_from_env(const char *name, char **token, struct fidx_err *err)
{
	const char *env = getenv(name);
	if (!env || !*env)
		return 1;
	if (!(*token = strdup(env)))
		return fidx_err_nomem(err);
	return finish_token(token, name, err);
}

int fidx_token_hf_path(char *path, size_t cap)
{
	const char *env;
	if ((env = getenv("HF_TOKEN_PATH")) && *env)
		snprintf(path, cap, "%s", env);
	else if ((env = getenv("HF_HOME")) && *env)
		snprintf(path, cap, "%s/token", env);
	else if ((env = getenv("XDG_CACHE_HOME")) && *env)
		snprintf(path, cap, "%s/huggingface/token", env);
	else if ((env = getenv("HOME")) && *env)
		snprintf(path, cap, "%s/.cache/huggingface/token", env);
	else
		return 1;
	return 0;
}

int fidx_token_find(const char *token_file, const char *env, char **token, struct fidx_err *err)
{
	char path[4096];
	int rc;

	*token = NULL;
	if (token_file) {
		rc = read_small(token_file, token, err);
		if (rc == 1)
			return fidx_err_set(err, FIDX_EINPUT, "token file %s: No such file or directory", token_file);
		return rc ? rc : finish_token(token, token_file, err);
	}
	if (env)
		return (rc = token_from_env(env, token, err)) == 1 ? 0 : rc;
	if ((rc = token_from_env("HF_TOKEN", token, err)) != 1 ||
	    (rc = token_from_env("HUGGING_FACE_HUB_TOKEN", token, err)) != 1)
		return rc;
	if (fidx_token_hf_path(path, sizeof path))
		return 0;
	rc = read_small(path, token, err);
	if (rc == 1)
		return 0;
	return rc ? rc : finish_token(token, path, err);
}

void fidx_token_free(char *token)
{
	if (!token)
		return;
	explicit_bzero(token, strlen(token));
	free(token);
}
