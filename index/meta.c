#include "meta.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "file.h"

/* cJSON answers NULL both for bad JSON and for a failed allocation; hooks
 * that note failed allocations (per thread) tell the two apart. The hooks
 * are cJSON's process-wide setting, installed once. */
static _Thread_local int json_oom;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void *json_malloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		json_oom = 1;
	return p;
}

static void install_hooks(void)
{
	cJSON_Hooks hooks = {json_malloc, free};
	cJSON_InitHooks(&hooks);
}

#ifndef FIDX_VERSION
#define FIDX_VERSION "unknown"
#endif

static const char *const kind_names[] = {"implicit", "int", "string"};

const char *fidx_id_kind_name(int kind)
{
	return kind >= 0 && kind <= 2 ? kind_names[kind] : "unknown";
}

int fidx_meta_set(char **slot, const char *v, struct fidx_err *err)
{
	char *copy = NULL;
	if (v && !(copy = strdup(v)))
		return fidx_err_nomem(err);
	free(*slot);
	*slot = copy;
	return 0;
}

int fidx_meta_set_param(struct fidx_meta *m, const char *key, const char *value, struct fidx_err *err)
{
	size_t i;
	for (i = 0; i < m->nparams && strcmp(m->params[i].key, key) != 0; i++)
		;
	if (i < m->nparams) {
		free(m->params[i].key);
		free(m->params[i].value);
		memmove(m->params + i, m->params + i + 1, (m->nparams - i - 1) * sizeof *m->params);
		m->nparams--;
	}
	if (value) {
		struct fidx_meta_param *np = realloc(m->params, (m->nparams + 1) * sizeof *np);
		if (!np)
			return fidx_err_nomem(err);
		m->params = np;
		np[m->nparams].key = strdup(key);
		np[m->nparams].value = strdup(value);
		if (!np[m->nparams].key || !np[m->nparams].value) {
			free(np[m->nparams].key);
			free(np[m->nparams].value);
			return fidx_err_nomem(err);
		}
		m->nparams++;
	}
	return 0;
}

const char *fidx_meta_param(const struct fidx_meta *m, const char *key)
{
	size_t i;
	for (i = 0; i < m->nparams; i++)
		if (strcmp(m->params[i].key, key) == 0)
			return m->params[i].value;
	return NULL;
}

int fidx_meta_add_source(struct fidx_meta *m, const char *path, uint64_t bytes,
                         const char *sha256_hex, uint64_t rows, struct fidx_err *err)
{
	struct fidx_meta_source *ns = realloc(m->sources, (m->nsources + 1) * sizeof *ns);
	if (!ns)
		return fidx_err_nomem(err);
	m->sources = ns;
	memset(&ns[m->nsources], 0, sizeof *ns);
	if (!(ns[m->nsources].path = strdup(path)))
		return fidx_err_nomem(err);
	ns[m->nsources].bytes = bytes;
	ns[m->nsources].rows = rows;
	snprintf(ns[m->nsources].sha256, sizeof ns->sha256, "%s", sha256_hex ? sha256_hex : "");
	m->nsources++;
	return 0;
}

int fidx_meta_stamp(struct fidx_meta *m, struct fidx_err *err)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t t = time(NULL);
	struct tm tm;
	char buf[32];

	if (sde && *sde) {
		char *end;
		long long v;
		errno = 0;
		v = strtoll(sde, &end, 10);
		if (errno || *end || v < 0)
			return fidx_err_set(err, FIDX_EINPUT, "SOURCE_DATE_EPOCH is not a number of seconds: \"%s\"", sde);
		t = (time_t)v;
	}
	if (!gmtime_r(&t, &tm))
		return fidx_err_set(err, FIDX_EINPUT, "cannot represent the time");
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (fidx_meta_set(&m->created, buf, err) || fidx_meta_set(&m->fidx_version, FIDX_VERSION, err))
		return FIDX_ENOMEM;
	return 0;
}

static cJSON *str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

