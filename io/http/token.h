/* Tokens for the HTTP services fidx talks to (the Hugging Face Hub and
 * Inference API, other embedding APIs), found where huggingface_hub finds
 * them. A token's bytes appear in no message, and its copies are wiped
 * when done with. */
#ifndef FIDX_TOKEN_H
#define FIDX_TOKEN_H

#include <stddef.h>

#include "error.h"

/* The token: token_file's contents when it is given; else the variable env
 * names (FIDX_API_TOKEN for other embedding APIs); else, with env NULL, the
 * Hugging Face token: HF_TOKEN, HUGGING_FACE_HUB_TOKEN, then the token
 * file (fidx_token_hf_path). White space around it is dropped; a space or
 * a byte that is not printable ASCII inside it is an error (it would go
 * into an HTTP header). *token is a new string (fidx_token_free), or NULL
 * when there is none. A token file that exists but cannot be read is an
 * error, as is a token_file that does not exist. */
int fidx_token_find(const char *token_file, const char *env, char **token, struct fidx_err *err);

/* Wipes and frees a token (NULL is fine). */
void fidx_token_free(char *token);

/* Where huggingface_hub keeps the Hugging Face token file, into path:
 * HF_TOKEN_PATH, $HF_HOME/token, $XDG_CACHE_HOME/huggingface/token or
 * ~/.cache/huggingface/token. 0, or 1 when none of those variables is set. */
int fidx_token_hf_path(char *path, size_t cap);

#endif
