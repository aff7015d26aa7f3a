/* libFuzzer target for the safetensors reader (io/readers/safetensors.c and
 * the array rows of io/readers/array.c), through io/readers/reader.h over
 * an in-memory source (plain, gzip or zstd) named "fuzz.safetensors".
 *
 * Input layout: byte 0 picks the tensor by its low bit (0: the reader
 * chooses the only 2-D one; 1: --embedding-column emb); the rest is the
 * file. The invariants are check_table.h's. */
#include <stddef.h>
#include <stdint.h>

#include "check_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fidx_reader_opts o = {NULL, NULL, NULL, FIDX_HEADER_AUTO, NULL, NULL};

	if (size < 1)
		return 0;
	if (data[0] & 1)
		o.embedding_column = "emb";
	fuzz_check_table("fuzz.safetensors", &o, data + 1, size - 1);
	return 0;
}
