/* Tests for io/hub/yamltree.c (YAML as PyYAML's safe_load reads it) and
 * io/hub/hub.c (resolving a Hub-style dataset folder into its data files). */
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
#include "yamltree.h"

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

/* Expects an FIDX_EINPUT error "t.yaml:LINE:COLUMN: ..." containing what. */
static void parse_err(const char *text, long line, const char *what)
{
	struct fidx_err err;
	cJSON *out = NULL;
	char prefix[64];
	int rc = parse_n(text, strlen(text), &out, &err);

	if (rc != FIDX_EINPUT)
		fail_msg("expected an input error for \"%s\", got %d", text, rc);
	snprintf(prefix, sizeof prefix, "t.yaml:%ld:", line);
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

/* Expects the text (valuestring) Python's str() gives the scalar at the
 * top of text. */
static void expect_text(const char *text, const char *want)
{
	cJSON *out = parse_ok(text);

	if (!out->valuestring || strcmp(out->valuestring, want) != 0)
		fail_msg("for \"%s\": expected the text \"%s\", got \"%s\"", text, want,
		         out->valuestring ? out->valuestring : "(none)");
	cJSON_Delete(out);
}

/* ---- YAML: accepted documents ---- */

static void test_yaml_block(void **state)
{
	(void)state;
	expect_json("a: 1\nb: two words\nc:\n  d: x\n  e:\n    - 1\n    - 2\n",
	            "{\"a\":1,\"b\":\"two words\",\"c\":{\"d\":\"x\",\"e\":[1,2]}}");
	expect_json("- a\n- b: 1\n  c: 2\n- - x\n  - y\n-\n  k: v\n-\n",
	            "[\"a\",{\"b\":1,\"c\":2},[\"x\",\"y\"],{\"k\":\"v\"},null]");
	/* A sequence at the indentation of its parent key. */
	expect_json("configs:\n- config_name: x\n  data_files:\n  - split: train\n    path: a.csv\n"
	            "- config_name: y\nother: 1\n",
	            "{\"configs\":[{\"config_name\":\"x\",\"data_files\":[{\"split\":\"train\","
	            "\"path\":\"a.csv\"}]},{\"config_name\":\"y\"}],\"other\":1}");
	expect_json("- a:\n  - x\n  b: y\n", "[{\"a\":[\"x\"],\"b\":\"y\"}]");
	expect_json("-   p: 1\n    q: 2\n", "[{\"p\":1,\"q\":2}]");
	expect_json("  a: 1\n  b: 2\n", "{\"a\":1,\"b\":2}");
	expect_json("\"quoted key\": 1\n'single' : 2\na b: 3\nurl: http://x.y/z\na#b: c#d\n",
	            "{\"quoted key\":1,\"single\":2,\"a b\":3,\"url\":\"http://x.y/z\","
	            "\"a#b\":\"c#d\"}");
	expect_json("k:\n", "{\"k\":null}");
	expect_json("k:\nl: 2\n", "{\"k\":null,\"l\":2}");
	/* Complex keys; keys that are not strings become their text. */
	expect_json("? a\n: b\n? |\n  block key\n: c\n", "{\"a\":\"b\",\"block key\\n\":\"c\"}");
	expect_json("{1: a, 1.5: b, yes: c, ~: d, 2001-12-14: e}",
	            "{\"1\":\"a\",\"1.5\":\"b\",\"True\":\"c\",\"None\":\"d\",\"2001-12-14\":\"e\"}");
}

/* YAML 1.1's implicit types, as PyYAML's SafeLoader resolves plain scalars. */
static void test_yaml_scalars(void **state)
{
	cJSON *out;

	(void)state;
	expect_json("[true, True, TRUE, false, False, FALSE, yes, Yes, NO, on, Off, tRue, y, n]",
	            "[true,true,true,false,false,false,true,true,false,true,false,\"tRue\",\"y\","
	            "\"n\"]");
	expect_json("[null, Null, NULL, ~, '', \"null\", nULL]",
	            "[null,null,null,null,\"\",\"null\",\"nULL\"]");
	expect_json("[0, -1, +12, 1_000, 0b101, 017, 0x1F, 1:30, 08, 0o17, 1e5, 1.0e5]",
	            "[0,-1,12,1000,5,15,31,90,\"08\",\"0o17\",\"1e5\",\"1.0e5\"]");
	expect_json("['true', \"1\", 3 # comment\n]", "[\"true\",\"1\",3]");
	expect_json("plain text", "\"plain text\"");
	expect_json("-1", "-1");
	/* Every scalar carries its text as Python's str() gives it. */
	expect_text("0x1f", "31");
	expect_text("-0b11", "-3");
	expect_text("-0", "0");
	expect_text("190:20:30", "685230");
	expect_text("123456789012345678901234567890", "123456789012345678901234567890");
	expect_text("0xffff_ffff_ffff_ffff", "18446744073709551615");
	expect_text("-0b1111111111111111111111111111111111111111111111111111111111111111",
	            "-18446744073709551615");
	expect_text("1.", "1.0");
	expect_text("1_0.5_0", "10.5");
	expect_text("1.0e+5", "100000.0");
	expect_text("6.02e+23", "6.02e+23");
	expect_text(".5", "0.5");
	expect_text("-.inf", "-inf");
	expect_text(".NaN", "nan");
	expect_text("1:30.5", "90.5");
	expect_text("yes", "True");
	expect_text("off", "False");
	expect_text("~", "None");
	expect_text("", "None");
	expect_text("2001-12-14", "2001-12-14");
	expect_text("2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.100000-05:00");
	expect_text("2001-12-15 2:59:43 Z", "2001-12-15 02:59:43+00:00");
	expect_text("2001-1-1", "2001-1-1"); /* a string: one-digit month without a time */
	parse_err("0x10000000000000000", 1, "beyond 64 bits");
	parse_err("1:0:0:0:0:0:0:0:0:0:0:0", 1, "beyond 64 bits");
	out = parse_ok("[2001-12-14, 1.5, 7, 18446744073709551617]");
	assert_true(cJSON_IsRaw(cJSON_GetArrayItem(out, 0)));
	assert_true(cJSON_GetArrayItem(out, 1)->valuedouble == 1.5);
	assert_true(cJSON_GetArrayItem(out, 2)->valuedouble == 7);
	assert_true(cJSON_GetArrayItem(out, 3)->valuedouble == 18446744073709551616.0);
	assert_string_equal(cJSON_GetArrayItem(out, 3)->valuestring, "18446744073709551617");
	cJSON_Delete(out);
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
	/* Quoted scalars may span lines (folded with a space, or a newline per
	 * empty line). */
	expect_json("a: \"multi\n  line\"\nb: 'x\n\n  y'\n", "{\"a\":\"multi line\",\"b\":\"x\\ny\"}");
}

static void test_yaml_flow(void **state)
{
	(void)state;
	expect_json("k: [a, \"b\", 'c', [d, e], {f: 1, g: [h]}]",
	            "{\"k\":[\"a\",\"b\",\"c\",[\"d\",\"e\"],{\"f\":1,\"g\":[\"h\"]}]}");
	expect_json("k: []\nl: {}\nm: [a, b, ]\n", "{\"k\":[],\"l\":{},\"m\":[\"a\",\"b\"]}");
	expect_json("k: {a, b: , \"c\":d, e:f, g h: i j}",
	            "{\"k\":{\"a\":null,\"b\":null,\"c\":\"d\",\"e:f\":null,\"g h\":\"i j\"}}");
	expect_json("[a b, c] # comment", "[\"a b\",\"c\"]");
	expect_json("- [x]\n- {y: z}\n", "[[\"x\"],{\"y\":\"z\"}]");
	/* Flow collections may span lines. */
	expect_json("a: [1,\n  2, {b: c,\n   d: e}]\n", "{\"a\":[1,2,{\"b\":\"c\",\"d\":\"e\"}]}");
}

static void test_yaml_block_scalars(void **state)
{
	(void)state;
	expect_json("a: |\n  line one\n  line two\n\nb: x\n",
	            "{\"a\":\"line one\\nline two\\n\",\"b\":\"x\"}");
	expect_json("a: >-\n  folded\n  text\n\n  para\n", "{\"a\":\"folded text\\npara\"}");
	expect_json("a: |+\n  kept\n\n", "{\"a\":\"kept\\n\\n\"}");
	expect_json("a: |2\n   indented\n", "{\"a\":\" indented\\n\"}");
	expect_json("a: |\n  x\ty\n", "{\"a\":\"x\\ty\\n\"}");
}

static void test_yaml_comments_and_lines(void **state)
{
	(void)state;
	expect_json("# head\n\na: 1 # c\n   # indented comment\n\nb: 2\n#tail", "{\"a\":1,\"b\":2}");
	expect_json("a: x\n  continued\n\n  more\nb: y\n",
	            "{\"a\":\"x continued\\nmore\",\"b\":\"y\"}");
	expect_json("- a\n  - b\n", "[\"a - b\"]");
	expect_json("a: 1\n  - b\n", "{\"a\":\"1 - b\"}");
	expect_json("\xef\xbb\xbf" "a: 1\r\nb: 2\rc: [x]\r\n", "{\"a\":1,\"b\":2,\"c\":[\"x\"]}");
	expect_json("---\na: 1\n...\n# after\n", "{\"a\":1}");
	expect_json("--- # c\na: 1\n", "{\"a\":1}");
	expect_json("%YAML 1.1\n---\na: 1\n", "{\"a\":1}");
	expect_json("--- a", "\"a\"");
	expect_json("", "null");
	expect_json("# only a comment\n\n", "null");
	expect_json("---\n", "null");
}

static void test_yaml_line_numbers(void **state)
{
	cJSON *out = parse_ok("a: 1\n\nb:\n  - x\n  - y\nc:\n  d: e\nf: &x [1]\ng: *x\n");

	(void)state;
	assert_int_equal(cJSON_GetObjectItem(out, "a")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(out, "b")->valueint, 4);
	assert_int_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "b"), 1)->valueint, 5);
	assert_int_equal(cJSON_GetObjectItem(out, "c")->valueint, 7);
	/* an alias's copy has the alias's line; inside it, the anchor's lines */
	assert_int_equal(cJSON_GetObjectItem(out, "g")->valueint, 9);
	assert_int_equal(cJSON_GetObjectItem(out, "g")->child->valueint, 8);
	cJSON_Delete(out);
}

