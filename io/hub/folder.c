/* A dataset folder on this machine, as a source of files for the
 * resolution in hub.c: the folder walked (hidden entries, folders named
 * "__*" and links to folders skipped; links to files inside the folder
 * followed, links leaving it refused) and its README.md read. */
#include "hub.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"

/* Deepest folder nesting walked below the dataset folder. */
#define HUB_MAX_DEPTH 128

struct strs {
	char **v;
	size_t n, cap;
};

static int strs_add(struct strs *l, char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = s;
	return 0;
}

static void strs_free(struct strs *l)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}


/* Whether the real path p is root or under it. */
static int inside(const char *p, const char *root)
{
	size_t n = strlen(root);
	return strncmp(p, root, n) == 0 && (p[n] == '/' || p[n] == '\0' || (n == 1 && root[0] == '/'));
}

/* A link to a regular file is listed when it stays inside the folder (root,
 * a real path); one that leaves it is refused: the folder is what the user
 * chose to index, and a dataset from elsewhere must not reach further. */
static int check_link(const char *cabs, const char *root, struct fidx_err *err)
{
	char *real = realpath(cabs, NULL);
	int rc = 0;
	if (!real)
		return errno == ENOENT ? 1 : fidx_err_sys(err, FIDX_EIO, errno, "%s", cabs);
	if (!inside(real, root))
		rc = fidx_err_set(err, FIDX_EINPUT,
		                  "%s is a symbolic link to %s, outside the dataset folder: refused", cabs, real);
	free(real);
	return rc;
}

static int walk(const char *abs, const char *rel, const char *root, int depth, struct strs *list,
                struct fidx_err *err)
{
	DIR *d = opendir(abs);
	int rc = 0;

	if (!d)
		return fidx_err_sys(err, FIDX_EIO, errno, "%s", abs);
	for (;;) {
		struct dirent *de;
		struct stat st;
		char *cabs, *crel;
		const char *name;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				rc = fidx_err_sys(err, FIDX_EIO, errno, "%s", abs);
			break;
		}
		name = de->d_name;
		if (name[0] == '.') /* hidden, "." and ".." */
			continue;
		cabs = fidx_path_join(abs, name);
		crel = rel ? fidx_path_join(rel, name) : strdup(name);
		if (!cabs || !crel) {
			free(cabs);
			free(crel);
			rc = fidx_err_nomem(err);
			break;
		}
		if (lstat(cabs, &st) != 0) {
			if (errno != ENOENT) /* gone since readdir: skip */
				rc = fidx_err_sys(err, FIDX_EIO, errno, "%s", cabs);
		} else if (S_ISDIR(st.st_mode)) {
			if (strncmp(name, "__", 2) != 0) {
				if (depth + 1 > HUB_MAX_DEPTH)
					rc = fidx_err_set(err, FIDX_EINPUT,
					                  "%s: folders nested deeper than %d levels", cabs,
					                  HUB_MAX_DEPTH);
				else
					rc = walk(cabs, crel, root, depth + 1, list, err);
			}
		} else if (S_ISREG(st.st_mode) ||
		           (S_ISLNK(st.st_mode) && stat(cabs, &st) == 0 && S_ISREG(st.st_mode) &&
		            (rc = check_link(cabs, root, err)) == 0)) {
			if (strs_add(list, crel) < 0)
				rc = fidx_err_nomem(err);
			else
				crel = NULL;
		}
		if (rc == 1) /* the link's target went away: skip it */
			rc = 0;
		free(cabs);
		free(crel);
		if (rc)
			break;
	}
	closedir(d);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the files under base (an existing folder), sorted. */
static int list_files(const char *base, struct strs *list, struct fidx_err *err)
{
	char *root = realpath(base, NULL);
	int rc = root ? walk(base, NULL, root, 0, list, err) : fidx_err_sys(err, FIDX_EIO, errno, "%s", base);

	free(root);
	if (rc) {
		strs_free(list);
		return rc;
	}
	if (list->n > 1)
		qsort(list->v, list->n, sizeof *list->v, cmp_str);
	return 0;
}

/* Checks that path is an existing folder. */
static int check_folder(const char *path, struct fidx_err *err)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return fidx_err_set(err, FIDX_EINPUT, "%s: no such folder", path);
		return fidx_err_sys(err, FIDX_EIO, errno, "%s", path);
	}
	if (!S_ISDIR(st.st_mode))
		return fidx_err_set(err, FIDX_EINPUT, "%s: not a folder", path);
	return 0;
}

int fidx_hub_read_card(const char *path, size_t max, char **data, size_t *n, int *full, struct fidx_err *err)
{
	struct stat st;
	size_t cap = 64 * 1024, len = 0;
	char *buf;
	int fd;

	*data = NULL;
	*n = 0;
	*full = 1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return fidx_err_sys(err, FIDX_EIO, errno, "%s", path);
	}
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return fidx_err_sys(err, FIDX_EIO, e, "%s", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return fidx_err_nomem(err);
	}
	for (;;) {
		ssize_t got;
		if (len == cap) {
			char *nb;
			if (cap >= max) {
				char c;
				got = read(fd, &c, 1);
				if (got > 0)
					*full = 0;
				break;
			}
			cap = cap * 2 < max ? cap * 2 : max;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				close(fd);
				return fidx_err_nomem(err);
			}
			buf = nb;
		}
		got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return fidx_err_sys(err, FIDX_EIO, e, "%s", path);
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	*data = buf;
	*n = len;
	return 0;
}


/* ---- the source ---- */

struct folder {
	char *path; /* without trailing slashes */
};

static int folder_list(void *ctx, const char *dir, char ***paths, size_t *n, struct fidx_err *err)
{
	struct folder *f = ctx;
	struct strs list = {0};
	char *base = dir[0] ? fidx_path_join(f->path, dir) : strdup(f->path);
	int rc;

	*paths = NULL;
	*n = 0;
	if (!base)
		return fidx_err_nomem(err);
	if ((rc = check_folder(base, err)) == 0 && (rc = list_files(base, &list, err)) == 0) {
		*paths = list.v;
		*n = list.n;
	}
	free(base);
	return rc;
}

static int folder_card(void *ctx, size_t max, char **text, size_t *len, int *full, struct fidx_err *err)
{
	struct folder *f = ctx;
	char *path = fidx_path_join(f->path, "README.md");
	int rc;
	if (!path)
		return fidx_err_nomem(err);
	rc = fidx_hub_read_card(path, max, text, len, full, err);
	free(path);
	return rc;
}

static void folder_close(void *ctx)
{
	struct folder *f = ctx;
	if (f)
		free(f->path);
	free(f);
}

int fidx_hub_folder_open(struct fidx_hub_source *s, const char *path, struct fidx_err *err)
{
	struct folder *f = calloc(1, sizeof *f);
	size_t len;
	int rc;

	memset(s, 0, sizeof *s);
	if (!f || !(f->path = strdup(path))) {
		free(f);
		return fidx_err_nomem(err);
	}
	len = strlen(f->path);
	while (len > 1 && f->path[len - 1] == '/')
		f->path[--len] = '\0';
	if ((rc = check_folder(f->path, err)) != 0) {
		folder_close(f);
		return rc;
	}
	s->name = f->path;
	s->ctx = f;
	s->list = folder_list;
	s->card = folder_card;
	s->close = folder_close;
	return 0;
}
