/* Embedding APIs over HTTP: the Hugging Face Inference API
 * (feature-extraction), text-embeddings-inference (/embed) and
 * OpenAI-compatible /v1/embeddings. The pieces that do not need a network,
 * exposed for tests and fuzzing; io/embedders/embed.h's "api" embedder puts them
 * together with libcurl. */
#ifndef FIDX_IO_API_H
#define FIDX_IO_API_H

#include <stddef.h>

#include "error.h"

enum fidx_api_format { FIDX_API_HF = 1, FIDX_API_TEI = 2, FIDX_API_OPENAI = 3 };

#define FIDX_API_DEFAULT_MODEL "sentence-transformers/all-MiniLM-L6-v2"
#define FIDX_API_ROUTER "https://router.huggingface.co"

/* "hf", "tei", "openai"; 0 for anything else. */
int fidx_api_format_parse(const char *name);
const char *fidx_api_format_name(int format);

/* The format a URL implies: .../v1/embeddings is OpenAI, .../embed is TEI,
 * anything else the Hugging Face API. */
int fidx_api_format_of(const char *url);

/* The Hugging Face router URL for a model, under base (NULL: the
 * HF_INFERENCE_ENDPOINT environment variable, else the router). Returns a
 * new string or NULL when out of memory. */
char *fidx_api_hf_url(const char *base, const char *model);

/* The model id in a Hugging Face Inference API URL
 * (.../models/<id>/pipeline/feature-extraction, or .../models/<id>), as a
 * new string; NULL when the URL names none. */
char *fidx_api_hf_model(const char *url);

/* The model_id of a TEI server's GET /info answer, as a new string, or
 * NULL. */
char *fidx_api_info_model(const char *body, size_t len);

/* The request body for texts[0..n). Returns a new string or NULL. */
char *fidx_api_request(int format, const char *model, const char *const *texts,
                       const size_t *lens, size_t n);

/* Parses a successful response for n texts into out (n * dim floats, as
 * sent; not normalized). *dim is the expected dimension, or 0 to learn it
 * from the response (then at most cap values per vector). Errors describe
 * what is wrong (wrong count or dimension, not numbers, token-level output,
 * not JSON) without naming the batch, which the caller adds. */
int fidx_api_parse(int format, const char *body, size_t len, size_t n, size_t *dim, size_t cap,
                   float **out, struct fidx_err *err);

/* The error message of an error response, as the server put it (JSON
 * "error", "error.message" or "message"), cleaned of control characters
 * and cut to fit; or a description of the body when it has none. */
void fidx_api_error_message(const char *body, size_t len, char *out, size_t cap);

/* The number of seconds a 503 "model is loading" body asks to wait
 * (estimated_time), or -1. */
double fidx_api_estimated_time(const char *body, size_t len);

/* Whether the service at url answers nothing without a token: the Hugging
 * Face router (FIDX_API_ROUTER), the default service. Self-hosted servers
 * may run without one. */
int fidx_api_needs_token(const char *url);

/* FIDX_EINPUT, saying that the Hugging Face Inference API needs a token,
 * where fidx_token_find looked for one for format (its variables and token
 * file; never a token) and how to give one. */
int fidx_api_no_token(int format, struct fidx_err *err);

#endif
