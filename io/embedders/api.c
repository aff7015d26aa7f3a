#include "api.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bytes.h"
#include "path.h"
#include "token.h"

#define MAX_DIM (1u << 20)

int fidx_api_format_parse(const char *name)
{
	if (!name)
		return 0;
	if (strcmp(name, "hf") == 0)
		return FIDX_API_HF;
	if (strcmp(name, "tei") == 0)
		return FIDX_API_TEI;
	if (strcmp(name, "openai") == 0)
		return FIDX_API_OPENAI;
	return 0;
}

const char *fidx_api_format_name(int format)
{
	switch (format) {
	case FIDX_API_HF: return "hf";
	case FIDX_API_TEI: return "tei";
	case FIDX_API_OPENAI: return "openai";
	}
	return "unknown";
}

int fidx_api_format_of(const char *url)
{
	size_t n = strcspn(url, "?#");
	char *path = strndup(url, n);
	int f = FIDX_API_HF;
	if (!path)
		return f;
	while (n && path[n - 1] == '/')
		path[--n] = '\0';
	if (fidx_has_suffix(path, "/v1/embeddings") || fidx_has_suffix(path, "/embeddings"))
		f = FIDX_API_OPENAI;
	else if (fidx_has_suffix(path, "/embed"))
		f = FIDX_API_TEI;
	free(path);
	return f;
}

char *fidx_api_hf_url(const char *base, const char *model)
{
	const char *b = base ? base : getenv("HF_INFERENCE_ENDPOINT");
	size_t blen, need;
	char *url;
	if (!b || !*b)
		b = FIDX_API_ROUTER;
	blen = strlen(b);
	while (blen && b[blen - 1] == '/')
		blen--;
	need = blen + strlen(model) + 64;
	if (!(url = malloc(need)))
		return NULL;
	snprintf(url, need, "%.*s/hf-inference/models/%s/pipeline/feature-extraction", (int)blen, b, model);
	return url;
}

char *fidx_api_hf_model(const char *url)
{
	const char *p = strstr(url, "/models/"), *end;
	size_t n;
	char *out;
	if (!p)
		return NULL;
	p += 8;
	end = strstr(p, "/pipeline/");
	n = end ? (size_t)(end - p) : strcspn(p, "?#");
	while (n && p[n - 1] == '/')
		n--;
	if (!n || memchr(p, '?', n) || memchr(p, '#', n) || !(out = malloc(n + 1)))
		return NULL;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

char *fidx_api_info_model(const char *body, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "model_id");
	char *out = cJSON_IsString(id) && id->valuestring[0] ? strdup(id->valuestring) : NULL;
	cJSON_Delete(root);
	return out;
}

char *fidx_api_request(int format, const char *model, const char *const *texts,
                       const size_t *lens, size_t n)
{
	cJSON *root = cJSON_CreateObject(), *list = cJSON_CreateArray();
	char *body = NULL;
	size_t i;
	int ok = root && list;

	for (i = 0; ok && i < n; i++) {
		char *t = strndup(texts[i], lens[i]);
		cJSON *s = t ? cJSON_CreateString(t) : NULL;
		free(t);
		ok = s && cJSON_AddItemToArray(list, s);
	}
	if (ok && format == FIDX_API_OPENAI) {
		ok = cJSON_AddStringToObject(root, "model", model) && cJSON_AddItemToObject(root, "input", list) &&
		     cJSON_AddStringToObject(root, "encoding_format", "float");
		list = NULL;
	} else if (ok) {
		ok = cJSON_AddItemToObject(root, "inputs", list);
		list = NULL;
		/* Long texts are cut to the model's limit rather than refused. */
		if (ok && format == FIDX_API_TEI)
			ok = cJSON_AddTrueToObject(root, "truncate") != NULL;
	}
	if (ok)
		body = cJSON_PrintUnformatted(root);
	cJSON_Delete(list);
	cJSON_Delete(root);
	return body;
}

/* A number that fits a float, or an error. */
static int get_float(const cJSON *v, float *out)
{
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > FLT_MAX)
		return -1;
	*out = (float)v->valuedouble;
	return 0;
}

/* Token-level output ([n][tokens][dim]) is refused rather than pooled:
 * how a model pools (mean, CLS, with or without normalization) is part of
 * the model, and guessing it would give vectors that quietly disagree with
 * the model's own sentence embeddings. */
static int token_level(struct fidx_err *err)
{
	return fidx_err_set(err, FIDX_EAPI,
	                    "the model returns one vector per token, not one per text: "
	                    "use a sentence-embedding model (such as %s) or a TEI server",
	                    FIDX_API_DEFAULT_MODEL);
}

