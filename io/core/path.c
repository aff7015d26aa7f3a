#include "path.h"

#include <stddef.h>
#include <string.h>

int fidx_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Whether path, without a compression suffix (.gz, .zst), ends with one of
 * the extensions. */
static int has_ext(const char *path, const char *const *ext, size_t n)
{
	size_t len = strlen(path), i, m;
	if (fidx_has_suffix(path, ".gz"))
		len -= 3;
	else if (fidx_has_suffix(path, ".zst"))
		len -= 4;
	for (i = 0; i < n; i++) {
		m = strlen(ext[i]);
		if (len >= m && strncmp(path + len - m, ext[i], m) == 0)
			return 1;
	}
	return 0;
}

#define HAS_EXT(path, ...) has_ext(path, (const char *const[]){__VA_ARGS__}, \
	sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

int fidx_path_is_table(const char *path)
{
	return HAS_EXT(path, ".csv", ".tsv", ".tab", ".npy", ".jsonl", ".ndjson", ".parquet");
}

int fidx_path_is_parquet(const char *path)
{
	return HAS_EXT(path, ".parquet");
}

int fidx_path_is_npy(const char *path)
{
	return HAS_EXT(path, ".npy");
}

int fidx_path_is_jsonl(const char *path)
{
	return HAS_EXT(path, ".jsonl", ".ndjson");
}

char fidx_path_delim(const char *path)
{
	return HAS_EXT(path, ".tsv", ".tab") ? '\t' : ',';
}

const char *fidx_path_unsupported(const char *path)
{
	static const char *const ext[][2] = {
		{".arrow", "Arrow"}, {".json", "JSON"}, {".npz", "numpy .npz"},
		{".xz", "xz"}, {".bz2", "bzip2"}, {".lz4", "lz4"},
	};
	size_t i;
	for (i = 0; i < sizeof ext / sizeof *ext; i++)
		if (has_ext(path, &ext[i][0], 1))
			return ext[i][1];
	return NULL;
}
