/*
 * encoder_io.c: encoder weights in safetensors files (vn_encoder_save/load), the config as
 * JSON in __metadata__, and the arena-to-tensors helpers the trainer's state file shares.
 * The format is documented in docs/CHECKPOINTS.md.
 */
#include "nn/encoder_io.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "nn/encoder_internal.h"

/* ---- the config as JSON ------------------------------------------------------------ */

/* These names are the file format: renaming one breaks every saved file. */
static const char *const family_names[] = {"frames", "frames+temporal", "video"};
static const char *const pooling_names[] = {"mean", "attentive"};
static const char *const attention_names[] = {"joint", "divided"};
static const char *const pos_names[] = {"learned", "sincos"};

/* Enum fields are read and written as int through their offsets. */
_Static_assert(sizeof(vn_encoder_family) == sizeof(int), "enum size");
_Static_assert(sizeof(vn_pooling) == sizeof(int), "enum size");
_Static_assert(sizeof(vn_attention_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(vn_pos_embedding) == sizeof(int), "enum size");

typedef enum field_kind { K_VERSION, K_INT, K_U64, K_FLOAT, K_ENUM } field_kind;

typedef struct cfg_field {
    const char *name;
    field_kind kind;
    size_t off;
    const char *const *names; /* K_ENUM */
    int n_names;
} cfg_field;

#define F_(k, f) {#f, k, offsetof(vn_encoder_config, f), NULL, 0}
#define F_ENUM(f, names) {#f, K_ENUM, offsetof(vn_encoder_config, f), names, (int)(sizeof names / sizeof *names)}

/* Every vn_encoder_config field, in struct order; a field appended to the struct in a new
 * config version must be added here (and be optional when reading older versions). */
static const cfg_field cfg_fields[] = {
    F_(K_VERSION, version),
    F_ENUM(family, family_names),
    F_(K_INT, frames),
    F_(K_INT, size),
    F_(K_INT, channels),
    F_(K_INT, patch),
    F_(K_INT, tubelet_t),
    F_(K_INT, dim),
    F_(K_INT, depth),
    F_(K_INT, heads),
    F_(K_FLOAT, mlp_ratio),
    F_ENUM(pooling, pooling_names),
    F_ENUM(attention, attention_names),
    F_ENUM(pos, pos_names),
    F_(K_INT, temporal_depth),
    F_(K_U64, seed),
    F_(K_FLOAT, init_std),
};
#define N_FIELDS ((int)(sizeof cfg_fields / sizeof *cfg_fields))

/* printf and strtof follow LC_NUMERIC, and an application that calls setlocale(LC_ALL, "")
 * in a German locale would otherwise write "4,5" into the file. The switch is per thread. */
typedef struct c_numeric {
    locale_t c, old;
} c_numeric;

static vn_status c_numeric_begin(c_numeric *cn, const char *fn)
{
    cn->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!cn->c)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "%s: cannot create the C locale for number formatting", fn);
    cn->old = uselocale(cn->c);
    return VN_OK;
}

static void c_numeric_end(c_numeric *cn)
{
    uselocale(cn->old);
    freelocale(cn->c);
}

/* The shortest %g that reads back as the same float: "0.02", not "0.0199999996"; and "4.0",
 * not "4", so that JSON readers see a float. */
static void format_float(char *out, size_t cap, float v)
{
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(out, cap, "%.*g", prec, (double)v);
        if (strtof(out, NULL) == v)
            break;
    }
    if (!strpbrk(out, ".eE") && strlen(out) + 3 <= cap)
        strcat(out, ".0");
}

