/*
 * dist_mpi.h: data-parallel `vnative train` over Open MPI. Under mpirun each process is a
 * replica; this file brings MPI up, hands the trainer its all-reduce
 * (vn_trainer_set_dist), and makes a failed replica take the others down with it.
 * Started without mpirun, nothing here touches MPI.
 */
#ifndef VN_CLI_DIST_MPI_H
#define VN_CLI_DIST_MPI_H

#include "vnative/vnative.h"

typedef struct vn_cli_dist {
    int rank, size;   /* 0 and 1 without mpirun */
    int active;       /* MPI was initialised here */
    double timeout_s; /* an all-reduce that waits longer than this gives up */
    double reduce_s;  /* wall time spent in all-reduces so far, and their count */
    long reduces;
} vn_cli_dist;

/* Whether this vnative was built with MPI. */
int vn_cli_dist_compiled(void);

/* Bring MPI up when the process was started by mpirun (Open MPI's or a PMI launcher's
 * environment), else leave d as one replica. Non-zero, with msg set, on failure. */
int vn_cli_dist_init(vn_cli_dist *d, double timeout_s, char *msg, size_t cap);

/* The hook for vn_trainer_set_dist. */
vn_train_dist vn_cli_dist_hook(vn_cli_dist *d);

/* This process's index among the ranks on its host (0 without mpirun): which GPU to use. */
int vn_cli_dist_local_rank(void);

/* Rank 0's id for the device collectives of ctx's backend (vn_context_comm_id), handed
 * to every rank: *len 0 when the backend has none (gradients then go through the host).
 * Non-zero, with msg set, when the exchange fails. */
int vn_cli_dist_comm_id(vn_cli_dist *d, vn_context *ctx, unsigned char *id, size_t cap, size_t *len, char *msg,
                        size_t mcap);

/* Every replica's weights are compared by hash: 1 when they agree, 0 when they differ,
 * -1 with msg set when the comparison itself failed. */
int vn_cli_dist_same_weights(vn_cli_dist *d, const vn_encoder *enc, char *msg, size_t cap);

/* The end of the run: MPI_Finalize after success; after a failure of this replica,
 * MPI_Abort, so that the others do not wait for it in an all-reduce. */
void vn_cli_dist_end(vn_cli_dist *d, int rc);

#endif
