/* Tests for io/hub/yaml.c (the YAML-subset parser) and io/hub/hub.c (resolving a
 * Hub-style dataset folder into its data files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "hub.h"
#include "yaml.h"

/* ---- YAML helpers ---- */

/* Parses text from an exactly sized copy (no NUL after it), so that
 * reading past the end shows under AddressSanitizer. */
static int parse_n(const char *text, size_t n, cJSON **out, struct fidx_err *err)
{
	char *copy = malloc(n ? n : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, n);
	memset(err, 0, sizeof *err);
	rc = fidx_yaml_parse("t.yaml", copy, n, out, err);
	free(copy);
	if (rc) {
		assert_null(*out);
		assert_int_equal(err->code, rc);
		assert_true(err->msg[0] != '\0');
	} else {
		assert_non_null(*out);
	}
	return rc;
}

static cJSON *parse_ok(const char *text)
{
	struct fidx_err err;
	cJSON *out = NULL;
	int rc = parse_n(text, strlen(text), &out, &err);

	if (rc)
		fail_msg("unexpected error: %s", err.msg);
	return out;
}

/* Expects an FIDX_EINPUT error "t.yaml:LINE: ..." containing what. */
static void parse_err(const char *text, long line, const char *what)
{
	struct fidx_err err;
	cJSON *out = NULL;
	char prefix[64];
	int rc = parse_n(text, strlen(text), &out, &err);

	if (rc != FIDX_EINPUT)
		fail_msg("expected an input error for \"%s\", got %d", text, rc);
	snprintf(prefix, sizeof prefix, "t.yaml:%ld: ", line);
	if (strncmp(err.msg, prefix, strlen(prefix)) != 0 || !strstr(err.msg, what))
		fail_msg("for \"%s\": expected \"%s...%s\", got \"%s\"", text, prefix, what, err.msg);
}

/* The tree printed without spaces, for compact comparisons. */
static void expect_json(const char *text, const char *json)
{
	cJSON *out = parse_ok(text);
	char *s = cJSON_PrintUnformatted(out);

	assert_non_null(s);
	if (strcmp(s, json) != 0)
		fail_msg("for \"%s\": expected %s, got %s", text, json, s);
	free(s);
	cJSON_Delete(out);
}

/* ---- YAML: accepted documents ---- */

static void test_yaml_block(void **state)
{
	(void)state;
	expect_json("a: 1\nb: two words\nc:\n  d: x\n  e:\n    - 1\n    - 2\n",
	            "{\"a\":\"1\",\"b\":\"two words\",\"c\":{\"d\":\"x\",\"e\":[\"1\",\"2\"]}}");
	expect_json("- a\n- b: 1\n  c: 2\n- - x\n  - y\n-\n  k: v\n-\n",
	            "[\"a\",{\"b\":\"1\",\"c\":\"2\"},[\"x\",\"y\"],{\"k\":\"v\"},null]");
	/* A sequence at the indentation of its parent key. */
	expect_json("configs:\n- config_name: x\n  data_files:\n  - split: train\n    path: a.csv\n"
	            "- config_name: y\nother: 1\n",
	            "{\"configs\":[{\"config_name\":\"x\",\"data_files\":[{\"split\":\"train\","
	            "\"path\":\"a.csv\"}]},{\"config_name\":\"y\"}],\"other\":\"1\"}");
	expect_json("- a:\n  - x\n  b: y\n", "[{\"a\":[\"x\"],\"b\":\"y\"}]");
	expect_json("-   p: 1\n    q: 2\n", "[{\"p\":\"1\",\"q\":\"2\"}]");
	expect_json("  a: 1\n  b: 2\n", "{\"a\":\"1\",\"b\":\"2\"}");
	expect_json("\"quoted key\": 1\n'single' : 2\na b: 3\nurl: http://x.y/z\na#b: c#d\n",
	            "{\"quoted key\":\"1\",\"single\":\"2\",\"a b\":\"3\",\"url\":\"http://x.y/z\","
	            "\"a#b\":\"c#d\"}");
	expect_json("k:\n", "{\"k\":null}");
	expect_json("k:\nl: 2\n", "{\"k\":null,\"l\":\"2\"}");
}

static void test_yaml_scalars(void **state)
{
	(void)state;
	expect_json("[true, True, TRUE, false, False, FALSE, null, Null, NULL, ~, yes, no, 3, "
	            "-1.5e3, 0x1f, 'true', \"null\", tRue]",
	            "[true,true,true,false,false,false,null,null,null,null,\"yes\",\"no\",\"3\","
	            "\"-1.5e3\",\"0x1f\",\"true\",\"null\",\"tRue\"]");
	expect_json("plain text", "\"plain text\"");
	expect_json("\"quoted\"", "\"quoted\"");
	expect_json("-1", "\"-1\"");
}

static void test_yaml_quoted(void **state)
{
	(void)state;
	expect_json("k: 'it''s ''q'''", "{\"k\":\"it's 'q'\"}");
	expect_json("k: 'a\\nb # c'", "{\"k\":\"a\\\\nb # c\"}");
	expect_json("k: \"a\\tb\\n\\\"\\\\\\/\\x41\\u00e9\\U0001F600\"",
	            "{\"k\":\"a\\tb\\n\\\"\\\\/A\xc3\xa9\xf0\x9f\x98\x80\"}");
	expect_json("k: \"\\N\\_\\L\\P\\e\\ \"", "{\"k\":\"\xc2\x85\xc2\xa0\xe2\x80\xa8\xe2\x80\xa9\\u001b \"}");
	expect_json("k: \"a # not a comment\" # comment", "{\"k\":\"a # not a comment\"}");
	expect_json("k: ''", "{\"k\":\"\"}");
	expect_json("\"\": empty key", "{\"\":\"empty key\"}");
}