static void test_yaml_anchors_merges(void **state)
{
	(void)state;
	expect_json("a: &x 1\nb: *x\nc: &y [*x, {k: *x}]\nd: *y\n",
	            "{\"a\":1,\"b\":1,\"c\":[1,{\"k\":1}],\"d\":[1,{\"k\":1}]}");
	expect_json("&k a: *k", "{\"a\":\"a\"}");
	/* Merge keys: the mapping's own keys win, then the earlier merged
	 * mappings; a key keeps the place it first had, as in a Python dict. */
	expect_json("<<: [{a: 1, b: 2}, {b: 3, c: 4}]\nd: 5\nb: 6\n",
	            "{\"b\":6,\"c\":4,\"a\":1,\"d\":5}");
	expect_json("x: &x {a: 1, b: 2}\ny:\n  a: 9\n  <<: *x\n",
	            "{\"x\":{\"a\":1,\"b\":2},\"y\":{\"a\":9,\"b\":2}}");
	expect_json("<<: [{a: 1}, {<<: {b: 2}, c: 3}]\n", "{\"b\":2,\"c\":3,\"a\":1}");
	expect_json("x: &x {a: 1}\ny: {<<: *x, <<: {b: 2}}\n",
	            "{\"x\":{\"a\":1},\"y\":{\"a\":1,\"b\":2}}");
	/* "<<" quoted is a plain string; "=" as a key is one too. */
	expect_json("\"<<\": 1\n=: 2\n", "{\"<<\":1,\"=\":2}");
	parse_err("a: *x", 1, "found undefined alias *x");
	parse_err("a: &x 1\nb: &x 2\n", 2, "the anchor &x is defined twice");
	parse_err("&a [*a]", 1, "inside the node it names");
	parse_err("<<: 1\n", 1, "expected a mapping or a list of mappings for merging");
	parse_err("<<: [[a]]\n", 1, "expected a mapping for merging");
	parse_err("a: <<", 1, "\"<<\" is only allowed as a mapping key");
	parse_err("- =", 1, "\"=\" is only allowed as a mapping key");
}

