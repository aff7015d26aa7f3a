/* io/hub/uri.c, io/hub/wire.c and io/hub/cache.c: hf:// URLs, the Hub's
 * answers parsed and refused, errors classified, git blob ids, and the
 * Hugging Face cache's layout, without a network. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "uri.h"
#include "wire.h"
#include "tmpdir.h"

static void uri_ok(const char *s, const char *repo, const char *rev, const char *path)
{
	struct fidx_hf_uri u;
	struct fidx_err err = {0};
	int rc = fidx_hf_uri_parse(s, &u, &err);
	if (rc)
		fail_msg("%s: %s", s, err.msg);
	assert_string_equal(u.repo, repo);
	if (rev)
		assert_string_equal(u.revision, rev);
	else
		assert_null(u.revision);
	assert_string_equal(u.path, path);
	fidx_hf_uri_free(&u);
}

static void uri_bad(const char *s, const char *why)
{
	struct fidx_hf_uri u;
	struct fidx_err err = {0};
	assert_int_equal(fidx_hf_uri_parse(s, &u, &err), FIDX_EINPUT);
	if (!strstr(err.msg, why))
		fail_msg("%s: \"%s\" has no \"%s\"", s, err.msg, why);
}

static void test_uri(void **state)
{
	(void)state;
	uri_ok("hf://datasets/o/n", "o/n", NULL, "");
	uri_ok("hf://datasets/o/n/", "o/n", NULL, "");
	uri_ok("hf://datasets/ITESM/embedded_faqs_medicare", "ITESM/embedded_faqs_medicare", NULL, "");
	uri_ok("hf://datasets/o/n@main", "o/n", "main", "");
	uri_ok("hf://datasets/o/n@v1.0/data/train.csv", "o/n", "v1.0", "data/train.csv");
	uri_ok("hf://datasets/o/n@refs/convert/parquet/default/train/0000.parquet", "o/n", "refs/convert/parquet",
	       "default/train/0000.parquet");
	uri_ok("hf://datasets/o/n@refs%2Fconvert%2Fparquet/default/train", "o/n", "refs/convert/parquet",
	       "default/train");
	uri_ok("hf://datasets/o/n@refs/pr/3", "o/n", "refs/pr/3", "");
	uri_ok("hf://datasets/o/n@refs/pr/12/a.csv", "o/n", "refs/pr/12", "a.csv");
	uri_ok("hf://datasets/o/n@feature%2Fx/a", "o/n", "feature/x", "a");
	uri_ok("hf://datasets/o/n@100%25/a", "o/n", "100%", "a");
	uri_ok("hf://datasets/o/n@50%zz", "o/n", "50%zz", "");
	uri_ok("hf://datasets/o/n/dir/file@1.txt", "o/n", NULL, "dir/file@1.txt");
	uri_ok("hf://datasets/o/n/data/*.csv", "o/n", NULL, "data/*.csv");
	uri_ok("hf://datasets/o/n/my%20file.csv", "o/n", NULL, "my%20file.csv");
	uri_ok("hf://datasets/a_b/c.d-e", "a_b/c.d-e", NULL, "");
	uri_bad("hf://o/n", "hf://datasets/");
	uri_bad("hf://models/o/n", "not other kinds");
	uri_bad("hf://dataset/o/n", "plural");
	uri_bad("hf://datasets/o", "no repository");
	uri_bad("hf://datasets/o@main/n", "no repository");
	uri_bad("hf://datasets/o/n@", "empty revision");
	uri_bad("hf://datasets/o/n@/x", "empty revision");
	uri_bad("hf://datasets/o/n/a//b", "empty");
	uri_bad("hf://datasets/o/n/../x", "\"..\"");
	uri_bad("hf://datasets/o/n/./x", "\".\"");
	uri_bad("hf://datasets/o--x/n", "\"--\"");
	uri_bad("hf://datasets/o/n..x", "\"..\"");
	uri_bad("hf://datasets/-o/n", "letters, digits");
	uri_bad("hf://datasets/o/n-", "letters, digits");
	uri_bad("hf://datasets/o/n!", "letters, digits");
	uri_bad("hf://datasets/o/n.git", ".git");
	uri_bad("hf://datasets/o/n/a\tb", "control");
	uri_bad("https://huggingface.co/datasets/o/n", "not an hf:// URL");
	assert_true(fidx_hf_is_uri("hf://x"));
	assert_false(fidx_hf_is_uri("./hf://x"));
	assert_true(fidx_hf_is_glob("data/*.csv"));
	assert_true(fidx_hf_is_glob("d/[ab].csv"));
	assert_false(fidx_hf_is_glob("d/a.csv"));
}

static void test_uri_format(void **state)
{
	static const char *const revs[] = {NULL, "main", "refs/convert/parquet", "refs/pr/7", "feature/x", "100%", "a b"};
	size_t i;
	char *s;
	(void)state;
	s = fidx_hf_uri_format("o/n", NULL, "");
	assert_string_equal(s, "hf://datasets/o/n");
	free(s);
	s = fidx_hf_uri_format("o/n", "refs/convert/parquet", "a/b.parquet");
	assert_string_equal(s, "hf://datasets/o/n@refs/convert/parquet/a/b.parquet");
	free(s);
	s = fidx_hf_uri_format("o/n", "feature/x", "");
	assert_string_equal(s, "hf://datasets/o/n@feature%2Fx");
	free(s);
	/* Each revision comes back as it was. */
	for (i = 0; i < sizeof revs / sizeof *revs; i++) {
		struct fidx_hf_uri u;
		s = fidx_hf_uri_format("o/n", revs[i], "d/x.csv");
		assert_int_equal(fidx_hf_uri_parse(s, &u, NULL), 0);
		if (revs[i])
			assert_string_equal(u.revision, revs[i]);
		else
			assert_null(u.revision);
		assert_string_equal(u.path, "d/x.csv");
		fidx_hf_uri_free(&u);
		free(s);
	}
	s = fidx_hf_quote("refs/pr/1", 0);
	assert_string_equal(s, "refs%2Fpr%2F1");
	free(s);
	s = fidx_hf_quote("a b/c~_.-[x].csv", 1);
	assert_string_equal(s, "a%20b/c~_.-%5Bx%5D.csv");
	free(s);
}

