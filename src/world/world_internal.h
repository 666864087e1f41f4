/*
 * vn_world internals: scenes, the physics stepper, the rasteriser and the tasks.
 *
 * A clip is built in three stages, each a pure function of (seed, task, index) and
 * the options:
 *   1. a task simulates a scene: per source frame, the state of every object;
 *   2. the task maps output frames to source frames (reversal, shuffles, strides);
 *   3. the renderer draws each output frame over a static background texture, adds
 *      camera jitter and pixel noise, and writes the caller's tensor.
 * Random numbers come from streams derived from (seed, task, index, purpose), so that
 * what one stage draws never shifts what another draws: the label stream in particular
 * is separate, which keeps scene statistics independent of the label.
 *
 * World coordinates are [0, 1)^2 with y pointing down (image rows); time is measured
 * in clips: source frame f is at time f / (n_frames - 1).
 */
#ifndef VN_WORLD_INTERNAL_H
#define VN_WORLD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "vnative/world.h"

#define VNW_MAX_OBJECTS 64
#define VNW_MAX_PARAMS 16
#define VNW_NOISE_TABLE 4096

enum { VNW_DISC = 0, VNW_BOX = 1 };

/* Purposes of the random streams of one clip. */
enum {
    VNW_STREAM_LABEL = 1, /* drawn per pair of indices (2k, 2k+1) */
    VNW_STREAM_SCENE = 2,
    VNW_STREAM_TEXTURE = 3,
    VNW_STREAM_NOISE = 4,
    VNW_STREAM_EVENT = 5, /* the label-specific part: variants, permutations */
    VNW_STREAM_OTHER = 16,        /* future task: OTHER + k for the k-th distractor scene (k <= 64) */
    VNW_STREAM_PART_NOISE = 128   /* future task: + p for the noise of part p (0 context, 1.. candidates) */
};

/* One object in one frame. */
typedef struct vnw_obj {
    float x, y;   /* centre, world units */
    float vx, vy; /* world units per clip time (for tests and descriptions; not drawn) */
    float hx, hy; /* half extents; a disc has hx == hy == radius */
    float alpha;  /* opacity in [0, 1]; 0 hides the object */
    uint8_t rgb[3];
    uint8_t shape;
    uint8_t id; /* stable across frames: index of the object in the task's own list */
} vnw_obj;

typedef struct vnw_param {
    const char *name;
    double value;
} vnw_param;

/* A simulated clip before rendering. */
typedef struct vnw_scene {
    int n_obj;      /* objects per source frame */
    int n_src;      /* source frames */
    int torus;      /* 1: the world wraps around, draw objects across edges */
    vnw_obj *obj;   /* [n_src][n_obj] */
    int n_out;      /* output frames */
    int *map;       /* [n_out]: output frame -> source frame */
    int label;      /* 0/1 for binary tasks, -1 otherwise */
    const char *scenario; /* what was simulated ("bounce", "gas", ...) */
    const char *variant;  /* how the label was applied ("forward", "teleport", ...) */
    int n_params;
    vnw_param params[VNW_MAX_PARAMS];
    int event_frame; /* source frame of the task's event (contact, teleport, ...), -1 if none */
} vnw_scene;

vn_status vnw_scene_alloc(vnw_scene *sc, int n_src, int n_obj, int n_out);
void vnw_scene_free(vnw_scene *sc);
void vnw_scene_param(vnw_scene *sc, const char *name, double value);
static inline vnw_obj *vnw_at(const vnw_scene *sc, int frame, int i)
{
    return &sc->obj[(size_t)frame * (size_t)sc->n_obj + (size_t)i];
}

/* ---- random streams and appearance ---------------------------------------------- */