static void test_yaml_tags(void **state)
{
	(void)state;
	expect_json("[!!str 1, !!str yes, !!int '12', !!float 1, !!bool TrUe, !!null x, ! 12, ! '12']",
	            "[\"1\",\"yes\",12,1,true,null,12,12]");
	expect_text("!!float 1", "1.0");
	expect_text("!!int ' 12 '", "12");
	expect_text("!!int 0x_1f", "31");
	expect_text("!<tag:yaml.org,2002:str> 12", "12");
	expect_text("!!binary aGVs bG8=", "aGVsbG8=");
	expect_text("!!timestamp 2001-1-1", "2001-01-01");
	expect_json("!!map {a: 1}", "{\"a\":1}");
	expect_json("!!set {b, a}", "[\"b\",\"a\"]");
	expect_json("!!omap [a: 1, b: [x]]", "[[\"a\",1],[\"b\",[\"x\"]]]");
	expect_json("!!pairs [a: 1, a: 2]", "[[\"a\",1],[\"a\",2]]");
	expect_json("%TAG !e! tag:yaml.org,2002:\n---\n!e!int 7", "7");
	parse_err("!foo x", 1, "unsupported tag \"!foo\"");
	parse_err("a: !!python/tuple [1, 2]", 1, "unsupported tag \"tag:yaml.org,2002:python/tuple\"");
	parse_err("!!str [a]", 1, "does not apply to a sequence");
	parse_err("!!seq x", 1, "does not apply to a scalar");
	parse_err("!!omap [a, b]", 1, "a mapping of one pair");
	parse_err("!!int abc", 1, "\"abc\" is not a valid int");
	parse_err("!!float 1.5x", 1, "is not a valid float");
	parse_err("!!bool maybe", 1, "is not a valid bool");
	parse_err("!!binary a", 1, "is not a valid binary: the number of data characters");
	parse_err("!!binary aGVsbG8", 1, "incorrect padding");
	parse_err("!!timestamp yesterday", 1, "is not a valid timestamp");
	parse_err("a: 2021-02-29", 1, "day is out of range for month");
	parse_err("a: 0000-01-01", 1, "year 0 is out of range");
	parse_err("a: 2021-01-01 10:00:00 +24", 1, "time zone offset");
	parse_err("a: 0b_", 1, "\"0b_\" is not a valid int");
}