vn_status vn_encoder_config_to_json(const vn_encoder_config *cfg, char *buf, size_t cap)
{
    VN_CHECK_NULL(cfg);
    VN_CHECK_NULL(buf);
    vn_status st = vn_enc_validate_config(__func__, cfg);
    if (st)
        return st;
    c_numeric cn = {(locale_t)0, (locale_t)0};
    if ((st = c_numeric_begin(&cn, __func__)))
        return st;
    size_t used = 0;
    int over = cap == 0;
    for (int i = 0; i < N_FIELDS && !over; i++) {
        const cfg_field *fd = &cfg_fields[i];
        const char *base = (const char *)cfg + fd->off;
        char val[64];
        int iv;
        switch (fd->kind) {
        case K_VERSION:
            snprintf(val, sizeof val, "%u", (unsigned)VN_ENCODER_CONFIG_VERSION);
            break;
        case K_INT:
            memcpy(&iv, base, sizeof iv);
            snprintf(val, sizeof val, "%d", iv);
            break;
        case K_U64: {
            uint64_t u;
            memcpy(&u, base, sizeof u);
            snprintf(val, sizeof val, "%llu", (unsigned long long)u);
            break;
        }
        case K_FLOAT: {
            float f;
            memcpy(&f, base, sizeof f);
            format_float(val, sizeof val, f);
            break;
        }
        case K_ENUM:
            memcpy(&iv, base, sizeof iv);
            snprintf(val, sizeof val, "\"%s\"", fd->names[iv]); /* in range: validated above */
            break;
        }
        int n = snprintf(buf + used, cap - used, "%s\"%s\": %s%s", i ? ", " : "{", fd->name, val,
                         i == N_FIELDS - 1 ? "}" : "");
        if (n < 0 || (size_t)n >= cap - used)
            over = 1;
        else
            used += (size_t)n;
    }
    c_numeric_end(&cn);
    if (over) {
        if (cap)
            buf[0] = '\0';
        return vn_error(VN_ERR_INVALID_ARG, "%s: a buffer of %zu bytes is too small (use VN_ENCODER_CONFIG_JSON_MAX)",
                        __func__, cap);
    }
    return VN_OK;
}

/* One "key": value member of the config object; text is the string's value or the
 * number's token. */
typedef struct jmember {
    char key[64];
    char text[64];
    int is_string;
    size_t at;
} jmember;

#define MAX_MEMBERS 48

typedef struct jparser {
    const char *s, *p;
    const char *ctx;
} jparser;

static vn_status jfail(const jparser *jp, const char *what)
{
    return vn_error(VN_ERR_FORMAT, "%s: config is not valid JSON: %s at byte %zu", jp->ctx, what,
                    (size_t)(jp->p - jp->s));
}

static void jws(jparser *jp)
{
    while (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r')
        jp->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Keys and values of a config are short ASCII words; a \u escape beyond ASCII cannot name
 * anything, so it is refused here rather than decoded. */
static vn_status jstring(jparser *jp, char *out, size_t cap)
{
    if (*jp->p != '"')
        return jfail(jp, "expected a string");
    jp->p++;
    size_t n = 0;
    for (;;) {
        unsigned char c = (unsigned char)*jp->p;
        if (c == '"')
            break;
        if (c == '\0')
            return jfail(jp, "unterminated string");
        if (c < 0x20)
            return jfail(jp, "control character in a string");
        if (c == '\\') {
            jp->p++;
            switch (*jp->p) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': {
                int v = 0;
                for (int k = 1; k <= 4; k++) {
                    int h = hexval(jp->p[k]);
                    if (h < 0)
                        return jfail(jp, "bad \\u escape");
                    v = v * 16 + h;
                }
                if (v == 0 || v > 0x7F)
                    return jfail(jp, "\\u escape outside ASCII (no config name needs one)");
                c = (unsigned char)v;
                jp->p += 4;
                break;
            }
            default:
                return jfail(jp, "bad escape");
            }
        }
        if (n + 1 >= cap)
            return jfail(jp, "string longer than any config name");
        out[n++] = (char)c;
        jp->p++;
    }
    jp->p++;
    out[n] = '\0';
    return VN_OK;
}

