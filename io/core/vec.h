/* Small vector helpers for fidx's cosine geometry. */
#ifndef FIDX_IO_VEC_H
#define FIDX_IO_VEC_H

#include <stddef.h>

/* out = in / ||in|| (computed in double, then rounded once per value; in
 * and out may be the same). A vector whose norm is already 1 up to float
 * rounding (|sum of squares - 1| <= 1e-6) is copied unchanged, so that
 * normalizing twice gives the same bits as once: vectors that arrive
 * normalized (an embedding API's, sentence-transformers' with
 * normalize_embeddings) are stored exactly as they came. Returns 0, or -1
 * when the norm is zero or not finite (the row cannot be normalized). */
int fidx_vec_normalize(const float *in, float *out, size_t d);

#endif
