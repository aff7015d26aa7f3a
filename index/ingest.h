/* `fidx build` as a library call: inputs (CSV/TSV files, gzip or not,
 * Hub-style dataset folders, standard input) or texts to embed, in; one
 * published index file, out. */
#ifndef FIDX_INDEX_INGEST_H
#define FIDX_INDEX_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "progress.h"
#include "embed.h"
#include "reader.h"
#include "remote.h"

struct fidx_ingest_opts {
	const char *out;
	const char *const *inputs; /* files, folders, "-"; none: embed the texts */
	size_t ninputs;
	const char *texts;         /* texts file, or NULL */
	const char *texts_column;  /* column of a CSV texts file (NULL: "text") */
	struct fidx_reader_opts read;   /* columns, header, format */
	const char *config;        /* Hub folders: config name (NULL: the default) */
	const char *split;         /* Hub folders: split (NULL: "train") */
	struct fidx_hub_opts hub;  /* hf:// inputs (index/plan.h); zero: the environment's */
	/* With inputs: how their vectors were made (name NULL: unknown).
	 * Without: the embedder to use (name NULL: "hash"). */
	struct fidx_embed_config embed;
	const char *save_embeddings; /* texts mode: also write the vectors here, as
	                              DataFrame(embeddings).to_csv(index=False) does */
	int level;                 /* compression level */
	unsigned flags;            /* io/core/outfile.h: FIDX_OUT_NOWAIT, _WAIT(s), _KEEP(n) */
	/* What the index is made of besides its sources (the caller's digest
	 * of its settings: cmd/ digests the options of the command line),
	 * recorded in the index; NULL: none recorded, and if_changed never
	 * skips. */
	const char *recipe;
	/* Skip the build when out exists and would come out the same: the
	 * same recipe and the same files, each unchanged by size and
	 * modification time (a stat), or when the time moved, by SHA-256
	 * (read, never parsed); an hf:// input by its commit alone: the same
	 * commit as the files recorded from it, found with one request,
	 * nothing listed or downloaded. Standard input is never unchanged. */
	int if_changed;
	/* Update out rather than replace it: rows whose id the inputs have
	 * again are replaced, new ids added, and the old rows the inputs do not
	 * have are kept after them (which needs ids), or with delete_missing
	 * dropped: then the result is the index a build from scratch gives. */
	int update, delete_missing;
	struct fidx_progress progress; /* rows read, and the share of the input bytes */
	/* Optional: told of what a reader accepted although it is not quite
	 * right (io/readers/reader.h's fidx_reader_note), one line each. */
	void (*note)(void *ctx, const char *line);
	void *note_ctx;
};

struct fidx_ingest_stats {
	int skipped;               /* if_changed found out up to date */
	uint64_t rows;
	/* update: the inputs' rows, sorted against the old index; its rows the
	 * inputs did not have, dropped or kept. */
	uint64_t added, replaced, unchanged, deleted, kept;
	size_t files;
	struct fidx_embed_stats api; /* requests, retries and cache hits of the embedder */
	struct fidx_hub_stats hub; /* hf:// inputs: requests, bytes downloaded, files cached */
};

int fidx_ingest(const struct fidx_ingest_opts *o, struct fidx_ingest_stats *st,
                struct fidx_err *err);

/* The plan of o's inputs (index/plan.h), without o->texts, for
 * --list-inputs: FIDX_EINPUT also for no inputs and for standard input ("-":
 * no file to list). The files of hf:// inputs are listed, not downloaded.
 * Free with fidx_plan_free. */
struct fidx_plan;
int fidx_ingest_plan(const struct fidx_ingest_opts *o, struct fidx_plan *p, struct fidx_err *err);

#endif