/* ---- YAML: rejected documents ---- */

static void test_yaml_rejects(void **state)
{
	(void)state;
	parse_err("a: 1\n---\nb: 2\n", 2, "expected a single document");
	parse_err("a: 1\n...\nb: 2\n", 3, "did not find expected <document start>");
	parse_err("\ta: 1", 1, "found character that cannot start any token");
	parse_err("a:\n\tb: 1\n", 2, "found character that cannot start any token");
	parse_err(": b\n", 1, "did not find expected key");
	parse_err("a: \"open\n", 2, "found unexpected end of stream");
	parse_err("a: 'open\n", 2, "found unexpected end of stream");
	parse_err("a: [1, 2\n", 2, "did not find expected ',' or ']' (while parsing a flow sequence at line 1)");
	parse_err("a: {b: 1\n", 2, "did not find expected ',' or '}'");
	parse_err("a: [1] x", 1, "did not find expected key");
	parse_err("a: [b, c]]", 1, "did not find expected key");
	parse_err("a: {[x]: 1}", 1, "a mapping key must be a scalar, found a sequence");
	parse_err("{{a: 1}: 2}", 1, "a mapping key must be a scalar, found a mapping");
	parse_err("k: -", 1, "block sequence entries are not allowed");
	parse_err("a: 1\na: 2\n", 2, "duplicate key \"a\"");
	parse_err("k: {a: 1, a: 2}", 1, "duplicate key \"a\"");
	parse_err("{1: a, \"1\": b}", 1, "duplicate key \"1\"");
	parse_err("a: b: c", 1, "mapping values are not allowed in this context");
	parse_err("a: x\n  b: c\n", 2, "mapping values are not allowed in this context");
	parse_err("a:\n    b: 1\n  c: 2\n", 3, "did not find expected key");
	parse_err("a: 1\n- b\n", 2, "did not find expected key");
	parse_err("- a\nb: 1\n", 2, "did not find expected '-' indicator");
	parse_err("a: @x", 1, "found character that cannot start any token");
	parse_err("a: `x", 1, "found character that cannot start any token");
	parse_err("a: %x", 1, "found character that cannot start any token");
	parse_err("a: \"\\q\"", 1, "found unknown escape character");
	parse_err("a: \"\\xZ1\"", 1, "did not find expected hexdecimal number");
	parse_err("a: \"\\ud800\"", 1, "found invalid Unicode character escape code");
	parse_err("a: \"\\0\"", 1, "a NUL character in a string is not supported");
	parse_err("a: \"\\u0000\"", 1, "a NUL character in a string is not supported");
	parse_err("a: 1\nb: \x01\n", 2, "control characters are not allowed (U+0001)");
	parse_err("a: \x7f", 1, "control characters are not allowed (U+007F)");
	parse_err("a: \xc3", 1, "incomplete UTF-8 octet sequence");
	parse_err("a: \xff", 1, "invalid leading UTF-8 octet (byte 0xff)");
	parse_err("a: x\n  # comment\n  y\n", 3, "did not find expected key");
	parse_err("[a]: b", 1, "a mapping key must be a scalar");
}

