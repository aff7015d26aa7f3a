#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"
#include "path.h"

#define TREE_MAX (1u << 30) /* bytes of a trees/<commit>.json read */

static const char cachedir_tag[] = "Signature: 8a477f597d28d172789f06886806bc55\n"
                                   "# This file is a cache directory tag created by huggingface_hub.\n"
                                   "# For information about cache directory tags, see:\n"
                                   "#\thttps://bford.info/cachedir/\n";

/* $name with a leading "~/" made $HOME's, as a new string; NULL when unset
 * or empty. */
static char *env_path(const char *name, const char *suffix)
{
	const char *v = getenv(name), *home = getenv("HOME");
	size_t need;
	char *out;
	if (!v || !*v)
		return NULL;
	if (v[0] == '~' && (v[1] == '/' || !v[1]) && home && *home) {
		need = strlen(home) + strlen(v) + strlen(suffix) + 1;
		if ((out = malloc(need)))
			snprintf(out, need, "%s%s%s", home, v + 1, suffix);
		return out;
	}
	need = strlen(v) + strlen(suffix) + 1;
	if ((out = malloc(need)))
		snprintf(out, need, "%s%s", v, suffix);
	return out;
}

char *fidx_hub_cache_root(void)
{
	char *r;
	if ((r = env_path("HF_HUB_CACHE", "")) || (r = env_path("HUGGINGFACE_HUB_CACHE", "")) ||
	    (r = env_path("HF_HOME", "/hub")) || (r = env_path("XDG_CACHE_HOME", "/huggingface/hub")))
		return r;
	return env_path("HOME", "/.cache/huggingface/hub");
}

void fidx_hub_cache_close(struct fidx_hub_cache *c)
{
	free(c->root);
	free(c->repo);
	free(c->locks);
	memset(c, 0, sizeof *c);
}

int fidx_hub_cache_open(struct fidx_hub_cache *c, const char *root, const char *repo, struct fidx_err *err)
{
	const char *slash = strchr(repo, '/');
	size_t need;

	memset(c, 0, sizeof *c);
	if (!slash)
		return fidx_err_set(err, FIDX_EINPUT, "%s: not OWNER/NAME", repo);
	c->root = root ? strdup(root) : fidx_hub_cache_root();
	if (!c->root)
		return root || !getenv("HOME") ? fidx_err_nomem(err)
		                               : fidx_err_set(err, FIDX_EIO, "no Hugging Face cache: set HF_HUB_CACHE or HOME");
	need = strlen(c->root) + strlen(repo) + 32;
	c->repo = malloc(need);
	c->locks = malloc(need);
	if (!c->repo || !c->locks) {
		fidx_hub_cache_close(c);
		return fidx_err_nomem(err);
	}
	/* repo_folder_name: "datasets--" + "--".join(repo_id.split("/")) */
	snprintf(c->repo, need, "%s/datasets--%.*s--%s", c->root, (int)(slash - repo), repo, slash + 1);
	snprintf(c->locks, need, "%s/.locks/datasets--%.*s--%s", c->root, (int)(slash - repo), repo, slash + 1);
	return 0;
}

/* dir/a/b/c for a, b, c given as a path inside dir: a new string. */
static char *sub(const char *dir, const char *a, const char *b)
{
	size_t need = strlen(dir) + strlen(a) + (b ? strlen(b) : 0) + 3;
	char *s = malloc(need);
	if (s)
		snprintf(s, need, b ? "%s/%s/%s" : "%s/%s", dir, a, b);
	return s;
}

/* mkdir -p of the folders of path (not path itself). */
static int make_parents(const char *path, struct fidx_err *err)
{
	char *p = strdup(path), *s;
	int rc = 0;
	if (!p)
		return fidx_err_nomem(err);
	for (s = p + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			rc = fidx_err_sys(err, FIDX_EIO, errno, "cannot create the folder %s", p);
			break;
		}
		*s = '/';
	}
	free(p);
	return rc;
}

static unsigned long long entropy(void)
{
	static unsigned long long n;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	n += 0x9e3779b97f4a7c15ull;
	return ((unsigned long long)ts.tv_nsec << 16) ^ (unsigned long long)ts.tv_sec ^ ((unsigned long long)getpid() << 36) ^ n;
}