int fidx_meta_to_json(const struct fidx_meta *m, char **json, struct fidx_err *err)
{
	cJSON *root = cJSON_CreateObject(), *srcs = NULL;
	size_t i;
	int ok = root != NULL;

	*json = NULL;
	ok = ok && cJSON_AddNumberToObject(root, "dimension", m->dim);
	ok = ok && cJSON_AddNumberToObject(root, "count", (double)m->count);
	ok = ok && cJSON_AddStringToObject(root, "metric", "inner_product");
	ok = ok && cJSON_AddTrueToObject(root, "normalized");
	ok = ok && cJSON_AddItemToObject(root, "embedder", str_or_null(m->embedder));
	ok = ok && cJSON_AddItemToObject(root, "model", str_or_null(m->model));
	if (m->nparams) {
		cJSON *p = NULL;
		ok = ok && (p = cJSON_AddObjectToObject(root, "embedder_params")) != NULL;
		for (i = 0; ok && i < m->nparams; i++)
			ok = cJSON_AddStringToObject(p, m->params[i].key, m->params[i].value) != NULL;
	}
	ok = ok && cJSON_AddStringToObject(root, "ids", fidx_id_kind_name(m->id_kind));
	ok = ok && cJSON_AddBoolToObject(root, "texts", m->has_texts);
	ok = ok && (srcs = cJSON_AddArrayToObject(root, "sources")) != NULL;
	for (i = 0; ok && i < m->nsources; i++) {
		cJSON *s = cJSON_CreateObject();
		ok = s && cJSON_AddItemToArray(srcs, s);
		ok = ok && cJSON_AddStringToObject(s, "path", m->sources[i].path);
		ok = ok && cJSON_AddNumberToObject(s, "bytes", (double)m->sources[i].bytes);
		ok = ok && cJSON_AddItemToObject(s, "sha256", m->sources[i].sha256[0] ? cJSON_CreateString(m->sources[i].sha256) : cJSON_CreateNull());
		ok = ok && cJSON_AddNumberToObject(s, "rows", (double)m->sources[i].rows);
		if (m->sources[i].mtime_s > 0) {
			ok = ok && cJSON_AddNumberToObject(s, "mtime_s", (double)m->sources[i].mtime_s);
			ok = ok && cJSON_AddNumberToObject(s, "mtime_ns", (double)m->sources[i].mtime_ns);
		}
	}
	if (m->recipe)
		ok = ok && cJSON_AddStringToObject(root, "recipe", m->recipe);
	ok = ok && cJSON_AddItemToObject(root, "created", str_or_null(m->created));
	ok = ok && cJSON_AddItemToObject(root, "fidx_version", str_or_null(m->fidx_version));
	if (ok)
		*json = cJSON_Print(root);
	cJSON_Delete(root);
	return *json ? 0 : fidx_err_nomem(err);
}

/* Reads a non-negative integer that JSON (a double) holds exactly. */
static int get_u64(const cJSON *o, const char *key, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
	    v->valuedouble != (double)(uint64_t)v->valuedouble)
		return -1;
	*out = (uint64_t)v->valuedouble;
	return 0;
}

static int get_str(const cJSON *o, const char *key, char **out, int nullable);

/* The embedder's parameters: "embedder_params", or in files of fidx
 * before it, "api_url" and "api_format". -1 when malformed, -2 when out of
 * memory. */
static int get_params(const cJSON *root, struct fidx_meta *m, struct fidx_err *err)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "embedder_params"), *it;
	static const char *const legacy[][2] = {{"api_url", "url"}, {"api_format", "format"}};
	size_t i;
	if (p && !cJSON_IsObject(p))
		return -1;
	cJSON_ArrayForEach(it, p) {
		if (!cJSON_IsString(it) || !it->string)
			return -1;
		if (fidx_meta_set_param(m, it->string, it->valuestring, err))
			return -2;
	}
	for (i = 0; i < 2; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, legacy[i][0]);
		if (!v || cJSON_IsNull(v))
			continue;
		if (!cJSON_IsString(v))
			return -1;
		if (fidx_meta_set_param(m, legacy[i][1], v->valuestring, err))
			return -2;
	}
	return 0;
}

static int get_str(const cJSON *o, const char *key, char **out, int nullable)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (nullable && (!v || cJSON_IsNull(v))) {
		*out = NULL;
		return 0;
	}
	if (!cJSON_IsString(v))
		return -1;
	return (*out = strdup(v->valuestring)) ? 0 : -2;
}

int fidx_meta_parse(const char *name, const char *json, size_t n, struct fidx_meta *m,
                    struct fidx_err *err)
{
	cJSON *root, *srcs, *it;
	const cJSON *v;
	uint64_t dim = 0;
	int rc = 0, i;
	const char *bad = NULL;