/* PyYAML's scanner never takes a tab for a separator: tabs only in
 * quotes, block scalars and comments. */
static void test_yaml_tabs(void **state)
{
	(void)state;
	parse_err("a: 1\t\n", 1, "a tab is only allowed in quoted or block scalars and comments");
	parse_err("a:\tx\n", 1, "a tab is only allowed");
	parse_err("a: x\ty\n", 1, "a tab is only allowed");
	parse_err("a: [1,\t2]\n", 1, "a tab is only allowed");
	parse_err("a: 1\n\t\nb: 2\n", 2, "tab");
	parse_err("a: 1\n\t# c\n", 2, "tab");
	parse_err("a: [1,\n\t2]\n", 2, "a tab is only allowed");
	parse_err("a: |\t\n  x\n", 1, "a tab is only allowed");
	expect_json("a: 'x\ty'\nb: \"x\n\ty\"\nc: 1 # \tc\nd: |\n  x\ty\ne: [1]#\t\n",
	            "{\"a\":\"x\\ty\",\"b\":\"x y\",\"c\":1,\"d\":\"x\\ty\\n\",\"e\":[1]}");
}

static void test_yaml_nul_byte(void **state)
{
	struct fidx_err err;
	cJSON *out = NULL;

	(void)state;
	assert_int_equal(parse_n("a: 1\nb: x\0y\n", 12, &out, &err), FIDX_EINPUT);
	assert_string_equal(err.msg, "t.yaml:2:5: control characters are not allowed (U+0000)");
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
	assert_int_equal(fidx_yaml_parse(NULL, "a: [", 4, &out, &err), FIDX_EINPUT);
	assert_non_null(strstr(err.msg, "<yaml>:"));
}

/* Aliases are copies: "billion laughs" must stop at the limits, quickly
 * and cleanly. */
