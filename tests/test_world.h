/* The world suite's parts, each adding its test cases; test_world.c's main runs them. */
#ifndef VN_TEST_WORLD_H
#define VN_TEST_WORLD_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "vnative/vnative.h"

void world_add_shortcut_tests(Suite *s);
void world_add_physics_tests(Suite *s);

/* A world with the default options except these. */
static inline vn_world *tw_world(uint64_t seed, int frames, int size, float noise)
{
    vn_world_options o = VN_WORLD_OPTIONS_INIT;
    o.seed = seed;
    o.n_frames = frames;
    o.size = size;
    o.noise = noise;
    vn_world *w = NULL;
    vn_status s = vn_world_create(&w, &o);
    ck_assert_msg(s == VN_OK, "vn_world_create: %s", vn_last_error());
    return w;
}

/* A malloc'd uint8 [T, S, S, 3] clip of a binary task. */
static inline uint8_t *tw_clip(const vn_world *w, int frames, int size, vn_world_task task, int64_t index,
                               int *label)
{
    int64_t shape[4] = {frames, size, size, 3};
    uint8_t *buf = malloc((size_t)frames * (size_t)size * (size_t)size * 3);
    ck_assert_ptr_nonnull(buf);
    vn_tensor t;
    vn_tensor_init(&t, buf, VN_DTYPE_U8, 4, shape);
    vn_status s = vn_world_clip(w, task, index, &t, label);
    ck_assert_msg(s == VN_OK, "vn_world_clip(%s, %lld): %s", vn_world_task_name(task), (long long)index,
                  vn_last_error());
    return buf;
}

#endif
