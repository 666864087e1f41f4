/* A strict recursive-descent JSON reader. Every value and string lives in one arena that
 * jr_free releases at once, so that error paths never have partial trees to unpick. */
#include "cli/json_reader.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_BYTES ((size_t)64 << 10)
#define MAX_NUMBER_CHARS 512

typedef struct block {
    struct block *next;
    size_t used, cap;
    max_align_t data[]; /* aligns what is carved out of it */
} block;

struct jr_doc {
    block *blocks;
    jr_value *root;
};

static void *arena_alloc(jr_doc *doc, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    block *b = doc->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > BLOCK_BYTES ? n : BLOCK_BYTES;
        block *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->used = 0;
        nb->cap = cap;
        /* A big one-off allocation goes behind the current block, so that the current
         * block's free space is still used by the small ones that follow. */
        if (b && n > BLOCK_BYTES) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            doc->blocks = nb;
        }
        b = nb;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

void jr_free(jr_doc *doc)
{
    if (!doc)
        return;
    for (block *b = doc->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(doc);
}

typedef struct parser {
    const unsigned char *p, *end, *line_start;
    int line;
    size_t nodes;
    jr_limits lim;
    jr_doc *doc;
    char *err;
    size_t err_cap;
    int failed;
} parser;

__attribute__((format(printf, 3, 4))) static void fail_at(parser *ps, const unsigned char *at, const char *fmt, ...)
{
    if (ps->failed)
        return; /* the first problem is the one worth reporting */
    ps->failed = 1;
    if (!ps->err || !ps->err_cap)
        return;
    int n = snprintf(ps->err, ps->err_cap, "%d:%d: ", ps->line, (int)(at - ps->line_start) + 1);
    if (n < 0 || (size_t)n >= ps->err_cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err + n, ps->err_cap - (size_t)n, fmt, ap);
    va_end(ap);
}

/* "end of input", "'x'" or "byte 0xNN": what the reader found where it expected more. */
static const char *found(const parser *ps, char *buf, size_t cap)
{
    if (ps->p >= ps->end)
        return "end of input";
    unsigned c = *ps->p;
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, cap, "'%c'", (char)c);
    else
        snprintf(buf, cap, "byte 0x%02x", c);
    return buf;
}

static void unexpected(parser *ps, const char *wanted)
{
    char buf[16];
    fail_at(ps, ps->p, "expected %s, found %s", wanted, found(ps, buf, sizeof buf));
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end) {
        unsigned char c = *ps->p;
        if (c == '\n') {
            ps->line++;
            ps->line_start = ps->p + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            return;
        }
        ps->p++;
    }
}

static jr_value *new_value(parser *ps, jr_type type)
{
    if (++ps->nodes > ps->lim.max_nodes) {
        fail_at(ps, ps->p, "more than %zu values (the limit)", ps->lim.max_nodes);
        return NULL;
    }
    jr_value *v = arena_alloc(ps->doc, sizeof *v);
    if (!v) {
        fail_at(ps, ps->p, "out of memory");
        return NULL;
    }
    memset(v, 0, sizeof *v);
    v->type = type;
    v->line = ps->line;
    v->col = (int)(ps->p - ps->line_start) + 1;
    return v;
}

static int hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/* A string at ps->p (its opening quote) into the arena. The decoded form is never longer
 * than the source (an escape of k bytes decodes to fewer than k), so the span bounds it. */