static void test_yaml_alias_bombs(void **state)
{
	char doc[4096], big[8192];
	size_t o = 0;
	int i;

	(void)state;
	/* ten levels of ten aliases: 10^10 nodes */
	o += (size_t)sprintf(doc + o, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 10; i++)
		o += (size_t)sprintf(doc + o, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, "
		                     "*a%d, *a%d, *a%d]\n", i, i, i - 1, i - 1, i - 1, i - 1, i - 1,
		                     i - 1, i - 1, i - 1, i - 1, i - 1);
	parse_err(doc, 6, "more than 1048576 nodes (aliases expanded)");
	/* few nodes, much text */
	memcpy(big, "s: &s '", 7);
	memset(big + 7, 'x', 4000);
	o = 4007;
	o += (size_t)sprintf(big + o, "'\nl0: &l0 [*s, *s, *s, *s, *s, *s, *s, *s]\n");
	for (i = 1; i < 10; i++)
		o += (size_t)sprintf(big + o, "l%d: &l%d [*l%d, *l%d, *l%d, *l%d]\n", i, i, i - 1,
		                     i - 1, i - 1, i - 1);
	parse_err(big, 8, "more than 67108864 bytes of text (aliases expanded)");
	/* nesting: aliases of deep nodes inside deep nodes */
	o = 0;
	o += (size_t)sprintf(doc + o, "a: &a ");
	for (i = 0; i < 40; i++)
		doc[o++] = '[';
	for (i = 0; i < 40; i++)
		doc[o++] = ']';
	o += (size_t)sprintf(doc + o, "\nb: ");
	for (i = 0; i < 30; i++)
		doc[o++] = '[';
	o += (size_t)sprintf(doc + o, "*a");
	for (i = 0; i < 30; i++)
		doc[o++] = ']';
	doc[o] = '\0';
	parse_err(doc, 2, "nesting deeper than 64 levels (aliases expanded)");
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
	/* Split names are what Python's str() makes of the values, as in
	 * datasets: 2021 (an int) is "2021", on (a bool) is "True". */
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: 2021\n    path: top.csv\n"
	    "  - split: on\n    path: other/*\n---\n");
	expect_files(t, NULL, "2021", FILES("top.csv"));
	expect_files(t, NULL, "True", FILES("other/x.jsonl"));
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: 2021\n    path: top.csv\n"
	    "  - split: [x]\n    path: top.csv\n---\n");
	expect_error(t, NULL, NULL, "2021", FIDX_EINPUT, "README.md:7: ", "split must be a string", NULL);
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
	/* default: any value true in Python's sense (yes, 1, a word) */
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: a\n  data_files: top.csv\n  default: no\n"
	    "- config_name: b\n  data_files: other/*\n  default: yes\n---\n");
	expect_files(t, NULL, "train", FILES("other/x.jsonl"));
	/* A config name that YAML 1.1 reads as a number or a bool is not a
	 * name (datasets fails on it too); quoted, it is one. */
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: 2021\n  data_files: top.csv\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT, "README.md:3: config_name must be a string",
	             NULL);
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: '2021'\n  data_files: top.csv\n---\n");
	expect_files(t, "2021", "train", FILES("top.csv"));
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
	/* The whole front matter is YAML as PyYAML reads it: anchors, block
	 * scalars and tags anywhere, CRLF line ends, a byte order mark. */
	put(t, "README.md",
	    "\xef\xbb\xbf---\r\nlicense: mit\r\ndescription: |\r\n  multi: line\r\n  text\r\n"
	    "tags: &t [a, b]\r\nconfigs:\r\n- config_name: default\r\n"
	    "  # a comment\r\n\r\n  data_files: top.csv\r\ndataset_info:\r\n"
	    "  features: !!map {a: *t}\r\n---\r\nbody\r\n");
	expect_files(t, NULL, "train", FILES("top.csv"));
	put(t, "README.md",
	    "---\nbase: &b {data_files: other/*}\nconfigs:\n- <<: *b\n  config_name: default\n---\n");
	expect_files(t, NULL, "train", FILES("other/x.jsonl"));
	/* A YAML error anywhere in the front matter names the README line and
	 * column: datasets cannot read such a card either. */
	put(t, "README.md",
	    "---\nlicense: mit\n\nconfigs:\n- config_name: default\n  data_files: top.csv # ok\n"
	    "  split: [train\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT,
	             "/README.md:8:1: did not find expected ',' or ']' (while parsing a flow sequence "
	             "at line 7)", NULL);
	put(t, "README.md",
	    "---\nlicense: mit: x\nconfigs:\n- config_name: default\n  data_files: top.csv\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT,
	             "/README.md:2:13: mapping values are not allowed in this context", NULL);
	put(t, "README.md", "---\ntags: [a,\tb]\nconfigs: []\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT, "/README.md:2:10: a tab is only allowed",
	             NULL);
	put(t, "README.md",
	    "---\nconfigs:\n- config_name: default\n  data_files: x\nconfigs:\n- y\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT,
	             "/README.md:5:1: duplicate key \"configs\"", NULL);
	/* huggingface_hub wants a mapping */
	put(t, "README.md", "---\n\n- configs\n- x\n---\n");
	expect_error(t, NULL, NULL, "train", FIDX_EINPUT,
	             "/README.md:3: the front matter must be a mapping", NULL);
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
	/* datasets takes configs when the value is true in Python's sense */
	put(t, "README.md", "---\nconfigs: no\n---\n");
	expect_files(t, NULL, "train", FILES("data/a.csv", "data/b.csv", "data/sub/c.csv",
	                                      "other/x.jsonl", "top.csv"));
	put(t, "README.md", "---\n# nothing but a comment\n---\n");
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
		cmocka_unit_test(test_yaml_block_scalars),
		cmocka_unit_test(test_yaml_comments_and_lines),
		cmocka_unit_test(test_yaml_line_numbers),
		cmocka_unit_test(test_yaml_anchors_merges),
		cmocka_unit_test(test_yaml_tags),
		cmocka_unit_test(test_yaml_rejects),
		cmocka_unit_test(test_yaml_tabs),
		cmocka_unit_test(test_yaml_nul_byte),
		cmocka_unit_test(test_yaml_depth),
		cmocka_unit_test(test_yaml_limits),
		cmocka_unit_test(test_yaml_alias_bombs),
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
