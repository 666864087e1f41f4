/* The CLI's JSON reader (src/cli/json_reader.c) on valid documents, on every kind of
 * malformed input with the line:column it must name, on its limits, and on truncated and
 * mutated documents (never a crash, always a message); and the report's PNG checksums. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/json_reader.h"
#include "cli/report.h"

static jr_doc *parse(const char *s, char *err) { return jr_parse(s, strlen(s), NULL, err, 256); }

START_TEST(test_valid_document)
{
    const char *s = "\xef\xbb\xbf{\"a\": [1, -0, 1.5e3, -2E-2, 1e308, true, false, null],\n"
                    " \"b\": {\"c\": \"x\"}, \"a2\": {}, \"e\": [], \"a\": \"last\"}";
    char err[256];
    jr_doc *d = parse(s, err);
    ck_assert_msg(d != NULL, "%s", err);
    const jr_value *root = jr_root(d);
    ck_assert_int_eq(root->type, JR_OBJECT);
    ck_assert_uint_eq(root->n, 5);
    ck_assert_str_eq(root->child->key, "a");
    const jr_value *arr = root->child;
    ck_assert_int_eq(arr->type, JR_ARRAY);
    ck_assert_uint_eq(arr->n, 8);
    const jr_value *v = arr->child;
    ck_assert(v->type == JR_NUMBER && v->num == 1.0);
    v = v->next;
    ck_assert(v->type == JR_NUMBER && v->num == 0.0);
    v = v->next;
    ck_assert(v->num == 1500.0);
    v = v->next;
    ck_assert(v->num == -0.02);
    v = v->next;
    ck_assert(v->num == 1e308);
    v = v->next;
    ck_assert(v->type == JR_BOOL && v->boolean == 1);
    v = v->next;
    ck_assert(v->type == JR_BOOL && v->boolean == 0);
    v = v->next;
    ck_assert(v->type == JR_NULL && v->next == NULL);
    /* a repeated key: the last one, as Python's json does */
    ck_assert_str_eq(jr_get(root, "a")->str, "last");
    ck_assert_str_eq(jr_get(jr_get(root, "b"), "c")->str, "x");
    ck_assert_int_eq(jr_get(root, "b")->line, 2);
    ck_assert_int_eq(jr_get(root, "b")->col, 7);
    ck_assert(jr_get(root, "missing") == NULL && jr_get(arr, "a") == NULL);
    ck_assert_uint_eq(jr_get(root, "a2")->n, 0);
    ck_assert(jr_get(root, "e")->child == NULL);
    jr_free(d);
}
END_TEST

