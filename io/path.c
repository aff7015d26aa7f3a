#include "path.h"

#include <stddef.h>
#include <string.h>

int fidx_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int fidx_path_is_table(const char *path)
{
	static const char *const ext[] = {".csv",   ".tsv",    ".tab",      ".csv.gz",    ".tsv.gz",
	                                  ".tab.gz", ".npy",   ".npy.gz",   ".jsonl",     ".jsonl.gz",
	                                  ".ndjson", ".ndjson.gz"};
	size_t i;
	for (i = 0; i < sizeof ext / sizeof *ext; i++)
		if (fidx_has_suffix(path, ext[i]))
			return 1;
	return 0;
}

int fidx_path_is_npy(const char *path)
{
	return fidx_has_suffix(path, ".npy") || fidx_has_suffix(path, ".npy.gz");
}

int fidx_path_is_jsonl(const char *path)
{
	return fidx_has_suffix(path, ".jsonl") || fidx_has_suffix(path, ".jsonl.gz") ||
	       fidx_has_suffix(path, ".ndjson") || fidx_has_suffix(path, ".ndjson.gz");
}

char fidx_path_delim(const char *path)
{
	static const char *const ext[] = {".tsv", ".tab", ".tsv.gz", ".tab.gz"};
	size_t i;
	for (i = 0; i < sizeof ext / sizeof *ext; i++)
		if (fidx_has_suffix(path, ext[i]))
			return '\t';
	return ',';
}

const char *fidx_path_unsupported(const char *path)
{
	static const char *const ext[][2] = {
		{".parquet", "Parquet"}, {".arrow", "Arrow"}, {".json", "JSON"}, {".npz", "numpy .npz"},
		{".zst", "zstd"}, {".xz", "xz"}, {".bz2", "bzip2"}, {".lz4", "lz4"},
	};
	size_t i;
	char gz[32];
	for (i = 0; i < sizeof ext / sizeof *ext; i++) {
		strcpy(gz, ext[i][0]);
		strcat(gz, ".gz");
		if (fidx_has_suffix(path, ext[i][0]) || fidx_has_suffix(path, gz))
			return ext[i][1];
	}
	return NULL;
}
