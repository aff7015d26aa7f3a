/* libFuzzer target for the embedding APIs' response parsers (io/embedders/api.h):
 *   clang -fsanitize=fuzzer,address,undefined -Iio/core -Iio/embedders io/embedders/api.c io/core/error.c \
 *         tests/fuzz/fuzz_api.c -lcjson -lm -o fuzz_api
 *   ./fuzz_api -max_total_time=60 NEW_CORPUS_DIR tests/fuzz/corpus/api
 * The first byte picks the protocol, the expected count of vectors and
 * whether the dimension is known; the rest is the body a server sent. Any
 * body must give either exactly count x dim finite floats or a clean error. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fidx_err err;
	char msg[200];
	float *out = NULL;
	size_t n, dim, want, i;
	int format, rc;

	if (size < 1)
		return 0;
	format = 1 + data[0] % 3;
	n = 1 + (data[0] >> 2) % 4;
	want = data[0] & 0x80 ? 4 : 0;
	data++;
	size--;

	memset(&err, 0, sizeof err);
	dim = want;
	rc = fidx_api_parse(format, (const char *)data, size, n, &dim, 64, &out, &err);
	if (rc == 0) {
		if (!out || !dim || dim > 64 || (want && dim != want))
			abort();
		for (i = 0; i < n * dim; i++)
			if (!isfinite(out[i]))
				abort();
	} else if (out || err.code != rc || (rc != FIDX_EAPI && rc != FIDX_ENOMEM) ||
	           !memchr(err.msg, 0, sizeof err.msg) || !err.msg[0]) {
		abort();
	}
	for (i = 0; rc && err.msg[i]; i++)
		if ((unsigned char)err.msg[i] < 0x20) /* a server's bytes must not drive the terminal */
			abort();
	free(out);

	fidx_api_error_message((const char *)data, size, msg, sizeof msg);
	if (!memchr(msg, 0, sizeof msg))
		abort();
	for (i = 0; msg[i]; i++)
		if ((unsigned char)msg[i] < 0x20)
			abort();
	(void)fidx_api_estimated_time((const char *)data, size);
	return 0;
}