START_TEST(test_string_escapes)
{
    char err[256];
    jr_doc *d = parse(
        "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u00e9\\u20AC\\ud83d\\ude00\", \"caf\xc3\xa9 \xf0\x9f\x98\x80\", \"\"]",
        err);
    ck_assert_msg(d != NULL, "%s", err);
    const jr_value *v = jr_root(d)->child;
    ck_assert_str_eq(v->str, "\"\\/\b\f\n\r\t");
    ck_assert_uint_eq(v->len, 8);
    v = v->next;
    ck_assert_str_eq(v->str, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    ck_assert_uint_eq(v->len, 9);
    v = v->next;
    ck_assert_str_eq(v->str, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    v = v->next;
    ck_assert_str_eq(v->str, "");
    ck_assert_uint_eq(v->len, 0);
    jr_free(d);
}
END_TEST

typedef struct bad_case {
    const char *text;
    size_t len; /* 0: strlen */
    const char *where, *words;
} bad_case;

static const bad_case bad_cases[] = {
    {"", 0, "1:1:", "empty input"},
    {"  \n\t ", 0, "2:3:", "empty input"},
    {"{", 0, "1:2:", "end of input"},
    {"[1,2", 0, "1:5:", "',' or ']'"},
    {"[1,]", 0, "1:4:", "trailing comma"},
    {"{\"a\":1,}", 0, "1:8:", "trailing comma"},
    {"{\"a\" 1}", 0, "1:6:", "':'"},
    {"{a:1}", 0, "1:2:", "string key"},
    {"{\"a\":}", 0, "1:6:", "expected a value"},
    {"[01]", 0, "1:3:", "',' or ']'"},
    {"[1.]", 0, "1:4:", "after the decimal point"},
    {"[.5]", 0, "1:2:", "expected a value"},
    {"[1e]", 0, "1:4:", "exponent"},
    {"[1e+]", 0, "1:5:", "exponent"},
    {"[+1]", 0, "1:2:", "expected a value"},
    {"[-]", 0, "1:3:", "a digit"},
    {"[NaN]", 0, "1:2:", "expected a value"},
    {"[Infinity]", 0, "1:2:", "expected a value"},
    {"[0x10]", 0, "1:3:", "',' or ']'"},
    {"[1e999]", 0, "1:2:", "out of range"},
    {"\"abc", 0, "1:1:", "unterminated string"},
    {"\"a\\", 0, "1:1:", "unterminated string"},
    {"\"a\x01" "b\"", 0, "1:3:", "control character 0x01"},
    {"\"a\nb\"", 0, "1:3:", "control character 0x0a"},
    {"\"\\x\"", 0, "1:2:", "invalid escape '\\x'"},
    {"\"\\u12\"", 0, "1:2:", "four hex digits"},
    {"\"\\u12g4\"", 0, "1:2:", "four hex digits"},
    {"\"\\ud800\"", 0, "1:2:", "high surrogate"},
    {"\"\\ud800\\u0041\"", 0, "1:2:", "high surrogate"},
    {"\"\\udc00\"", 0, "1:2:", "low surrogate"},
    {"\"\\u0000\"", 0, "1:2:", "\\u0000"},
    {"\"\xc3\"", 0, "1:2:", "invalid UTF-8"},
    {"\"\xc0\xaf\"", 0, "1:2:", "invalid UTF-8"},         /* overlong '/' */
    {"\"\xe0\x80\xaf\"", 0, "1:2:", "invalid UTF-8"},     /* overlong, 3 bytes */
    {"\"\xed\xa0\x80\"", 0, "1:2:", "invalid UTF-8"},     /* a surrogate, encoded */
    {"\"\xf4\x90\x80\x80\"", 0, "1:2:", "invalid UTF-8"}, /* past U+10FFFF */
    {"\"\xff\"", 0, "1:2:", "invalid UTF-8"},
    {"tru", 0, "1:1:", "expected true"},
    {"nul", 0, "1:1:", "expected null"},
    {"fals", 0, "1:1:", "expected false"},
    {"truex", 0, "1:5:", "nothing after the JSON value"},
    {"1 2", 0, "1:3:", "nothing after the JSON value"},
    {"{\"a\":1}}", 0, "1:8:", "nothing after the JSON value"},
    {"[1\0]", 4, "1:3:", "byte 0x00"},
    {"{\n  \"a\": [1,\n   2,,]\n}", 0, "3:6:", "expected a value, found ','"},
    {"[\"ok\",\n\"\\q\"]", 0, "2:2:", "invalid escape"},
};

START_TEST(test_malformed)
{
    const bad_case *c = &bad_cases[_i];
    char err[256];
    size_t len = c->len ? c->len : strlen(c->text);
    jr_doc *d = jr_parse(c->text, len, NULL, err, sizeof err);
    ck_assert_msg(d == NULL, "case %d parsed", _i);
    ck_assert_msg(!strncmp(err, c->where, strlen(c->where)), "case %d: '%s' does not start with %s", _i, err,
                  c->where);
    ck_assert_msg(strstr(err, c->words) != NULL, "case %d: '%s' does not say '%s'", _i, err, c->words);
}
END_TEST

START_TEST(test_limits)
{
    char err[256], buf[256];
    jr_limits lim = JR_LIMITS_DEFAULT;
    /* depth: 64 levels pass, 65 do not */
    memset(buf, '[', 64);
    memset(buf + 64, ']', 64);
    jr_doc *d = jr_parse(buf, 128, &lim, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    jr_free(d);
    memset(buf, '[', 65);
    memset(buf + 65, ']', 65);
    ck_assert(jr_parse(buf, 130, &lim, err, sizeof err) == NULL);
    ck_assert_msg(strstr(err, "deeper than 64") && !strncmp(err, "1:65:", 5), "%s", err);
    /* the whole-document size, and the number of values */
    lim.max_bytes = 4;
    ck_assert(jr_parse("[1,2]", 5, &lim, err, sizeof err) == NULL);
    ck_assert_msg(strstr(err, "more than the limit of 4"), "%s", err);
    lim = (jr_limits)JR_LIMITS_DEFAULT;
    lim.max_nodes = 3;
    ck_assert(jr_parse("[1,2,3]", 7, &lim, err, sizeof err) == NULL);
    ck_assert_msg(strstr(err, "more than 3 values"), "%s", err);
    ck_assert((d = jr_parse("[1,2]", 5, &lim, err, sizeof err)) != NULL);
    jr_free(d);
    /* a tiny error buffer truncates the message rather than overrunning */
    char small[8];
    memset(small, 'x', sizeof small);
    ck_assert(jr_parse("[", 1, NULL, small, sizeof small) == NULL);
    ck_assert(memchr(small, '\0', sizeof small) != NULL);
    ck_assert(jr_parse("[", 1, NULL, NULL, 0) == NULL);
    jr_free(NULL);
}
END_TEST

START_TEST(test_files)
{
    char err[512], path[4096];
    const char *dir = getenv("VN_TEST_TMPDIR");
    ck_assert(jr_parse_file("/nonexistent/x.json", NULL, err, sizeof err) == NULL);
    ck_assert_msg(strstr(err, "/nonexistent/x.json: ") == err && strstr(err, "No such file"), "%s", err);
    ck_assert(jr_parse_file("/", NULL, err, sizeof err) == NULL);
    ck_assert_msg(strstr(err, "not a regular file"), "%s", err);
    snprintf(path, sizeof path, "%s/json_reader_%d.json", dir ? dir : "/tmp", (int)getpid());
    FILE *f = fopen(path, "w");
    ck_assert(f != NULL);
    fputs("{\"models\": [\n  {\"name\": \"a\"},\n  {\"name\": \"b\"", f);
    fclose(f);
    ck_assert(jr_parse_file(path, NULL, err, sizeof err) == NULL);
    ck_assert_msg(strstr(err, path) == err && strstr(err, ":3:") && strstr(err, "end of input"), "%s", err);
    f = fopen(path, "w");
    fputs("{\"x\": [0.1, 2]}\n", f);
    fclose(f);
    jr_doc *d = jr_parse_file(path, NULL, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    ck_assert(jr_get(jr_root(d), "x")->child->num == 0.1);
    jr_free(d);
    remove(path);
}
END_TEST

/* Every proper prefix of a document that is an object is malformed, and so is almost every
 * random mutation: none may crash, and each failure must say something. */
START_TEST(test_truncated_and_mutated)
{
    const char *doc = "{\"title\": \"t\\u00e9st\", \"models\": [{\"name\": \"video\", \"x\": [1.5e-3, -2, true, null]},"
                      " {\"name\": \"\xe2\x82\xac\"}], \"deep\": [[[{}]]], \"s\": \"a\\\"b\"}";
    const size_t n = strlen(doc);
    char err[256], buf[512];
    jr_doc *d = jr_parse(doc, n, NULL, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    jr_free(d);
    for (size_t k = 0; k < n; k++) {
        memcpy(buf, doc, k);
        ck_assert_msg(jr_parse(buf, k, NULL, err, sizeof err) == NULL, "prefix of %zu parsed", k);
        ck_assert_msg(err[0] != '\0', "prefix of %zu: no message", k);
    }
    uint64_t s = 42;
    for (int trial = 0; trial < 20000; trial++) {
        memcpy(buf, doc, n);
        for (int m = 0; m < 1 + trial % 3; m++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[(s >> 33) % n] = (char)(s >> 17);
        }
        err[0] = '\0';
        d = jr_parse(buf, n, NULL, err, sizeof err);
        ck_assert_msg(d != NULL || err[0] != '\0', "trial %d failed without a message", trial);
        jr_free(d);
    }
}
END_TEST

START_TEST(test_png_checksums)
{
    const uint8_t *check = (const uint8_t *)"123456789";
    ck_assert_uint_eq(rp_crc32(0, check, 9), 0xcbf43926u);
    ck_assert_uint_eq(rp_crc32(rp_crc32(0, check, 4), check + 4, 5), 0xcbf43926u);
    ck_assert_uint_eq(rp_adler32(1, (const uint8_t *)"Wikipedia", 9), 0x11e60398u);
    /* long runs of 0xff: the modulo must come before b overflows */
    uint8_t *ff = malloc(100000);
    memset(ff, 0xff, 100000);
    uint32_t a = 1, b = 0;
    for (int i = 0; i < 100000; i++) {
        a = (a + 0xff) % 65521;
        b = (b + a) % 65521;
    }
    ck_assert_uint_eq(rp_adler32(1, ff, 100000), b << 16 | a);
    /* a PNG of 200 x 120: more than one stored block, and the fields where they belong */
    uint8_t *png = NULL;
    size_t len = rp_png_encode(ff, 200, 120, &png);
    ck_assert(len > 0 && png != NULL);
    ck_assert(!memcmp(png, "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\xc8\0\0\0\x78\x08\x02", 26));
    ck_assert(!memcmp(png + len - 12, "\0\0\0\0IEND\xae\x42\x60\x82", 12));
    free(png);
    ck_assert_uint_eq(rp_png_encode(ff, 0, 1, &png), 0);
    ck_assert(png == NULL);
    free(ff);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("json_reader");
    TCase *tc = tcase_create("json_reader");
    tcase_add_test(tc, test_valid_document);
    tcase_add_test(tc, test_string_escapes);
    tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_files);
    tcase_add_test(tc, test_truncated_and_mutated);
    tcase_add_test(tc, test_png_checksums);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
