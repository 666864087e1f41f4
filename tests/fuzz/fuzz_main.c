/* The libFuzzer entry point of one target, chosen at compile time (VN_FUZZ_TARGET, set by
 * tests/fuzz/meson.build). With VN_FUZZ_VERBOSE set each input's status and message are
 * printed, which is how scripts/fuzz.sh checks that every seed parses. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int verbose = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vn_status s = VN_FUZZ_TARGET(data, size);
    if (verbose < 0)
        verbose = getenv("VN_FUZZ_VERBOSE") != NULL;
    if (verbose)
        printf("vn_fuzz: %zu bytes: %s%s%s\n", size, vn_status_str(s), s == VN_OK ? "" : ": ",
               s == VN_OK ? "" : vn_last_error());
    return 0;
}
