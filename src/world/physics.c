/*
 * A small impulse-based stepper for discs and axis-aligned boxes: gravity, drag,
 * friction, walls or wrap-around, and pairwise collisions with restitution.
 *
 * Boxes do not rotate: a box is a sliding block, which keeps contacts simple (face
 * normals) and is all the tasks need. Simulation runs in float with fixed substeps,
 * so a scene is the same on every machine that rounds IEEE floats the same way.
 */
#include "world/world_internal.h"

#include <math.h>
#include <string.h>

void vnw_phys_init(vnw_phys *p)
{
    memset(p, 0, sizeof *p);
    p->wall_e = 1.0f;
    p->obj_e = 1.0f;
    p->skip_i = p->skip_j = -1;
}

int vnw_substeps(float dt_frame)
{
    int n = (int)ceilf(dt_frame * 120.0f - 1e-4f);
    return n < 1 ? 1 : n;
}

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Contact between a and b: the unit normal from a towards b and the penetration depth
 * (negative: the gap). Returns 0 when the shapes are too far apart to tell cheaply. */
static int contact(const vnw_body *a, const vnw_body *b, int torus, float *nx, float *ny, float *depth)
{
    float dx = b->x - a->x, dy = b->y - a->y;
    if (torus) {
        dx = vnw_wrap_delta(dx);
        dy = vnw_wrap_delta(dy);
    }
    if (a->shape == VNW_DISC && b->shape == VNW_DISC) {
        float rs = a->hx + b->hx;
        float d2 = dx * dx + dy * dy;
        float d = sqrtf(d2);
        if (d > 1e-9f) {
            *nx = dx / d;
            *ny = dy / d;
        } else {
            *nx = 1.0f;
            *ny = 0.0f;
        }
        *depth = rs - d;
        return 1;
    }
    if (a->shape == VNW_BOX && b->shape == VNW_BOX) {
        float ox = a->hx + b->hx - fabsf(dx), oy = a->hy + b->hy - fabsf(dy);
        if (ox > 0.0f && oy > 0.0f) {
            if (ox < oy) {
                *nx = dx >= 0.0f ? 1.0f : -1.0f;
                *ny = 0.0f;
                *depth = ox;
            } else {
                *nx = 0.0f;
                *ny = dy >= 0.0f ? 1.0f : -1.0f;
                *depth = oy;
            }
        } else {
            /* The gap along the separating axis is enough for placement clearances. */
            *depth = ox < oy ? ox : oy;
            *nx = *ny = 0.0f;
        }
        return 1;
    }
    /* Disc against box: work with the disc relative to the box centre. */
    const vnw_body *disc = a->shape == VNW_DISC ? a : b, *box = a->shape == VNW_DISC ? b : a;
    float px = a->shape == VNW_DISC ? -dx : dx, py = a->shape == VNW_DISC ? -dy : dy;
    float cx = clampf(px, -box->hx, box->hx), cy = clampf(py, -box->hy, box->hy);
    float ex = px - cx, ey = py - cy;
    float d2 = ex * ex + ey * ey;
    float bnx, bny; /* from the box towards the disc */
    if (d2 > 1e-12f) {
        float d = sqrtf(d2);
        bnx = ex / d;
        bny = ey / d;
        *depth = disc->hx - d;
    } else {
        /* The centre is inside the box: push out along the shallowest face. */
        float fx = box->hx - fabsf(px), fy = box->hy - fabsf(py);
        if (fx < fy) {
            bnx = px >= 0.0f ? 1.0f : -1.0f;
            bny = 0.0f;
            *depth = disc->hx + fx;
        } else {
            bnx = 0.0f;
            bny = py >= 0.0f ? 1.0f : -1.0f;
            *depth = disc->hx + fy;
        }
    }
    if (a->shape == VNW_BOX) {
        *nx = bnx;
        *ny = bny;
    } else {
        *nx = -bnx;
        *ny = -bny;
    }
    return 1;
}

int vnw_overlap(const vnw_body *a, const vnw_body *b, int torus, float slack)
{
    float nx, ny, depth;
    contact(a, b, torus, &nx, &ny, &depth);
    return depth > -slack;
}

static void integrate(vnw_phys *p, vnw_body *o, float dt)
{
    if (o->inv_mass == 0.0f || o->resting)
        return;
    o->vx += p->gx * dt;
    o->vy += p->gy * dt;
    if (p->drag > 0.0f) {
        /* Implicit Euler: stable for any drag rate and step. */
        float k = 1.0f / (1.0f + p->drag * dt);
        o->vx *= k;
        o->vy *= k;
    }
    if (p->friction > 0.0f) {
        float s = sqrtf(o->vx * o->vx + o->vy * o->vy);
        float s2 = s - p->friction * dt;
        float k = s2 > 0.0f && s > 0.0f ? s2 / s : 0.0f;
        o->vx *= k;
        o->vy *= k;
    }
    o->x += o->vx * dt;
    o->y += o->vy * dt;
}

