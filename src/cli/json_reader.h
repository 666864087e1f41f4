/* A small strict JSON reader for the CLI's inputs (results files, training logs): RFC 8259
 * into a tree of values allocated from one arena, with limits on size and depth, and
 * errors that say line:column. Not a streaming parser: inputs are small documents. */
#ifndef VN_CLI_JSON_READER_H
#define VN_CLI_JSON_READER_H

#include <stddef.h>

typedef enum jr_type { JR_NULL, JR_BOOL, JR_NUMBER, JR_STRING, JR_ARRAY, JR_OBJECT } jr_type;

typedef struct jr_value jr_value;
struct jr_value {
    jr_type type;
    int line, col;   /* where the value starts, 1-based (col counts bytes) */
    int boolean;     /* JR_BOOL */
    double num;      /* JR_NUMBER: always finite */
    const char *str; /* JR_STRING: valid UTF-8, NUL-terminated, no NUL inside */
    size_t len;      /* JR_STRING: bytes, without the NUL */
    const char *key; /* a member of an object: its key; NULL otherwise */
    size_t n;        /* JR_ARRAY, JR_OBJECT: number of children */
    jr_value *child; /* JR_ARRAY, JR_OBJECT: the first child, in document order */
    jr_value *next;  /* the next sibling */
};

typedef struct jr_limits {
    size_t max_bytes; /* longest accepted input */
    int max_depth;    /* deepest nesting of arrays and objects; the top level is depth 1 */
    size_t max_nodes; /* most values; bounds memory, since "[0,0,...]" costs a node per 2 bytes */
} jr_limits;

#define JR_LIMITS_DEFAULT {(size_t)16 << 20, 64, (size_t)1 << 21}

typedef struct jr_doc jr_doc;

/* Parse text[0..len) (a UTF-8 BOM is skipped). On failure returns NULL and writes
 * "L:C: what" (line and column of the problem) into err. limits may be NULL for the
 * defaults. \u0000 is refused, so that every string is a C string. */
jr_doc *jr_parse(const char *text, size_t len, const jr_limits *limits, char *err, size_t err_cap);

/* Read and parse a file; err says "PATH:L:C: what" or "PATH: what" (a missing file, one
 * over the size limit) on failure. */
jr_doc *jr_parse_file(const char *path, const jr_limits *limits, char *err, size_t err_cap);

const jr_value *jr_root(const jr_doc *doc);
void jr_free(jr_doc *doc);

/* The member of obj named key (the last one, when a key repeats, as most readers do);
 * NULL when obj is not an object or has no such member. */
const jr_value *jr_get(const jr_value *obj, const char *key);

/* Length of the well-formed UTF-8 sequence at s (s[0] >= 0x80) that ends by end, or 0. */
int jr_utf8_len(const unsigned char *s, const unsigned char *end);

/* Write code point cp (at most U+10FFFF) as UTF-8 at o; returns the end. */
char *jr_put_utf8(char *o, unsigned cp);

/* "null", "boolean", "number", "string", "array", "object". */
const char *jr_type_name(jr_type type);

#endif
