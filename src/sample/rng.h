/* rng.h - the sampler's pseudo-random numbers: xoshiro256** (Blackman and
 * Vigna, 2018), state seeded from a 64-bit seed through splitmix64 as its
 * authors recommend. Deterministic across platforms; cannot fail.
 */
#ifndef GLIMP_SAMPLE_RNG_H
#define GLIMP_SAMPLE_RNG_H

#include <stdint.h>

typedef struct sample_rng {
    uint64_t s[4];
} sample_rng;

void sample_rng_seed(sample_rng *r, uint64_t seed);
uint64_t sample_rng_next(sample_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double sample_rng_uniform(sample_rng *r);

#endif
