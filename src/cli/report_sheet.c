/* Contact sheets of the report's example clips: a clip rendered by the world exactly as
 * the encoders see it, its frames left to right, as a PNG in a data: URI. */
#include "cli/report.h"

#include <stdlib.h>
#include <string.h>

#include "vnative/vnative.h"

#define SHEET_GAP 2    /* white pixels between frames */
#define SHEET_SPLIT 10 /* between the context and the continuation of a future example */

static const char *label_text(vn_world_task task, int label)
{
    static const char *const names[][2] = {
        [VN_TASK_AOT] = {"played in reverse", "played forward"},
        [VN_TASK_GRAVITY] = {"gravity points up", "gravity points down"},
        [VN_TASK_COLLISION] = {"B moves on its own", "B moves because A hit it"},
        [VN_TASK_ORDER] = {"frames shuffled", "frames in order"},
        [VN_TASK_SPEED] = {"playback stride 1", "playback stride 2"},
        [VN_TASK_INTPHYS] = {"physically implausible", "physically plausible"},
    };
    return (unsigned)task < sizeof names / sizeof names[0] && names[task][0] ? names[task][label != 0] : "";
}

/* Copy n frames [n, s, s, 3] into the sheet row (width sw) from column x on. */
static int place(uint8_t *sheet, int sw, int x, const uint8_t *frames, int n, int s)
{
    for (int t = 0; t < n; t++, x += s + SHEET_GAP)
        for (int y = 0; y < s; y++)
            memcpy(sheet + ((size_t)y * (size_t)sw + (size_t)x) * 3,
                   frames + (((size_t)t * (size_t)s + (size_t)y) * (size_t)s) * 3, (size_t)s * 3);
    return x - SHEET_GAP;
}

/* The future task has no single clip: its context, then the true continuation. */
static vn_status render_future(const vn_world *w, const rp_example *e, int tc, int k, uint8_t *sheet, int sw,
                               char *caption, size_t cap)
{
    const int s = (int)e->size, tf = (int)e->frames - tc;
    int64_t cshape[4] = {tc, s, s, 3}, kshape[5] = {k, tf, s, s, 3};
    uint8_t *ctx = malloc((size_t)tc * (size_t)s * (size_t)s * 3);
    uint8_t *cand = malloc((size_t)k * (size_t)tf * (size_t)s * (size_t)s * 3);
    int *kinds = malloc((size_t)k * sizeof *kinds), true_index = 0;
    vn_tensor tctx, tcand;
    vn_status st = !ctx || !cand || !kinds ? VN_ERR_OUT_OF_MEMORY : VN_OK;
    if (st == VN_OK)
        st = vn_tensor_init(&tctx, ctx, VN_DTYPE_U8, 4, cshape);
    if (st == VN_OK)
        st = vn_tensor_init(&tcand, cand, VN_DTYPE_U8, 5, kshape);
    if (st == VN_OK)
        st = vn_world_future(w, e->index, &tctx, &tcand, kinds, &true_index);
    if (st == VN_OK) {
        int x = place(sheet, sw, 0, ctx, tc, s);
        place(sheet, sw, x + SHEET_SPLIT, cand + (size_t)true_index * (size_t)tf * (size_t)s * (size_t)s * 3, tf, s);
        snprintf(caption, cap, "%d context frames, then the true continuation (%d frames)", tc, tf);
    }
    free(ctx);
    free(cand);
    free(kinds);
    return st;
}

int rp_write_sheet(FILE *f, const rp_example *e, const char *where)
{
    vn_world_task task;
    if (vn_world_task_from_name(e->task, &task) != VN_OK) {
        fprintf(stderr, "vnative %s: %s: task \"%s\" is not a world task\n", RP_CMD, where, e->task);
        return -1;
    }
    const int s = (int)e->size, n = (int)e->frames, future = task == VN_TASK_FUTURE;
    const int tc = n / 2, k = 4;
    if (future && n < 3) {
        fprintf(stderr, "vnative %s: %s: the future task needs 3 or more frames\n", RP_CMD, where);
        return -1;
    }
    const int sw = n * s + (n - 1) * SHEET_GAP + (future ? SHEET_SPLIT - SHEET_GAP : 0);
    vn_world_options o = VN_WORLD_OPTIONS_INIT;
    o.seed = (uint64_t)e->world_seed;
    o.n_frames = n;
    o.size = s;
    o.channels = 3;
    o.n_threads = 1; /* one small clip: threads would cost more than they save */
    o.future_context = tc;
    o.future_candidates = k;
    vn_world *w = NULL;
    uint8_t *clip = malloc((size_t)n * (size_t)s * (size_t)s * 3), *sheet = malloc((size_t)sw * (size_t)s * 3);
    uint8_t *png = NULL;
    char caption[160] = "";
    int label = 0;
    vn_status st = !clip || !sheet ? VN_ERR_OUT_OF_MEMORY : vn_world_create(&w, &o);
    if (st == VN_OK) {
        memset(sheet, 255, (size_t)sw * (size_t)s * 3);
        if (future) {
            st = render_future(w, e, tc, k, sheet, sw, caption, sizeof caption);
        } else {
            int64_t shape[4] = {n, s, s, 3};
            vn_tensor t;
            st = vn_tensor_init(&t, clip, VN_DTYPE_U8, 4, shape);
            if (st == VN_OK)
                st = vn_world_clip(w, task, e->index, &t, &label);
            if (st == VN_OK) {
                place(sheet, sw, 0, clip, n, s);
                snprintf(caption, sizeof caption, "label %d: %s", label, label_text(task, label));
            }
        }
    }
    size_t len = st == VN_OK ? rp_png_encode(sheet, sw, s, &png) : 0;
    if (st != VN_OK || !len) {
        fprintf(stderr, "vnative %s: %s: rendering %s clip %lld: %s\n", RP_CMD, where, e->task, (long long)e->index,
                st != VN_OK ? vn_last_error() : "out of memory");
    } else {
        /* Small frames are drawn larger, with hard pixel edges, up to a readable height. */
        int scale = s >= 96 ? 1 : s >= 48 ? 2 : 3;
        fprintf(f, "<figure class=\"sheet\"><div class=\"sheet-scroll\"><img alt=\"");
        rp_put_text(f, e->task);
        fprintf(
            f,
            " clip %lld\" width=\"%d\" height=\"%d\" data-frames=\"%d\" data-size=\"%d\" src=\"data:image/png;base64,",
            (long long)e->index, sw * scale, s * scale, n, s);
        rp_put_base64(f, png, len);
        fprintf(f, "\"></div>\n<figcaption><b>");
        rp_put_text(f, e->task);
        fprintf(f, "</b> clip %lld, world seed %lld, %d frames of %d&#215;%d: ", (long long)e->index,
                (long long)e->world_seed, n, s, s);
        rp_put_text(f, caption);
        fputs("</figcaption></figure>\n", f);
    }
    vn_world_destroy(w);
    free(clip);
    free(sheet);
    free(png);
    return st == VN_OK && len ? 0 : -1;
}
