/* A dataset repository on the Hugging Face Hub, read through the shared
 * Hugging Face cache (cache.h) as huggingface_hub reads it (docs/hub.md):
 *
 *   - a revision is resolved to a commit with one request (GET
 *     /api/datasets/REPO/revision/REV; none for a 40-hex commit), and the
 *     cache's refs/<revision> updated;
 *   - the files at a commit come from trees/<commit>.json when the cache
 *     has it (a commit never changes), else from the tree API (GET
 *     /api/datasets/REPO/tree/COMMIT?recursive=true&expand=false, pages
 *     followed through their Link: rel="next" header, on the endpoint's
 *     origin only), then written there;
 *   - a file is taken from the cache when its blob (named by its ETag) is
 *     there, else downloaded with GET /datasets/REPO/resolve/COMMIT/PATH:
 *     redirects followed by hand (a relative one with the token, one to
 *     another origin, the CDN of LFS files, without), retries as
 *     huggingface_hub's, a transfer cut after some bytes resumed from there
 *     with Range (a 200 to it starts again from 0), a body longer than the listing says cut and
 *     refused, and the bytes checked (size, then SHA-256 for LFS files,
 *     the git blob id for others) before the blob enters the cache; a lock
 *     per blob (.locks/, huggingface_hub's) keeps two downloads of one blob
 *     from running at once.
 *
 * Offline (HF_HUB_OFFLINE=1, ON, YES or TRUE, any case), no socket is
 * opened: a revision is resolved by refs/<revision> (a 40-hex commit as it
 * is), the files come from trees/<commit>.json or else the snapshot's
 * links, and a file not in the cache is FIDX_EIO naming it.
 *
 * The token goes to the endpoint's origin only; it is never in a message,
 * a log line or a file. */
#ifndef FIDX_IO_HUB_REMOTE_H
#define FIDX_IO_HUB_REMOTE_H

#include <stdint.h>

#include "error.h"
#include "hub.h"
#include "wire.h"

#define FIDX_HUB_ENDPOINT "https://huggingface.co"
/* Largest file downloaded (huggingface_hub's limit for plain HTTP). */
#define FIDX_HUB_MAX_DOWNLOAD (50ull * 1000 * 1000 * 1000)

struct fidx_hub_opts {
	const char *endpoint; /* NULL: $HF_ENDPOINT, else FIDX_HUB_ENDPOINT */
	const char *token;    /* NULL: anonymous */
	const char *cache;    /* NULL: the environment's (cache.h) */
	int offline;          /* 1 offline, -1 online, 0: as HF_HUB_OFFLINE says */
	/* A file's download: bytes so far of total (called often: throttle). */
	void (*progress)(void *ctx, const char *name, uint64_t done, uint64_t total);
	/* What is done (-v): downloads, files from the cache, retries. */
	void (*log)(void *ctx, const char *line);
	void *ctx;
};

struct fidx_hub_stats {
	unsigned long long requests; /* HTTP requests, redirects and retries included */
	unsigned long long bytes;    /* bytes downloaded */
	unsigned long long downloaded, cached; /* files downloaded, files found in the cache */
};

struct fidx_hub;

/* Whether the environment asks for offline use (HF_HUB_OFFLINE). */
int fidx_hub_offline_env(void);

int fidx_hub_open(struct fidx_hub **h, const struct fidx_hub_opts *o, struct fidx_err *err);
void fidx_hub_close(struct fidx_hub *h);
int fidx_hub_is_offline(const struct fidx_hub *h);
const char *fidx_hub_endpoint(const struct fidx_hub *h);
struct fidx_hub_stats fidx_hub_stats(const struct fidx_hub *h);

/* The fidx error (wire.h's fidx_hub_error) for an answer of the Hub that
 * is not the one asked for. */
struct fidx_http_resp;
int fidx_hub_answer_error(const struct fidx_http_resp *resp, const struct fidx_hub_about *a, struct fidx_err *err);

/* The commit revision (NULL: "main") of repo names now. */
int fidx_hub_commit(struct fidx_hub *h, const char *repo, const char *revision, char commit[41],
                    struct fidx_err *err);

/* The files of repo at commit (kept by h until it closes). */
int fidx_hub_files(struct fidx_hub *h, const char *repo, const char *commit, const struct fidx_hub_tree **t,
                   struct fidx_err *err);

/* e's file (of repo at commit) in the cache, downloaded when missing: its
 * path in snapshots/<commit>/, a new string in *local. */
int fidx_hub_fetch(struct fidx_hub *h, const char *repo, const char *commit, const struct fidx_hub_entry *e,
                   char **local, struct fidx_err *err);

/* Folder dir ("": the root) of repo at commit as a source of files for
 * fidx_hub_choose (hub.h): listed from fidx_hub_files, its README.md
 * fetched when the card is asked for. Named hf://datasets/REPO@COMMIT[/dir]
 * in messages. Close with s->close(s->ctx) before h. */
int fidx_hub_source(struct fidx_hub *h, const char *repo, const char *commit, const char *dir,
                    struct fidx_hub_source *s, struct fidx_err *err);

#endif
