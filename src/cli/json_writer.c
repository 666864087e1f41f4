#include "cli/json_writer.h"

#include <math.h>

void jw_init(jw *w, FILE *f)
{
    w->f = f;
    w->depth = 0;
    w->count[0] = 0;
}

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void member(jw *w, const char *key)
{
    if (w->count[w->depth]++ > 0)
        fputc(',', w->f);
    if (key) {
        put_string(w->f, key);
        fputc(':', w->f);
    }
}

static void open(jw *w, const char *key, char c)
{
    member(w, key);
    fputc(c, w->f);
    if (w->depth + 1 < JW_MAX_DEPTH)
        w->count[++w->depth] = 0;
}

void jw_object_begin(jw *w, const char *key) { open(w, key, '{'); }
void jw_array_begin(jw *w, const char *key) { open(w, key, '['); }

static void close_(jw *w, char c)
{
    fputc(c, w->f);
    if (w->depth > 0)
        w->depth--;
}

void jw_object_end(jw *w) { close_(w, '}'); }
void jw_array_end(jw *w) { close_(w, ']'); }

void jw_string(jw *w, const char *key, const char *value)
{
    member(w, key);
    if (value)
        put_string(w->f, value);
    else
        fputs("null", w->f);
}

void jw_int(jw *w, const char *key, int64_t value)
{
    member(w, key);
    fprintf(w->f, "%lld", (long long)value);
}

void jw_double(jw *w, const char *key, double value)
{
    member(w, key);
    if (isfinite(value))
        fprintf(w->f, "%.17g", value);
    else
        fputs("null", w->f);
}

void jw_bool(jw *w, const char *key, int value)
{
    member(w, key);
    fputs(value ? "true" : "false", w->f);
}

void jw_finish(jw *w)
{
    fputc('\n', w->f);
    fflush(w->f);
}