static void test_yaml_flow(void **state)
{
	(void)state;
	expect_json("k: [a, \"b\", 'c', [d, e], {f: 1, g: [h]}]",
	            "{\"k\":[\"a\",\"b\",\"c\",[\"d\",\"e\"],{\"f\":\"1\",\"g\":[\"h\"]}]}");
	expect_json("k: []\nl: {}\nm: [a, b, ]\n", "{\"k\":[],\"l\":{},\"m\":[\"a\",\"b\"]}");
	expect_json("k: {a, b: , \"c\":d, e:f, g h: i j}",
	            "{\"k\":{\"a\":null,\"b\":null,\"c\":\"d\",\"e:f\":null,\"g h\":\"i j\"}}");
	expect_json("[a b, c] # comment", "[\"a b\",\"c\"]");
	expect_json("- [x]\n- {y: z}\n", "[[\"x\"],{\"y\":\"z\"}]");
}

static void test_yaml_comments_and_lines(void **state)
{
	(void)state;
	expect_json("# head\n\na: 1 # c\n   # indented comment\n\nb: 2\n#tail", "{\"a\":\"1\",\"b\":\"2\"}");
	expect_json("a: x\n  continued\n\n  more\nb: y\n",
	            "{\"a\":\"x continued\\nmore\",\"b\":\"y\"}");
	expect_json("- a\n  - b\n", "[\"a - b\"]");
	expect_json("a: 1\n  - b\n", "{\"a\":\"1 - b\"}");
	expect_json("\xef\xbb\xbf" "a: 1\r\nb: 2\rc: [x]\r\n",
	            "{\"a\":\"1\",\"b\":\"2\",\"c\":[\"x\"]}");
	expect_json("a: 1\t\nb:\t2 \t\n", "{\"a\":\"1\",\"b\":\"2\"}");
	expect_json("---\na: 1\n...\n# after\n", "{\"a\":\"1\"}");
	expect_json("--- # c\na: 1\n", "{\"a\":\"1\"}");
	expect_json("", "null");
	expect_json("# only a comment\n\n", "null");
	expect_json("---\n", "null");
}

static void test_yaml_line_numbers(void **state)
{
	cJSON *out = parse_ok("a: 1\n\nb:\n  - x\n  - y\nc:\n  d: e\n");

	(void)state;
	assert_int_equal(cJSON_GetObjectItem(out, "a")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(out, "b")->valueint, 4);
	assert_int_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "b"), 1)->valueint, 5);
	assert_int_equal(cJSON_GetObjectItem(out, "c")->valueint, 7);
	cJSON_Delete(out);
}

/* ---- YAML: rejected documents ---- */

static void test_yaml_rejects(void **state)
{
	(void)state;
	parse_err("a: &x 1", 1, "anchors");
	parse_err("a: 1\nb: *x", 2, "aliases");
	parse_err("&x a: 1", 1, "anchors");
	parse_err("- !!str 1", 1, "tags");
	parse_err("a: !foo x", 1, "tags");
	parse_err("a: |\n  text\n", 1, "block scalars");
	parse_err("a: >-\n  text\n", 1, "block scalars");
	parse_err("a: [&x 1]", 1, "anchors");
	parse_err("a: 1\n---\nb: 2\n", 2, "multiple documents");
	parse_err("a: 1\n...\nb: 2\n", 3, "multiple documents");
	parse_err("--- a", 1, "document marker");
	parse_err("%YAML 1.2\n---\na: 1\n", 1, "directives");
	parse_err("\ta: 1", 1, "tabs");
	parse_err("a:\n\tb: 1\n", 2, "tabs");
	parse_err("a:\n  \tb: 1\n", 2, "tabs");
	parse_err("? a\n: b\n", 1, "complex mapping keys");
	parse_err(": b\n", 1, "unexpected ':'");
	parse_err("a: \"open\n  close\"\n", 1, "unterminated quoted scalar");
	parse_err("a: 'open\n", 1, "unterminated quoted scalar");
	parse_err("a: \"x\\", 1, "unterminated quoted scalar");
	parse_err("a: [1,\n  2]\n", 1, "unterminated flow collection");
	parse_err("a: {b: 1 # c\n}", 1, "unterminated flow collection");
	parse_err("a: [1] x", 1, "unexpected content after a flow collection");
	parse_err("a: [1]]", 1, "unexpected content after a flow collection");
	parse_err("a: \"x\" y", 1, "unexpected content after a quoted scalar");
	parse_err("a: [b: c]", 1, "mappings inside flow sequences");
	parse_err("a: [b c d", 1, "unterminated flow collection");
	parse_err("a: [,]", 1, "unexpected ','");
	parse_err("a: {[x]: 1}", 1, "collections as mapping keys");
	parse_err("k: -", 1, "sequence entry");
	parse_err("a: 1\na: 2\n", 2, "duplicate key \"a\"");
	parse_err("k: {a: 1, a: 2}", 1, "duplicate key \"a\"");
	parse_err("a: b: c", 1, "a mapping value is not allowed here");
	parse_err("a: x\n  b: c\n", 2, "a mapping value is not allowed here");
	parse_err("a:\n    b: 1\n  c: 2\n", 3, "unexpected indentation");
	parse_err("a: 1\n- b\n", 2, "sequence entry");
	parse_err("- a\nb: 1\n", 2, "unexpected content");
	parse_err("a: - b\n", 1, "sequence entry");
	parse_err("a: @x", 1, "reserved");
	parse_err("a: `x", 1, "reserved");
	parse_err("a: %x", 1, "'%'");
	parse_err("a: \"\\0\"", 1, "NUL");
	parse_err("a: \"\\x00\"", 1, "NUL");
	parse_err("a: \"\\u0000\"", 1, "NUL");
	parse_err("a: \"\\q\"", 1, "invalid escape \\q");
	parse_err("a: \"\\xZ1\"", 1, "hexadecimal");
	parse_err("a: \"\\ud800\"", 1, "not a unicode scalar value");
	parse_err("a: \"\\U00110000\"", 1, "not a unicode scalar value");
	parse_err("a: 1\nb: \x01\n", 2, "control character 0x01");
	parse_err("a: \x7f", 1, "control character 0x7f");
	parse_err("a: x\n  # comment\n  y\n", 3, "unexpected indentation");
	parse_err("[a]: b", 1, "unexpected content after a flow collection");
}

