/* io/embedders/: the offline embedder is deterministic, normalized and
 * lexical; the embedder interface takes a new embedder from a registry. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <stdio.h>
#include <stdlib.h>

#include "embed.h"
#include "index.h"
#include "ingest.h"
#include "search.h"
#include "sha256.h"

static double dot(const float *a, const float *b, size_t d)
{
	double s = 0;
	size_t i;
	for (i = 0; i < d; i++)
		s += (double)a[i] * b[i];
	return s;
}

static void embed(const char *t, float *v)
{
	assert_true(fidx_hash_embed(t, strlen(t), FIDX_DEFAULT_DIM, v) > 0);
}

static void test_normalized_and_deterministic(void **state)
{
	float a[FIDX_DEFAULT_DIM], b[FIDX_DEFAULT_DIM];
	(void)state;
	embed("How can Medicare help me?", a);
	embed("How can Medicare help me?", b);
	assert_memory_equal(a, b, sizeof a);
	assert_true(fabs(dot(a, a, FIDX_DEFAULT_DIM) - 1.0) < 1e-6);
	embed("HOW CAN medicare HELP ME", b); /* case and punctuation do not matter */
	assert_memory_equal(a, b, sizeof a);
}

/* The exact bits are part of the format: the Medicare dataset's embeddings
 * were made with them. A change here means a new model name. */
static void test_golden_bits(void **state)
{
	float v[FIDX_DEFAULT_DIM];
	struct fidx_sha256 s;
	unsigned char d[32];
	char hex[65];
	(void)state;
	embed("How can I get help with my Medicare Part A and Part B premiums?", v);
	fidx_sha256_init(&s);
	fidx_sha256_update(&s, v, sizeof v);
	fidx_sha256_final(&s, d);
	fidx_sha256_hex(d, hex);
	assert_string_equal(hex, "af8c0ec15b1af897f0e5f50a642794c552c80dbf1884b74899c79b4592b1a96c");
}

static void test_lexical_similarity(void **state)
{
	float q[FIDX_DEFAULT_DIM], near[FIDX_DEFAULT_DIM], far[FIDX_DEFAULT_DIM];
	(void)state;
	embed("monthly premium for Part B", q);
	embed("What is the monthly premium for Medicare Part B?", near);
	embed("What is TRICARE?", far);
	assert_true(dot(q, near, FIDX_DEFAULT_DIM) > dot(q, far, FIDX_DEFAULT_DIM) + 0.2);
	/* Word pieces: plural and singular share most features. */
	embed("premium", q);
	embed("premiums", near);
	embed("tricare", far);
	assert_true(dot(q, near, FIDX_DEFAULT_DIM) > 0.25);
	assert_true(fabs(dot(q, far, FIDX_DEFAULT_DIM)) < 0.1);
}

static void test_no_features(void **state)
{
	float v[8];
	(void)state;
	assert_int_equal(fidx_hash_embed("", 0, 8, v), 0);
	assert_int_equal(fidx_hash_embed("?! ...", 6, 8, v), 0);
	assert_true(fidx_hash_embed("x", 1, 8, v) > 0);
}

static void test_embedder_interface(void **state)
{
	struct fidx_embedder *e;
	struct fidx_err err = {0};
	struct fidx_embed_config cfg = {.name = "hash"};
	const char *texts[2] = {"one", ""};
	size_t lens[2] = {3, 0};
	float out[32];
	size_t bad = 99;
	(void)state;
	fidx_params_set(&cfg.params, "dim", "16");
	assert_int_equal(fidx_embedder_open(&e, &cfg, &err), 0);
	assert_string_equal(fidx_embedder_model(e), FIDX_HASH_MODEL);
	assert_int_equal(fidx_embedder_dim(e), 16);
	assert_int_equal(fidx_embedder_embed(e, texts, lens, 1, out, NULL, &err), 0);
	assert_int_equal(fidx_embedder_embed(e, texts, lens, 2, out, &bad, &err), FIDX_EINPUT);
	assert_int_equal(bad, 1);
	assert_int_equal(err.detail, FIDX_DETAIL_NO_WORDS);
	assert_string_equal(err.msg, "text 2 has no words to embed (it is empty or only punctuation)");
	fidx_embedder_close(e);
	cfg.name = "bert";
	assert_int_equal(fidx_embedder_open(&e, &cfg, &err), FIDX_EINPUT);
	assert_string_equal(err.msg, "unknown embedder \"bert\" (known: hash, api)");
	cfg.name = "hash";
	fidx_params_set(&cfg.params, "model", "other");
	assert_int_equal(fidx_embedder_open(&e, &cfg, &err), FIDX_EINPUT);
}

/* ---- a toy embedder, added from here: one set of functions and one line
 * in a registry, and it builds an index, is recorded in it, is cached,
 * and embeds search queries the same way. ---- */

struct toy {
	size_t dim;
	size_t calls;
};