/* Writes data to path through a temporary file beside it, renamed over. */
static int write_atomic(const char *path, const char *data, size_t n, struct fidx_err *err)
{
	size_t need = strlen(path) + 32;
	char *tmp = malloc(need);
	int fd, rc = 0, e;
	if (!tmp)
		return fidx_err_nomem(err);
	if ((rc = make_parents(path, err)) != 0) {
		free(tmp);
		return rc;
	}
	snprintf(tmp, need, "%s.%08llx.tmp", path, entropy() & 0xffffffffull);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) < 0) {
		rc = fidx_err_sys(err, FIDX_EIO, errno, "%s", tmp);
		free(tmp);
		return rc;
	}
	rc = fidx_pwrite_all(fd, data, n, 0, tmp, err);
	e = errno;
	if (close(fd) != 0 && rc == 0)
		rc = fidx_err_sys(err, FIDX_EIO, e, "%s", tmp);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = fidx_err_sys(err, FIDX_EIO, errno, "cannot rename %s to %s", tmp, path);
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Reads a small file whole (at most max bytes): 1, 0 when absent. */
static int read_small(const char *path, size_t max, char **out, size_t *len, struct fidx_err *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	ssize_t got;
	size_t n = 0;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : fidx_err_sys(err, FIDX_EIO, errno, "%s", path);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		return fidx_err_set(err, FIDX_EIO, "%s: not a file of at most %zu bytes", path, max);
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return fidx_err_nomem(err);
	}
	while (n < (size_t)st.st_size && ((got = read(fd, buf + n, (size_t)st.st_size - n)) > 0 || (got < 0 && errno == EINTR)))
		if (got > 0)
			n += (size_t)got;
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 1;
}

int fidx_hub_cache_ref(const struct fidx_hub_cache *c, const char *revision, char commit[41], struct fidx_err *err)
{
	char *path = sub(c->repo, "refs", revision), *data;
	size_t n;
	int rc;
	if (!path)
		return fidx_err_nomem(err);
	rc = read_small(path, 4096, &data, &n, err);
	if (rc == 1) {
		while (n && (data[n - 1] == '\n' || data[n - 1] == ' '))
			data[--n] = '\0';
		if (n != 40 || !fidx_hub_is_hex(data, 40))
			rc = fidx_err_set(err, FIDX_EIO, "%s: not a commit (40 hex digits)", path);
		else
			memcpy(commit, data, 41);
	}
	free(data);
	free(path);
	return rc;
}

int fidx_hub_cache_set_ref(const struct fidx_hub_cache *c, const char *revision, const char *commit,
                           struct fidx_err *err)
{
	char now[41], *path;
	int rc;
	if (strcmp(revision, commit) == 0)
		return 0;
	/* Left alone when it says so already: a read-only cache stays usable. */
	if (fidx_hub_cache_ref(c, revision, now, NULL) == 1 && strcmp(now, commit) == 0)
		return 0;
	if (!(path = sub(c->repo, "refs", revision)))
		return fidx_err_nomem(err);
	rc = write_atomic(path, commit, 40, err);
	free(path);
	return rc;
}

char *fidx_hub_cache_snapshot(const struct fidx_hub_cache *c, const char *commit, const char *path)
{
	size_t need = strlen(c->repo) + strlen(commit) + strlen(path) + 16;
	char *s = malloc(need);
	if (s)
		snprintf(s, need, "%s/snapshots/%s/%s", c->repo, commit, path);
	return s;
}

static int is_file_of(const char *path, uint64_t size)
{
	struct stat st;
	return path && stat(path, &st) == 0 && S_ISREG(st.st_mode) && (size == UINT64_MAX || (uint64_t)st.st_size == size);
}

int fidx_hub_cache_has(const struct fidx_hub_cache *c, const char *commit, const char *path, uint64_t size)
{
	char *p = fidx_hub_cache_snapshot(c, commit, path);
	int has = is_file_of(p, size);
	free(p);
	return has;
}

int fidx_hub_cache_has_blob(const struct fidx_hub_cache *c, const char *etag, uint64_t size)
{
	char *p = sub(c->repo, "blobs", etag);
	int has = is_file_of(p, size);
	free(p);
	return has;
}

int fidx_hub_cache_link(const struct fidx_hub_cache *c, const char *commit, const char *path, const char *etag,
                        struct fidx_err *err)
{
	char *link = fidx_hub_cache_snapshot(c, commit, path), *target, *tmp;
	size_t depth = 2, i, need;
	int rc;

