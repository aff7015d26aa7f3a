/* Files committed to a dataset repository on the Hugging Face Hub, as
 * huggingface_hub's create_commit does it (docs/hub.md):
 *
 *   1. POST /api/repos/create (a 409 says it exists: fine);
 *   2. GET /api/datasets/REPO/revision/BRANCH: the commit to build on;
 *   3. POST /api/datasets/REPO/preupload/BRANCH: which files go to LFS,
 *      and the ids of those already there (unchanged files are left out;
 *      when nothing changed, no commit is made);
 *   4. LFS files: POST /datasets/REPO.git/info/lfs/objects/batch, then
 *      each object the Hub does not have PUT to the URL it gives (in parts
 *      when it asks for parts), with no Hub token: that URL is signed, and
 *      another origin; then its verify action, if any;
 *   5. POST /api/datasets/REPO/commit/BRANCH, one NDJSON body: a header
 *      (summary, description, parentCommit), a "file" line (base64) per
 *      regular file and an "lfsFile" line per LFS file. It is sent once,
 *      never retried: a lost answer could hide a commit made.
 * The other requests are retried as huggingface_hub's are. The token goes
 * to the endpoint's origin only. */
#ifndef FIDX_IO_HUB_UPLOAD_H
#define FIDX_IO_HUB_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct fidx_hub_file {
	const char *path; /* in the repository */
	const void *data; /* its bytes (kept alive by the caller) */
	uint64_t size;
};

struct fidx_hub_commit_opts {
	const char *endpoint; /* NULL: $HF_ENDPOINT, else https://huggingface.co */
	const char *token;    /* required */
	const char *repo;     /* OWNER/NAME */
	const char *branch;   /* NULL: main */
	const char *summary;  /* the commit's title */
	const char *description;
	int private;          /* create the repository private */
	void (*log)(void *ctx, const char *line);
	void *ctx;
};

struct fidx_hub_commit_result {
	char commit[41];      /* the new commit, or the branch's when nothing changed */
	char url[512];        /* the commit's page, or "" when nothing changed */
	int created;          /* the repository was created */
	size_t uploaded;      /* files sent (the others were there already) */
	unsigned long long requests, bytes; /* HTTP requests; bytes of files sent */
};

/* Commits files[0..n) to o->repo's branch. The Hub's refusals are
 * io/hub/wire.h's errors (FIDX_EDENIED for a token that may not write
 * there); FIDX_EAPI for a failure, with, for the commit request itself,
 * what to check before trying again. */
int fidx_hub_commit_files(const struct fidx_hub_commit_opts *o, const struct fidx_hub_file *files, size_t n,
                          struct fidx_hub_commit_result *res, struct fidx_err *err);

#endif
