/* libFuzzer target for what the Hugging Face Hub says and hf:// URLs
 * (io/hub/wire.h, io/hub/uri.h):
 *   clang -fsanitize=fuzzer,address,undefined -Iio/core -Iio/hub io/core/error.c io/hub/uri.c \
 *         io/hub/wire.c tests/fuzz/fuzz_hub.c -lcjson -lm -o fuzz_hub
 *   ./fuzz_hub -max_total_time=60 NEW_CORPUS_DIR tests/fuzz/corpus/hub
 * The first byte picks the parser ('0' a tree page, '1' a cached tree
 * listing, '2' repository info, '3' a Link header, '4' an hf:// URL, '5' an
 * error answer: the next two bytes its status), the rest is the input. What
 * is accepted must be safe to use (paths inside the repository, ids of hex
 * digits, sizes below 2^53; a URL that writes back to itself), what is
 * refused a clean error without control characters. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "uri.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(int rc, const struct fidx_err *err, int a, int b)
{
	size_t i;
	if (err->code != rc || (rc != a && rc != b && rc != FIDX_ENOMEM) || !memchr(err->msg, 0, sizeof err->msg) ||
	    !err->msg[0])
		abort();
	for (i = 0; err->msg[i]; i++)
		if ((unsigned char)err->msg[i] < 0x20) /* the Hub's bytes must not drive the terminal */
			abort();
}

static void check_tree(const struct fidx_hub_tree *t)
{
	size_t i;
	const char *why;
	for (i = 0; i < t->n; i++) {
		const struct fidx_hub_entry *e = &t->v[i];
		if (fidx_hub_path_ok(e->path, strlen(e->path), &why) != 0 || strlen(e->oid) != 40 ||
		    !fidx_hub_is_hex(e->oid, 40) || (e->lfs[0] && !fidx_hub_is_hex(e->lfs, 64)) ||
		    e->size >= (1ull << 53) || (i && strcmp(t->v[i - 1].path, e->path) >= 0) ||
		    fidx_hub_tree_find(t, e->path) != e)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fidx_err err;
	struct fidx_hub_tree t, back;
	char *s, *out = NULL, sha[41];
	int mode, rc;

	if (size < 1)
		return 0;
	mode = data[0] % 6;
	data++;
	size--;
	memset(&err, 0, sizeof err);
	memset(&t, 0, sizeof t);
	if (!(s = malloc(size + 1)))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	switch (mode) {
	case 0:
		rc = fidx_hub_tree_parse(s, size, "page", &t, &err);
		if (rc == 0 && (rc = fidx_hub_tree_finish(&t, "page", &err)) == 0) {
			check_tree(&t);
			/* the cache's form of it reads back the same */
			if ((out = fidx_hub_tree_cache_format(&t)) != NULL) {
				if (fidx_hub_tree_cache_parse(out, strlen(out), "cache", &back, &err) != 1 || back.n != t.n)
					abort();
				fidx_hub_tree_free(&back);
			}
		}
		if (rc)
			check_error(rc, &err, FIDX_EAPI, FIDX_EAPI);
		fidx_hub_tree_free(&t);
		break;
	case 1:
		rc = fidx_hub_tree_cache_parse(s, size, "cache", &t, &err);
		if (rc == 1)
			check_tree(&t);
		else if (rc < 0)
			check_error(rc, &err, FIDX_EAPI, FIDX_EAPI);
		fidx_hub_tree_free(&t);
		break;
	case 2:
		rc = fidx_hub_info_parse(s, size, "info", sha, &err);
		if (rc == 0 && (strlen(sha) != 40 || !fidx_hub_is_hex(sha, 40)))
			abort();
		if (rc)
			check_error(rc, &err, FIDX_EAPI, FIDX_EAPI);
		break;
	case 3:
		rc = fidx_hub_link_next(s, &out, &err);
		if (rc == 1 && (!out || strchr(out, '>') || strlen(out) > size))
			abort();
		if (rc != 1 && out)
			abort();
		break;
	case 4: {
		struct fidx_hf_uri u, v;
		rc = fidx_hf_uri_parse(s, &u, &err);
		if (rc == 0) {
			/* written back, it reads the same */
			out = fidx_hf_uri_format(u.repo, u.revision, u.path);
			if (out) {
				if (fidx_hf_uri_parse(out, &v, &err) != 0 || strcmp(u.repo, v.repo) != 0 ||
				    strcmp(u.path, v.path) != 0 || (!u.revision != !v.revision) ||
				    (u.revision && strcmp(u.revision, v.revision) != 0))
					abort();
				fidx_hf_uri_free(&v);
			}
			fidx_hf_uri_free(&u);
		} else {
			check_error(rc, &err, FIDX_EINPUT, FIDX_EINPUT);
		}
		break;
	}
	default: {
		struct fidx_hub_answer a;
		struct fidx_hub_about w = {"https://huggingface.co", "o/n", NULL, NULL, 0};
		memset(&a, 0, sizeof a);
		if (size < 2)
			break;
		a.status = 100 + (data[0] | data[1] << 8) % 500;
		w.token = data[0] & 1;
		w.revision = data[1] & 1 ? "main" : NULL;
		w.path = data[1] & 2 ? "a/b.csv" : NULL;
		a.error_code = data[1] & 4 ? "RepoNotFound" : data[1] & 8 ? "GatedRepo" : NULL;
		a.error_message = data[1] & 16 ? s + 2 : NULL;
		a.body = s + 2;
		a.len = size - 2;
		a.retry_after = data[1] & 32 ? 3 : -1;
		rc = fidx_hub_error(&a, &w, &err);
		if (rc != FIDX_EINPUT && rc != FIDX_EDENIED && rc != FIDX_EAPI)
			abort();
		check_error(rc, &err, rc, rc);
		break;
	}
	}
	free(out);
	free(s);
	return 0;
}
