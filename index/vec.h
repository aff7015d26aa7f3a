/* Small vector helpers for fidx's cosine geometry. */
#ifndef FIDX_INDEX_VEC_H
#define FIDX_INDEX_VEC_H

#include <stddef.h>

/* out = in / ||in|| (computed in double, then rounded once per value; in
 * and out may be the same). Returns 0, or -1 when the norm is zero or not
 * finite (the row cannot be normalized). */
int fidx_vec_normalize(const float *in, float *out, size_t d);

#endif
