/* The JSON reader's helpers that need no parser state: UTF-8, reading a file, and the
 * accessors of a parsed tree. */
#include "cli/json_reader.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *jr_put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | cp >> 12);
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | cp >> 18);
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* No overlong forms, no surrogates, nothing past U+10FFFF: what RFC 3629 allows. */
int jr_utf8_len(const unsigned char *s, const unsigned char *end)
{
    unsigned c = s[0];
    int n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (end - s < n || s[1] < lo || s[1] > hi)
        return 0;
    for (int i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

jr_doc *jr_parse_file(const char *path, const jr_limits *limits, char *err, size_t err_cap)
{
    static const jr_limits defaults = JR_LIMITS_DEFAULT;
    const jr_limits *lim = limits ? limits : &defaults;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_cap, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_cap, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    if ((uintmax_t)st.st_size > lim->max_bytes) {
        snprintf(err, err_cap, "%s: %jd bytes, more than the limit of %zu", path, (intmax_t)st.st_size,
                 lim->max_bytes);
        fclose(f);
        return NULL;
    }
    size_t cap = (size_t)st.st_size;
    char *buf = malloc(cap ? cap : 1);
    size_t got = buf ? fread(buf, 1, cap, f) : 0;
    int bad = !buf || ferror(f);
    int e = errno;
    fclose(f);
    if (bad) {
        snprintf(err, err_cap, "%s: %s", path, buf ? strerror(e) : "out of memory");
        free(buf);
        return NULL;
    }
    char msg[512];
    jr_doc *doc = jr_parse(buf, got, lim, msg, sizeof msg);
    free(buf);
    if (!doc)
        snprintf(err, err_cap, "%s:%s", path, msg);
    return doc;
}

const jr_value *jr_get(const jr_value *obj, const char *key)
{
    const jr_value *hit = NULL;
    if (obj && obj->type == JR_OBJECT)
        for (const jr_value *c = obj->child; c; c = c->next)
            if (!strcmp(c->key, key))
                hit = c;
    return hit;
}

const char *jr_type_name(jr_type type)
{
    static const char *names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (unsigned)type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}
