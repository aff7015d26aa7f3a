/* Binary numbers as embedding files store them, and the rows of a dense
 * 2-D array of them: what numpy .npy, FAISS flat and safetensors files
 * share once their headers are read (Parquet uses the numbers only).
 * Private to io/readers.
 *
 * Every value of every type here is converted exactly: half precision
 * (IEEE 754 binary16, subnormals included), bfloat16 (the top 16 bits of a
 * float32) and the integers up to 16 bits are all float32 values; only
 * float64 is rounded, to the nearest float32. */
#ifndef FIDX_IO_ARRAY_H
#define FIDX_IO_ARRAY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "reader.h"

enum fidx_dtype { FIDX_F16, FIDX_BF16, FIDX_F32, FIDX_F64, FIDX_I8, FIDX_U8, FIDX_I16, FIDX_U16 };

/* Bytes per value. */
size_t fidx_dtype_size(enum fidx_dtype t);
/* numpy's name: "float16", "bfloat16", "int8", ... */
const char *fidx_dtype_name(enum fidx_dtype t);

/* A binary16 value as the float32 it is. */
static inline float fidx_half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, bits;
	float f;
	if (e == 0x1f) /* infinity, NaN (its payload kept) */
		bits = sign | 0x7f800000u | m << 13;
	else if (e)
		bits = sign | (e + 112) << 23 | m << 13;
	else if (!m)
		bits = sign;
	else { /* subnormal: m * 2^-24, normal in float32 */
		e = 113;
		while (!(m & 0x400u)) {
			m <<= 1;
			e--;
		}
		bits = sign | e << 23 | (m & 0x3ffu) << 13;
	}
	memcpy(&f, &bits, sizeof f);
	return f;
}

/* A bfloat16 value as the float32 it is. */
static inline float fidx_bf16_to_float(uint16_t h)
{
	uint32_t bits = (uint32_t)h << 16;
	float f;
	memcpy(&f, &bits, sizeof f);
	return f;
}

/* The value of type t at p (big_endian: its bytes in that order), as a
 * double (exact for every type). */
double fidx_dtype_value(enum fidx_dtype t, int big_endian, const unsigned char *p);

/* ---- the rows of a 2-D array ---- */

/* A reader's state: the header's reader fills src, name, rows, dim,
 * dtype, big_endian, fortran and after, then calls fidx_array_start with
 * the source just before the array's first byte. */
struct fidx_array {
	struct fidx_source *src;
	const char *name;
	uint64_t rows, next;  /* rows in the array; rows returned */
	size_t dim;           /* values per row */
	enum fidx_dtype dtype;
	int big_endian, fortran; /* Fortran order: column after column */
	uint64_t after;       /* bytes the file holds after the array */
	size_t size;          /* bytes per value (set by fidx_array_start) */
	unsigned char *buf;   /* a block of rows, or the whole array (Fortran order) */
	float *vec;           /* a block of rows, as floats */
	uint64_t where[FIDX_ROWS_MAX];
	int failed;           /* an error met after some rows of a block, for the next call */
	struct fidx_err pending;
};

/* Reads exactly n bytes; the file ending first is FIDX_EINPUT ("the file
 * ends inside <what> (truncated)"). */
int fidx_array_read(struct fidx_array *a, void *buf, size_t n, const char *what, struct fidx_err *err);
/* Reads exactly n bytes into *out (malloc'd, with a NUL after them), the
 * same way, growing the buffer as they arrive: a size the file does not
 * have allocates no more than the file holds. */
int fidx_array_read_all(struct fidx_array *a, unsigned char **out, uint64_t n, const char *what,
                        struct fidx_err *err);
/* Reads and drops exactly n bytes, the same way. */
int fidx_array_skip(struct fidx_array *a, uint64_t n, const char *what, struct fidx_err *err);
/* Checks the shape against the type, allocates the buffers, and reads a
 * Fortran-order array whole. */
int fidx_array_start(struct fidx_array *a, struct fidx_err *err);
/* The next block of rows (as struct fidx_format's next; state is the
 * struct fidx_array). Values must be finite floats: row and column name
 * one that is not. After the last row, the file must hold exactly `after`
 * more bytes. */
int fidx_array_next(void *state, struct fidx_rows *rows, struct fidx_err *err);
/* The rows in the array (as struct fidx_format's rows; state is the
 * struct fidx_array). */
uint64_t fidx_array_rows(void *state);
/* "<rows> x <dim> <type>[, big-endian][, Fortran order]", for -v. */
void fidx_array_describe(const struct fidx_array *a, char *out, size_t cap);
/* Frees the buffers (not a itself). */
void fidx_array_free(struct fidx_array *a);

#endif
