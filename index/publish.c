#include "publish.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export.h"
#include "index.h"
#include "outfile.h"
#include "uri.h"
#include "wire.h"

#define DATA_FILE "embeddings.csv"

/* Appends printf output to a growing string; -1 when out of memory. */
static int cat(char **s, size_t *len, const char *fmt, ...) FIDX_PRINTF(3, 4);
static int cat(char **s, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *ns;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(ns = realloc(*s, *len + (size_t)n + 1)))
		return -1;
	*s = ns;
	va_start(ap, fmt);
	vsnprintf(*s + *len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	*len += (size_t)n;
	return 0;
}

char *fidx_publish_card(const struct fidx_index *ix, const char *repo)
{
	const struct fidx_meta *m = fidx_index_meta(ix);
	const char *slash = strchr(repo, '/');
	int ids = m->id_kind != FIDX_IDS_IMPLICIT;
	char *s = NULL, build[512] = "";
	size_t len = 0;
	int ok;

	if (m->embedder)
		snprintf(build, sizeof build, " --embedder %s%s%s", m->embedder, m->model ? " --model " : "",
		         m->model ? m->model : "");
	ok = cat(&s, &len,
	         "---\n"
	         "configs:\n"
	         "- config_name: default\n"
	         "  data_files:\n"
	         "  - split: train\n"
	         "    path: " DATA_FILE "\n"
	         "tags:\n"
	         "- embeddings\n"
	         "- fidx\n"
	         "---\n"
	         "\n"
	         "# %s\n"
	         "\n"
	         "%llu embeddings of dimension %u, %s%s%s, published with fidx %s.\n"
	         "\n"
	         "`" DATA_FILE "` has one row per item: the vector in columns `0` to `%u` "
	         "(L2-normalized float32, written so that it reads back exactly)%s%s%s.\n"
	         "\n"
	         "Load it with datasets:\n"
	         "\n"
	         "```python\n"
	         "from datasets import load_dataset\n"
	         "embeddings = load_dataset(\"%s\", split=\"train\")\n"
	         "```\n"
	         "\n"
	         "or search it with fidx:\n"
	         "\n"
	         "```sh\n"
	         "fidx build -o %s.fidx%s hf://datasets/%s\n"
	         "fidx search %s.fidx \"your question\"\n"
	         "```\n",
	         repo, (unsigned long long)fidx_index_count(ix), m->dim, m->embedder ? "made with " : "",
	         m->embedder ? (m->model ? m->model : m->embedder) : "vectors from files",
	         m->embedder ? (strcmp(m->embedder, "hash") == 0
	                                ? " (fidx's offline hash embedder: lexical, not a neural model)"
	                                : "")
	                     : "",
	         FIDX_VERSION, m->dim ? m->dim - 1 : 0, ids || m->has_texts ? ", then " : "",
	         ids ? (m->has_texts ? "its id (`id`) and its text (`text`)" : "its id (`id`)") : m->has_texts ? "its text (`text`)" : "",
	         "", repo, slash + 1, build, repo, slash + 1) == 0;
	if (!ok) {
		free(s);
		return NULL;
	}
	return s;
}

int fidx_publish(const struct fidx_publish_opts *o, struct fidx_publish_result *res, struct fidx_err *err)
{
	struct fidx_hf_uri u;
	struct fidx_index *ix = NULL;
	struct fidx_hub_commit_opts co;
	struct fidx_hub_file files[2];
	char *card = NULL, summary[512], desc[256];
	const char *tmp = getenv("TMPDIR");
	void *map = MAP_FAILED;
	struct stat st;
	FILE *f = NULL;
	int rc, fd = -1;

	memset(res, 0, sizeof *res);
	if ((rc = fidx_hf_uri_parse(o->url, &u, err)) != 0)
		return rc;
	if (u.path[0] || (u.revision && (strncmp(u.revision, "refs/", 5) == 0 || (strlen(u.revision) == 40 &&
	                                                                          fidx_hub_is_hex(u.revision, 40))))) {
		rc = fidx_err_set(err, FIDX_EINPUT, "%s: publish to a dataset, or a branch of it: hf://datasets/OWNER/NAME[@BRANCH]",
		                  o->url);
		goto done;
	}
	if ((rc = fidx_index_load(&ix, o->index, err)) != 0)
		goto done;
	res->rows = fidx_index_count(ix);
	res->dim = fidx_index_dim(ix);
	/* The CSV in a scratch file, gone when closed. */
	{
		char near[4096];
		snprintf(near, sizeof near, "%s/x", tmp && *tmp ? tmp : "/tmp");
		if ((fd = fidx_spool_open(near, err)) < 0) {
			rc = fd;
			goto done;
		}
	}
	if (!(f = fdopen(dup(fd), "w+b"))) {
		rc = fidx_err_sys(err, FIDX_EIO, errno, "a scratch file");
		goto done;
	}
	if ((rc = fidx_export_hub_csv(ix, f, err)) != 0)
		goto done;
	if (fflush(f) != 0 || ferror(f)) {
		rc = fidx_err_sys(err, FIDX_EIO, errno, "writing " DATA_FILE " in a scratch file");
		goto done;
	}
	if (fstat(fd, &st) != 0 || st.st_size == 0 ||
	    (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		rc = fidx_err_sys(err, FIDX_EIO, errno, "reading " DATA_FILE " back from a scratch file");
		goto done;
	}
	if (!(card = fidx_publish_card(ix, u.repo))) {
		rc = fidx_err_nomem(err);
		goto done;
	}
	files[0].path = "README.md";
	files[0].data = card;
	files[0].size = strlen(card);
	files[1].path = DATA_FILE;
	files[1].data = map;
	files[1].size = (uint64_t)st.st_size;
	{
		const char *base = strrchr(o->index, '/');
		snprintf(summary, sizeof summary, "Publish %s with fidx", base ? base + 1 : o->index);
	}
	snprintf(desc, sizeof desc, "%llu embeddings of dimension %u, published with fidx %s.",
	         (unsigned long long)res->rows, res->dim, FIDX_VERSION);
	memset(&co, 0, sizeof co);
	co.endpoint = o->endpoint;
	co.token = o->token;
	co.repo = u.repo;
	co.branch = u.revision;
	co.summary = o->message ? o->message : summary;
	co.description = desc;
	co.private = o->private;
	co.log = o->log;
	co.ctx = o->ctx;
	rc = fidx_hub_commit_files(&co, files, 2, &res->hub, err);
done:
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	free(card);
	fidx_index_free(ix);
	fidx_hf_uri_free(&u);
	return rc;
}