#define OID1 "e7223117b4a22a9806853068e5bdbb24c4b4d7aa"
#define OID2 "93fe06abd44b786578787aa5464e2bb064419942"
#define SHA1 "70b640f8f60b1cf0dcc72f30caf3da9495eb2fb6509da48c53374ad6806e6a9c"

static int tree_of(const char *json, struct fidx_hub_tree *t, struct fidx_err *err)
{
	memset(t, 0, sizeof *t);
	return fidx_hub_tree_parse(json, strlen(json), "page", t, err);
}

static void tree_bad(const char *json, const char *why)
{
	struct fidx_hub_tree t;
	struct fidx_err err = {0};
	assert_int_equal(tree_of(json, &t, &err), FIDX_EAPI);
	if (!strstr(err.msg, why))
		fail_msg("%s: \"%s\" has no \"%s\"", json, err.msg, why);
	fidx_hub_tree_free(&t);
}

static void test_tree(void **state)
{
	struct fidx_hub_tree t, back;
	struct fidx_err err = {0};
	const struct fidx_hub_entry *e;
	char *json;
	(void)state;
	assert_int_equal(tree_of("[{\"type\":\"directory\",\"oid\":\"" OID1 "\",\"size\":0,\"path\":\"data\"},"
	                         "{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":6230011,\"lfs\":{\"oid\":\"" SHA1
	                         "\",\"size\":6230011,\"pointerSize\":132},\"xetHash\":\"x\",\"path\":\"data/b.parquet\"},"
	                         "{\"type\":\"file\",\"oid\":\"" OID2 "\",\"size\":12,\"path\":\"a.csv\",\"lfs\":null},"
	                         "{\"type\":\"unknown\",\"path\":\"?\"}]",
	                         &t, &err),
	                 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(fidx_hub_tree_finish(&t, "page", &err), 0);
	assert_string_equal(t.v[0].path, "a.csv");
	assert_string_equal(fidx_hub_etag(&t.v[0]), OID2);
	assert_string_equal(fidx_hub_etag(&t.v[1]), SHA1);
	assert_int_equal(t.v[1].size, 6230011);
	e = fidx_hub_tree_find(&t, "data/b.parquet");
	assert_non_null(e);
	assert_null(fidx_hub_tree_find(&t, "data"));
	/* huggingface_hub's tree cache, both ways */
	json = fidx_hub_tree_cache_format(&t);
	assert_non_null(strstr(json, "\"format_version\":\t1"));
	assert_non_null(strstr(json, "\"lfs_sha256\":\t\"" SHA1 "\""));
	assert_int_equal(fidx_hub_tree_cache_parse(json, strlen(json), "cache", &back, &err), 1);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.v[1].lfs, SHA1);
	assert_string_equal(back.v[1].oid, OID1);
	assert_string_equal(back.v[0].oid, OID2);
	assert_string_equal(back.v[0].lfs, "");
	fidx_hub_tree_free(&back);
	free(json);
	assert_int_equal(fidx_hub_tree_cache_parse("{\"format_version\": 2, \"files\": 3}", 34, "c", &back, &err), 0);
	assert_int_equal(fidx_hub_tree_cache_parse("{\"files\": {}}", 13, "c", &back, &err), FIDX_EAPI);
	fidx_hub_tree_free(&t);

	tree_bad("{}", "not a JSON array");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1,\"path\":\"../x\"}]", "\"..\"");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1,\"path\":\"a/../../x\"}]", "\"..\"");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1,\"path\":\"/etc/passwd\"}]", "absolute");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1,\"path\":\"a\\u0001b\"}]", "control");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1,\"path\":\"a\\nb\"}]", "control");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1,\"path\":\"a//b\"}]", "empty");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1,\"path\":\"a/\"}]", "ending");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1,\"path\":\"\"}]", "empty path");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":-1,\"path\":\"a\"}]", "no size");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1.5,\"path\":\"a\"}]", "no size");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1e300,\"path\":\"a\"}]", "no size");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":\"1\",\"path\":\"a\"}]", "no size");
	tree_bad("[{\"type\":\"file\",\"oid\":\"E7223117b4a22a9806853068e5bdbb24c4b4d7aa\",\"size\":1,\"path\":\"a\"}]",
	         "git blob id");
	tree_bad("[{\"type\":\"file\",\"size\":1,\"path\":\"a\"}]", "git blob id");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1,\"path\":\"a\",\"lfs\":{\"oid\":\"abc\",\"size\":1}}]",
	         "SHA-256");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1,\"path\":\"a\",\"lfs\":{\"oid\":\"" SHA1
	         "\",\"size\":2}}]",
	         "LFS size");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1,\"path\":\"a\",\"lfs\":[]}]", "lfs field");
	tree_bad("[{\"oid\":\"" OID1 "\"}]", "without a type");
	tree_bad("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1}]", "without a path");

	/* Twice, and a file that is also a folder. */
	assert_int_equal(tree_of("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1,\"path\":\"a\"},"
	                         "{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1,\"path\":\"a\"}]",
	                         &t, &err),
	                 0);
	assert_int_equal(fidx_hub_tree_finish(&t, "page", &err), FIDX_EAPI);
	assert_non_null(strstr(err.msg, "listed twice"));
	fidx_hub_tree_free(&t);
	assert_int_equal(tree_of("[{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1,\"path\":\"a/b\"},"
	                         "{\"type\":\"file\",\"oid\":\"" OID1 "\",\"size\":1,\"path\":\"a\"}]",
	                         &t, &err),
	                 0);
	assert_int_equal(fidx_hub_tree_finish(&t, "page", &err), FIDX_EAPI);
	assert_non_null(strstr(err.msg, "also a folder"));
	fidx_hub_tree_free(&t);
}

