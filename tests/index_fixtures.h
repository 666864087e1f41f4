/* Fixtures shared by the index suite's files: random vectors, views, test ids and a
 * brute-force double-precision search to check the index against. */
#ifndef VN_TEST_INDEX_FIXTURES_H
#define VN_TEST_INDEX_FIXTURES_H

#include <stdint.h>

#include "vn_test.h"

/* An assertion for hot loops: Check records every passing ck_assert through a pipe,
 * which would cost more than the searches themselves. */
#define EXPECT(cond, ...)                \
    do {                                 \
        if (!(cond))                     \
            ck_abort_msg(__VA_ARGS__);   \
    } while (0)

/* count standard normal floats (malloc'd), the same for a seed. */
float *ix_randn(int64_t count, uint64_t seed);

/* A contiguous f32 [n, d] view of x. */
vn_tensor ix_matrix(float *x, int64_t n, int64_t d);

/* Test ids: unique, far from the rows, and invertible. */
static inline int64_t id_of(int64_t row)
{
    return 1000 + 7 * row;
}

static inline int64_t row_of(int64_t id)
{
    return (id - 1000) / 7;
}

/* An index of the n x d rows of x, with ids id_of(row) or (with_ids 0) none. */
vn_index *ix_make(vn_context *ctx, const float *x, int64_t n, int64_t d, vn_index_metric m, int with_ids);

/* |x| in double. */
double ix_dnorm(const float *x, int64_t d);

typedef struct ref_result {
    int64_t *rows;   /* q x k, -1 past n */
    double *scores;  /* q x k, -inf past n */
    double *scale;   /* per query: the size of its scores (1 for cosine) */
} ref_result;

/* The top k of every query by descending double-precision score, then ascending row. */
ref_result ix_reference(const float *x, int64_t n, int64_t d, const float *qs, int64_t q, int64_t k,
                        vn_index_metric m);
void ix_ref_free(ref_result *r);

/* Check a search's ids and scores against the reference (see index_fixtures.c); returns
 * how many places differed by a tie. */
int64_t ix_compare(const int64_t *ids, const float *scores, const ref_result *r, const float *x, int64_t n,
                   int64_t d, const float *qs, int64_t q, int64_t k, vn_index_metric m, int with_ids);

/* Build an index of x, search it (with and without scores) and compare. */
void ix_check_search(vn_context *ctx, const float *x, int64_t n, int64_t d, const float *qs, int64_t q, int64_t k,
                     vn_index_metric m, int with_ids);

/* The files half of the suite (test_index_files.c). */
TCase *ix_files_tcase(void);

#endif