/* JSON's number grammar exactly: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static vn_status jnumber(jparser *jp, char *out, size_t cap)
{
    const char *b = jp->p, *q = b;
    if (*q == '-')
        q++;
    if (*q == '0')
        q++;
    else if (*q >= '1' && *q <= '9')
        while (*q >= '0' && *q <= '9')
            q++;
    else
        return jfail(jp, "bad number");
    if (*q == '.') {
        q++;
        if (!(*q >= '0' && *q <= '9'))
            return jfail(jp, "bad number (no digit after '.')");
        while (*q >= '0' && *q <= '9')
            q++;
    }
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-')
            q++;
        if (!(*q >= '0' && *q <= '9'))
            return jfail(jp, "bad number (no digit in the exponent)");
        while (*q >= '0' && *q <= '9')
            q++;
    }
    if ((size_t)(q - b) >= cap)
        return jfail(jp, "number too long");
    memcpy(out, b, (size_t)(q - b));
    out[q - b] = '\0';
    jp->p = q;
    return VN_OK;
}

static vn_status jobject(jparser *jp, jmember *m, int *n)
{
    vn_status st;
    *n = 0;
    jws(jp);
    if (*jp->p != '{')
        return jfail(jp, "expected '{'");
    jp->p++;
    jws(jp);
    if (*jp->p == '}') {
        jp->p++;
    } else {
        for (;;) {
            if (*n == MAX_MEMBERS)
                return jfail(jp, "too many fields");
            jmember *e = &m[(*n)++];
            if ((st = jstring(jp, e->key, sizeof e->key)))
                return st;
            jws(jp);
            if (*jp->p != ':')
                return jfail(jp, "expected ':'");
            jp->p++;
            jws(jp);
            e->at = (size_t)(jp->p - jp->s);
            if (*jp->p == '"') {
                e->is_string = 1;
                st = jstring(jp, e->text, sizeof e->text);
            } else if (*jp->p == '-' || (*jp->p >= '0' && *jp->p <= '9')) {
                e->is_string = 0;
                st = jnumber(jp, e->text, sizeof e->text);
            } else {
                return vn_error(VN_ERR_FORMAT, "%s: config field '%s' at byte %zu is not a number or a string",
                                jp->ctx, e->key, e->at);
            }
            if (st)
                return st;
            jws(jp);
            if (*jp->p == ',') {
                jp->p++;
                jws(jp);
                continue;
            }
            if (*jp->p == '}') {
                jp->p++;
                break;
            }
            return jfail(jp, "expected ',' or '}'");
        }
    }
    jws(jp);
    if (*jp->p)
        return jfail(jp, "trailing characters after the object");
    return VN_OK;
}

static vn_status parse_int(const char *ctx, const jmember *e, long long lo, long long hi, long long *out)
{
    if (e->is_string || strpbrk(e->text, ".eE"))
        return vn_error(VN_ERR_FORMAT, "%s: config field '%s' must be an integer, not %s%s%s", ctx, e->key,
                        e->is_string ? "\"" : "", e->text, e->is_string ? "\"" : "");
    errno = 0;
    long long v = strtoll(e->text, NULL, 10);
    if (errno == ERANGE || v < lo || v > hi)
        return vn_error(VN_ERR_FORMAT, "%s: config field '%s' is %s, outside %lld..%lld", ctx, e->key, e->text, lo,
                        hi);
    *out = v;
    return VN_OK;
}

static vn_status set_field(const char *ctx, const cfg_field *fd, const jmember *e, vn_encoder_config *c)
{
    char *base = (char *)c + fd->off;
    long long v;
    vn_status st;
    switch (fd->kind) {
    case K_VERSION:
        return VN_OK; /* handled before the other fields */
    case K_INT:
        if ((st = parse_int(ctx, e, INT_MIN, INT_MAX, &v)))
            return st;
        int iv = (int)v;
        memcpy(base, &iv, sizeof iv);
        return VN_OK;
    case K_U64: {
        if (e->is_string || strpbrk(e->text, ".eE-"))
            return vn_error(VN_ERR_FORMAT, "%s: config field '%s' must be an unsigned integer, not %s", ctx, e->key,
                            e->text);
        errno = 0;
        unsigned long long u = strtoull(e->text, NULL, 10);
        if (errno == ERANGE)
            return vn_error(VN_ERR_FORMAT, "%s: config field '%s' is %s, beyond 64 bits", ctx, e->key, e->text);
        uint64_t u64 = (uint64_t)u;
        memcpy(base, &u64, sizeof u64);
        return VN_OK;
    }
    case K_FLOAT: {
        if (e->is_string)
            return vn_error(VN_ERR_FORMAT, "%s: config field '%s' must be a number, not \"%s\"", ctx, e->key,
                            e->text);
        float f = strtof(e->text, NULL); /* under the C locale: see c_numeric */
        if (!isfinite(f))
            return vn_error(VN_ERR_FORMAT, "%s: config field '%s' is %s, beyond float range", ctx, e->key, e->text);
        memcpy(base, &f, sizeof f);
        return VN_OK;
    }
    case K_ENUM:
        for (int k = 0; k < fd->n_names; k++)
            if (e->is_string && !strcmp(e->text, fd->names[k])) {
                memcpy(base, &k, sizeof k);
                return VN_OK;
            }
        char choices[128] = "";
        for (int k = 0; k < fd->n_names; k++) {
            strncat(choices, k ? ", " : "", sizeof choices - strlen(choices) - 1);
            strncat(choices, fd->names[k], sizeof choices - strlen(choices) - 1);
        }
        return vn_error(VN_ERR_FORMAT, "%s: config field '%s' is %s%s%s; expected one of %s", ctx, e->key,
                        e->is_string ? "\"" : "", e->text, e->is_string ? "\"" : "", choices);
    }
    return vn_error(VN_ERR_INTERNAL, "%s: config field '%s' has no reader", ctx, fd->name);
}