/* git hash-object's ids */
static void test_git_blob(void **state)
{
	struct fidx_sha1 s;
	unsigned char d[20];
	char hex[41];
	(void)state;
	fidx_hub_git_blob(&s, 6);
	fidx_sha1_update(&s, "hello\n", 6);
	fidx_sha1_final(&s, d);
	fidx_sha1_hex(d, hex);
	assert_string_equal(hex, "ce013625030ba8dba906f756967f9e9ca394464a");
	fidx_hub_git_blob(&s, 0);
	fidx_sha1_final(&s, d);
	fidx_sha1_hex(d, hex);
	assert_string_equal(hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
}

static void test_info_and_link(void **state)
{
	struct fidx_err err = {0};
	char sha[41], *url;
	const char *ok = "{\"id\":\"o/n\",\"sha\":\"098765c79ea10a2cb19c828324e33281b8336ec0\",\"siblings\":[]}";
	(void)state;
	assert_int_equal(fidx_hub_info_parse(ok, strlen(ok), "info", sha, &err), 0);
	assert_string_equal(sha, "098765c79ea10a2cb19c828324e33281b8336ec0");
	assert_int_equal(fidx_hub_info_parse("{\"sha\":\"main\"}", 14, "info", sha, &err), FIDX_EAPI);
	assert_non_null(strstr(err.msg, "\"main\""));
	assert_int_equal(fidx_hub_info_parse("[]", 2, "info", sha, &err), FIDX_EAPI);
	assert_int_equal(fidx_hub_info_parse("{\"id\"", 5, "info", sha, &err), FIDX_EAPI);

	assert_int_equal(fidx_hub_link_next("<https://huggingface.co/api/datasets/o/n/tree/main?recursive=1&cursor=ZX%3D>; "
	                                    "rel=\"next\"",
	                                    &url, &err),
	                 1);
	assert_string_equal(url, "https://huggingface.co/api/datasets/o/n/tree/main?recursive=1&cursor=ZX%3D");
	free(url);
	assert_int_equal(fidx_hub_link_next("<http://a/1>; rel=\"prev\", <http://a/3>; rel=next", &url, &err), 1);
	assert_string_equal(url, "http://a/3");
	free(url);
	assert_int_equal(fidx_hub_link_next("<http://a/1>; rel=\"last next\"", &url, &err), 1);
	assert_string_equal(url, "http://a/1");
	free(url);
	assert_int_equal(fidx_hub_link_next("<http://a/1>; rel=\"prev\"", &url, &err), 0);
	assert_int_equal(fidx_hub_link_next("<http://a/1; rel=\"next\"", &url, &err), 0);
	assert_int_equal(fidx_hub_link_next("", &url, &err), 0);
	assert_int_equal(fidx_hub_link_next("<http://a/1>; rel=\"nextish\"", &url, &err), 0);
}

static void error_is(long status, const char *code, const char *msg, int token, int want, const char *has)
{
	struct fidx_hub_answer a = {status, code, msg, NULL, 0, -1};
	struct fidx_hub_about w = {"https://huggingface.co", "o/n", "main", NULL, token};
	struct fidx_err err = {0};
	assert_int_equal(fidx_hub_error(&a, &w, &err), want);
	if (!strstr(err.msg, has))
		fail_msg("HTTP %ld %s: \"%s\" has no \"%s\"", status, code ? code : "", err.msg, has);
	assert_non_null(strstr(err.msg, "hf://datasets/o/n@main"));
}

static void test_errors(void **state)
{
	struct fidx_hub_answer a = {429, NULL, NULL, "{\"error\": \"slow\\ndown\"}", 23, 172};
	struct fidx_hub_about w = {"https://huggingface.co", "o/n", NULL, "x.csv", 0};
	struct fidx_err err = {0};
	(void)state;
	error_is(404, "RevisionNotFound", "Invalid rev id: main", 0, FIDX_EINPUT, "no revision \"main\"");
	error_is(404, "EntryNotFound", "Entry not found", 0, FIDX_EINPUT, "no such file or folder");
	error_is(401, "GatedRepo", "Access to dataset o/n is restricted.", 0, FIDX_EDENIED, "ask for access");
	error_is(403, "GatedRepo", "awaiting a review", 1, FIDX_EDENIED, "no access to it yet");
	error_is(403, NULL, "Access to this resource is disabled.", 1, FIDX_EDENIED, "disabled");
	error_is(401, NULL, "Invalid credentials in Authorization header", 1, FIDX_EDENIED, "refuses the token");
	error_is(401, "RepoNotFound", "Invalid username or password.", 0, FIDX_EDENIED, "needs a token");
	error_is(401, NULL, NULL, 0, FIDX_EDENIED, "needs a token");
	error_is(404, "RepoNotFound", "Repository not found", 1, FIDX_EINPUT, "your token cannot read it");
	error_is(403, NULL, "nope", 1, FIDX_EDENIED, "refuses access (the Hub says: nope)");
	error_is(503, NULL, NULL, 0, FIDX_EAPI, "the Hub failed (HTTP 503)");
	error_is(418, NULL, NULL, 0, FIDX_EAPI, "HTTP 418");
	error_is(404, NULL, NULL, 0, FIDX_EINPUT, "not found");
	/* 429: the wait asked for, and the body's words cleaned */
	assert_int_equal(fidx_hub_error(&a, &w, &err), FIDX_EAPI);
	assert_non_null(strstr(err.msg, "hf://datasets/o/n/x.csv: rate limited"));
	assert_non_null(strstr(err.msg, "try again in 172 s"));
	assert_non_null(strstr(err.msg, "(the Hub says: slow down)"));
}

static void test_cache(void **state)
{
	struct fidx_hub_cache c;
	struct fidx_hub_blob b;
	struct fidx_hub_tree t, back;
	struct fidx_err err = {0};
	char commit[41], link[256], path[512], *root;
	const char *c1 = "0123456789abcdef0123456789abcdef01234567";
	ssize_t n;
	int fd;
	(void)state;

	/* Where the cache is: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub,
	 * XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub. */
	unsetenv("HF_HUB_CACHE");
	unsetenv("HUGGINGFACE_HUB_CACHE");
	unsetenv("HF_HOME");
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", "/home/u", 1);
	root = fidx_hub_cache_root();
	assert_string_equal(root, "/home/u/.cache/huggingface/hub");
	free(root);
	setenv("XDG_CACHE_HOME", "/x", 1);
	root = fidx_hub_cache_root();
	assert_string_equal(root, "/x/huggingface/hub");
	free(root);
	setenv("HF_HOME", "~/hf", 1);
	root = fidx_hub_cache_root();
	assert_string_equal(root, "/home/u/hf/hub");
	free(root);
	setenv("HUGGINGFACE_HUB_CACHE", "/legacy", 1);
	root = fidx_hub_cache_root();
	assert_string_equal(root, "/legacy");
	free(root);
	setenv("HF_HUB_CACHE", dir, 1);
	root = fidx_hub_cache_root();
	assert_string_equal(root, dir);
	free(root);

	assert_int_equal(fidx_hub_cache_open(&c, NULL, "Own/Na.me", &err), 0);
	snprintf(path, sizeof path, "%s/datasets--Own--Na.me", dir);
	assert_string_equal(c.repo, path);

	/* refs, nested for refs/pr/1 */
	assert_int_equal(fidx_hub_cache_ref(&c, "main", commit, &err), 0);
	assert_int_equal(fidx_hub_cache_set_ref(&c, "main", c1, &err), 0);
	assert_int_equal(fidx_hub_cache_set_ref(&c, "refs/pr/1", c1, &err), 0);
	assert_int_equal(fidx_hub_cache_set_ref(&c, c1, c1, &err), 0); /* a commit gets no ref */
	assert_int_equal(fidx_hub_cache_ref(&c, "refs/pr/1", commit, &err), 1);
	assert_string_equal(commit, c1);
	snprintf(path, sizeof path, "%s/datasets--Own--Na.me/refs/refs/pr/1", dir);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof path, "%s/datasets--Own--Na.me/refs/%s", dir, c1);
	assert_int_not_equal(access(path, F_OK), 0);

	/* a blob, then links at two depths */
	assert_int_equal(fidx_hub_cache_blob_begin(&c, OID2, &b, &err), 0);
	assert_int_equal(write(b.fd, "0,1\n1.5,2\n", 10), 10);
	assert_non_null(strstr(b.tmp, ".incomplete"));
	assert_int_equal(fidx_hub_cache_blob_commit(&b, &err), 0);
	fidx_hub_cache_blob_abort(&b);
	assert_true(fidx_hub_cache_has_blob(&c, OID2, 10));
	assert_false(fidx_hub_cache_has_blob(&c, OID2, 11));
	assert_false(fidx_hub_cache_has(&c, c1, "a.csv", 10));
	assert_int_equal(fidx_hub_cache_link(&c, c1, "a.csv", OID2, &err), 0);
	assert_int_equal(fidx_hub_cache_link(&c, c1, "d/e/a.csv", OID2, &err), 0);
	assert_int_equal(fidx_hub_cache_link(&c, c1, "d/e/a.csv", OID2, &err), 0); /* again: replaced */
	assert_true(fidx_hub_cache_has(&c, c1, "a.csv", 10));
	assert_true(fidx_hub_cache_has(&c, c1, "d/e/a.csv", UINT64_MAX));
	snprintf(path, sizeof path, "%s/datasets--Own--Na.me/snapshots/%s/a.csv", dir, c1);
	n = readlink(path, link, sizeof link - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_string_equal(link, "../../blobs/" OID2);
	snprintf(path, sizeof path, "%s/datasets--Own--Na.me/snapshots/%s/d/e/a.csv", dir, c1);
	n = readlink(path, link, sizeof link - 1);
	link[n] = '\0';
	assert_string_equal(link, "../../../../blobs/" OID2);
	snprintf(path, sizeof path, "%s/CACHEDIR.TAG", dir);
	assert_int_equal(access(path, F_OK), 0);

	/* an aborted blob leaves nothing */
	assert_int_equal(fidx_hub_cache_blob_begin(&c, SHA1, &b, &err), 0);
	snprintf(path, sizeof path, "%s", b.tmp);
	fidx_hub_cache_blob_abort(&b);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_false(fidx_hub_cache_has_blob(&c, SHA1, UINT64_MAX));

	/* the lock file, where huggingface_hub keeps it */
	assert_int_equal(fidx_hub_cache_lock(&c, OID2, &fd, &err), 0);
	snprintf(path, sizeof path, "%s/.locks/datasets--Own--Na.me/" OID2 ".lock", dir);
	assert_int_equal(access(path, F_OK), 0);
	fidx_hub_cache_unlock(fd);

	/* offline listing: the snapshot's links */
	assert_int_equal(fidx_hub_cache_walk(&c, c1, &t, &err), 0);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.v[0].path, "a.csv");
	assert_string_equal(t.v[1].path, "d/e/a.csv");
	assert_string_equal(t.v[1].oid, OID2);
	assert_int_equal(t.v[1].size, 10);
	/* trees/<commit>.json */
	assert_int_equal(fidx_hub_cache_tree(&c, c1, &back, &err), 0);
	assert_int_equal(fidx_hub_cache_set_tree(&c, c1, &t, &err), 0);
	assert_int_equal(fidx_hub_cache_tree(&c, c1, &back, &err), 1);
	assert_int_equal(back.n, 2);
	fidx_hub_tree_free(&back);
	fidx_hub_tree_free(&t);
	assert_int_equal(fidx_hub_cache_walk(&c, "ffffffffffffffffffffffffffffffffffffffff", &t, &err), 0);
	assert_int_equal(t.n, 0);
	fidx_hub_cache_close(&c);
}

static int setup(void **state)
{
	(void)state;
	return tmpdir_make("hubwire");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri),    cmocka_unit_test(test_uri_format), cmocka_unit_test(test_tree),
		cmocka_unit_test(test_git_blob),      cmocka_unit_test(test_info_and_link), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_cache),
	};
	return cmocka_run_group_tests(tests, setup, tmpdir_teardown);
}