static const char *parse_string(parser *ps, size_t *len_out)
{
    const unsigned char *start = ps->p++, *q = ps->p;
    while (q < ps->end && *q != '"')
        q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
    if (q >= ps->end) {
        fail_at(ps, start, "unterminated string");
        return NULL;
    }
    char *out = arena_alloc(ps->doc, (size_t)(q - ps->p) + 1), *o = out;
    if (!out) {
        fail_at(ps, start, "out of memory");
        return NULL;
    }
    while (ps->p < q) {
        const unsigned char *at = ps->p;
        unsigned c = *at;
        if (c < 0x20) {
            fail_at(ps, at, "control character 0x%02x in a string (it must be escaped)", c);
            return NULL;
        }
        if (c >= 0x80) {
            int n = jr_utf8_len(at, q);
            if (!n) {
                fail_at(ps, at, "invalid UTF-8 in a string");
                return NULL;
            }
            memcpy(o, at, (size_t)n);
            o += n;
            ps->p += n;
            continue;
        }
        if (c != '\\') {
            *o++ = (char)c;
            ps->p++;
            continue;
        }
        unsigned e = at[1];
        ps->p += 2;
        const char *simple = strchr("\"\\/bfnrt", (int)e);
        if (e && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            *o++ = map[simple - "\"\\/bfnrt"];
            continue;
        }
        unsigned cp, lo;
        if (e != 'u') {
            fail_at(ps, at, "invalid escape '\\%c' in a string", e >= 0x21 && e < 0x7f ? (char)e : '?');
            return NULL;
        }
        if (q - ps->p < 4 || hex4(ps->p, &cp) != 0) {
            fail_at(ps, at, "\\u needs four hex digits");
            return NULL;
        }
        ps->p += 4;
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            fail_at(ps, at, "\\u%04x is a low surrogate without a high one before it", cp);
            return NULL;
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (q - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || hex4(ps->p + 2, &lo) != 0 || lo < 0xdc00 ||
                lo > 0xdfff) {
                fail_at(ps, at, "\\u%04x is a high surrogate without a low one after it", cp);
                return NULL;
            }
            ps->p += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        if (cp == 0) {
            fail_at(ps, at, "\\u0000 is not accepted (strings here are C strings)");
            return NULL;
        }
        o = jr_put_utf8(o, cp);
    }
    *o = '\0';
    ps->p = q + 1;
    *len_out = (size_t)(o - out);
    return out;
}

static int digits(parser *ps)
{
    const unsigned char *s = ps->p;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        ps->p++;
    return ps->p > s;
}

/* The JSON number grammar exactly (no leading '+', no leading zeros, no bare '.', no hex,
 * no NaN or Infinity), then strtod on a copy: the input is not NUL-terminated. */
static int parse_number(parser *ps, double *out)
{
    const unsigned char *s = ps->p;
    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (ps->p < ps->end && *ps->p == '0')
        ps->p++;
    else if (!digits(ps)) {
        unexpected(ps, "a digit");
        return -1;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (!digits(ps)) {
            unexpected(ps, "a digit after the decimal point");
            return -1;
        }
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (!digits(ps)) {
            unexpected(ps, "a digit in the exponent");
            return -1;
        }
    }
    size_t n = (size_t)(ps->p - s);
    char buf[MAX_NUMBER_CHARS + 1];
    if (n > MAX_NUMBER_CHARS) {
        fail_at(ps, s, "a number of %zu characters (at most %d)", n, MAX_NUMBER_CHARS);
        return -1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    double v = strtod(buf, NULL);
    if (!isfinite(v)) {
        fail_at(ps, s, "number %s is out of range", buf);
        return -1;
    }
    *out = v;
    return 0;
}

static jr_value *parse_value(parser *ps, int depth);

/* The members of an array (keyed 0) or an object (keyed 1), after the opening bracket. */
static int parse_children(parser *ps, jr_value *v, int keyed, int depth)
{
    const char close = keyed ? '}' : ']';
    jr_value **tail = &v->child;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return 0;
    }
    for (;;) {
        const char *key = NULL;
        size_t klen;
        skip_ws(ps);
        if (keyed) {
            if (ps->p >= ps->end || *ps->p != '"') {
                unexpected(ps, v->n ? "a string key after ',' (a trailing comma?)" : "a string key or '}'");
                return -1;
            }
            if (!(key = parse_string(ps, &klen)))
                return -1;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                unexpected(ps, "':' after an object key");
                return -1;
            }
            ps->p++;
            skip_ws(ps);
        } else if (v->n && ps->p < ps->end && *ps->p == ']') {
            unexpected(ps, "a value after ',' (a trailing comma?)");
            return -1;
        }
        jr_value *c = parse_value(ps, depth + 1);
        if (!c)
            return -1;
        c->key = key;
        *tail = c;
        tail = &c->next;
        v->n++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return 0;
        }
        unexpected(ps, keyed ? "',' or '}' in an object" : "',' or ']' in an array");
        return -1;
    }
}

