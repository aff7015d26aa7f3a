/* The Hugging Face cache, shared with huggingface_hub and datasets (the
 * layout of hub-docs' local-cache.md, as huggingface_hub writes it):
 *
 *   <root>/                        $HF_HUB_CACHE, else $HF_HOME/hub, else
 *                                  $XDG_CACHE_HOME/huggingface/hub, else
 *                                  ~/.cache/huggingface/hub
 *     CACHEDIR.TAG                 (created when missing)
 *     .locks/datasets--O--N/<etag>.lock   (flock, as huggingface_hub's)
 *     datasets--O--N/
 *       blobs/<etag>               a file's content, named by its ETag: the
 *                                  git blob id, or an LFS file's SHA-256
 *       snapshots/<commit>/<path>  a relative symbolic link to its blob
 *                                  (../../blobs/<etag>, one more ../ per
 *                                  folder of path)
 *       refs/<revision>            the commit a branch or tag named when
 *                                  last asked (40 hex, no newline; refs/pr/1
 *                                  nests as refs/refs/pr/1)
 *       trees/<commit>.json        the files at a commit (wire.h)
 *
 * A blob is written under a name of its own (blobs/<etag>.<8 hex>.incomplete,
 * registered for removal on a signal), fsynced and renamed into place; a
 * link or a ref is made under a temporary name and renamed over: readers
 * and other writers (another fidx, huggingface_hub) never see half a file,
 * and two writers of the same file both leave a whole one. Files are made
 * with the umask's permissions. */
#ifndef FIDX_IO_HUB_CACHE_H
#define FIDX_IO_HUB_CACHE_H

#include <stdint.h>

#include "error.h"
#include "wire.h"

struct fidx_hub_cache {
	char *root;
	char *repo; /* root/datasets--OWNER--NAME */
	char *locks; /* root/.locks/datasets--OWNER--NAME */
};

/* The cache root the environment names, as a new string (or NULL when out
 * of memory, or with no HOME to default to). */
char *fidx_hub_cache_root(void);

/* The cache of dataset repo (OWNER/NAME) under root (NULL: from the
 * environment). Nothing is created yet. */
int fidx_hub_cache_open(struct fidx_hub_cache *c, const char *root, const char *repo, struct fidx_err *err);
void fidx_hub_cache_close(struct fidx_hub_cache *c);

/* refs/<revision>: 1 with its commit, 0 when there is none. */
int fidx_hub_cache_ref(const struct fidx_hub_cache *c, const char *revision, char commit[41], struct fidx_err *err);
/* Writes refs/<revision> when it does not hold commit already. */
int fidx_hub_cache_set_ref(const struct fidx_hub_cache *c, const char *revision, const char *commit,
                           struct fidx_err *err);

/* snapshots/<commit>/<path>, as a new string, or NULL. */
char *fidx_hub_cache_snapshot(const struct fidx_hub_cache *c, const char *commit, const char *path);
/* Whether snapshots/<commit>/<path> leads to a regular file of size bytes
 * (size UINT64_MAX: any). */
int fidx_hub_cache_has(const struct fidx_hub_cache *c, const char *commit, const char *path, uint64_t size);
/* Whether blobs/<etag> is a regular file of size bytes. */
int fidx_hub_cache_has_blob(const struct fidx_hub_cache *c, const char *etag, uint64_t size);
/* Makes snapshots/<commit>/<path> a link to blobs/<etag>. */
int fidx_hub_cache_link(const struct fidx_hub_cache *c, const char *commit, const char *path, const char *etag,
                        struct fidx_err *err);

/* A blob being written. */
struct fidx_hub_blob {
	int fd;
	char *tmp, *path;
	int slot;
};
int fidx_hub_cache_blob_begin(const struct fidx_hub_cache *c, const char *etag, struct fidx_hub_blob *b,
                              struct fidx_err *err);
/* fsync, rename into place. The blob is closed either way. */
int fidx_hub_cache_blob_commit(struct fidx_hub_blob *b, struct fidx_err *err);
/* Removes the temporary file. Safe after commit and more than once. */
void fidx_hub_cache_blob_abort(struct fidx_hub_blob *b);

/* Takes .locks/datasets--O--N/<etag>.lock (waits for it); *fd to give to
 * fidx_hub_cache_unlock. */
int fidx_hub_cache_lock(const struct fidx_hub_cache *c, const char *etag, int *fd, struct fidx_err *err);
void fidx_hub_cache_unlock(int fd);

/* trees/<commit>.json: 1 with the files, 0 when there is none (or of a
 * format_version fidx does not know). */
int fidx_hub_cache_tree(const struct fidx_hub_cache *c, const char *commit, struct fidx_hub_tree *t,
                        struct fidx_err *err);
int fidx_hub_cache_set_tree(const struct fidx_hub_cache *c, const char *commit, const struct fidx_hub_tree *t,
                            struct fidx_err *err);

/* The files of snapshots/<commit>/, for offline use when there is no
 * trees/<commit>.json: each a link to a blob (its etag gives oid or lfs),
 * with the blob's size. 0, or FIDX_EIO when the snapshot cannot be read;
 * a missing snapshot is an empty tree. */
int fidx_hub_cache_walk(const struct fidx_hub_cache *c, const char *commit, struct fidx_hub_tree *t,
                        struct fidx_err *err);

#endif