void vnw_stream(vn_rng *r, uint64_t seed, vn_world_task task, int64_t index, uint64_t purpose);
double vnw_uniform(vn_rng *r, double lo, double hi);
/* The label of a binary task's clip: indices 2k and 2k+1 always differ. */
int vnw_label(uint64_t seed, vn_world_task task, int64_t index);
/* A bright object colour (luma >= 0.45) that stands out from every background. */
void vnw_object_colour(vn_rng *r, uint8_t rgb[3]);
/* Shape and half extents of a random object; scale multiplies the default size range. */
void vnw_object_shape(vn_rng *r, float scale, uint8_t *shape, float *hx, float *hy);

/* ---- physics -------------------------------------------------------------------- */

typedef struct vnw_body {
    float x, y, vx, vy, hx, hy;
    float inv_mass; /* 0: immovable */
    uint8_t shape;
    uint8_t resting; /* bounce scenes: settled on the floor, no longer integrated */
    uint8_t solid;   /* takes part in object-object collisions */
} vnw_body;

typedef struct vnw_contact_event {
    int i, j;
} vnw_contact_event;

typedef struct vnw_phys {
    int n;
    vnw_body b[VNW_MAX_OBJECTS];
    int torus;        /* 1: wrap around; 0: walls at the frame edges */
    float wall_e;     /* restitution of the walls (and floor) */
    float obj_e;      /* restitution between objects */
    float gx, gy;     /* gravity, world units per clip time squared */
    float drag;       /* linear drag rate: v *= exp(-drag dt) */
    float friction;   /* constant deceleration magnitude while moving */
    float rest_speed; /* floor contacts slower than this settle (bounce scenes); 0: never */
    int collide;      /* object-object collisions on */
    int skip_i, skip_j; /* a pair that passes through each other (intphys); -1: none */
    int n_events;     /* collisions resolved during the last step (approaching pairs) */
    vnw_contact_event events[8];
} vnw_phys;

void vnw_phys_init(vnw_phys *p);
/* Advance by dt clip time units. */
void vnw_phys_step(vnw_phys *p, float dt);
/* Substeps per frame for a frame interval of dt clip units: about 120 per clip. */
int vnw_substeps(float dt_frame);
/* Do bodies a and b overlap (shrunk by slack), with wrap-around on a torus? */
int vnw_overlap(const vnw_body *a, const vnw_body *b, int torus, float slack);
/* Place n bodies (extents set) uniformly at random without overlaps, inside the walls
 * when not on a torus (with margin), or anywhere on a torus. Bodies that do not fit
 * after many tries are dropped; returns how many were placed (in order). */
int vnw_place(vn_rng *r, vnw_body *b, int n, int torus, float margin);
/* Copy the bodies into frame f of the scene (alpha 1, colours from rgb/shape arrays). */
void vnw_record(vnw_scene *sc, int f, const vnw_phys *p, const uint8_t (*rgb)[3]);
/* Minimum-image difference b - a on a torus of size 1. */
static inline float vnw_wrap_delta(float d)
{
    if (d > 0.5f)
        d -= 1.0f;
    else if (d < -0.5f)
        d += 1.0f;
    return d;
}
static inline float vnw_wrap01(float x)
{
    x -= (float)(int)x;
    if (x < 0.0f)
        x += 1.0f;
    if (x >= 1.0f)
        x -= 1.0f;
    return x;
}

/* ---- the world handle ----------------------------------------------------------- */

struct vn_world {
    vn_world_options o;
    int n_threads;
    /* N(0, noise) in 8-bit levels, by quantile; int32 so that a vector gather reads whole entries */
    int32_t noise_table[VNW_NOISE_TABLE];
    float lut[3][256];                    /* float output: (v/255 - mean) / std */
};

/* Options of the scene that the tasks need. */
static inline float vnw_dt_frame(const vn_world *w)
{
    return 1.0f / (float)(w->o.n_frames - 1);
}

/* ---- tasks: fill sc (allocated by the task) for clip index with the given label ---- */

typedef vn_status (*vnw_task_fn)(const vn_world *w, int64_t index, int label, vnw_scene *sc);