static vn_status parse_config(const char *ctx, const char *json, vn_encoder_config *out)
{
    /* about 7 KB: on the heap, as callers may run on small thread stacks */
    jmember *mem = calloc(MAX_MEMBERS, sizeof *mem);
    if (!mem)
        return vn_error(VN_ERR_OUT_OF_MEMORY, "%s: out of memory", ctx);
    jparser jp = {json, json, ctx};
    int n = 0;
    vn_status st = jobject(&jp, mem, &n);
    c_numeric cn = {(locale_t)0, (locale_t)0};
    if (!st)
        st = c_numeric_begin(&cn, ctx);
    int have_locale = !st;
    for (int i = 0; i < n && !st; i++)
        for (int j = 0; j < i && !st; j++)
            if (!strcmp(mem[i].key, mem[j].key))
                st = vn_error(VN_ERR_FORMAT, "%s: config field '%s' appears twice", ctx, mem[i].key);
    /* The version first: a newer library's config may have fields this one does not know,
     * and "newer version" is the message that helps then, not "unknown field". */
    long long version = -1;
    for (int i = 0; i < n && !st; i++)
        if (!strcmp(mem[i].key, "version") && !(st = parse_int(ctx, &mem[i], 0, INT_MAX, &version)) &&
            version > VN_ENCODER_CONFIG_VERSION)
            st = vn_error(VN_ERR_VERSION,
                          "%s: config version %lld is newer than this library's (%d): a newer vnative wrote it",
                          ctx, version, VN_ENCODER_CONFIG_VERSION);
    if (!st && version == -1)
        st = vn_error(VN_ERR_FORMAT, "%s: config field 'version' is missing", ctx);
    if (!st && version < 1)
        st = vn_error(VN_ERR_FORMAT, "%s: config field 'version' is %lld; versions start at 1", ctx, version);
    vn_encoder_config c;
    memset(&c, 0, sizeof c);
    c.version = VN_ENCODER_CONFIG_VERSION;
    for (int i = 0; i < n && !st; i++) {
        int k = 0;
        while (k < N_FIELDS && strcmp(cfg_fields[k].name, mem[i].key))
            k++;
        if (k == N_FIELDS)
            st = vn_error(VN_ERR_FORMAT, "%s: config has an unknown field '%s'", ctx, mem[i].key);
        else
            st = set_field(ctx, &cfg_fields[k], &mem[i], &c);
    }
    for (int k = 0; k < N_FIELDS && !st; k++) {
        int i = 0;
        while (i < n && strcmp(cfg_fields[k].name, mem[i].key))
            i++;
        if (i == n)
            st = vn_error(VN_ERR_FORMAT, "%s: config field '%s' is missing", ctx, cfg_fields[k].name);
    }
    if (have_locale)
        c_numeric_end(&cn);
    free(mem);
    if (st)
        return st;
    /* vn_encoder_create's own checks, so that a file it would refuse fails here, naming the
     * field; as a file problem it is VN_ERR_FORMAT, not the INVALID_ARG of a caller's struct */
    if ((st = vn_enc_validate_config(ctx, &c)))
        return vn_error_prefix(VN_ERR_FORMAT, "%s", "");
    *out = c;
    return VN_OK;
}