/* One vector from a JSON array of numbers into row, fixing *dim. */
static int read_vector(const cJSON *arr, size_t *dim, size_t cap, float *row, size_t which,
                       struct fidx_err *err)
{
	const cJSON *v;
	size_t k = 0, n = (size_t)cJSON_GetArraySize(arr);
	if (!cJSON_IsArray(arr))
		return fidx_err_set(err, FIDX_EAPI, "vector %zu is not a list of numbers", which + 1);
	if (cJSON_IsArray(arr->child))
		return token_level(err);
	if (*dim && n != *dim)
		return fidx_err_set(err, FIDX_EAPI, "vector %zu has %zu dimensions, expected %zu", which + 1, n, *dim);
	if (!n || n > cap)
		return fidx_err_set(err, FIDX_EAPI, "vector %zu has %zu dimensions", which + 1, n);
	cJSON_ArrayForEach(v, arr) {
		if (get_float(v, &row[k]))
			return fidx_err_set(err, FIDX_EAPI, "vector %zu has a value that is not a finite number", which + 1);
		k++;
	}
	*dim = n;
	return 0;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* OpenAI's base64 embedding: little-endian float32 values. */
static int read_base64(const char *s, size_t *dim, size_t cap, float *row, size_t which,
                       struct fidx_err *err)
{
	size_t len = strlen(s), bytes, k, i;
	unsigned char quad[4];
	unsigned char *raw;
	int q = 0;

	while (len && s[len - 1] == '=')
		len--;
	bytes = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	if (len % 4 == 1 || bytes % 4 || !bytes || bytes / 4 > cap || (*dim && bytes / 4 != *dim))
		return fidx_err_set(err, FIDX_EAPI, "vector %zu: its base64 does not hold %s float32 values",
		                    which + 1, *dim ? "the expected" : "whole");
	if (!(raw = malloc(bytes + 3)))
		return fidx_err_nomem(err);
	for (i = 0, k = 0; i < len; i++) {
		int v = b64_value((unsigned char)s[i]);
		if (v < 0) {
			free(raw);
			return fidx_err_set(err, FIDX_EAPI, "vector %zu: bad base64", which + 1);
		}
		quad[q++] = (unsigned char)v;
		if (q == 4 || i + 1 == len) {
			unsigned long w = 0;
			int j;
			for (j = 0; j < 4; j++)
				w = w << 6 | (j < q ? quad[j] : 0);
			for (j = 0; j < q - 1; j++)
				raw[k++] = (unsigned char)(w >> (16 - 8 * j));
			q = 0;
		}
	}
	for (i = 0; i < bytes / 4; i++) {
		uint32_t b = fidx_le32(raw + 4 * i);
		memcpy(&row[i], &b, 4);
		if (!isfinite(row[i])) {
			free(raw);
			return fidx_err_set(err, FIDX_EAPI, "vector %zu has a value that is not a finite number", which + 1);
		}
	}
	free(raw);
	*dim = bytes / 4;
	return 0;
}

/* The dimension a vector in JSON claims: an array's length, or what a
 * base64 string decodes to. */
static size_t claimed_dim(const cJSON *v)
{
	if (cJSON_IsArray(v))
		return (size_t)cJSON_GetArraySize(v);
	if (cJSON_IsString(v)) {
		size_t len = strlen(v->valuestring);
		while (len && v->valuestring[len - 1] == '=')
			len--;
		return (len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0)) / 4;
	}
	return 0;
}

int fidx_api_parse(int format, const char *body, size_t len, size_t n, size_t *dim, size_t cap,
                   float **out, struct fidx_err *err)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *v, *list = root, *first;
	size_t i = 0, d = *dim;
	unsigned char *seen = NULL;
	int rc = 0;

	*out = NULL;
	if (cap > MAX_DIM)
		cap = MAX_DIM;
	if (!root) {
		char what[120];
		fidx_api_error_message(body, len, what, sizeof what);
		return fidx_err_set(err, FIDX_EAPI, "the response is not JSON (%s)", what);
	}
	if (format == FIDX_API_OPENAI)
		list = cJSON_GetObjectItemCaseSensitive(root, "data");
	else if (cJSON_IsArray(root) && n == 1 && cJSON_GetArraySize(root) > 0 &&
	         cJSON_IsNumber(cJSON_GetArrayItem(root, 0)))
		list = NULL; /* one text, one flat vector */
	if (list && (!cJSON_IsArray(list) || (size_t)cJSON_GetArraySize(list) != n)) {
		char what[120];
		if (cJSON_IsArray(list))
			rc = fidx_err_set(err, FIDX_EAPI, "the response has %d vectors for %zu texts",
			                  cJSON_GetArraySize(list), n);
		else {
			fidx_api_error_message(body, len, what, sizeof what);
			rc = fidx_err_set(err, FIDX_EAPI, "the response is not a list of vectors (%s)", what);
		}
		goto out;
	}
	first = !list ? root : format == FIDX_API_OPENAI
	        ? cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 0), "embedding")
	        : cJSON_GetArrayItem(list, 0);
	if (!d)
		d = claimed_dim(first);
	if (!d || d > cap) {
		rc = fidx_err_set(err, FIDX_EAPI, "the first vector has %zu dimensions", claimed_dim(first));
		goto out;
	}
	if (n > SIZE_MAX / sizeof(float) / d || !(*out = malloc((n ? n : 1) * d * sizeof(float))) ||
	    !(seen = calloc(n ? n : 1, 1))) {
		rc = fidx_err_nomem(err);
		goto out;
	}
	if (!list) {
		rc = read_vector(root, &d, cap, *out, 0, err);
		goto out;
	}
	cJSON_ArrayForEach(v, list) {
		size_t at = i;
		const cJSON *e = v;
		if (format == FIDX_API_OPENAI) {
			const cJSON *ix = cJSON_GetObjectItemCaseSensitive(v, "index");
			/* Placed by index, not by position. */
			if (!cJSON_IsNumber(ix) || ix->valuedouble < 0 || ix->valuedouble >= (double)n ||
			    ix->valuedouble != (double)(size_t)ix->valuedouble || seen[(size_t)ix->valuedouble]) {
				rc = fidx_err_set(err, FIDX_EAPI, "embedding %zu has a missing, repeated or wrong index", i + 1);
				break;
			}
			at = (size_t)ix->valuedouble;
			e = cJSON_GetObjectItemCaseSensitive(v, "embedding");
		}
		seen[at] = 1;
		rc = cJSON_IsString(e) && format == FIDX_API_OPENAI
		         ? read_base64(e->valuestring, &d, cap, *out + at * d, at, err)
		         : read_vector(e, &d, cap, *out + at * d, at, err);
		if (rc)
			break;
		i++;
	}
