/* The .fidx container (layout in docs/FORMAT.md).
 *
 * A fixed 64-byte header, then sections (vectors, codes, ids, texts,
 * metadata), each a run of independent blocks with CRC-32s and a directory
 * of the blocks, then a table of contents and an 8-byte end marker.
 *
 * The vectors and their 8-bit codes (index/quant.h) come in blocks of the
 * same whole rows (about 128 KiB of float32 each). The codes are stored as
 * they are, so that search can map them and scan them in place; each
 * float is stored as its difference from its codes' prediction, in byte
 * planes, each compressed with zstd or stored. Blocks are encoded and
 * decoded on all threads (OpenMP). Versions 1 and 2 (vectors as byte
 * planes in 1 MiB blocks, no codes) are still read.
 *
 * Writing goes to a temporary file next to the target, published by an
 * atomic rename after the file has been re-read and verified (io/core/outfile.h).
 * The level is libdeflate's, 1 (fastest) to 12 (smallest).
 * Reading trusts nothing: every size in the header and table of contents
 * is checked against the file size before anything is allocated, and every
 * block against its checksum. A damaged, truncated or foreign file gives
 * FIDX_ECORRUPT.
 */
#ifndef FIDX_INDEX_FILE_H
#define FIDX_INDEX_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define FIDX_FORMAT_VERSION 3 /* writes 3, reads 1 to 3 */
#define FIDX_MAX_DIM (1u << 20)

enum fidx_section {
	FIDX_SEC_META = 1,    /* UTF-8 JSON, see index/meta.h */
	FIDX_SEC_VECTORS = 2, /* count x dim float32, little-endian, row-major */
	FIDX_SEC_IDS = 3,     /* count records: u32 length + bytes */
	FIDX_SEC_TEXTS = 4,   /* count records: u32 length + bytes */
	FIDX_SEC_CODES = 5,   /* version 3: count records of index/quant.h */
};
#define FIDX_SEC_MAX 5

struct fidx_section_info {
	uint32_t type, codec;
	uint64_t offset;       /* of the first block */
	uint64_t stored_bytes; /* on disk, block headers included */
	uint64_t raw_bytes;    /* decoded */
	uint32_t block_count, block_size;
};

/* ---- writing ---- */

struct fidx_file_writer;

/* Starts a new file that will replace path on commit, holding the
 * target's lock from now on. level (1..12) is the vectors' compression
 * level (zstd's); ids, texts and metadata use at least 6 (libdeflate's).
 * flags are io/core/outfile.h's (FIDX_OUT_NOWAIT). dim 0: not known yet,
 * set with fidx_fw_set_dim before the first vectors. */
int fidx_fw_open(struct fidx_file_writer **w, const char *path, uint32_t dim, int level,
                 unsigned flags, struct fidx_err *err);
int fidx_fw_set_dim(struct fidx_file_writer *w, uint32_t dim, struct fidx_err *err);
/* The rows that will come, when known before the dimension is set (a
 * file's header says so): the codes are then written in place ahead of
 * the vectors rather than spooled and copied after them at commit. A
 * wrong count costs space, never correctness: with fewer rows, the room
 * left over stays in the file, unused; with more, the codes move to the
 * spool and are copied after all, their room left unused. */
int fidx_fw_expect(struct fidx_file_writer *w, uint64_t rows, struct fidx_err *err);
/* Appends n rows of dim floats. */
int fidx_fw_vectors(struct fidx_file_writer *w, const float *rows, size_t n, struct fidx_err *err);
/* Where the next row goes in the writer's own buffer (the dimension set):
 * a row made there and then appended with fidx_fw_vectors(w, slot, 1) is
 * not copied. Valid until the next call on w. */
float *fidx_fw_slot(struct fidx_file_writer *w);
/* Appends one id / one text; either all rows have one or none. */
int fidx_fw_id(struct fidx_file_writer *w, const char *id, size_t len, struct fidx_err *err);
int fidx_fw_text(struct fidx_file_writer *w, const char *text, size_t len, struct fidx_err *err);
/* Rows appended so far. */
uint64_t fidx_fw_count(const struct fidx_file_writer *w);
/* Writes the metadata, the table of contents and the header, verifies the
 * whole file, then publishes it. Frees w whatever happens. */
int fidx_fw_commit(struct fidx_file_writer *w, const char *meta_json, struct fidx_err *err);
/* Drops everything written; the target is untouched. Frees w. */
void fidx_fw_abort(struct fidx_file_writer *w);

/* ---- reading ---- */

struct fidx_file;

/* Opens and validates the header and table of contents. */
int fidx_file_open(struct fidx_file **f, const char *path, struct fidx_err *err);

/* Whether an index may be written at path: yes when nothing is there, or
 * an empty file, or a fidx index (by its first bytes); a file of anything
 * else only when force is set (a typo in -o must not destroy a CSV); a
 * folder never. Returns 0 or FIDX_EINPUT. */
