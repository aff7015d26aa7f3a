/* `fidx export --hub`: an index published as a dataset on the Hugging Face
 * Hub, in the layout of the article fidx grew from, so that
 * datasets.load_dataset loads it and fidx build hf://... gives the index
 * back (the same vectors bit for bit, ids and texts):
 *
 *   embeddings.csv  DataFrame(vectors).to_csv(index=False): header 0..D-1,
 *                   floats that read back exactly; then "id" and "text"
 *                   columns when the index has them (index/export.h)
 *   README.md       the dataset card: YAML configs (the default config's
 *                   train split is embeddings.csv) and a short description
 *                   (rows, dimension, embedder and model, fidx's version,
 *                   how to load it and to build it back)
 *
 * committed in one commit (io/hub/upload.h); files the dataset holds
 * already are not sent again. */
#ifndef FIDX_INDEX_PUBLISH_H
#define FIDX_INDEX_PUBLISH_H

#include <stdint.h>

#include "error.h"
#include "upload.h"

struct fidx_publish_opts {
	const char *index;
	const char *url;      /* hf://datasets/OWNER/NAME[@BRANCH] */
	const char *message;  /* the commit's summary; NULL: "Publish <index> with fidx" */
	int private;          /* a repository made now is private */
	const char *token;    /* required */
	const char *endpoint; /* NULL: $HF_ENDPOINT, else https://huggingface.co */
	void (*log)(void *ctx, const char *line);
	void *ctx;
};

struct fidx_publish_result {
	struct fidx_hub_commit_result hub;
	uint64_t rows;
	uint32_t dim;
};

/* FIDX_EINPUT for a URL that is not a dataset's (or names a path, or a
 * revision that is not a branch); the index's errors; the Hub's. */
int fidx_publish(const struct fidx_publish_opts *o, struct fidx_publish_result *res, struct fidx_err *err);

/* The dataset card for index ix published as repo (a new string, or NULL
 * when out of memory). */
struct fidx_index;
char *fidx_publish_card(const struct fidx_index *ix, const char *repo);

#endif