out:
	cJSON_Delete(root);
	free(seen);
	if (rc) {
		free(*out);
		*out = NULL;
		return rc;
	}
	*dim = d;
	return 0;
}

void fidx_api_error_message(const char *body, size_t len, char *out, size_t cap)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *e = NULL;
	size_t i, o = 0;
	const char *s;

	if (cap < 16) {
		if (cap)
			out[0] = '\0';
		return;
	}
	if (root) {
		e = cJSON_GetObjectItemCaseSensitive(root, "error");
		if (cJSON_IsObject(e))
			e = cJSON_GetObjectItemCaseSensitive(e, "message");
		if (!cJSON_IsString(e))
			e = cJSON_GetObjectItemCaseSensitive(root, "message");
	}
	if (e && cJSON_IsString(e)) {
		s = e->valuestring;
		len = strlen(s);
	} else {
		size_t k = 0;
		while (k < len && (body[k] == ' ' || body[k] == '\n' || body[k] == '\r' || body[k] == '\t'))
			k++;
		if (len == 0)
			snprintf(out, cap, "an empty body");
		else if (k < len && body[k] == '<')
			snprintf(out, cap, "an HTML page");
		if (len == 0 || (k < len && body[k] == '<')) {
			cJSON_Delete(root);
			return;
		}
		s = body;
	}
	for (i = 0; i < len && o + 4 < cap; i++)
		out[o++] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
	if (i < len && o >= 3)
		memcpy(out + o - 3, "...", 3);
	out[o] = '\0';
	cJSON_Delete(root);
}

double fidx_api_estimated_time(const char *body, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *t = root ? cJSON_GetObjectItemCaseSensitive(root, "estimated_time") : NULL;
	double v = cJSON_IsNumber(t) && t->valuedouble >= 0 && isfinite(t->valuedouble) ? t->valuedouble : -1;
	cJSON_Delete(root);
	return v;
}

int fidx_api_needs_token(const char *url)
{
	size_t n = strlen(FIDX_API_ROUTER);
	return strncasecmp(url, FIDX_API_ROUTER, n) == 0 && (url[n] == '/' || url[n] == '\0');
}

int fidx_api_no_token(int format, struct fidx_err *err)
{
	char path[4096];
	if (format != FIDX_API_HF)
		return fidx_err_set(err, FIDX_EINPUT, "no API token, and the Hugging Face Inference API needs one: "
		                    "looked in FIDX_API_TOKEN; set FIDX_API_TOKEN, or give " FIDX_SETTING("token_file") " <file>");
	if (fidx_token_hf_path(path, sizeof path))
		return fidx_err_set(err, FIDX_EINPUT, "no API token, and the Hugging Face Inference API needs one: "
		                    "looked in HF_TOKEN and HUGGING_FACE_HUB_TOKEN (no token file: HOME is not set); "
		                    "run `huggingface-cli login`, set HF_TOKEN, or give " FIDX_SETTING("token_file") " <file>");
	return fidx_err_set(err, FIDX_EINPUT, "no API token, and the Hugging Face Inference API needs one: "
	                    "looked in HF_TOKEN, HUGGING_FACE_HUB_TOKEN and %s; "
	                    "run `huggingface-cli login`, set HF_TOKEN, or give " FIDX_SETTING("token_file") " <file>", path);
}
