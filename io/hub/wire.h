/* What the Hugging Face Hub answers, parsed and checked, without a network
 * (docs/hub.md; the facts are huggingface_hub's and the Hub's):
 *
 *   - a page of the tree API (GET /api/datasets/REPO/tree/REV?recursive=
 *     true): a JSON array of {type, path, size, oid[, lfs{oid, size}]};
 *   - huggingface_hub's cached tree listing, trees/<commit>.json in the
 *     Hugging Face cache ({"format_version": 1, "files": {path: {size,
 *     blob_id[, lfs_sha256, lfs_size]}}}), read and written the same way;
 *   - the repository info (GET /api/datasets/REPO/revision/REV): its sha;
 *   - the Link header of a paginated answer: its rel="next" URL;
 *   - an error answer: X-Error-Code, X-Error-Message and the JSON body's
 *     "error", turned into a fidx error that says what to do.
 *
 * Nothing the Hub says is trusted: a path must stay inside the repository
 * (no absolute path, no empty, "." or ".." component, no control
 * character, at most 4096 bytes and 255 per component), ids must be hex of
 * the right length, sizes integers below 2^53, and a listing at most
 * FIDX_HUB_MAX_FILES files. A bad answer is FIDX_EAPI naming what is wrong. */
#ifndef FIDX_IO_HUB_WIRE_H
#define FIDX_IO_HUB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sha256.h"

#define FIDX_HUB_MAX_FILES 10000000
#define FIDX_HUB_PATH_MAX 4096

/* A file of a repository at a commit. */
struct fidx_hub_entry {
	char *path;    /* from the repository's root */
	uint64_t size; /* the content's bytes */
	char oid[41];  /* git blob id (of the LFS pointer, for an LFS file) */
	char lfs[65];  /* an LFS file's SHA-256, or "" */
};

/* The files of a repository at a commit. */
struct fidx_hub_tree {
	struct fidx_hub_entry *v;
	size_t n, cap;
};

/* The name the Hub and the cache give a file's content (its ETag): the
 * SHA-256 of an LFS file, else the git blob id. */
const char *fidx_hub_etag(const struct fidx_hub_entry *e);

/* Starts the git blob id of size bytes, which the Hub names a file kept in
 * git by: SHA-1 over "blob <size>\0", then the bytes (fidx_sha1_update). */
void fidx_hub_git_blob(struct fidx_sha1 *s, uint64_t size);

/* 0 when path[0..n) is a path fidx accepts inside a repository, else -1
 * with why it is not in *why. */
int fidx_hub_path_ok(const char *path, size_t n, const char **why);

/* Appends the files of one tree page (folders are skipped). where names
 * the answer in messages. */
int fidx_hub_tree_parse(const char *body, size_t len, const char *where, struct fidx_hub_tree *t,
                        struct fidx_err *err);
/* Sorts by path and refuses a path listed twice. */
int fidx_hub_tree_finish(struct fidx_hub_tree *t, const char *where, struct fidx_err *err);
/* The entry of path in a finished tree, or NULL. */
const struct fidx_hub_entry *fidx_hub_tree_find(const struct fidx_hub_tree *t, const char *path);
void fidx_hub_tree_free(struct fidx_hub_tree *t);

/* trees/<commit>.json: parsed into a finished tree (1), or 0 when it is of
 * a format_version fidx does not know (to be listed again); FIDX_EAPI when
 * it is not what it should be. */
int fidx_hub_tree_cache_parse(const char *body, size_t len, const char *where, struct fidx_hub_tree *t,
                              struct fidx_err *err);
/* trees/<commit>.json for a finished tree, as a new string (NULL: out of
 * memory). */
char *fidx_hub_tree_cache_format(const struct fidx_hub_tree *t);

/* The commit ("sha") of a repository info answer. */
int fidx_hub_info_parse(const char *body, size_t len, const char *where, char sha[41], struct fidx_err *err);

/* The URL of the rel="next" link of a Link header value, as a new string in
 * *url; 1 found, 0 none, FIDX_ENOMEM. */
int fidx_hub_link_next(const char *link, char **url, struct fidx_err *err);

/* Whether s is n lowercase hex digits. */
int fidx_hub_is_hex(const char *s, size_t n);

/* An error answer of the Hub. */
struct fidx_hub_answer {
	long status;
	const char *error_code;    /* X-Error-Code, or NULL */
	const char *error_message; /* X-Error-Message, or NULL */
	const char *body;          /* may be NULL */
	size_t len;
	double retry_after;        /* seconds the answer asked to wait, or -1 */
};

/* What the request was about, for the message. */
struct fidx_hub_about {
	const char *endpoint; /* for the dataset's page in messages */
	const char *repo;     /* OWNER/NAME */
	const char *revision; /* as asked, or NULL */
	const char *path;     /* the file or folder asked for, or NULL */
	int token;            /* whether a token was sent */
};

/* The fidx error for an answer that is not the one asked for:
 *   FIDX_EINPUT   no such revision (RevisionNotFound), file or folder
 *                 (EntryNotFound), or dataset (RepoNotFound, with a token);
 *   FIDX_EDENIED  no token for a private, gated or missing dataset (the Hub
 *                 does not tell them apart), a gated dataset the token's
 *                 account may not read yet, a token the Hub refuses, a
 *                 disabled dataset, any other 401 or 403;
 *   FIDX_EAPI     rate limited (429) after the retries, a server error,
 *                 anything else.
 * The message starts with what was asked (hf://datasets/REPO[@REV][/PATH])
 * and ends with the Hub's own words, cleaned and cut. */
int fidx_hub_error(const struct fidx_hub_answer *a, const struct fidx_hub_about *about, struct fidx_err *err);

#endif
