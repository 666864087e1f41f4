/*
 * optim.h: AdamW, the warmup-cosine learning-rate schedule and global-norm gradient
 * clipping, over parameter groups of contiguous float buffers.
 *
 * Parameters are grouped so that each group carries its own weight decay: the model
 * puts weights in groups with the run's decay and biases, norm parameters and
 * positional embeddings in groups with 0, as the usual ViT recipes do.
 */
#ifndef VN_NN_OPTIM_H
#define VN_NN_OPTIM_H

#include <stdint.h>

#include "nn/ops.h"

typedef struct vn_param_group {
    float *param;       /* [n] updated in place */
    float *grad;        /* [n] read by AdamW; scaled in place by clipping */
    float *m, *v;       /* [n] AdamW moments, zeroed by the caller before step 1 */
    int64_t n;
    float weight_decay; /* decoupled: p -= lr * weight_decay * p */
} vn_param_group;

typedef struct vn_adamw_hparams {
    double beta1, beta2, eps;
} vn_adamw_hparams;

/* torch.optim.AdamW's defaults. */
#define VN_ADAMW_HPARAMS_DEFAULT ((vn_adamw_hparams){0.9, 0.999, 1e-8})

/*
 * One AdamW step, exactly as torch.optim.AdamW's single-tensor path computes it (the
 * path PyTorch takes for CPU tensors), including its float rounding of each scalar:
 *   p *= 1 - lr * wd;  m = lerp(m, g, 1 - b1);  v = v * b2 + (1 - b2) * g * g;
 *   p -= (lr / (1 - b1^step)) * m / (sqrt(v) / sqrt(1 - b2^step) + eps).
 * step counts from 1 (the step being taken), as torch's state['step'] after increment.
 * Every element is independent, so the result is the same at any thread count.
 */
void vn_adamw_step(const vn_nn *nn, const vn_param_group *groups, int n_groups, double lr,
                   const vn_adamw_hparams *hp, int64_t step);

/*
 * Linear warmup, then cosine decay (V-JEPA's WarmupCosineSchedule, 0-based):
 *   step < warmup:  start_lr + (ref_lr - start_lr) * step / warmup
 *   otherwise:      final_lr + (ref_lr - final_lr) * (1 + cos(pi * s / (total - warmup))) / 2,
 *                   s = min(step - warmup, total - warmup), so it stays at final_lr after
 *                   total steps.
 */
typedef struct vn_lr_schedule {
    double start_lr, ref_lr, final_lr;
    int64_t warmup_steps, total_steps;
} vn_lr_schedule;

double vn_lr_at(const vn_lr_schedule *s, int64_t step);

/*
 * torch.nn.utils.clip_grad_norm_: the L2 norm of all gradients together; when it
 * exceeds max_norm every gradient is multiplied by max_norm / (norm + 1e-6). Returns
 * the norm before clipping (inf or NaN pass through, and then nothing is scaled). The
 * sum of squares runs over fixed chunks in double, so it does not depend on the thread
 * count.
 */
double vn_clip_grad_norm(const vn_nn *nn, const vn_param_group *groups, int n_groups, double max_norm);

#endif
