/* io/embedders/api.c: the parts of the embedding APIs that need no network: URLs,
 * protocols, request bodies, response parsing, error bodies, tokens. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "token.h"

static void test_formats_and_urls(void **state)
{
	char *s;
	(void)state;
	assert_int_equal(fidx_api_format_of("http://h:8080/embed"), FIDX_API_TEI);
	assert_int_equal(fidx_api_format_of("https://h/v1/embeddings"), FIDX_API_OPENAI);
	assert_int_equal(fidx_api_format_of("https://router.huggingface.co/hf-inference/models/m/pipeline/feature-extraction"),
	                 FIDX_API_HF);
	assert_int_equal(fidx_api_format_parse("tei"), FIDX_API_TEI);
	assert_int_equal(fidx_api_format_parse("grpc"), 0);

	s = fidx_api_hf_url("https://example.org//", "org/model");
	assert_string_equal(s, "https://example.org/hf-inference/models/org/model/pipeline/feature-extraction");
	free(s);
	s = fidx_api_hf_model("https://router.huggingface.co/hf-inference/models/BAAI/bge-small-en-v1.5/pipeline/feature-extraction");
	assert_string_equal(s, "BAAI/bge-small-en-v1.5");
	free(s);
	s = fidx_api_hf_model("https://api-inference.huggingface.co/models/org/m?x=1");
	assert_string_equal(s, "org/m");
	free(s);
	assert_null(fidx_api_hf_model("https://xyz.endpoints.huggingface.cloud/"));
}

static void test_request_bodies(void **state)
{
	const char *texts[] = {"a \"quoted\" text", "b"};
	size_t lens[] = {16, 1};
	char *s;
	(void)state;
	s = fidx_api_request(FIDX_API_HF, "m", texts, lens, 2);
	assert_non_null(strstr(s, "\"inputs\":[\"a \\\"quoted\\\" text\",\"b\"]"));
	free(s);
	s = fidx_api_request(FIDX_API_OPENAI, "m", texts, lens, 1);
	assert_non_null(strstr(s, "\"model\":\"m\""));
	assert_non_null(strstr(s, "\"input\":[\"a \\\"quoted\\\" text\"]"));
	assert_non_null(strstr(s, "\"encoding_format\":\"float\""));
	free(s);
}

static int parse(int format, const char *body, size_t n, size_t *dim, float **out, struct fidx_err *err)
{
	return fidx_api_parse(format, body, strlen(body), n, dim, 1024, out, err);
}

static void test_parse_shapes(void **state)
{
	struct fidx_err err;
	float *v;
	size_t dim = 0;
	(void)state;
	/* [n][dim], and the flat [dim] of one text. */
	assert_int_equal(parse(FIDX_API_HF, "[[1,2],[3,4.5]]", 2, &dim, &v, &err), 0);
	assert_int_equal(dim, 2);
	assert_true(v[0] == 1 && v[3] == 4.5f);
	free(v);
	dim = 0;
	assert_int_equal(parse(FIDX_API_HF, "[0.5,-0.25,2]", 1, &dim, &v, &err), 0);
	assert_int_equal(dim, 3);
	free(v);
	/* OpenAI: placed by index, floats or base64 (0.5, -1 as float32 LE). */
	dim = 0;
	assert_int_equal(parse(FIDX_API_OPENAI,
	                       "{\"data\":[{\"index\":1,\"embedding\":[3,4]},{\"index\":0,\"embedding\":\"AAAAPwAAgL8=\"}]}",
	                       2, &dim, &v, &err),
	                 0);
	assert_true(v[0] == 0.5f && v[1] == -1 && v[2] == 3 && v[3] == 4);
	free(v);
}

static void test_parse_errors(void **state)
{
	struct fidx_err err;
	float *v = (float *)&err;
	size_t dim = 2;
	(void)state;
	assert_int_equal(parse(FIDX_API_TEI, "[[1,2]]", 2, &dim, &v, &err), FIDX_EAPI);
	assert_string_equal(err.msg, "the response has 1 vectors for 2 texts");
	assert_null(v);
	assert_int_equal(parse(FIDX_API_TEI, "[[1,2,3]]", 1, &dim, &v, &err), FIDX_EAPI);
	assert_string_equal(err.msg, "vector 1 has 3 dimensions, expected 2");
	assert_int_equal(parse(FIDX_API_TEI, "[[1,\"x\"]]", 1, &dim, &v, &err), FIDX_EAPI);
	assert_string_equal(err.msg, "vector 1 has a value that is not a finite number");
	assert_int_equal(parse(FIDX_API_TEI, "[[1,1e39]]", 1, &dim, &v, &err), FIDX_EAPI);
	assert_int_equal(parse(FIDX_API_HF, "[[[1,2],[3,4]]]", 1, &dim, &v, &err), FIDX_EAPI);
	assert_non_null(strstr(err.msg, "one vector per token"));
	assert_int_equal(parse(FIDX_API_OPENAI, "{\"data\":[{\"index\":0,\"embedding\":[1,2]},{\"index\":0,\"embedding\":[1,2]}]}",
	                       2, &dim, &v, &err),
	                 FIDX_EAPI);
	assert_string_equal(err.msg, "embedding 2 has a missing, repeated or wrong index");
	assert_int_equal(parse(FIDX_API_HF, "<html>\n<body>x</body></html>", 1, &dim, &v, &err), FIDX_EAPI);
	assert_string_equal(err.msg, "the response is not JSON (an HTML page)");
}