static int literal(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
        fail_at(ps, ps->p, "invalid literal (expected %s)", word);
        return -1;
    }
    ps->p += n;
    return 0;
}

static jr_value *parse_value(parser *ps, int depth)
{
    skip_ws(ps);
    if (ps->p >= ps->end) {
        unexpected(ps, "a value");
        return NULL;
    }
    jr_value *v;
    switch (*ps->p) {
    case '{':
    case '[': {
        if (depth > ps->lim.max_depth) {
            fail_at(ps, ps->p, "nested deeper than %d levels", ps->lim.max_depth);
            return NULL;
        }
        int keyed = *ps->p == '{';
        if (!(v = new_value(ps, keyed ? JR_OBJECT : JR_ARRAY)))
            return NULL;
        ps->p++;
        return parse_children(ps, v, keyed, depth) == 0 ? v : NULL;
    }
    case '"':
        if (!(v = new_value(ps, JR_STRING)))
            return NULL;
        return (v->str = parse_string(ps, &v->len)) ? v : NULL;
    case 't':
    case 'f':
        if (!(v = new_value(ps, JR_BOOL)))
            return NULL;
        v->boolean = *ps->p == 't';
        return literal(ps, v->boolean ? "true" : "false") == 0 ? v : NULL;
    case 'n':
        if (!(v = new_value(ps, JR_NULL)))
            return NULL;
        return literal(ps, "null") == 0 ? v : NULL;
    default:
        if (*ps->p != '-' && (*ps->p < '0' || *ps->p > '9')) {
            unexpected(ps, "a value");
            return NULL;
        }
        if (!(v = new_value(ps, JR_NUMBER)))
            return NULL;
        return parse_number(ps, &v->num) == 0 ? v : NULL;
    }
}

jr_doc *jr_parse(const char *text, size_t len, const jr_limits *limits, char *err, size_t err_cap)
{
    static const jr_limits defaults = JR_LIMITS_DEFAULT;
    parser ps = {0};
    ps.lim = limits ? *limits : defaults;
    ps.p = ps.line_start = (const unsigned char *)text;
    ps.end = ps.p + len;
    ps.line = 1;
    ps.err = err;
    ps.err_cap = err_cap;
    if (err && err_cap)
        err[0] = '\0';
    if (!text) {
        fail_at(&ps, ps.p, "no input");
        return NULL;
    }
    if (len > ps.lim.max_bytes) {
        fail_at(&ps, ps.p, "%zu bytes, more than the limit of %zu", len, ps.lim.max_bytes);
        return NULL;
    }
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
        ps.p += 3;
    if (!(ps.doc = calloc(1, sizeof *ps.doc))) {
        fail_at(&ps, ps.p, "out of memory");
        return NULL;
    }
    skip_ws(&ps);
    if (ps.p >= ps.end) {
        fail_at(&ps, ps.p, "empty input (expected a JSON value)");
        jr_free(ps.doc);
        return NULL;
    }
    ps.doc->root = parse_value(&ps, 1);
    if (ps.doc->root) {
        skip_ws(&ps);
        if (ps.p < ps.end)
            unexpected(&ps, "nothing after the JSON value");
    }
    if (ps.failed) {
        jr_free(ps.doc);
        return NULL;
    }
    return ps.doc;
}

const jr_value *jr_root(const jr_doc *doc) { return doc ? doc->root : NULL; }