static void walls(vnw_phys *p, vnw_body *o)
{
    if (p->torus) {
        o->x = vnw_wrap01(o->x);
        o->y = vnw_wrap01(o->y);
        return;
    }
    float e = p->wall_e;
    if (o->x - o->hx < 0.0f) {
        o->x = o->hx;
        if (o->vx < 0.0f)
            o->vx = -e * o->vx;
    } else if (o->x + o->hx > 1.0f) {
        o->x = 1.0f - o->hx;
        if (o->vx > 0.0f)
            o->vx = -e * o->vx;
    }
    if (o->y - o->hy < 0.0f) {
        o->y = o->hy;
        if (o->vy < 0.0f)
            o->vy = -e * o->vy;
    } else if (o->y + o->hy > 1.0f) {
        o->y = 1.0f - o->hy;
        if (o->vy > 0.0f) {
            o->vy = -e * o->vy;
            /* A ball on the floor bounces ever lower in ever shorter hops (Zeno):
             * below a speed it settles, as a real one does when contact wins. */
            if (p->rest_speed > 0.0f && -o->vy < p->rest_speed && p->gy > 0.0f) {
                o->vy = 0.0f;
                o->resting = 1;
            }
        }
    }
}

static void collide(vnw_phys *p, int i, int j)
{
    vnw_body *a = &p->b[i], *b = &p->b[j];
    float im = a->inv_mass + b->inv_mass;
    if (im == 0.0f)
        return;
    float nx, ny, depth;
    contact(a, b, p->torus, &nx, &ny, &depth);
    if (depth <= 0.0f)
        return;
    int skip = (i == p->skip_i && j == p->skip_j) || (i == p->skip_j && j == p->skip_i);
    if (skip)
        return;
    float vn = (b->vx - a->vx) * nx + (b->vy - a->vy) * ny;
    if (vn < 0.0f) {
        float jimp = -(1.0f + p->obj_e) * vn / im;
        a->vx -= jimp * a->inv_mass * nx;
        a->vy -= jimp * a->inv_mass * ny;
        b->vx += jimp * b->inv_mass * nx;
        b->vy += jimp * b->inv_mass * ny;
        if (p->n_events < (int)(sizeof p->events / sizeof p->events[0]))
            p->events[p->n_events++] = (vnw_contact_event){i, j};
    }
    /* Separate the pair fully, heavier bodies moving less, so overlaps never build up. */
    float ka = a->inv_mass / im, kb = b->inv_mass / im;
    a->x -= nx * depth * ka;
    a->y -= ny * depth * ka;
    b->x += nx * depth * kb;
    b->y += ny * depth * kb;
}

void vnw_phys_step(vnw_phys *p, float dt)
{
    p->n_events = 0;
    for (int i = 0; i < p->n; i++)
        integrate(p, &p->b[i], dt);
    for (int i = 0; i < p->n; i++)
        walls(p, &p->b[i]);
    if (p->collide) {
        for (int i = 0; i < p->n; i++) {
            if (!p->b[i].solid)
                continue;
            for (int j = i + 1; j < p->n; j++)
                if (p->b[j].solid)
                    collide(p, i, j);
        }
        /* Separation may push a body through a wall or across the wrap. */
        for (int i = 0; i < p->n; i++)
            walls(p, &p->b[i]);
    }
}

int vnw_place(vn_rng *r, vnw_body *b, int n, int torus, float margin)
{
    int placed = 0;
    for (int i = 0; i < n; i++) {
        vnw_body cand = b[i];
        int ok = 0;
        for (int tries = 0; tries < 200 && !ok; tries++) {
            if (torus) {
                cand.x = (float)vn_rng_uniform(r);
                cand.y = (float)vn_rng_uniform(r);
            } else {
                float lx = cand.hx + margin, ly = cand.hy + margin;
                if (lx >= 0.5f || ly >= 0.5f)
                    break;
                cand.x = (float)vnw_uniform(r, lx, 1.0 - lx);
                cand.y = (float)vnw_uniform(r, ly, 1.0 - ly);
            }
            ok = 1;
            for (int k = 0; k < placed && ok; k++)
                if (vnw_overlap(&cand, &b[k], torus, 0.01f))
                    ok = 0;
        }
        if (ok)
            b[placed++] = cand;
    }
    return placed;
}

void vnw_record(vnw_scene *sc, int f, const vnw_phys *p, const uint8_t (*rgb)[3])
{
    for (int i = 0; i < p->n && i < sc->n_obj; i++) {
        const vnw_body *o = &p->b[i];
        vnw_obj *s = vnw_at(sc, f, i);
        s->x = o->x;
        s->y = o->y;
        s->vx = o->vx;
        s->vy = o->vy;
        s->hx = o->hx;
        s->hy = o->hy;
        s->alpha = 1.0f;
        s->shape = o->shape;
        s->id = (uint8_t)i;
        memcpy(s->rgb, rgb[i], 3);
    }
}
