/* libFuzzer target for the Parquet reader (io/readers/parquet.c), through
 * io/readers/reader.h over an in-memory source named "fuzz.parquet".
 *
 * Input layout: byte 0 picks the column options by its low two bits (0 none:
 * the reader chooses; 1 --embedding-column embedding; 2 --id-column id and
 * --text-column text; 3 all three, as v, key and body); the rest is the
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
	switch (data[0] & 3) {
	case 1:
		o.embedding_column = "embedding";
		break;
	case 2:
		o.id_column = "id";
		o.text_column = "text";
		break;
	case 3:
		o.embedding_column = "v";
		o.id_column = "key";
		o.text_column = "body";
		break;
	}
	fuzz_check_table("fuzz.parquet", &o, data + 1, size - 1);
	return 0;
}
