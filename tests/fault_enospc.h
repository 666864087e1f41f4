/* The real-ENOSPC case of the fault_injection suite (test_fault_enospc.c). */
#ifndef VN_TEST_FAULT_ENOSPC_H
#define VN_TEST_FAULT_ENOSPC_H

/* Mount a small tmpfs in a private mount namespace, fill it, and save a checkpoint into it.
 * Returns the exit code: 0 passed, 1 failed, 77 (SKIP, with the reason) where this process
 * may not mount. */
int vn_fault_enospc_main(void);

#endif