vn_status vn_encoder_config_from_json(const char *json, vn_encoder_config *cfg)
{
    VN_CHECK_NULL(json);
    VN_CHECK_NULL(cfg);
    return parse_config(__func__, json, cfg);
}

/* ---- parameter arenas as tensors ---------------------------------------------------- */

static vn_status full_name(char *buf, size_t cap, const char *fn, const char *prefix, const char *name)
{
    int n = snprintf(buf, cap, "%s%s", prefix, name);
    if (n < 0 || (size_t)n >= cap)
        return vn_error(VN_ERR_INVALID_ARG, "%s: prefix '%.60s...' makes a tensor name longer than %zu bytes", fn,
                        prefix, cap - 1);
    return VN_OK;
}

static void format_shape(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < ndim && used < cap; i++) {
        int k = snprintf(buf + used, cap - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
        if (k < 0)
            return;
        used += (size_t)k;
    }
}

vn_status vn_encoder_add_tensors(const vn_encoder *enc, vn_st_writer *w, const char *prefix, const float *arena)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(w);
    VN_CHECK_NULL(prefix);
    VN_CHECK_NULL(arena);
    int n = 0;
    vn_status st = vn_encoder_param_count(enc, &n);
    for (int i = 0; i < n && !st; i++) {
        const char *pname;
        int ndim;
        int64_t shape[VN_MAX_DIMS];
        char name[256];
        if ((st = vn_encoder_param_info(enc, i, &pname, &ndim, shape)) ||
            (st = full_name(name, sizeof name, __func__, prefix, pname)))
            break;
        st = vn_st_writer_add(w, name, VN_DTYPE_F32, ndim, shape, arena + vn_encoder_param_offset(enc, i));
        if (st)
            st = vn_error_prefix(st, "%s: ", __func__);
    }
    return st;
}

vn_status vn_encoder_read_tensors(const vn_encoder *enc, const vn_st_file *f, const char *prefix, float *arena)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_NULL(f);
    VN_CHECK_NULL(prefix);
    VN_CHECK_NULL(arena);
    int n = 0;
    vn_status st = vn_encoder_param_count(enc, &n);
    if (st)
        return st;
    vn_encoder_config cfg;
    vn_encoder_get_config(enc, &cfg);
    /* Two passes, so that a bad tensor late in the file leaves arena as it was. */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            const char *pname;
            int ndim;
            int64_t shape[VN_MAX_DIMS];
            char name[256];
            const vn_st_entry *e;
            if ((st = vn_encoder_param_info(enc, i, &pname, &ndim, shape)) ||
                (st = full_name(name, sizeof name, __func__, prefix, pname)))
                return st;
            if (vn_st_find(f, name, &e) != VN_OK)
                return vn_error(VN_ERR_FORMAT, "tensor '%s' is missing (a %s encoder of depth %d has %d parameters)",
                                name, vn_encoder_family_name(cfg.family), cfg.depth, n);
            size_t numel = 1;
            for (int d = 0; d < ndim; d++)
                numel *= (size_t)shape[d];
            if (pass == 1) {
                memcpy(arena + vn_encoder_param_offset(enc, i), e->data, numel * sizeof(float));
                continue;
            }
            if (e->dtype != VN_DTYPE_F32) {
                const char *dn = vn_st_dtype_name(e->dtype);
                return vn_error(VN_ERR_FORMAT, "tensor '%s' is %s; encoder parameters are F32", name,
                                dn ? dn : "of an unknown dtype");
            }
            int same = e->ndim == ndim;
            for (int d = 0; same && d < ndim; d++)
                same = e->shape[d] == shape[d];
            if (!same || e->nbytes != numel * sizeof(float)) {
                char got[160], want[160];
                format_shape(got, sizeof got, e->ndim, e->shape);
                format_shape(want, sizeof want, ndim, shape);
                return vn_error(VN_ERR_FORMAT, "tensor '%s' has shape [%s], expected [%s] for this config", name,
                                got, want);
            }
        }
    return VN_OK;
}

