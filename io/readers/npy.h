/* Matrices of floats behind a header, read as rows of float:
 *   numpy .npy files (format versions 1, 2 and 3): a 2-D array of float32
 *   or float64, little- or big-endian, in C or Fortran order. C-order arrays
 *   stream row by row; a Fortran-order array is read whole first (its rows
 *   are not contiguous).
 *   FAISS flat indexes (faiss.write_index of an IndexFlatIP or IndexFlatL2):
 *   the index header, then the vectors as float32 rows. Nothing of FAISS
 *   reads them: they are untrusted input like any other file.
 * Every size in the header is checked before anything is allocated, and
 * against the rest (a FAISS file must end with its last row); values must
 * be finite. */
#ifndef FIDX_IO_NPY_H
#define FIDX_IO_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "source.h"

struct fidx_npy;

/* Reads the header from src (borrowed: it must outlive the reader). */
int fidx_npy_open(struct fidx_npy **n, struct fidx_source *src, struct fidx_err *err);
/* The same for a FAISS flat index file. */
int fidx_faiss_flat_open(struct fidx_npy **n, struct fidx_source *src, struct fidx_err *err);
uint64_t fidx_npy_rows(const struct fidx_npy *n);
size_t fidx_npy_dim(const struct fidx_npy *n);
/* Returns 1 and fills row (dim floats), 0 after the last row, or a
 * negative fidx_code. */
int fidx_npy_next(struct fidx_npy *n, float *row, struct fidx_err *err);
void fidx_npy_close(struct fidx_npy *n);

#endif
