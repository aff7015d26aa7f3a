/* io/embedders/embed_hash.c: the offline embedder is deterministic, normalized, and
 * lexical. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "embed.h"
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
	struct fidx_embedder_spec spec = {.name = "hash", .dim = 16};
	const char *texts[2] = {"one", ""};
	size_t lens[2] = {3, 0};
	float out[32];
	size_t bad = 99;
	(void)state;
	assert_int_equal(fidx_embedder_open(&e, &spec, &err), 0);
	assert_string_equal(fidx_embedder_model(e), FIDX_HASH_MODEL);
	assert_int_equal(fidx_embedder_dim(e), 16);
	assert_int_equal(fidx_embedder_embed(e, texts, lens, 1, out, NULL, &err), 0);
	assert_int_equal(fidx_embedder_embed(e, texts, lens, 2, out, &bad, &err), FIDX_EINPUT);
	assert_int_equal(bad, 1);
	assert_string_equal(err.msg, "text 2 has no words to embed (it is empty or only punctuation)");
	fidx_embedder_close(e);
	spec.name = "bert";
	assert_int_equal(fidx_embedder_open(&e, &spec, &err), FIDX_EINPUT);
	assert_string_equal(err.msg, "unknown embedder \"bert\" (known: hash, api)");
	spec.name = "hash";
	spec.model = "other";
	assert_int_equal(fidx_embedder_open(&e, &spec, &err), FIDX_EINPUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalized_and_deterministic), cmocka_unit_test(test_golden_bits),
		cmocka_unit_test(test_lexical_similarity),            cmocka_unit_test(test_no_features),
		cmocka_unit_test(test_embedder_interface),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
