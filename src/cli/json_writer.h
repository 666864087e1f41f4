/* A small streaming JSON writer for the CLI's --json outputs. */
#ifndef VN_CLI_JSON_WRITER_H
#define VN_CLI_JSON_WRITER_H

#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 32

typedef struct jw {
    FILE *f;
    int depth;
    int count[JW_MAX_DEPTH]; /* members written so far at each level, for commas */
} jw;

void jw_init(jw *w, FILE *f);
void jw_object_begin(jw *w, const char *key); /* key is NULL inside arrays and at the top */
void jw_object_end(jw *w);
void jw_array_begin(jw *w, const char *key);
void jw_array_end(jw *w);
void jw_string(jw *w, const char *key, const char *value);
void jw_int(jw *w, const char *key, int64_t value);
void jw_double(jw *w, const char *key, double value);
void jw_bool(jw *w, const char *key, int value);
/* Ends the document with a newline. */
void jw_finish(jw *w);

#endif
