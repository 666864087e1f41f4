/*
 * Random numbers: xoshiro256** seeded through splitmix64.
 *
 * Streams are derived from (seed, stream id) so that every consumer (init,
 * augmentation, world generation, shuffles) gets an independent, reproducible
 * sequence whatever order the others draw in.
 */
#ifndef VN_CORE_RNG_H
#define VN_CORE_RNG_H

#include <stdint.h>

typedef struct vn_rng {
    uint64_t s[4];
} vn_rng;

void vn_rng_seed(vn_rng *r, uint64_t seed, uint64_t stream);
uint64_t vn_rng_next(vn_rng *r);
/* Uniform in [0, 1). */
double vn_rng_uniform(vn_rng *r);
/* Uniform integer in [0, n), without modulo bias; n >= 1. */
uint64_t vn_rng_below(vn_rng *r, uint64_t n);
/* Standard normal (Box-Muller, one value per call for reproducibility). */
double vn_rng_normal(vn_rng *r);

#endif
