/* The cpu backend's private state, visible to its tests. */
#ifndef VN_BACKEND_CPU_H
#define VN_BACKEND_CPU_H

#include "backend/cpu_gemm_onednn.h"

vn_onednn_gemm *vn_cpu_backend_gemm(vn_backend_state *st);

#endif