	for (i = 0; path[i]; i++)
		depth += path[i] == '/';
	need = 3 * depth + strlen(etag) + 8;
	target = malloc(need);
	tmp = link ? malloc(strlen(link) + 32) : NULL;
	if (!link || !target || !tmp) {
		free(link);
		free(target);
		free(tmp);
		return fidx_err_nomem(err);
	}
	/* snapshots/<commit>/a/b -> ../../../blobs/<etag> */
	target[0] = '\0';
	for (i = 0; i < depth; i++)
		strcat(target, "../");
	strcat(target, "blobs/");
	strcat(target, etag);
	sprintf(tmp, "%s.%08llx.tmp", link, entropy() & 0xffffffffull);
	if ((rc = make_parents(link, err)) == 0) {
		if (symlink(target, tmp) != 0)
			rc = fidx_err_sys(err, FIDX_EIO, errno, "cannot create the link %s", tmp);
		else if (rename(tmp, link) != 0) {
			rc = fidx_err_sys(err, FIDX_EIO, errno, "cannot rename %s to %s", tmp, link);
			unlink(tmp);
		}
	}
	free(link);
	free(target);
	free(tmp);
	return rc;
}

int fidx_hub_cache_blob_begin(const struct fidx_hub_cache *c, const char *etag, struct fidx_hub_blob *b,
                              struct fidx_err *err)
{
	int rc, tries;
	char *tag;

	memset(b, 0, sizeof *b);
	b->fd = -1;
	b->slot = -1;
	if (!(b->path = sub(c->repo, "blobs", etag)) || !(b->tmp = malloc(strlen(b->path) + 32))) {
		fidx_hub_cache_blob_abort(b);
		return fidx_err_nomem(err);
	}
	if ((rc = make_parents(b->path, err)) != 0) {
		fidx_hub_cache_blob_abort(b);
		return rc;
	}
	/* CACHEDIR.TAG: backup tools skip the cache. Best effort. */
	if ((tag = sub(c->root, "CACHEDIR.TAG", NULL)) != NULL) {
		if (access(tag, F_OK) != 0)
			write_atomic(tag, cachedir_tag, sizeof cachedir_tag - 1, NULL);
		free(tag);
	}
	for (tries = 0; tries < 100 && b->fd < 0; tries++) {
		sprintf(b->tmp, "%s.%08llx.incomplete", b->path, entropy() & 0xffffffffull);
		b->fd = open(b->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (b->fd < 0 && errno != EEXIST) {
			rc = fidx_err_sys(err, FIDX_EIO, errno, "%s", b->tmp);
			free(b->tmp);
			b->tmp = NULL;
			fidx_hub_cache_blob_abort(b);
			return rc;
		}
	}
	if (b->fd < 0) {
		rc = fidx_err_set(err, FIDX_EIO, "%s: cannot find a free temporary name", b->path);
		free(b->tmp);
		b->tmp = NULL;
		fidx_hub_cache_blob_abort(b);
		return rc;
	}
	b->slot = fidx_tmp_register(b->tmp);
	return 0;
}

int fidx_hub_cache_blob_commit(struct fidx_hub_blob *b, struct fidx_err *err)
{
	int rc = 0;
	if (fsync(b->fd) != 0)
		rc = fidx_err_sys(err, FIDX_EIO, errno, "%s: fsync", b->tmp);
	if (close(b->fd) != 0 && rc == 0)
		rc = fidx_err_sys(err, FIDX_EIO, errno, "%s", b->tmp);
	b->fd = -1;
	if (rc == 0 && rename(b->tmp, b->path) != 0)
		rc = fidx_err_sys(err, FIDX_EIO, errno, "cannot rename %s to %s", b->tmp, b->path);
	if (rc == 0) {
		fidx_tmp_unregister(b->slot);
		b->slot = -1;
		free(b->tmp);
		b->tmp = NULL;
	}
	fidx_hub_cache_blob_abort(b);
	return rc;
}

void fidx_hub_cache_blob_abort(struct fidx_hub_blob *b)
{
	if (b->fd >= 0)
		close(b->fd);
	if (b->tmp)
		unlink(b->tmp);
	fidx_tmp_unregister(b->slot);
	free(b->tmp);
	free(b->path);
	memset(b, 0, sizeof *b);
	b->fd = -1;
	b->slot = -1;
}

int fidx_hub_cache_lock(const struct fidx_hub_cache *c, const char *etag, int *fd, struct fidx_err *err)
{
	size_t need = strlen(c->locks) + strlen(etag) + 8;
	char *path = malloc(need);
	int rc = 0;

	*fd = -1;
	if (!path)
		return fidx_err_nomem(err);
	snprintf(path, need, "%s/%s.lock", c->locks, etag);
	if ((rc = make_parents(path, err)) == 0) {
		/* 0664 as huggingface_hub's: users sharing a cache wait for each
		 * other (a lock file of another user's is opened to read). */
		if ((*fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0664)) >= 0)
			fchmod(*fd, 0664);
		else if (errno == EEXIST && (*fd = open(path, O_RDWR | O_CLOEXEC)) < 0 && errno == EACCES)
			*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0)
			rc = fidx_err_sys(err, FIDX_EIO, errno, "%s", path);
		else
			while (flock(*fd, LOCK_EX) != 0)
				if (errno != EINTR) {
					/* A file system without flock: go on without the lock, as
					 * the temporary names keep the cache right anyway. */
					break;
				}
	}
	free(path);
	return rc;
}

