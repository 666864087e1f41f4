/* Fixtures of the checkpoint suite (test_checkpoint.c, test_checkpoint_files.c). */
#ifndef VN_TEST_CHECKPOINT_FIXTURES_H
#define VN_TEST_CHECKPOINT_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "vn_test.h"

/* A fresh, empty directory <tmpdir>/ckpt_<name>, so leftover files can be counted. */
void fresh_dir(char *out, size_t cap, const char *name);
unsigned char *slurp(const char *path, size_t *n);
void spit(const char *path, const void *p, size_t n);

/* A single-threaded cpu context: bit-identical outputs need the same thread count. */
vn_context *cpu_ctx(void);

/* Tiny configs: 0 video joint/learned/mean, 1 video divided/sincos/attentive (grey),
 * 2 frames/attentive, 3 frames+temporal/sincos with a 64-bit seed. */
enum { N_CONFIGS = 4 };
vn_encoder_config tiny_config(int which);

/* Every field, floats bitwise. */
void expect_config_equal(const vn_encoder_config *a, const vn_encoder_config *b);

/* Overwrite every parameter with values no seed gives, so that a load that kept the freshly
 * initialised weights instead of reading the file would be caught. */
void scramble(vn_encoder *enc, uint32_t salt);

/* Same parameter names and bit-identical values. */
void expect_params_equal(const vn_encoder *a, const vn_encoder *b);

/* Bit-identical embeddings and tokens for the same two clips. */
void expect_same_outputs(const vn_encoder *a, const vn_encoder *b);

/* tiny_config(0) as JSON with one field's value replaced by the JSON text value, or the
 * field removed when value is NULL. */
void config_with(char *out, size_t cap, const char *field, const char *value);

/* The corruption and atomicity cases (test_checkpoint_files.c). */
void checkpoint_add_file_cases(Suite *s);

#endif
