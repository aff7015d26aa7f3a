/* What a file name says about its contents. */
#ifndef FIDX_IO_PATH_H
#define FIDX_IO_PATH_H

/* Whether s ends with suffix. */
int fidx_has_suffix(const char *s, const char *suffix);

/* Whether a path names a file of rows fidx reads: .csv, .tsv, .tab, .npy,
 * .jsonl, .ndjson or .parquet, each possibly followed by .gz or .zst. */
int fidx_path_is_jsonl(const char *path);
int fidx_path_is_parquet(const char *path);
int fidx_path_is_table(const char *path);
/* Whether it is a numpy .npy file (possibly compressed). */
int fidx_path_is_npy(const char *path);

/* The delimiter a file name implies: '\t' for .tsv and .tab (possibly
 * compressed), else ','. */
char fidx_path_delim(const char *path);

/* The name of a data format fidx does not read, recognised by the file
 * name ("Arrow", "JSON", "zstd", ...), or NULL. */
const char *fidx_path_unsupported(const char *path);

#endif