static void test_yaml_nul_byte(void **state)
{
	struct fidx_err err;
	cJSON *out = NULL;

	(void)state;
	assert_int_equal(parse_n("a: 1\nb: x\0y\n", 12, &out, &err), FIDX_EINPUT);
	assert_string_equal(err.msg, "t.yaml:2: control character 0x00 is not allowed");
}

static char *nested(const char *open, const char *close, int depth)
{
	size_t lo = strlen(open), lc = strlen(close), o = 0;
	char *s = malloc((lo + lc) * (size_t)depth + 2);
	int i;

	assert_non_null(s);
	for (i = 0; i < depth; i++, o += lo)
		memcpy(s + o, open, lo);
	s[o++] = 'x';
	for (i = 0; i < depth; i++, o += lc)
		memcpy(s + o, close, lc);
	s[o] = '\0';
	return s;
}

/* "a:\n b:\n  c: ..." depth levels deep. */
static char *nested_maps(int depth)
{
	char *s = malloc((size_t)depth * (size_t)(depth + 8) + 8);
	size_t o = 0;
	int i, k;

	assert_non_null(s);
	for (i = 0; i < depth; i++) {
		for (k = 0; k < i; k++)
			s[o++] = ' ';
		o += (size_t)sprintf(s + o, "k%d:\n", i);
	}
	for (k = 0; k < depth; k++)
		s[o++] = ' ';
	memcpy(s + o, "x\n", 3);
	return s;
}

static void test_yaml_depth(void **state)
{
	struct fidx_err err;
	cJSON *out = NULL;
	char *s;

	(void)state;
	s = nested("[", "]", FIDX_YAML_MAX_DEPTH);
	cJSON_Delete(parse_ok(s));
	free(s);
	s = nested("[", "]", FIDX_YAML_MAX_DEPTH + 1);
	parse_err(s, 1, "nesting deeper than 64 levels");
	free(s);
	s = nested("{a: ", "}", FIDX_YAML_MAX_DEPTH + 1);
	parse_err(s, 1, "nesting deeper");
	free(s);
	s = nested("- ", "", FIDX_YAML_MAX_DEPTH);
	cJSON_Delete(parse_ok(s));
	free(s);
	s = nested("- ", "", FIDX_YAML_MAX_DEPTH + 1);
	parse_err(s, 1, "nesting deeper");
	free(s);
	s = nested_maps(FIDX_YAML_MAX_DEPTH);
	cJSON_Delete(parse_ok(s));
	free(s);
	s = nested_maps(FIDX_YAML_MAX_DEPTH + 1);
	parse_err(s, FIDX_YAML_MAX_DEPTH + 1, "nesting deeper");
	free(s);
	/* Very deep input fails cleanly, without exhausting the stack. */
	s = nested("[", "]", 100000);
	parse_err(s, 1, "nesting deeper");
	free(s);
	s = nested("- ", "", 100000);
	assert_int_equal(parse_n(s, strlen(s), &out, &err), FIDX_EINPUT);
	free(s);
}