void fidx_hub_cache_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static char *tree_path(const struct fidx_hub_cache *c, const char *commit)
{
	size_t need = strlen(c->repo) + strlen(commit) + 16;
	char *s = malloc(need);
	if (s)
		snprintf(s, need, "%s/trees/%s.json", c->repo, commit);
	return s;
}

int fidx_hub_cache_tree(const struct fidx_hub_cache *c, const char *commit, struct fidx_hub_tree *t,
                        struct fidx_err *err)
{
	char *path = tree_path(c, commit), *data;
	size_t n;
	int rc;
	memset(t, 0, sizeof *t);
	if (!path)
		return fidx_err_nomem(err);
	if ((rc = read_small(path, TREE_MAX, &data, &n, err)) == 1) {
		rc = fidx_hub_tree_cache_parse(data, n, path, t, err);
		if (rc == FIDX_EAPI) /* the cache's, not the Hub's */
			err->code = rc = FIDX_EIO;
	}
	free(data);
	free(path);
	return rc;
}

int fidx_hub_cache_set_tree(const struct fidx_hub_cache *c, const char *commit, const struct fidx_hub_tree *t,
                            struct fidx_err *err)
{
	char *path = tree_path(c, commit), *json = fidx_hub_tree_cache_format(t);
	int rc = path && json ? write_atomic(path, json, strlen(json), err) : fidx_err_nomem(err);
	free(path);
	free(json);
	return rc;
}

/* Adds the links under dir (rel: its path in the snapshot) to t. */
static int walk(const struct fidx_hub_cache *c, const char *dir, const char *rel, int depth, struct fidx_hub_tree *t,
                struct fidx_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return errno == ENOENT && depth == 0 ? 0 : fidx_err_sys(err, FIDX_EIO, errno, "%s", dir);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *abs, *crel, target[512];
		struct stat st;
		ssize_t tl;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		abs = fidx_path_join(dir, de->d_name);
		crel = rel ? fidx_path_join(rel, de->d_name) : strdup(de->d_name);
		if (!abs || !crel)
			rc = fidx_err_nomem(err);
		else if (lstat(abs, &st) != 0)
			rc = fidx_err_sys(err, FIDX_EIO, errno, "%s", abs);
		else if (S_ISDIR(st.st_mode) && depth < 64)
			rc = walk(c, abs, crel, depth + 1, t, err);
		else if (S_ISLNK(st.st_mode) && (tl = readlink(abs, target, sizeof target - 1)) > 0 &&
		         stat(abs, &st) == 0 && S_ISREG(st.st_mode)) {
			/* ../../blobs/<etag>: the etag names the content. */
			const char *etag;
			target[tl] = '\0';
			etag = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
			if (t->n == t->cap) {
				size_t cap = t->cap ? 2 * t->cap : 64;
				struct fidx_hub_entry *v = realloc(t->v, cap * sizeof *v);
				if (!v) {
					rc = fidx_err_nomem(err);
					break;
				}
				t->v = v;
				t->cap = cap;
			}
			memset(&t->v[t->n], 0, sizeof t->v[t->n]);
			t->v[t->n].path = crel;
			crel = NULL;
			t->v[t->n].size = (uint64_t)st.st_size;
			if (strlen(etag) == 64 && fidx_hub_is_hex(etag, 64))
				memcpy(t->v[t->n].lfs, etag, 65);
			else if (strlen(etag) == 40 && fidx_hub_is_hex(etag, 40))
				memcpy(t->v[t->n].oid, etag, 41);
			t->n++;
		}
		free(abs);
		free(crel);
	}
	closedir(d);
	return rc;
}

int fidx_hub_cache_walk(const struct fidx_hub_cache *c, const char *commit, struct fidx_hub_tree *t,
                        struct fidx_err *err)
{
	char *dir = fidx_hub_cache_snapshot(c, commit, "");
	int rc;
	memset(t, 0, sizeof *t);
	if (!dir)
		return fidx_err_nomem(err);
	dir[strlen(dir) - 1] = '\0'; /* the final '/' */
	rc = walk(c, dir, NULL, 0, t, err);
	if (rc == 0)
		rc = fidx_hub_tree_finish(t, dir, err);
	if (rc)
		fidx_hub_tree_free(t);
	free(dir);
	return rc;
}