vn_status vnw_task_aot(const vn_world *w, int64_t index, int label, vnw_scene *sc);
vn_status vnw_task_gravity(const vn_world *w, int64_t index, int label, vnw_scene *sc);
vn_status vnw_task_collision(const vn_world *w, int64_t index, int label, vnw_scene *sc);
vn_status vnw_task_order(const vn_world *w, int64_t index, int label, vnw_scene *sc);
vn_status vnw_task_speed(const vn_world *w, int64_t index, int label, vnw_scene *sc);
vn_status vnw_task_intphys(const vn_world *w, int64_t index, int label, vnw_scene *sc);

/* Bodies with their colours: what a simulation starts from. */
typedef struct vnw_cast {
    vnw_phys p;
    uint8_t rgb[VNW_MAX_OBJECTS][3];
} vnw_cast;

/* Random shapes and colours for bodies 0..n-1 of cast (solid, masses by area). */
void vnw_cast_appearance(vn_rng *r, vnw_cast *cast, int n, float scale);
/* A gas: n solid objects on a torus, elastic, placed uniformly without overlaps, moving
 * in uniformly random directions at speed * U(0.6, 1.4) (world units per clip). Its
 * statistics are stationary: at every frame positions are uniform over layouts. */
void vnw_gas_setup(vn_rng *r, int n, float speed, vnw_cast *cast);
/* Simulate frames [f0, f1) of sc from the cast's state, which is frame f0 on entry:
 * record frame f0, step a frame interval, record f0 + 1, ... */
void vnw_run(const vn_world *w, vnw_cast *cast, vnw_scene *sc, int f0, int f1);

/* The future task's scenes: the main one (which = 0) or the k-th distractor (which =
 * k + 1), sharing objects and background but starting from independent states. */
vn_status vnw_future_scene(const vn_world *w, int64_t index, int which, int n_src, vnw_scene *sc);
/* The main scene of a future query, what each candidate is and where the true one is. */
vn_status vnw_future_describe(const vn_world *w, int64_t index, vnw_scene *sc, int *kinds, int cap, int *n_kinds,
                              int *true_index);

/* Build the scene of a binary task's clip (label included). FUTURE is not binary. */
vn_status vnw_build(const vn_world *w, vn_world_task task, int64_t index, vnw_scene *sc);

/* ---- rendering ------------------------------------------------------------------ */

/* Background texture of a clip: uint8 [S][S][C], periodic so that jitter can wrap it.
 * Its distribution is invariant under vertical and horizontal mirroring. */
void vnw_texture(const vn_world *w, vn_world_task task, int64_t index, uint8_t *tex);

/* Draw objects (pixel coordinates) onto an 8-bit frame [S][S][C]. */
void vnw_draw_disc(uint8_t *buf, int S, int C, float cx, float cy, float r, const float *col, float alpha);
void vnw_draw_box(uint8_t *buf, int S, int C, float x0, float y0, float x1, float y1, const float *col, float alpha);
/* Draw one object of a scene frame, wrapped across edges when torus is set. */
void vnw_draw_obj(uint8_t *buf, int S, int C, const vnw_obj *o, int torus, float shift_x, float shift_y);

/* Inverse of the standard normal CDF, for the noise table. */
double vnw_probit(double p);
void vnw_noise_table(int32_t *table, float noise);

/* Render n frames of sc, frame t showing source frame map[t], into out: uint8
 * [n, S, S, C] or float32 [C, n, S, S], already checked. tex is the background; the
 * noise and jitter stream is r. scratch holds S*S*C bytes. */
void vnw_render(const vn_world *w, const vnw_scene *sc, const uint8_t *tex, const int *map, int n,
                const vn_tensor *out, vn_rng *r, uint8_t *scratch);

/* One clip of a binary task, end to end, into a checked tensor view. */
vn_status vnw_clip(const vn_world *w, vn_world_task task, int64_t index, const vn_tensor *out, int *label);

/* Check a clip tensor: uint8 [T,S,S,C] or float32 [C,T,S,S]. */
vn_status vnw_expect_clip(const vn_world *w, const char *fn, const char *what, const vn_tensor *t, int64_t n_frames);

#endif