static void test_yaml_limits(void **state)
{
	struct fidx_err err;
	cJSON *out = (cJSON *)&err;
	size_t n = (size_t)FIDX_YAML_MAX_SIZE + 1;
	char *big = malloc(n);

	(void)state;
	assert_non_null(big);
	memset(big, '\n', n);
	assert_int_equal(fidx_yaml_parse("big.yaml", big, n, &out, &err), FIDX_EINPUT);
	assert_null(out);
	assert_non_null(strstr(err.msg, "big.yaml: larger than"));
	/* At the limit: fine (blank lines). */
	assert_int_equal(fidx_yaml_parse("big.yaml", big, n - 1, &out, &err), 0);
	assert_true(cJSON_IsNull(out));
	cJSON_Delete(out);
	free(big);
	/* NULL text and name. */
	assert_int_equal(fidx_yaml_parse(NULL, NULL, 0, &out, &err), 0);
	cJSON_Delete(out);
	assert_int_equal(fidx_yaml_parse(NULL, "a: &x", 5, &out, &err), FIDX_EINPUT);
	assert_non_null(strstr(err.msg, "<yaml>:1: "));
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random bytes, biased to YAML syntax, and mutations of a good document:
 * every outcome must be a tree or a clean input error. */
static void test_yaml_hostile(void **state)
{
	static const char alphabet[] = " -:[]{},'\"#&*!|>?%@`\\\n\n\n\t\rabxy01.~";
	static const char seed[] =
		"configs:\n- config_name: default\n  data_files:\n  - split: train\n"
		"    path: [\"a/*.csv\", 'b''c']\n  default: true\n  x: {k: v}\n# c\n";
	char buf[512];
	int it;

	(void)state;
	for (it = 0; it < 30000; it++) {
		struct fidx_err err;
		cJSON *out = NULL;
		size_t n, i;
		int rc;

		if (it % 3 == 0) {
			n = rng() % sizeof buf;
			for (i = 0; i < n; i++)
				buf[i] = (char)(rng() % 8 == 0 ? (int)(rng() & 0xff)
				                               : alphabet[rng() % (sizeof alphabet - 1)]);
		} else {
			int k, muts = 1 + (int)(rng() % 4);
			n = sizeof seed - 1;
			memcpy(buf, seed, n);
			for (k = 0; k < muts; k++) {
				size_t at = rng() % n;
				switch (rng() % 3) {
				case 0:
					buf[at] = alphabet[rng() % (sizeof alphabet - 1)];
					break;
				case 1:
					memmove(buf + at, buf + at + 1, n - at - 1);
					n--;
					break;
				default:
					if (n + 1 < sizeof buf) {
						memmove(buf + at + 1, buf + at, n - at);
						buf[at] = alphabet[rng() % (sizeof alphabet - 1)];
						n++;
					}
				}
			}
		}
		rc = parse_n(buf, n, &out, &err);
		if (rc == 0) {
			char *s = cJSON_PrintUnformatted(out);
			assert_non_null(s);
			free(s);
			cJSON_Delete(out);
		} else {
			assert_int_equal(rc, FIDX_EINPUT);
			assert_non_null(strstr(err.msg, "t.yaml:"));
		}
	}
}

/* ---- hub helpers ---- */

struct tmpdir {
	char path[64];
};

static void make_tmp(struct tmpdir *t)
{
	strcpy(t->path, "/tmp/fidx-test-hub.XXXXXX");
	assert_non_null(mkdtemp(t->path));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void remove_tmp(struct tmpdir *t)
{
	assert_int_equal(nftw(t->path, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static int tmp_setup(void **state)
{
	struct tmpdir *t = malloc(sizeof *t);

	if (!t)
		return -1;
	make_tmp(t);
	*state = t;
	return 0;
}

/* Runs after each hub test, failed or not. */
static int tmp_teardown(void **state)
{
	struct tmpdir *t = *state;

	remove_tmp(t);
	free(t);
	return 0;
}

/* Writes root/rel with content, making the folders on the way. */
static void put(const struct tmpdir *t, const char *rel, const char *content)
{
	char path[512];
	size_t i, len;
	FILE *f;

	len = (size_t)snprintf(path, sizeof path, "%s/%s", t->path, rel);
	for (i = strlen(t->path) + 1; i < len; i++) {
		if (path[i] == '/') {
			path[i] = '\0';
			if (mkdir(path, 0755) != 0 && errno != EEXIST)
				fail_msg("mkdir %s: %s", path, strerror(errno));
			path[i] = '/';
		}
	}
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}

/* Removes root/rel. */
static void rm(const struct tmpdir *t, const char *rel)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", t->path, rel);
	assert_int_equal(unlink(path), 0);
}

static void put_dir(const struct tmpdir *t, const char *rel)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", t->path, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void put_link(const struct tmpdir *t, const char *target, const char *rel)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", t->path, rel);
	assert_int_equal(symlink(target, path), 0);
}

/* Expects the files of config/split to be want (NULL-terminated paths
 * relative to the folder), in that order. */
static void expect_files(const struct tmpdir *t, const char *config, const char *split,
                         const char *const *want)
{
	struct fidx_hub_files f = { (char **)&f, 99 };
	struct fidx_err err;
	size_t n = 0, i;
	int rc;

	while (want[n])
		n++;
	memset(&err, 0, sizeof err);
	rc = fidx_hub_resolve(t->path, config, split, &f, &err);
	if (rc)
		fail_msg("config %s, split %s: unexpected error: %s", config ? config : "(default)",
		         split ? split : "(null)", err.msg);
	for (i = 0; i < f.n || i < n; i++) {
		char expect[512];
		if (i >= n)
			fail_msg("split %s: unexpected extra file %s", split, f.paths[i]);
		if (i >= f.n)
			fail_msg("split %s: missing file %s", split, want[i]);
		snprintf(expect, sizeof expect, "%s/%s", t->path, want[i]);
		if (strcmp(f.paths[i], expect) != 0)
			fail_msg("split %s: file %zu is %s, expected %s", split, i, f.paths[i], expect);
	}
	fidx_hub_files_free(&f);
	assert_null(f.paths);
	assert_int_equal(f.n, 0);
	fidx_hub_files_free(&f);
}

/* Expects an error with code and a message containing each of the
 * NULL-terminated strings. */
static void expect_error(const struct tmpdir *t, const char *folder, const char *config,
                         const char *split, int code, ...)
{
	struct fidx_hub_files f = { (char **)&f, 99 };
	struct fidx_err err;
	char msg[FIDX_ERR_MAX];
	const char *s;
	va_list ap;
	int rc;

	memset(&err, 0, sizeof err);
	rc = fidx_hub_resolve(folder ? folder : t->path, config, split, &f, &err);
	if (rc != code)
		fail_msg("expected error %d, got %d (%s)", code, rc, rc ? err.msg : "no error");
	assert_null(f.paths);
	assert_int_equal(f.n, 0);
	/* Settings as the command line names them. */
	fidx_err_render(err.msg, msg, sizeof msg, NULL);
	va_start(ap, code);
	while ((s = va_arg(ap, const char *)) != NULL)
		if (!strstr(msg, s))
			fail_msg("expected \"%s\" in the message \"%s\"", s, msg);
	va_end(ap);
}

#define FILES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NO_FILES ((const char *const[]){ NULL })

static const char *const common_files[] = {
	"data/b.csv", "data/a.csv", "data/sub/c.csv", "top.csv", "other/x.jsonl",
};

static void put_common(const struct tmpdir *t)
{
	size_t i;

	for (i = 0; i < sizeof common_files / sizeof common_files[0]; i++)
		put(t, common_files[i], "x\n");
}

/* ---- hub: YAML configs ---- */

static void test_hub_yaml_string_and_list(void **state)
{
	struct tmpdir *t = *state;

	put_common(t);
	put(t, "README.md",
	    "---\nlicense: mit\nconfigs:\n- config_name: default\n  data_files: data/*.csv\n"
	    "- config_name: list\n  data_files:\n  - top.csv\n  - data/*.csv\n  - data/a.csv\n"
	    "- config_name: flow\n  data_files: [other/*, \"top.csv\"]\n---\n# Title\n");
	expect_files(t, NULL, "train", FILES("data/a.csv", "data/b.csv"));
	expect_files(t, NULL, NULL, FILES("data/a.csv", "data/b.csv"));
	expect_files(t, "default", "train", FILES("data/a.csv", "data/b.csv"));
	/* Patterns in order, each sorted, duplicates once. */
	expect_files(t, "list", "train", FILES("top.csv", "data/a.csv", "data/b.csv"));
	expect_files(t, "flow", "train", FILES("other/x.jsonl", "top.csv"));
	expect_error(t, NULL, "list", "test", FIDX_EINPUT, "README.md:6: ",
	             "config \"list\" has no split \"test\" (available: train)", NULL);
}

static void test_hub_yaml_split_form(void **state)
{
	struct tmpdir *t = *state;

	put_common(t);
	put(t, "README.md",
	    "---\nconfigs:\n  - config_name: default\n    data_files:\n      - split: train\n"
	    "        path: data/*.csv\n      - split: test\n        path:\n          - top.csv\n"
	    "          - other/x.jsonl\n      - split: validation\n        path: \"**/c.csv\"\n"
	    "---\n");
	expect_files(t, NULL, "train", FILES("data/a.csv", "data/b.csv"));
	expect_files(t, NULL, "test", FILES("top.csv", "other/x.jsonl"));
	expect_files(t, NULL, "validation", FILES("data/sub/c.csv"));
	expect_error(t, NULL, NULL, "dev", FIDX_EINPUT, "README.md:3: ",
	             "has no split \"dev\" (available: train, test, validation)", NULL);
	/* The mapping form split -> patterns is accepted too. */
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: default\n  data_files: {train: top.csv, test: [\"data/b*\"]}\n"
	    "---\n");
	expect_files(t, NULL, "test", FILES("data/b.csv"));
	expect_files(t, NULL, "train", FILES("top.csv"));
}

static void test_hub_yaml_default_selection(void **state)
{
	struct tmpdir *t = *state;

	put_common(t);
	/* default: true wins over the name "default". */
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: default\n  data_files: top.csv\n"
	    "- config_name: flagged\n  data_files: other/*\n  default: true\n---\n");
	expect_files(t, NULL, "train", FILES("other/x.jsonl"));
	expect_files(t, "default", "train", FILES("top.csv"));
	/* Without a flag, the config named default. */
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: a\n  data_files: other/*\n"
	    "- config_name: default\n  data_files: top.csv\n  default: false\n---\n");
	expect_files(t, NULL, "train", FILES("top.csv"));
	/* A single config is the default whatever its name. */
	put(t, "README.md", "---\nconfigs:\n- config_name: only\n  data_files: top.csv\n---\n");
	expect_files(t, NULL, "train", FILES("top.csv"));
	/* Several configs, none default. */
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: a\n  data_files: top.csv\n"
	    "- config_name: b\n  data_files: top.csv\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT, "README.md:3: ", "no default config",
	             "a, b", NULL);
	expect_files(t, "b", "train", FILES("top.csv"));
	expect_error(t, NULL, "c", "train", FIDX_EINPUT,
	             "no config named \"c\" (available: a, b)", NULL);
	/* Two flags. */
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: a\n  data_files: top.csv\n  default: true\n"
	    "- config_name: b\n  data_files: top.csv\n  default: true\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT, "README.md:6: ",
	             "\"a\" and \"b\" are both marked default", NULL);
	/* Duplicate names. */
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: a\n  data_files: top.csv\n"
	    "- config_name: a\n  data_files: top.csv\n---\n");
	expect_error(t, NULL, "a", "train", FIDX_EINPUT, "README.md:5: ",
	             "config name \"a\" appears twice", NULL);
}