static int toy_open(void **state, const struct fidx_embed_config *cfg, struct fidx_err *err)
{
	struct toy *t = calloc(1, sizeof *t);
	(void)cfg;
	if (!t)
		return fidx_err_nomem(err);
	t->dim = 4;
	*state = t;
	return 0;
}

static void toy_identity(void *state, struct fidx_params *id)
{
	(void)state;
	fidx_params_set(id, "model", "letters-v1");
	fidx_params_set(id, "alphabet", "abcd");
}

static size_t toy_dim(void *state)
{
	return ((struct toy *)state)->dim;
}

/* Counts a, b, c and d; normalized. */
static int toy_embed(void *state, const char *const *texts, const size_t *lens, size_t n, size_t *dim,
                     float *out, size_t *bad, const struct fidx_embed_sink *sink, struct fidx_err *err)
{
	struct toy *t = state;
	size_t i, j;
	(void)bad;
	(void)sink;
	(void)err;
	*dim = 4;
	t->calls += n;
	for (i = 0; i < n; i++) {
		double s = 0;
		float *v = out + i * 4;
		memset(v, 0, 4 * sizeof *v);
		for (j = 0; j < lens[i]; j++)
			if (texts[i][j] >= 'a' && texts[i][j] <= 'd')
				v[texts[i][j] - 'a'] += 1;
		for (j = 0; j < 4; j++)
			s += (double)v[j] * v[j];
		for (j = 0; j < 4 && s > 0; j++)
			v[j] = (float)(v[j] / sqrt(s));
	}
	return 0;
}

static void toy_stats(void *state, struct fidx_embed_stats *s)
{
	s->embedded = ((struct toy *)state)->calls;
}

static const struct fidx_embedder_ops toy = {
	.name = "toy",
	.flags = FIDX_EMBEDDER_CACHE,
	.open = toy_open,
	.identity = toy_identity,
	.dim = toy_dim,
	.embed = toy_embed,
	.stats = toy_stats,
	.close = free,
};

extern const struct fidx_embedder_ops fidx_embedder_hash;

/* The registry line. */
static const struct fidx_embedder_ops *const embedders[] = {&toy, &fidx_embedder_hash, NULL};

static void test_toy_embedder(void **state)
{
	char dir[] = "/tmp/fidx-test-embed.XXXXXX", texts[128], out[128], cache[128];
	struct fidx_ingest_opts o;
	struct fidx_ingest_stats st;
	struct fidx_collection *c;
	struct fidx_err err = {0};
	struct fidx_embed_config q = {0};
	const char *paths[1], *query[1] = {"dab"};
	size_t qlen[1] = {3};
	float v[4];
	FILE *f;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(texts, sizeof texts, "%s/texts.txt", dir);
	snprintf(out, sizeof out, "%s/toy.fidx", dir);
	snprintf(cache, sizeof cache, "%s/cache", dir);
	assert_non_null(f = fopen(texts, "w"));
	fputs("abba\ncab\ndddd\n", f);
	fclose(f);
	memset(&o, 0, sizeof o);
	o.out = out;
	o.texts = texts;
	o.level = 1;
	o.read.header = FIDX_HEADER_AUTO;
	o.embed.name = "toy";
	o.embed.embedders = embedders;
	fidx_params_set(&o.embed.params, "cache", cache);
	assert_int_equal(fidx_ingest(&o, &st, &err), 0);
	assert_int_equal(st.rows, 3);
	assert_int_equal(st.api.embedded, 3);
	/* Again: every text from the cache, wrapped around the toy as around
	 * any embedder. */
	assert_int_equal(fidx_ingest(&o, &st, &err), 0);
	assert_int_equal(st.api.cached, 3);
	assert_int_equal(st.api.embedded, 0);

	/* The index records the toy and its identity; search embeds with it. */
	paths[0] = out;
	assert_int_equal(fidx_collection_open(&c, paths, 1, 0, &err), 0);
	assert_string_equal(fidx_index_meta(fidx_collection_index(c, 0))->embedder, "toy");
	assert_string_equal(fidx_index_meta(fidx_collection_index(c, 0))->model, "letters-v1");
	assert_string_equal(fidx_meta_param(fidx_index_meta(fidx_collection_index(c, 0)), "alphabet"), "abcd");
	q.embedders = embedders;
	assert_int_equal(fidx_collection_embed(c, &q, query, qlen, 1, v, &err), 0);
	assert_true(fabs(v[0] - 1 / sqrt(3.0)) < 1e-6 && v[2] == 0);
	fidx_collection_free(c);
	{
		char cmd[160];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalized_and_deterministic), cmocka_unit_test(test_golden_bits),
		cmocka_unit_test(test_lexical_similarity),            cmocka_unit_test(test_no_features),
		cmocka_unit_test(test_embedder_interface),   cmocka_unit_test(test_toy_embedder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