/* ---- vn_encoder_save / vn_encoder_load ------------------------------------------------ */

vn_status vn_encoder_save(const vn_encoder *enc, const char *path)
{
    VN_CHECK_NULL(enc);
    VN_CHECK_PATH(path);
    vn_encoder_config cfg;
    char json[VN_ENCODER_CONFIG_JSON_MAX];
    vn_st_writer *w = NULL;
    vn_status st = vn_encoder_get_config(enc, &cfg);
    if (!st)
        st = vn_encoder_config_to_json(&cfg, json, sizeof json);
    if (!st)
        st = vn_st_writer_create(&w);
    if (!st)
        st = vn_st_writer_add_metadata(w, VN_ENCODER_META_FORMAT, VN_ENCODER_FORMAT);
    if (!st)
        st = vn_st_writer_add_metadata(w, VN_ENCODER_META_VERSION, vn_version());
    if (!st)
        st = vn_st_writer_add_metadata(w, VN_ENCODER_META_CONFIG, json);
    /* only read through the pointer: vn_encoder_params is not const because the trainer
     * writes through it */
    float *host = NULL;
    (void)vn_nn_take_error();
    if (!st && !(host = vn_nn_host_view(&enc->nn, enc->arena, enc->n_floats)))
        st = vn_nn_take_error();
    if (!st)
        st = vn_encoder_add_tensors(enc, w, "", host);
    if (!st)
        st = vn_st_writer_write(w, path);
    vn_st_writer_free(w);
    vn_nn_host_release(&enc->nn, host, enc->arena, enc->n_floats, 0);
    if (st)
        return vn_error_prefix(st, "vn_encoder_save: ");
    return VN_OK;
}

/* The config and the format marker of an opened weights file. */
static vn_status read_config(const char *ctx, const vn_st_file *f, vn_encoder_config *cfg)
{
    const char *format, *json;
    if (vn_st_metadata(f, VN_ENCODER_META_FORMAT, &format) != VN_OK)
        return vn_error(VN_ERR_FORMAT,
                        "%s: __metadata__ has no \"format\"; not a vnative encoder file (\"format\": \"%s\")", ctx,
                        VN_ENCODER_FORMAT);
    if (strcmp(format, VN_ENCODER_FORMAT))
        return vn_error(VN_ERR_FORMAT, "%s: __metadata__ \"format\" is \"%.64s\", not \"%s\"", ctx, format,
                        VN_ENCODER_FORMAT);
    if (vn_st_metadata(f, VN_ENCODER_META_CONFIG, &json) != VN_OK)
        return vn_error(VN_ERR_FORMAT, "%s: __metadata__ has no \"config\" (the encoder config as JSON)", ctx);
    return parse_config(ctx, json, cfg);
}

/* A lower bound on the floats a config's parameters take: the transformer and patch
 * weights. A corrupt config asking for far more than the file holds is refused before
 * vn_encoder_create allocates (and initialises) it; small shortfalls are left to the
 * per-tensor checks, which name the missing tensor. */