int fidx_file_check_target(const char *path, int force, struct fidx_err *err);
/* The same over bytes in memory (not copied). */
int fidx_file_open_mem(struct fidx_file **f, const char *name, const void *data, size_t n,
                       struct fidx_err *err);
void fidx_file_close(struct fidx_file *f);
/* From now on, f's vectors are read around the page cache (O_DIRECT), 1
 * MiB at a time, where its file system allows (else as before): for a
 * file that is not in the page cache and should not be brought into it,
 * such as one just written by fidx_fw_commit, which reads back its file
 * so. */
void fidx_file_read_direct(struct fidx_file *f);

const char *fidx_file_name(const struct fidx_file *f);
uint32_t fidx_file_version(const struct fidx_file *f);
uint32_t fidx_file_dim(const struct fidx_file *f);
uint64_t fidx_file_count(const struct fidx_file *f);
uint64_t fidx_file_size(const struct fidx_file *f);
/* The section, or NULL when the file has none of that type. */
const struct fidx_section_info *fidx_file_section(const struct fidx_file *f, int type);

/* Decodes a whole section into a new buffer (*out, *n; NUL-terminated for
 * convenience, the NUL not counted). Sections over cap bytes are refused. */
int fidx_file_read_section(struct fidx_file *f, int type, size_t cap, char **out, size_t *n,
                           struct fidx_err *err);

/* Decodes the vectors section into dst (count * dim floats). */
int fidx_file_read_vectors(struct fidx_file *f, float *dst, struct fidx_err *err);

/* Decodes the vectors into several buffers: rows [first_row, first_row +
 * rows) of each go to its ptr. */
struct fidx_dest {
	uint64_t first_row, rows;
	float *ptr;
};
int fidx_file_read_rows(struct fidx_file *f, const struct fidx_dest *d, size_t nd,
                        struct fidx_err *err);

/* Sequential reading of a section, block by block, in bounded memory. */
struct fidx_cursor;
int fidx_cursor_open(struct fidx_cursor **c, struct fidx_file *f, int type, struct fidx_err *err);
/* Reads exactly n bytes; reading past the section's end is FIDX_ECORRUPT. */
int fidx_cursor_read(struct fidx_cursor *c, void *buf, size_t n, struct fidx_err *err);
/* Reads one length-prefixed record (ids, texts) into a buffer owned by the
 * cursor, valid until the next call. */
int fidx_cursor_record(struct fidx_cursor *c, const char **p, size_t *len, struct fidx_err *err);
/* Decoded bytes not yet read. */
uint64_t fidx_cursor_left(const struct fidx_cursor *c);
void fidx_cursor_close(struct fidx_cursor *c);

/* Decodes every block of every section and checks its checksums, and
 * that every row lies within the bound of its codes. */
int fidx_file_verify(struct fidx_file *f, struct fidx_err *err);

/* ---- search (version 3) ----
 *
 * The vectors and codes are in blocks of the same rows: block i holds rows
 * i * fidx_file_block_rows() onwards. */
uint32_t fidx_file_block_rows(const struct fidx_file *f); /* 0 before version 3 */

/* Maps the codes into memory: read-only pages shared with the page cache
 * (for a file opened from memory, that memory). Unmapped on close. */
int fidx_file_map_codes(struct fidx_file *f, struct fidx_err *err);
/* Checks block `index` of the mapped codes (header and checksum) and
 * points *recs at its *rows records. Safe on several threads at once. */
int fidx_file_codes_block(const struct fidx_file *f, uint32_t index, const unsigned char **recs,
                          uint32_t *rows, struct fidx_err *err);

/* Reading blocks of vectors one at a time: one reader per thread, opened
 * before the threads start. */
struct fidx_block_reader;
int fidx_block_reader_open(struct fidx_block_reader **r, struct fidx_file *f, struct fidx_err *err);
/* Decodes and checks block `index` of the vectors into dst (room for
 * fidx_file_block_rows rows); *rows gets how many it has. codes: its
 * records from fidx_file_codes_block, or NULL to read them. */
int fidx_block_read(struct fidx_block_reader *r, uint32_t index, const unsigned char *codes, float *dst,
                    uint32_t *rows, struct fidx_err *err);
/* Reading ids or texts one record at a time (version 3), without decoding
 * the others' blocks. */
struct fidx_records;
int fidx_records_open(struct fidx_records **r, struct fidx_file *f, int type, struct fidx_err *err);
/* Record `row`: a new NUL-terminated copy (*p, to free) of *len bytes. */
int fidx_records_get(struct fidx_records *r, uint64_t row, char **p, size_t *len, struct fidx_err *err);
void fidx_records_close(struct fidx_records *r);

/* Bytes of the file this reader has decoded so far. */
uint64_t fidx_block_reader_bytes(const struct fidx_block_reader *r);
void fidx_block_reader_close(struct fidx_block_reader *r);

#endif
