/* An index's metadata: what its vectors are and where they came from.
 * Stored as JSON in the metadata section of a .fidx file. */
#ifndef FIDX_INDEX_META_H
#define FIDX_INDEX_META_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum fidx_id_kind {
	FIDX_IDS_IMPLICIT = 0, /* ids are row numbers 0..n-1, not stored */
	FIDX_IDS_INT = 1,      /* every id is a canonical decimal int64 */
	FIDX_IDS_STRING = 2,   /* ids are strings */
};

struct fidx_meta_source {
	char *path;
	uint64_t bytes;
	char sha256[65]; /* hex, or "" when unknown */
	uint64_t rows;
	/* The file's modification time when it was read, or 0/0 when unknown
	 * or too recent to trust (see index/ingest.c's up-to-date check). */
	int64_t mtime_s;
	int32_t mtime_ns;
};

/* A setting of the embedder that decides its vectors, beside its model
 * (io/embedders/embed.h's identity: "url" and "format" for a service). */
struct fidx_meta_param {
	char *key, *value;
};

struct fidx_meta {
	uint32_t dim;
	uint64_t count;
	char *embedder; /* NULL: the vectors came from files and nobody said how */
	char *model;
	struct fidx_meta_param *params; /* the rest of its identity */
	size_t nparams;
	int id_kind;
	int has_texts;
	struct fidx_meta_source *sources;
	size_t nsources;
	char *recipe;       /* hex digest of the build's options, or NULL */
	char *created;      /* RFC 3339, UTC */
	char *fidx_version;
};

/* Copies v (may be NULL) into *slot, freeing the old value. */
int fidx_meta_set(char **slot, const char *v, struct fidx_err *err);
/* Sets an embedder parameter (replacing one of that key); value NULL
 * removes it. */
int fidx_meta_set_param(struct fidx_meta *m, const char *key, const char *value, struct fidx_err *err);
const char *fidx_meta_param(const struct fidx_meta *m, const char *key);
int fidx_meta_add_source(struct fidx_meta *m, const char *path, uint64_t bytes,
                         const char *sha256_hex, uint64_t rows, struct fidx_err *err);
/* Sets created from SOURCE_DATE_EPOCH when set (reproducible builds), else
 * the current time. */
int fidx_meta_stamp(struct fidx_meta *m, struct fidx_err *err);

int fidx_meta_to_json(const struct fidx_meta *m, char **json, struct fidx_err *err);
/* Parses and checks metadata read from file `name`; FIDX_ECORRUPT when it
 * is not what fidx writes. */
int fidx_meta_parse(const char *name, const char *json, size_t n, struct fidx_meta *m,
                    struct fidx_err *err);
void fidx_meta_free(struct fidx_meta *m);

/* Reads, parses and checks the metadata section of an open index file:
 * the metadata must agree with the file's header and sections (dimension,
 * count, ids and texts present or not). FIDX_ECORRUPT when it does not. */
struct fidx_file;
int fidx_meta_read(struct fidx_file *f, struct fidx_meta *m, struct fidx_err *err);

const char *fidx_id_kind_name(int kind);

#endif