static void test_hub_globs(void **state)
{
	struct tmpdir *t = *state;

	put_common(t);
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: star\n  data_files: \"*.csv\"\n"
	    "- config_name: dstar\n  data_files: \"**/*.csv\"\n"
	    "- config_name: under\n  data_files: data/**\n"
	    "- config_name: inside\n  data_files: data/**.csv\n"
	    "- config_name: mid\n  data_files: \"data/**/c.csv\"\n"
	    "- config_name: q\n  data_files: [\"data/?.csv\", \"./data/[!a].csv\"]\n"
	    "- config_name: none\n  data_files: [top.csv, \"nothing/*.csv\"]\n"
	    "- config_name: outside\n  data_files: ../x.csv\n"
	    "- config_name: readme\n  data_files: [\"*\", \"README.md\"]\n---\n");
	expect_files(t, "star", "train", FILES("top.csv"));
	expect_files(t, "dstar", "train",
	             FILES("data/a.csv", "data/b.csv", "data/sub/c.csv", "top.csv"));
	expect_files(t, "under", "train", FILES("data/a.csv", "data/b.csv", "data/sub/c.csv"));
	expect_files(t, "inside", "train", FILES("data/a.csv", "data/b.csv", "data/sub/c.csv"));
	expect_files(t, "mid", "train", FILES("data/sub/c.csv"));
	expect_files(t, "q", "train", FILES("data/a.csv", "data/b.csv"));
	expect_error(t, NULL, "none", "train", FIDX_EINPUT, "README.md:16: ",
	             "config \"none\", split \"train\": pattern \"nothing/*.csv\" matches no files",
	             NULL);
	expect_error(t, NULL, "outside", "train", FIDX_EINPUT,
	             "pattern \"../x.csv\" must be a relative path", NULL);
	/* README.md only when a pattern names it. */
	expect_files(t, "readme", "train", FILES("top.csv", "README.md"));
}

