/* libFuzzer target for the row readers beside CSV, through io/readers/reader.h over
 * an in-memory source (plain, gzip or zstd): numpy .npy, JSON Lines and
 * FAISS flat index files (io/readers/npy.c, io/readers/jsonl.c).
 *
 * Input layout: byte 0 picks the format by its low two bits (0 .npy,
 * 1 .jsonl, 2 .faiss, 3 .jsonl with id/text/embedding column names); the
 * rest is the file. The invariants are check_table.h's. */
#include <stddef.h>
#include <stdint.h>

#include "check_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"fuzz.npy", "fuzz.jsonl", "fuzz.faiss", "fuzz.jsonl"};
	struct fidx_reader_opts o = {NULL, NULL, NULL, FIDX_HEADER_AUTO, NULL, NULL};
	int kind;

	if (size < 1)
		return 0;
	kind = data[0] & 3;
	if (kind == 3) {
		o.id_column = "key";
		o.text_column = "body";
		o.embedding_column = "v";
	}
	fuzz_check_table(names[kind], &o, data + 1, size - 1);
	return 0;
}
