/* The HTTP client behind io/embedders/embed.h's "api" embedder (io/embedders/embed_api.c). */
#ifndef FIDX_IO_EMBED_API_H
#define FIDX_IO_EMBED_API_H

#include <stddef.h>

#include "embed.h"
#include "error.h"

struct fidx_api_client;

int fidx_api_client_open(struct fidx_api_client **c, const struct fidx_embedder_spec *spec,
                         struct fidx_err *err);
void fidx_api_client_close(struct fidx_api_client *c);

/* Embeds texts[0..n) into out (n * *dim floats, L2-normalized). *dim may
 * be 0 only for n == 1 with room for FIDX_EMBED_MAX_DIM floats: it is then
 * set from the answer. On failure, *bad (when not NULL) is the index of the
 * first text of the batch that failed, or SIZE_MAX when the failure is not
 * one batch's (the job's time ran out, no memory). */
int fidx_api_client_embed(struct fidx_api_client *c, const char *const *texts, const size_t *lens,
                          size_t n, size_t *dim, float *out, size_t *bad, struct fidx_err *err);

const char *fidx_api_client_url(const struct fidx_api_client *c);
/* Texts worth handing over per call: enough batches that the requests in
 * flight rarely wait for the end of a call. */
size_t fidx_api_client_chunk(const struct fidx_api_client *c);
const char *fidx_api_client_model(const struct fidx_api_client *c);
int fidx_api_client_format(const struct fidx_api_client *c);
const struct fidx_api_stats *fidx_api_client_stats(const struct fidx_api_client *c);

#endif