static void test_hub_data_dir(void **state)
{
	struct tmpdir *t = *state;

	put(t, "en/train.csv", "x\n");
	put(t, "en/test.csv", "x\n");
	put(t, "en/extra/more.csv", "x\n");
	put(t, "fr/a.csv", "x\n");
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: en\n  data_dir: en\n"
	    "- config_name: en_files\n  data_dir: ./en/\n  data_files:\n"
	    "  - split: train\n    path: \"**\"\n"
	    "- config_name: fr\n  data_dir: fr\n  data_files: \"*.csv\"\n"
	    "- config_name: bad\n  data_dir: /etc\n"
	    "- config_name: missing\n  data_dir: nope\n---\n");
	/* data_dir without data_files: inference inside it. */
	expect_files(t, "en", "train", FILES("en/train.csv"));
	expect_files(t, "en", "test", FILES("en/test.csv"));
	expect_files(t, "en_files", "train", FILES("en/extra/more.csv", "en/test.csv", "en/train.csv"));
	expect_files(t, "fr", "train", FILES("fr/a.csv"));
	expect_error(t, NULL, "bad", "train", FIDX_EINPUT, "README.md:14: ",
	             "data_dir \"/etc\" must be a relative path", NULL);
	expect_error(t, NULL, "missing", "train", FIDX_EINPUT, "/nope: no such folder", NULL);
}

static void test_hub_yaml_front_matter(void **state)
{
	struct tmpdir *t = *state;

	put_common(t);
	/* Other keys may use YAML the parser rejects. */
	put(t, "README.md",
	    "\xef\xbb\xbf---\r\nlicense: mit\r\ndescription: |\r\n  multi: line\r\n  text\r\n"
	    "tags: &t [a, b]\r\nconfigs:\r\n- config_name: default\r\n"
	    "  # a comment\r\n\r\n  data_files: top.csv\r\ndataset_info:\r\n"
	    "  features: !!map {a: *t}\r\n---\r\nbody\r\n");
	expect_files(t, NULL, "train", FILES("top.csv"));
	/* A YAML error inside configs names the README line. */
	put(t, "README.md",
	    "---\nlicense: mit\n\nconfigs:\n- config_name: default\n  data_files: &a top.csv\n"
	    "---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT, "/README.md:6: anchors", NULL);
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: default\n  data_files: x\nconfigs:\n- y\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT,
	             "/README.md:5: duplicate key \"configs\"", NULL);
	put(t, "README.md", "---\nconfigs: nope\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT, "README.md:2: configs must be a list",
	             NULL);
	put(t, "README.md", "---\nconfigs:\n- just a string\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT,
	             "README.md:3: each configs entry must be a mapping", NULL);
	put(t, "README.md", "---\nconfigs:\n- data_files: x\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT, "README.md:3: ", "no config_name",
	             NULL);
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n"
	    "    path: top.csv\n    extra: 1\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT, "README.md:5: ",
	             "exactly the keys split and path", NULL);
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n"
	    "    path: top.csv\n  - split: train\n    path: top.csv\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT, "README.md:7: ",
	             "split \"train\" appears twice", NULL);
	put(t, "README.md", "---\nconfigs:\n- config_name: default\n  data_files: true\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT, "README.md:4: ",
	             "data_files must be a pattern", NULL);
	put(t, "README.md", "---\nconfigs:\n- config_name: default\n  data_files: []\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT, "split \"train\": no data files",
	             NULL);
	/* An empty configs list, a front matter without configs, an
	 * unterminated front matter, "---" not on the first line: inference. */
	put(t, "README.md", "---\nconfigs: []\n---\n");
	expect_files(t, NULL, "train", FILES("data/a.csv", "data/b.csv", "data/sub/c.csv",
	                                      "other/x.jsonl", "top.csv"));
	put(t, "README.md", "---\nlicense: mit\n---\n");
	expect_files(t, NULL, "train", FILES("data/a.csv", "data/b.csv", "data/sub/c.csv",
	                                      "other/x.jsonl", "top.csv"));
	put(t, "README.md", "---\nconfigs:\n- config_name: default\n  data_files: top.csv\n");
	expect_files(t, NULL, "train", FILES("data/a.csv", "data/b.csv", "data/sub/c.csv",
	                                      "other/x.jsonl", "top.csv"));
	put(t, "README.md", "# T\n---\nconfigs:\n- config_name: default\n  data_files: top.csv\n---\n");
	expect_files(t, NULL, "train", FILES("data/a.csv", "data/b.csv", "data/sub/c.csv",
	                                      "other/x.jsonl", "top.csv"));
	/* Without YAML configs the only config is "default". */
	expect_files(t, "default", "train", FILES("data/a.csv", "data/b.csv", "data/sub/c.csv",
	                                           "other/x.jsonl", "top.csv"));
	expect_error(t, NULL, "en", "train", FIDX_EINPUT, "no config named \"en\"", NULL);
}

