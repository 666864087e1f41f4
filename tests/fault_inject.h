/*
 * fault_inject.h: failures injected into the library's own calls to the C library, for the
 * fault_injection and crash tests.
 *
 * The programs that use this link the static library with `-Wl,--wrap=SYMBOL` for every
 * function below (tests/meson.build, vn_fault_wrap_args): the linker then sends every call
 * that libvnative's objects (and the test's) make to malloc, write, rename, ... through
 * fault_inject.c, while FFmpeg, oneDNN and libc itself keep the real ones. So the shipped
 * library carries no hook at all (nothing to cost time, nothing exported), and every one
 * of its allocation and file-writing sites is covered, not only the ones someone
 * remembered to route through a wrapper.
 *
 * Not armed, the wrappers only count live allocations and call the real function.
 */
#ifndef VN_TEST_FAULT_INJECT_H
#define VN_TEST_FAULT_INJECT_H

#include <stdint.h>

/* What a wrapped call does, as a bit for the masks below. */
typedef enum vn_fi_kind {
    VN_FI_ALLOC = 1 << 0,  /* malloc, calloc, realloc, aligned_alloc, posix_memalign, strdup, strndup */
    VN_FI_CREATE = 1 << 1, /* mkstemp: a new (temp) file */
    VN_FI_WRITE = 1 << 2,  /* write */
    VN_FI_FSYNC = 1 << 3,  /* fsync, of a file or a directory */
    VN_FI_CLOSE = 1 << 4,  /* close */
    VN_FI_RENAME = 1 << 5, /* rename */
    VN_FI_OPEN = 1 << 6,   /* open (the directory a commit syncs) */
} vn_fi_kind;

/* Everything that can fail while a file is written and committed. */
#define VN_FI_FILE_OPS (VN_FI_CREATE | VN_FI_WRITE | VN_FI_FSYNC | VN_FI_CLOSE | VN_FI_RENAME)

/* From now on count this thread's calls of the kinds in mask; the nth of them (1-based) fails with
 * err (errno; allocations return NULL). nth 0 only counts. Resets the counters. */
void vn_fi_arm(unsigned mask, long nth, int err);
/* Stop injecting; returns the calls counted since vn_fi_arm. */
long vn_fi_disarm(void);
/* Whether the armed failure was injected (its call was reached). */
int vn_fi_fired(void);
/* The kind and the path (or "fd N") of the call that failed, for messages. */
const char *vn_fi_fired_what(void);

/* Allocations made through the wrapped functions and not yet freed: the difference over a
 * create/destroy pair is a leak. */
long vn_fi_live_blocks(void);

/* Called before every wrapped file operation (not allocations), in the calling thread,
 * whatever is armed: the kill test records where the writer is and slows it down. */
typedef void (*vn_fi_hook)(vn_fi_kind kind, const char *path);
void vn_fi_set_hook(vn_fi_hook hook);

/* A deliberately broken writer, to show that the kill test catches one: mkstemp opens the
 * final file (the template without its leading dot and .XXXXXX) truncated, in place, and
 * a rename of a temp file that does not exist succeeds doing nothing. */
void vn_fi_set_inplace_writer(int on);

#endif