static void test_error_bodies(void **state)
{
	char msg[64];
	const char *b = "{\"error\":{\"message\":\"Incorrect API key\\u001b[31m\",\"type\":\"x\"}}";
	(void)state;
	fidx_api_error_message(b, strlen(b), msg, sizeof msg);
	assert_string_equal(msg, "Incorrect API key [31m");
	b = "{\"error\":\"Model m is currently loading\",\"estimated_time\":20.5}";
	assert_true(fidx_api_estimated_time(b, strlen(b)) == 20.5);
	assert_true(fidx_api_estimated_time("{}", 2) == -1);
	b = "{\"model_id\":\"BAAI/bge-small-en-v1.5\",\"max_client_batch_size\":32}";
	{
		char *m = fidx_api_info_model(b, strlen(b));
		assert_string_equal(m, "BAAI/bge-small-en-v1.5");
		free(m);
	}
}

/* Only the Hugging Face router is known to need a token. */
static void test_needs_token(void **state)
{
	(void)state;
	assert_true(fidx_api_needs_token(
		"https://router.huggingface.co/hf-inference/models/m/pipeline/feature-extraction"));
	assert_true(fidx_api_needs_token("https://Router.HuggingFace.co"));
	assert_false(fidx_api_needs_token("https://router.huggingface.co.example.org/embed"));
	assert_false(fidx_api_needs_token("http://127.0.0.1:8080/embed"));
	assert_false(fidx_api_needs_token("https://my-endpoint.endpoints.huggingface.cloud"));
}

static void test_token_lookup(void **state)
{
	char dir[] = "/tmp/fidx-test-api.XXXXXX", path[600], msg[FIDX_ERR_MAX];
	struct fidx_err err;
	char *t;
	FILE *f;
	(void)state;
	assert_non_null(mkdtemp(dir));
	unsetenv("HF_TOKEN");
	unsetenv("HUGGING_FACE_HUB_TOKEN");
	unsetenv("HF_TOKEN_PATH");
	setenv("HF_HOME", dir, 1);
	assert_int_equal(fidx_token_find(NULL, NULL, &t, &err), 0);
	assert_null(t);
	/* None: the message says where fidx looked and how to give one. */
	snprintf(path, sizeof path, "looked in HF_TOKEN, HUGGING_FACE_HUB_TOKEN and %s/token; run "
	         "`huggingface-cli login`, set HF_TOKEN, or give --token-file <file>", dir);
	assert_int_equal(fidx_api_no_token(FIDX_API_HF, &err), FIDX_EINPUT);
	fidx_err_render(err.msg, msg, sizeof msg, NULL);
	assert_non_null(strstr(msg, "no API token, and the Hugging Face Inference API needs one: "));
	assert_non_null(strstr(msg, path));
	assert_int_equal(fidx_api_no_token(FIDX_API_OPENAI, &err), FIDX_EINPUT);
	fidx_err_render(err.msg, msg, sizeof msg, NULL);
	assert_non_null(strstr(msg, "looked in FIDX_API_TOKEN; set FIDX_API_TOKEN, or give --token-file <file>"));
	snprintf(path, sizeof path, "%s/token", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("  hf_fromfile\r\n", f);
	fclose(f);
	assert_int_equal(fidx_token_find(NULL, NULL, &t, &err), 0);
	assert_string_equal(t, "hf_fromfile");
	fidx_token_free(t);
	setenv("HUGGING_FACE_HUB_TOKEN", "hf_legacy", 1);
	assert_int_equal(fidx_token_find(NULL, NULL, &t, &err), 0);
	assert_string_equal(t, "hf_legacy");
	fidx_token_free(t);
	setenv("HF_TOKEN", "hf_first", 1);
	assert_int_equal(fidx_token_find(NULL, NULL, &t, &err), 0);
	assert_string_equal(t, "hf_first");
	fidx_token_free(t);
	/* --token-file wins; TEI and OpenAI read FIDX_API_TOKEN, not HF_TOKEN. */
	assert_int_equal(fidx_token_find(path, NULL, &t, &err), 0);
	assert_string_equal(t, "hf_fromfile");
	fidx_token_free(t);
	assert_int_equal(fidx_token_find(NULL, "FIDX_API_TOKEN", &t, &err), 0);
	assert_null(t);
	setenv("FIDX_API_TOKEN", "bad\ntoken", 1);
	assert_int_equal(fidx_token_find(NULL, "FIDX_API_TOKEN", &t, &err), FIDX_EINPUT);
	assert_null(strstr(err.msg, "bad"));
	assert_null(strstr(err.msg, "token\n"));
	unsetenv("FIDX_API_TOKEN");
	unsetenv("HF_TOKEN");
	unsetenv("HUGGING_FACE_HUB_TOKEN");
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats_and_urls), cmocka_unit_test(test_request_bodies),
		cmocka_unit_test(test_parse_shapes),     cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_error_bodies),     cmocka_unit_test(test_token_lookup),
		cmocka_unit_test(test_needs_token),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