/* ---- hub: inference ---- */

/* The Hub's refs/convert/parquet branch: CONFIG/SPLIT/NNNN.parquet. */
static void test_hub_convert_parquet(void **state)
{
	struct tmpdir *t = *state;

	put(t, "default/train/0001.parquet", "x");
	put(t, "default/train/0000.parquet", "x");
	put(t, "default/test/0000.parquet", "x");
	put(t, "other/train/0000.parquet", "x");
	put(t, "big/partial-train/0000.parquet", "x");
	put(t, ".gitattributes", "x");
	expect_files(t, NULL, "train", FILES("default/train/0000.parquet", "default/train/0001.parquet"));
	expect_files(t, NULL, "test", FILES("default/test/0000.parquet"));
	expect_files(t, "other", "train", FILES("other/train/0000.parquet"));
	expect_files(t, "big", "train", FILES("big/partial-train/0000.parquet"));
	expect_error(t, NULL, "other", "test", FIDX_EINPUT,
	             "/other: no data files for split \"test\" (available splits: train)", NULL);
	expect_error(t, NULL, "nosuch", "train", FIDX_EINPUT,
	             "no config named \"nosuch\" (available configs: big, default, other)", NULL);
	rm(t, "default/train/0000.parquet");
	rm(t, "default/train/0001.parquet");
	rm(t, "default/test/0000.parquet");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT, "several configs (big, other): choose one "
	             "with --config", NULL);
	rm(t, "big/partial-train/0000.parquet");
	expect_files(t, NULL, "train", FILES("other/train/0000.parquet"));
	/* Only one config, and no such split: split inference decides, as
	 * datasets would (folders with no split keyword are all "train"). */
	rm(t, "other/train/0000.parquet");
	put(t, "emb/shard/0000.parquet", "x");
	expect_files(t, NULL, "train", FILES("emb/shard/0000.parquet"));
	expect_error(t, NULL, "emb", "train", FIDX_EINPUT,
	             "/emb: no data files for split \"train\" (available splits: shard)", NULL);
	rm(t, "emb/shard/0000.parquet");
	put(t, "other/train/0000.parquet", "x");
	/* Another file anywhere: not that layout; split inference decides. */
	put(t, "other/train/extra.csv", "x");
	expect_files(t, NULL, "train", FILES("other/train/0000.parquet", "other/train/extra.csv"));
}

static void test_hub_infer_sharded(void **state)
{
	struct tmpdir *t = *state;

	put(t, "data/train-00001-of-00002.parquet", "x");
	put(t, "data/train-00000-of-00002.parquet", "x");
	put(t, "data/test-00000-of-00001-abc.parquet", "x");
	put(t, "data/random_v1.2-00000-of-00001.csv", "x");
	put(t, "data/validation-00000-of-00001", "x"); /* no '.' after: not a shard */
	put(t, "test/keyword-folder.csv", "x");     /* group 1 wins over group 2 */
	expect_files(t, NULL, "train",
	             FILES("data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"));
	expect_files(t, NULL, "test", FILES("data/test-00000-of-00001-abc.parquet"));
	expect_files(t, NULL, "random_v1.2", FILES("data/random_v1.2-00000-of-00001.csv"));
	expect_error(t, NULL, NULL, "validation", FIDX_EINPUT,
	             "no data files for split \"validation\" (available splits: train, test, "
	             "random_v1.2)",
	             NULL);
	put(t, "data/bad name-00000-of-00001.csv", "x");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT, "bad name-00000-of-00001.csv",
	             "split name", NULL);
}

static void test_hub_infer_folders(void **state)
{
	struct tmpdir *t = *state;

	put(t, "train/b.csv", "x");
	put(t, "train/a.csv", "x");
	put(t, "data/training/c.csv", "x");
	put(t, "test-2024/t.csv", "x");
	put(t, "my_dev/v.csv", "x");
	put(t, "x.val.y/w.csv", "x");
	put(t, "trainer/no.csv", "x");    /* not delimited: in no split */
	put(t, "pretrain/no.csv", "x");
	put(t, "train/test/both.csv", "x"); /* train and test: train first */
	put(t, "validation.csv", "x");      /* a file name: group 3 is not used */
	expect_files(t, NULL, "train",
	             FILES("train/a.csv", "train/b.csv", "train/test/both.csv", "data/training/c.csv"));
	expect_files(t, NULL, "test", FILES("test-2024/t.csv"));
	expect_files(t, NULL, "validation", FILES("my_dev/v.csv", "x.val.y/w.csv"));
}

static void test_hub_infer_files(void **state)
{
	struct tmpdir *t = *state;

	put(t, "train.csv", "x");
	put(t, "my-train-00.csv", "x");
	put(t, "data/training_set.jsonl", "x");
	put(t, "trainer.csv", "x");
	put(t, "pretrain.csv", "x");
	put(t, "train", "x"); /* no separator after: not a match for a file */
	put(t, "test_1.csv", "x");
	put(t, "test_0.csv", "x");
	put(t, "eval.tsv", "x");
	put(t, "dev.json", "x");
	put(t, "test-train.csv", "x"); /* both: train wins */
	put(t, "2val.txt", "x");
	/* Within a split, datasets' pattern order: "train[sep]*" names, then
	 * "*[sep]train[sep]*", then the same for "training". */
	expect_files(t, NULL, "train",
	             FILES("train.csv", "my-train-00.csv", "test-train.csv",
	                   "data/training_set.jsonl"));
	expect_files(t, NULL, "test", FILES("test_0.csv", "test_1.csv", "eval.tsv"));
	expect_files(t, NULL, "validation", FILES("dev.json", "2val.txt"));
	expect_error(t, NULL, NULL, "other", FIDX_EINPUT,
	             "no data files for split \"other\" (available splits: train, validation, test)",
	             NULL);
}

