#include "vec.h"

#include <math.h>
#include <string.h>

int fidx_vec_normalize(const float *in, float *out, size_t d)
{
	double sum = 0, norm;
	size_t i;

	for (i = 0; i < d; i++)
		sum += (double)in[i] * (double)in[i];
	norm = sqrt(sum);
	if (!(norm > 0) || !isfinite(norm))
		return -1;
	if (fabs(sum - 1) <= 1e-6) {
		if (out != in)
			memcpy(out, in, d * sizeof *out);
		return 0;
	}
	for (i = 0; i < d; i++)
		out[i] = (float)((double)in[i] / norm);
	return 0;
}
