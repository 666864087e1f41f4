/*
 * ops_ref.h: the plain-C reference twins of the ops in ops.h.
 *
 * Same signatures minus the vn_nn, same accumulation and NULL-gradient conventions.
 * Single-threaded, double accumulation, no backend (the reference linear does its own
 * loops), written for obviousness rather than speed: the fast paths are tested
 * against these, and these against finite differences.
 */
#ifndef VN_NN_OPS_REF_H
#define VN_NN_OPS_REF_H

#include <stdint.h>

/* ---- dense: ops_ref.c ------------------------------------------------------------- */
void vn_ref_linear_forward(float *out, const float *inp, const float *w, const float *b, int64_t N, int64_t IC,
                           int64_t OC);
void vn_ref_linear_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                            int64_t N, int64_t IC, int64_t OC);

void vn_ref_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
                              int64_t N, int64_t C);
void vn_ref_layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
                               const float *mean, const float *rstd, int64_t N, int64_t C);

void vn_ref_gelu_forward(float *out, const float *inp, int64_t n);
void vn_ref_gelu_backward(float *dinp, const float *inp, const float *dout, int64_t n);

void vn_ref_softmax_forward(float *out, const float *inp, int64_t N, int64_t C);
void vn_ref_softmax_backward(float *dinp, const float *out, const float *dout, int64_t N, int64_t C);

void vn_ref_residual_forward(float *out, const float *a, const float *b, int64_t n);
void vn_ref_residual_backward(float *da, float *db, const float *dout, int64_t n);

void vn_ref_meanpool_forward(float *out, const float *inp, int64_t B, int64_t T, int64_t C);
void vn_ref_meanpool_backward(float *dinp, const float *dout, int64_t B, int64_t T, int64_t C);

/* ---- losses: ops_ref.c ------------------------------------------------------------ */
float vn_ref_bce_logits_loss(float *dlogits, const float *logits, const float *targets, int64_t N, float dloss);
float vn_ref_softmax_ce_loss(float *dlogits, const float *logits, const int32_t *labels, int64_t N, int64_t K,
                             float dloss);
float vn_ref_infonce_loss(float *dq, float *dk, const float *q, const float *k, const int32_t *pos, int64_t N,
                          int64_t M, int64_t D, float tau, float dloss, float *scratch);
float vn_ref_l1_ln_target_loss(float *dpred, const float *pred, const float *target, int64_t N, int64_t C,
                               float dloss, float *scratch);
float vn_ref_mse_ln_target_loss(float *dpred, const float *pred, const float *target, int64_t N, int64_t C,
                                float dloss, float *scratch);

/* The same losses unrounded: a float32 mean cannot resolve the change one element makes
 * to it (about 1/N of the loss), which finite differences need. */
double vn_ref_bce_logits_loss_f64(float *dlogits, const float *logits, const float *targets, int64_t N, float dloss);
double vn_ref_softmax_ce_loss_f64(float *dlogits, const float *logits, const int32_t *labels, int64_t N, int64_t K,
                                  float dloss);
double vn_ref_infonce_loss_f64(float *dq, float *dk, const float *q, const float *k, const int32_t *pos, int64_t N,
                               int64_t M, int64_t D, float tau, float dloss, float *scratch);
double vn_ref_l1_ln_target_loss_f64(float *dpred, const float *pred, const float *target, int64_t N, int64_t C,
                                    float dloss, float *scratch);
double vn_ref_mse_ln_target_loss_f64(float *dpred, const float *pred, const float *target, int64_t N, int64_t C,
                                     float dloss, float *scratch);

/* ---- attention, embeddings, pooling: ops_ref_attention.c -------------------------- */
/* The reference attention materialises the [T, T] probabilities of one (b, h) pair at a
 * time in scratch (vn_ref_attention_scratch_floats doubles); its backward recomputes
 * them from qkv, so it takes neither out nor lse. */
int64_t vn_ref_attention_scratch_floats(int64_t T);
void vn_ref_attention_forward(float *out, float *lse, const float *qkv, int64_t B, int64_t T, int64_t C, int64_t NH,
                              double *scratch);
void vn_ref_attention_backward(float *dqkv, const float *dout, const float *qkv, int64_t B, int64_t T, int64_t C,
                               int64_t NH, double *scratch);
void vn_ref_attention_group_temporal(float *dst, const float *src, int64_t B, int64_t F, int64_t S, int64_t W);
void vn_ref_attention_ungroup_temporal(float *dst, const float *src, int64_t B, int64_t F, int64_t S, int64_t W,
                                       int accumulate);

/* The unfolding alone (patches [B*L, Ch*tt*p*p]), which the forward also does. */
void vn_ref_tubelet_unfold(float *patches, const float *inp, int64_t B, int64_t Ch, int64_t Fr, int64_t H, int64_t W,
                           int64_t tt, int64_t p);
void vn_ref_tubelet_forward(float *out, float *patches, const float *inp, const float *w, const float *b, int64_t B,
                            int64_t Ch, int64_t Fr, int64_t H, int64_t W, int64_t tt, int64_t p, int64_t C);
void vn_ref_tubelet_backward(float *dw, float *db, const float *dout, const float *patches, int64_t B, int64_t L,
                             int64_t K, int64_t C);

void vn_ref_posembed_forward(float *out, const float *inp, const float *pos, int64_t B, int64_t L, int64_t C);
void vn_ref_posembed_backward(float *dinp, float *dpos, const float *dout, int64_t B, int64_t L, int64_t C);

/* scratch: T doubles. */
void vn_ref_attnpool_forward(float *out, float *attn, const float *inp, const float *query, int64_t B, int64_t T,
                             int64_t C, double *scratch);
void vn_ref_attnpool_backward(float *dinp, float *dquery, const float *dout, const float *inp, const float *query,
                              const float *attn, int64_t B, int64_t T, int64_t C, double *scratch);

#endif
