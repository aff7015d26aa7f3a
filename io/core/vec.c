#include "vec.h"

#include <math.h>
#include <string.h>

int fidx_vec_normalize(const float *in, float *out, size_t d)
{
	/* Eight sums side by side, so that the additions do not wait on one
	 * another (each square is exact in double). */
	double part[8] = {0}, sum, norm, scale;
	size_t i, k;

	for (i = 0; i + 8 <= d; i += 8)
		for (k = 0; k < 8; k++)
			part[k] += (double)in[i + k] * (double)in[i + k];
	for (k = 0; i < d; i++, k++)
		part[k] += (double)in[i] * (double)in[i];
	sum = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
	norm = sqrt(sum);
	if (!(norm > 0) || !isfinite(norm))
		return -1;
	if (fabs(sum - 1) <= 1e-6) {
		if (out != in)
			memcpy(out, in, d * sizeof *out);
		return 0;
	}
	scale = 1 / norm;
	for (i = 0; i < d; i++)
		out[i] = (float)((double)in[i] * scale);
	return 0;
}
