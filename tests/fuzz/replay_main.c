/* Runs a libFuzzer target over saved inputs without libFuzzer, so that the
 * corpora in tests/fuzz/corpus/ are replayed as ordinary tests (with any
 * compiler, with or without sanitizers):
 *   fuzz_csv_replay tests/fuzz/corpus/csv [more folders or files...]
 * Each argument is a file or a folder whose files (not subfolders, not
 * hidden files) are read in name order. Every input is passed in a buffer
 * of exactly its size, as libFuzzer does, so that sanitizers see reads past
 * its end. Exits 0 when at least one input was run and none failed; a
 * broken invariant aborts inside the target. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, unsigned long *count)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf = NULL, *data;
	size_t len = 0, cap = 0;

	if (!fp) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (;;) {
		size_t got;
		if (len == cap) {
			unsigned char *nb = realloc(buf, cap ? cap * 2 : 4096);
			if (!nb) {
				fprintf(stderr, "replay: %s: out of memory\n", path);
				free(buf);
				fclose(fp);
				return 1;
			}
			buf = nb;
			cap = cap ? cap * 2 : 4096;
		}
		got = fread(buf + len, 1, cap - len, fp);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		free(buf);
		fclose(fp);
		return 1;
	}
	fclose(fp);
	/* An exact-size copy: reading one byte past the input is then caught. */
	data = malloc(len ? len : 1);
	if (!data) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		free(buf);
		return 1;
	}
	if (len)
		memcpy(data, buf, len);
	free(buf);
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	(*count)++;
	return 0;
}

static int visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int run_dir(const char *dir, unsigned long *count)
{
	struct dirent **names;
	int n, i, bad = 0;

	n = scandir(dir, &names, visible, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
		char *path = malloc(len);
		struct stat st;
		if (!path) {
			fprintf(stderr, "replay: out of memory\n");
			bad = 1;
		} else {
			snprintf(path, len, "%s/%s", dir, names[i]->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				bad |= run_file(path, count);
			free(path);
		}
		free(names[i]);
	}
	free(names);
	return bad;
}

int main(int argc, char **argv)
{
	unsigned long count = 0;
	int i, bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s <corpus folder or file>...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			bad = 1;
		} else if (S_ISDIR(st.st_mode)) {
			bad |= run_dir(argv[i], &count);
		} else {
			bad |= run_file(argv[i], &count);
		}
	}
	if (!bad && count == 0) {
		fprintf(stderr, "replay: no inputs found\n");
		bad = 1;
	}
	fprintf(stderr, "replay: %lu inputs%s\n", count, bad ? ", with errors" : ", all passed");
	return bad;
}
