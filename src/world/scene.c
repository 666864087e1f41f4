/* Scenes: storage, random streams, labels and object appearance. */
#include "world/world_internal.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

vn_status vnw_scene_alloc(vnw_scene *sc, int n_src, int n_obj, int n_out)
{
    memset(sc, 0, sizeof *sc);
    sc->label = -1;
    sc->event_frame = -1;
    sc->scenario = "";
    sc->variant = "";
    size_t n_states = (size_t)n_src * (size_t)(n_obj > 0 ? n_obj : 1);
    sc->obj = calloc(n_states, sizeof *sc->obj);
    sc->map = malloc((size_t)n_out * sizeof *sc->map);
    if (!sc->obj || !sc->map) {
        vnw_scene_free(sc);
        return vn_error(VN_ERR_OUT_OF_MEMORY, "vn_world: out of memory for a scene of %d frames x %d objects", n_src,
                        n_obj);
    }
    sc->n_src = n_src;
    sc->n_obj = n_obj;
    sc->n_out = n_out;
    for (int t = 0; t < n_out; t++)
        sc->map[t] = t < n_src ? t : n_src - 1;
    return VN_OK;
}

void vnw_scene_free(vnw_scene *sc)
{
    if (!sc)
        return;
    free(sc->obj);
    free(sc->map);
    sc->obj = NULL;
    sc->map = NULL;
}

void vnw_scene_param(vnw_scene *sc, const char *name, double value)
{
    if (sc->n_params < VNW_MAX_PARAMS)
        sc->params[sc->n_params++] = (vnw_param){name, value};
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void vnw_stream(vn_rng *r, uint64_t seed, vn_world_task task, int64_t index, uint64_t purpose)
{
    /* Hash the triple rather than packing bits, so that no index range is off limits
     * and neighbouring indices get unrelated streams. */
    uint64_t h = mix64((uint64_t)index + 0x9e3779b97f4a7c15ULL);
    h = mix64(h ^ ((uint64_t)task + 1) * 0xd6e8feb86659fd93ULL);
    h = mix64(h ^ (purpose + 1) * 0xa0761d6478bd642fULL);
    vn_rng_seed(r, seed, h);
}

double vnw_uniform(vn_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * vn_rng_uniform(r);
}

int vnw_label(uint64_t seed, vn_world_task task, int64_t index)
{
    /* A random bit per pair rather than the parity itself, so that a reader who sorts
     * or subsamples indices does not get labels that follow a visible pattern. */
    vn_rng r;
    vnw_stream(&r, seed, task, index >> 1, VNW_STREAM_LABEL);
    int bit = (int)(vn_rng_next(&r) >> 63);
    return bit ^ (int)(index & 1);
}

void vnw_object_colour(vn_rng *r, uint8_t rgb[3])
{
    /* Rejection on luma keeps objects visible in gray output too, where a saturated
     * blue would vanish into a dark background. Backgrounds stay below luma 0.4. */
    for (int tries = 0; tries < 64; tries++) {
        double c[3] = {vn_rng_uniform(r), vn_rng_uniform(r), vn_rng_uniform(r)};
        double luma = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
        if (luma >= 0.45 || tries == 63) {
            if (luma < 0.45) /* practically unreachable: lift the colour instead of looping on */
                for (int k = 0; k < 3; k++)
                    c[k] = 0.45 + 0.55 * c[k];
            for (int k = 0; k < 3; k++)
                rgb[k] = (uint8_t)(c[k] * 255.0 + 0.5);
            return;
        }
    }
}

void vnw_object_shape(vn_rng *r, float scale, uint8_t *shape, float *hx, float *hy)
{
    if (vn_rng_uniform(r) < 0.5) {
        *shape = VNW_DISC;
        *hx = *hy = scale * (float)vnw_uniform(r, 0.05, 0.10);
    } else {
        *shape = VNW_BOX;
        *hx = scale * (float)vnw_uniform(r, 0.04, 0.09);
        *hy = scale * (float)vnw_uniform(r, 0.04, 0.09);
    }
}
