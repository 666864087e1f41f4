/* Helpers of the fuzz targets (fuzz_video.c, fuzz_files.c). */
#ifndef VN_FUZZ_UTIL_H
#define VN_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "vnative/common.h"

/* Abort, naming the broken contract: the fuzzer then keeps the input as a crash. */
_Noreturn void vn_fuzz_fail(const char *what, vn_status s);

/* s must be VN_OK or an error with a message; returns s. */
vn_status vn_fuzz_checked(vn_status s, const char *call);

/* The bytes as a regular file (a memfd, reused across inputs) and a path that opens it, for
 * parsers that read files. NULL when the memfd cannot be written (the input is then skipped). */
const char *vn_fuzz_as_file(const uint8_t *data, size_t size);

#endif
