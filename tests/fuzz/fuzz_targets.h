/*
 * The fuzz targets: one function per parser, shared by the libFuzzer harnesses (fuzz_main.c,
 * clang) and the regression suite (tests/test_fuzz_regressions.c, the normal gcc build), so a
 * saved crash input is replayed through exactly the code the fuzzer ran.
 *
 * Each target returns the first error the library reported for the input (VN_OK when the
 * input parsed), with the message in vn_last_error(). A broken contract (an error without a
 * message, a parsed result that contradicts itself) aborts, so the fuzzer reports it as a
 * crash instead of passing over it.
 */
#ifndef VN_FUZZ_TARGETS_H
#define VN_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "vnative/common.h"

vn_status vn_fuzz_video(const uint8_t *data, size_t size);
vn_status vn_fuzz_safetensors(const uint8_t *data, size_t size);
vn_status vn_fuzz_manifest(const uint8_t *data, size_t size);
vn_status vn_fuzz_npy(const uint8_t *data, size_t size);

/* The largest frame (width * height) the video target decodes to RGB. Larger videos must
 * still open or fail cleanly; the target only skips its own output allocation, so the
 * fuzzer's memory limit measures the library, not the harness. */
#define VN_FUZZ_MAX_READ_PIXELS ((int64_t)1 << 22)

#endif