	memset(m, 0, sizeof *m);
	pthread_once(&hooks_once, install_hooks);
	json_oom = 0;
	root = cJSON_ParseWithLength(json, n);
	if (!root && json_oom)
		return fidx_err_nomem(err);
	if (!root)
		return fidx_err_set(err, FIDX_ECORRUPT, "%s: corrupt index: metadata is not JSON", name);
	if (get_u64(root, "dimension", &dim) || dim == 0 || dim > (1u << 20))
		bad = "dimension";
	else if (get_u64(root, "count", &m->count))
		bad = "count";
	else if ((rc = get_str(root, "embedder", &m->embedder, 1)) || (rc = get_str(root, "model", &m->model, 1)))
		bad = "embedder";
	else if ((rc = get_params(root, m, err)))
		bad = "embedder_params";
	else if ((rc = get_str(root, "created", &m->created, 1)) ||
	         (rc = get_str(root, "fidx_version", &m->fidx_version, 1)))
		bad = "created";
	else if ((rc = get_str(root, "recipe", &m->recipe, 1)))
		bad = "recipe";
	m->dim = (uint32_t)dim;
	if (!bad) {
		v = cJSON_GetObjectItemCaseSensitive(root, "ids");
		m->id_kind = -1;
		for (i = 0; i < 3 && cJSON_IsString(v); i++)
			if (strcmp(v->valuestring, kind_names[i]) == 0)
				m->id_kind = i;
		if (m->id_kind < 0)
			bad = "ids";
		v = cJSON_GetObjectItemCaseSensitive(root, "texts");
		if (!cJSON_IsBool(v))
			bad = "texts";
		m->has_texts = cJSON_IsTrue(v);
		v = cJSON_GetObjectItemCaseSensitive(root, "metric");
		if (!cJSON_IsString(v) || strcmp(v->valuestring, "inner_product") != 0)
			bad = "metric";
	}
	srcs = cJSON_GetObjectItemCaseSensitive(root, "sources");
	if (!bad && !cJSON_IsArray(srcs))
		bad = "sources";
	if (!bad) {
		cJSON_ArrayForEach(it, srcs) {
			uint64_t bytes, rows;
			const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "path");
			const cJSON *h = cJSON_GetObjectItemCaseSensitive(it, "sha256");
			if (!cJSON_IsString(p) || get_u64(it, "bytes", &bytes) || get_u64(it, "rows", &rows) ||
			    (h && !cJSON_IsNull(h) && (!cJSON_IsString(h) || strlen(h->valuestring) != 64))) {
				bad = "sources";
				break;
			}
			if (fidx_meta_add_source(m, p->valuestring, bytes, cJSON_IsString(h) ? h->valuestring : NULL,
			                         rows, err)) {
				rc = -2;
				break;
			}
			{
				/* Optional: written when the time was known. */
				uint64_t ms, mns;
				if (!get_u64(it, "mtime_s", &ms) && !get_u64(it, "mtime_ns", &mns) && ms < INT64_MAX &&
				    mns < 1000000000u) {
					m->sources[m->nsources - 1].mtime_s = (int64_t)ms;
					m->sources[m->nsources - 1].mtime_ns = (int32_t)mns;
				}
			}
		}
	}
	cJSON_Delete(root);
	if (rc == -2) {
		fidx_meta_free(m);
		return fidx_err_nomem(err);
	}
	if (bad) {
		fidx_meta_free(m);
		return fidx_err_set(err, FIDX_ECORRUPT, "%s: corrupt index: bad \"%s\" in the metadata", name, bad);
	}
	return 0;
}

int fidx_meta_read(struct fidx_file *f, struct fidx_meta *m, struct fidx_err *err)
{
	const char *name = fidx_file_name(f);
	char *json = NULL;
	size_t n;
	int rc;

	memset(m, 0, sizeof *m);
	if ((rc = fidx_file_read_section(f, FIDX_SEC_META, 16u << 20, &json, &n, err)) != 0)
		return rc;
	rc = fidx_meta_parse(name, json, n, m, err);
	free(json);
	if (rc)
		return rc;
	if (m->dim != fidx_file_dim(f) || m->count != fidx_file_count(f) ||
	    (m->id_kind != FIDX_IDS_IMPLICIT) != (fidx_file_section(f, FIDX_SEC_IDS) != NULL) ||
	    m->has_texts != (fidx_file_section(f, FIDX_SEC_TEXTS) != NULL)) {
		fidx_meta_free(m);
		return fidx_err_set(err, FIDX_ECORRUPT, "%s: corrupt index: the metadata does not match the sections", name);
	}
	return 0;
}

void fidx_meta_free(struct fidx_meta *m)
{
	size_t i;
	if (!m)
		return;
	free(m->embedder);
	free(m->model);
	for (i = 0; i < m->nparams; i++) {
		free(m->params[i].key);
		free(m->params[i].value);
	}
	free(m->params);
	free(m->created);
	free(m->recipe);
	free(m->fidx_version);
	for (i = 0; i < m->nsources; i++)
		free(m->sources[i].path);
	free(m->sources);
	memset(m, 0, sizeof *m);
}