static vn_status check_plausible(const char *ctx, const vn_encoder_config *c, const vn_st_file *f)
{
    double D = c->dim, H = (double)lroundf((float)c->dim * c->mlp_ratio);
    double tt = c->family == VN_ENCODER_VIDEO ? c->tubelet_t : 1;
    double per_block = 4 * D * D + 2 * D * H + (c->attention == VN_ATTENTION_DIVIDED ? 4 * D * D : 0);
    double S = (double)(c->size / c->patch) * (double)(c->size / c->patch);
    double floats = c->depth * per_block + D * c->channels * tt * c->patch * c->patch;
    if (c->pos == VN_POS_LEARNED)
        floats += (c->family == VN_ENCODER_VIDEO ? c->frames / tt : 1) * S * D;
    if (c->family == VN_ENCODER_FRAMES_TEMPORAL)
        floats += c->temporal_depth * (4 * D * D + 2 * D * H) + c->frames * D;
    double have = 0;
    for (size_t i = 0; i < vn_st_count(f); i++)
        have += (double)vn_st_entry_at(f, i)->nbytes;
    if (floats * 4 > 2 * have + (16 << 20))
        return vn_error(VN_ERR_FORMAT,
                        "%s: the config describes at least %.0f parameters (%.0f MB) but the file's tensors hold "
                        "only %.0f bytes: the config or the file is damaged",
                        ctx, floats, floats * 4 / 1e6, have);
    return VN_OK;
}

vn_status vn_encoder_load(vn_encoder **out, vn_context *ctx, const char *path)
{
    VN_CHECK_NULL(out);
    *out = NULL;
    VN_CHECK_NULL(ctx);
    VN_CHECK_PATH(path);
    char where[1024];
    snprintf(where, sizeof where, "vn_encoder_load: %s", path);
    vn_st_file *f = NULL;
    vn_encoder *enc = NULL;
    vn_encoder_config cfg;
    vn_status st = vn_st_open(&f, path);
    if (st)
        return vn_error_prefix(st, "vn_encoder_load: ");
    if (!(st = read_config(where, f, &cfg)) && !(st = check_plausible(where, &cfg, f)) &&
        (st = vn_encoder_create(&enc, ctx, &cfg)))
        st = vn_error_prefix(st, "%s: ", where);
    if (!st) {
        float *host = vn_nn_host_view(&enc->nn, enc->arena, enc->n_floats);
        st = host ? vn_encoder_read_tensors(enc, f, "", host) : vn_nn_take_error();
        vn_status up = vn_nn_host_release(&enc->nn, host, enc->arena, enc->n_floats, st == VN_OK);
        st = st ? st : up;
        if (st)
            st = vn_error_prefix(st, "%s: ", where);
    }
    int n = 0;
    if (!st)
        st = vn_encoder_param_count(enc, &n);
    /* every parameter is there, so more tensors means one the config does not explain */
    for (size_t i = 0; !st && vn_st_count(f) > (size_t)n && i < vn_st_count(f); i++) {
        const char *name = vn_st_entry_at(f, i)->name;
        int k = 0;
        while (k < n) {
            const char *pname;
            vn_encoder_param_info(enc, k, &pname, NULL, NULL);
            if (!strcmp(pname, name))
                break;
            k++;
        }
        if (k == n)
            st = vn_error(VN_ERR_FORMAT, "%s: unexpected tensor '%s': not a parameter of this %s encoder", where,
                          name, vn_encoder_family_name(cfg.family));
    }
    vn_st_close(f);
    if (st) {
        vn_encoder_destroy(enc);
        return st;
    }
    *out = enc;
    return VN_OK;
}

vn_status vn_encoder_config_load(vn_encoder_config *cfg, const char *path)
{
    VN_CHECK_NULL(cfg);
    VN_CHECK_PATH(path);
    char where[1024];
    snprintf(where, sizeof where, "vn_encoder_config_load: %s", path);
    vn_st_file *f = NULL;
    vn_status st = vn_st_open(&f, path);
    if (st)
        return vn_error_prefix(st, "vn_encoder_config_load: ");
    st = read_config(where, f, cfg);
    vn_st_close(f);
    return st;
}