static void test_hub_infer_all_train(void **state)
{
	struct tmpdir *t = *state;

	put(t, "b.csv", "x");
	put(t, "a.parquet", "x");
	put(t, "sub/c.txt", "x");
	put(t, "trainer.csv", "x");
	expect_files(t, NULL, "train", FILES("a.parquet", "b.csv", "sub/c.txt", "trainer.csv"));
	expect_error(t, NULL, NULL, "test", FIDX_EINPUT,
	             "no data files for split \"test\" (available splits: train)", NULL);
}

static void test_hub_ignored(void **state)
{
	struct tmpdir *t = *state;
	char path[512];

	put(t, "README.md", "# no front matter\n");
	put(t, "config.json", "{}");
	put(t, "dataset_info.json", "{}");
	put(t, "dataset_infos.json", "{}");
	put(t, "dataset_dict.json", "{}");
	put(t, "sub/README.md", "x");
	put(t, ".hidden.csv", "x");
	put(t, ".git/objects/train.csv", "x");
	put(t, "__pycache__/train.csv", "x");
	put(t, "sub/__x/train.csv", "x");
	put(t, "_single/keep.csv", "x");
	put(t, "real/d.csv", "x");
	put(t, "data.csv", "x");
	put_link(t, "real", "linked_dir");      /* not followed */
	put_link(t, "data.csv", "link.csv");    /* a file: listed */
	put_link(t, "nowhere", "broken.csv");   /* skipped */
	put_link(t, ".", "real/loop");          /* a loop: not followed */
	snprintf(path, sizeof path, "%s/fifo", t->path);
	assert_int_equal(mkfifo(path, 0644), 0); /* not a regular file */
	put_dir(t, "empty");
	expect_files(t, NULL, "train", FILES("_single/keep.csv", "data.csv", "link.csv", "real/d.csv"));
	/* A link that leaves the folder is refused, even to a file of a sibling. */
	{
		struct fidx_hub_files f;
		struct fidx_err err;
		char outside[600], want[700];
		FILE *o;
		snprintf(outside, sizeof outside, "%s.outside.csv", t->path); /* a sibling of the folder */
		assert_non_null(o = fopen(outside, "w"));
		fclose(o);
		put_link(t, outside, "escape.csv");
		assert_int_equal(fidx_hub_resolve(t->path, NULL, "train", &f, &err), FIDX_EINPUT);
		snprintf(want, sizeof want, "escape.csv is a symbolic link to %s, outside the dataset folder: refused",
		         outside);
		assert_non_null(strstr(err.msg, want));
		snprintf(path, sizeof path, "%s/escape.csv", t->path);
		assert_int_equal(unlink(path), 0);
		assert_int_equal(unlink(outside), 0);
	}
	/* Trailing slashes of the folder are dropped. */
	snprintf(path, sizeof path, "%s//", t->path);
	{
		struct fidx_hub_files f;
		struct fidx_err err;
		assert_int_equal(fidx_hub_resolve(path, NULL, "train", &f, &err), 0);
		assert_int_equal(f.n, 4);
		snprintf(path, sizeof path, "%s/data.csv", t->path);
		assert_string_equal(f.paths[1], path);
		fidx_hub_files_free(&f);
	}
}

static void test_hub_errors(void **state)
{
	struct tmpdir *t = *state;
	char path[512];

	snprintf(path, sizeof path, "%s/missing", t->path);
	expect_error(t, path, NULL, "train", FIDX_EINPUT, "/missing: no such folder", NULL);
	put(t, "file.csv", "x");
	snprintf(path, sizeof path, "%s/file.csv", t->path);
	expect_error(t, path, NULL, "train", FIDX_EINPUT, "/file.csv: not a folder", NULL);
	snprintf(path, sizeof path, "%s/file.csv/below", t->path);
	expect_error(t, path, NULL, "train", FIDX_EINPUT, "no such folder", NULL);
	put_dir(t, "empty");
	snprintf(path, sizeof path, "%s/empty", t->path);
	expect_error(t, path, NULL, "train", FIDX_EINPUT, "/empty: no data files found", NULL);
	put(t, "empty/README.md", "---\nlicense: mit\n---\n");
	put(t, "empty/.hidden", "x");
	put(t, "empty/__cache/x.csv", "x");
	expect_error(t, path, NULL, "train", FIDX_EINPUT, "/empty: no data files found", NULL);
	expect_error(t, path, "default", "test", FIDX_EINPUT, "/empty: no data files found", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_block),
		cmocka_unit_test(test_yaml_scalars),
		cmocka_unit_test(test_yaml_quoted),
		cmocka_unit_test(test_yaml_flow),
		cmocka_unit_test(test_yaml_comments_and_lines),
		cmocka_unit_test(test_yaml_line_numbers),
		cmocka_unit_test(test_yaml_rejects),
		cmocka_unit_test(test_yaml_nul_byte),
		cmocka_unit_test(test_yaml_depth),
		cmocka_unit_test(test_yaml_limits),
		cmocka_unit_test(test_yaml_hostile),
		cmocka_unit_test_setup_teardown(test_hub_yaml_string_and_list, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_hub_yaml_split_form, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_hub_yaml_default_selection, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_hub_globs, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_hub_data_dir, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_hub_yaml_front_matter, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_hub_convert_parquet, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_hub_infer_sharded, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_hub_infer_folders, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_hub_infer_files, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_hub_infer_all_train, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_hub_ignored, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_hub_errors, tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
