#include "cli/train_report.h"
#include "cli/json_writer.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define LINE_CAP 512
#define REDRAW_S 0.1 /* tiny models step faster than a terminal wants to be redrawn */

double train_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Appends to buf without ever overrunning it; a full buffer just stops growing. */
static void add(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

void train_format_losses(char *buf, size_t cap, const vn_train_metrics *m)
{
    buf[0] = 0;
    add(buf, cap, "loss %.4f", (double)m->loss);
    int n = 0;
    for (int o = 0; o < VN_OBJECTIVE_COUNT; o++)
        if (!isnan(m->losses[o]))
            add(buf, cap, "%s%s %.4f", n++ ? ", " : " (", vn_objective_name((vn_objective)o), (double)m->losses[o]);
    if (n)
        add(buf, cap, ")");
}

void train_format_accuracy(char *buf, size_t cap, const vn_train_metrics *m)
{
    buf[0] = 0;
    int n = 0;
    for (int o = 0; o < VN_OBJECTIVE_COUNT; o++)
        if (!isnan(m->accuracy[o]))
            add(buf, cap, "%s%s %.1f%%", n++ ? ", " : "", vn_objective_name((vn_objective)o),
                100.0 * (double)m->accuracy[o]);
}

static void format_duration(char *buf, size_t cap, double s)
{
    if (!(s >= 0) || s > 1e8) {
        snprintf(buf, cap, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, cap, "%lds", t);
}

static int term_columns(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

/* The seconds left, from the wall time per step so far in this process (evaluations and
 * saves included, since they are part of what the user waits for). */
static double eta_s(const train_report *r, int64_t step)
{
    int64_t done = step - r->start_step;
    if (done <= 0)
        return NAN;
    return (train_now_s() - r->t0) / (double)done * (double)(r->target - step);
}

/* Everything after the bar: losses, held-out accuracy, speed and ETA. Without detail, the
 * weighted loss only, for terminals too narrow for the rest. */
static void status_text(char *buf, size_t cap, const train_report *r, const vn_train_metrics *m, int detail)
{
    char losses[256], acc[160], eta[32];
    train_format_losses(losses, sizeof losses, m);
    if (!detail)
        losses[strcspn(losses, "(") - (strchr(losses, '(') ? 1 : 0)] = 0;
    format_duration(eta, sizeof eta, eta_s(r, m->step));
    buf[0] = 0;
    add(buf, cap, "%s", losses);
    if (r->have_eval) {
        train_format_accuracy(acc, sizeof acc, &r->last_eval);
        if (acc[0])
            add(buf, cap, " | held-out %s", acc);
    }
    add(buf, cap, " | %.1f clips/s | ETA %s", r->rate, eta);
}

/* The richest layout that fits the terminal: the per-objective losses matter more than the
 * bar, which goes first; a line that still does not fit is cut at the edge. */
static void draw_bar(train_report *r, const vn_train_metrics *m)
{
    char head[64], status[LINE_CAP], line[LINE_CAP + 128];
    snprintf(head, sizeof head, "step %lld/%lld", (long long)m->step, (long long)r->target);
    int cols = term_columns() - 1; /* writing the last column wraps on some terminals */
    static const int layouts[4][2] = {{1, 1}, {1, 0}, {0, 1}, {0, 0}}; /* {detail, bar} */
    for (int l = 0; l < 4; l++) {
        status_text(status, sizeof status, r, m, layouts[l][0]);
        int width = cols - ((int)strlen(head) + (int)strlen(status) + 4);
        width = width > 30 ? 30 : width;
        if (layouts[l][1] && width >= 10) {
            double frac = r->target > 0 ? (double)m->step / (double)r->target : 1.0;
            int fill = (int)(frac * width + 0.5);
            fill = fill < 0 ? 0 : fill > width ? width : fill;
            char bar[40];
            memset(bar, '#', (size_t)fill);
            memset(bar + fill, '.', (size_t)(width - fill));
            bar[width] = 0;
            snprintf(line, sizeof line, "%s [%s] %s", head, bar, status);
        } else {
            snprintf(line, sizeof line, "%s %s", head, status);
        }
        if ((int)strlen(line) <= cols)
            break;
    }
    if ((int)strlen(line) > cols)
        line[cols > 0 ? cols : 0] = 0;
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    r->bar_on_screen = 1;
}

void train_report_break(train_report *r)
{
    if (r->bar_on_screen) {
        fputc('\n', stderr);
        fflush(stderr);
        r->bar_on_screen = 0;
    }
}

static void print_eval(train_report *r, const vn_train_metrics *m)
{
    char losses[256], acc[160];
    train_format_losses(losses, sizeof losses, m);
    train_format_accuracy(acc, sizeof acc, m);
    if (r->bar_on_screen) {
        /* the evaluation gets a line of its own above the bar, which the next step redraws */
        fputs("\r\033[K", stderr);
        r->bar_on_screen = 0;
    }
    fprintf(stderr, "vnative train: held-out at step %lld: %s%s%s\n", (long long)m->step, losses,
            acc[0] ? ", accuracy " : "", acc);
    fflush(stderr);
}

void train_report_metrics(train_report *r, const vn_train_metrics *m)
{
    if (m->is_eval) {
        r->last_eval = *m;
        r->have_eval = 1;
        if (!r->quiet)
            print_eval(r, m);
        return;
    }
    if (m->clips_per_s > 0)
        r->rate = r->rate > 0 ? 0.8 * r->rate + 0.2 * m->clips_per_s : m->clips_per_s;
    if (r->quiet)
        return;
    int last = m->step >= r->target;
    if (r->tty) {
        double t = train_now_s();
        if (!last && r->bar_on_screen && t - r->last_draw < REDRAW_S)
            return;
        r->last_draw = t;
        draw_bar(r, m);
        return;
    }
    if (m->step % r->every != 0 && !last)
        return;
    char status[LINE_CAP];
    status_text(status, sizeof status, r, m, 1);
    fprintf(stderr, "vnative train: step %lld/%lld %s\n", (long long)m->step, (long long)r->target, status);
    fflush(stderr);
}

static void put_finite(jw *w, const char *key, double v)
{
    if (!isnan(v))
        jw_double(w, key, v);
}

static void put_per_objective(jw *w, const char *key, const float *v)
{
    jw_object_begin(w, key);
    for (int o = 0; o < VN_OBJECTIVE_COUNT; o++)
        put_finite(w, vn_objective_name((vn_objective)o), (double)v[o]);
    jw_object_end(w);
}

int train_log_line(FILE *f, const vn_train_metrics *m)
{
    jw w;
    jw_init(&w, f);
    jw_object_begin(&w, NULL);
    jw_string(&w, "type", m->is_eval ? "eval" : "step");
    jw_int(&w, "step", m->step);
    put_finite(&w, "loss", (double)m->loss);
    put_per_objective(&w, "losses", m->losses);
    put_per_objective(&w, "accuracy", m->accuracy);
    put_finite(&w, "grad_norm", (double)m->grad_norm);
    put_finite(&w, "lr", (double)m->lr);
    put_finite(&w, "clips_per_s", m->clips_per_s);
    put_finite(&w, "elapsed_s", m->elapsed_s);
    jw_int(&w, "clips_seen", m->clips_seen);
    jw_object_end(&w);
    jw_finish(&w);
    return ferror(f) ? -1 : 0;
}

/* The integer after the line's first "step": key (the writer above puts it near the front). */
static int line_step(const char *line, int64_t *step)
{
    const char *p = strstr(line, "\"step\":");
    if (!p)
        return -1;
    char *end;
    long long v = strtoll(p + 7, &end, 10);
    if (end == p + 7)
        return -1;
    *step = v;
    return 0;
}

int train_log_trim(const char *path, int64_t step)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap + 1);
    while (text) {
        n += fread(text + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *grown = realloc(text, 2 * cap + 1);
        if (!grown) {
            free(text);
            text = NULL;
            break;
        }
        text = grown;
        cap *= 2;
    }
    int e = !text ? ENOMEM : ferror(f) ? EIO : 0;
    fclose(f);
    if (e) {
        free(text);
        errno = e;
        return -1;
    }
    text[n] = 0;
    /* Rewrite through a temp file and a rename, so that a crash leaves one whole log or the other. */
    size_t plen = strlen(path) + 8;
    char *tmp = malloc(plen);
    FILE *out = tmp ? (snprintf(tmp, plen, "%s.trim", path), fopen(tmp, "wb")) : NULL;
    if (!out) {
        e = tmp ? errno : ENOMEM;
        free(text);
        free(tmp);
        errno = e;
        return -1;
    }
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
        char keep_c = line[len];
        line[len] = 0;
        int64_t s;
        /* a partial last line (a process killed mid-write) carries no complete record */
        if (nl && (line_step(line, &s) != 0 || s <= step))
            fputs(line, out);
        line[len] = keep_c;
        line += len;
    }
    int rc = fflush(out) != 0 || ferror(out) ? -1 : 0;
    e = errno;
    if (fclose(out) != 0)
        rc = -1, e = errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1, e = errno;
    if (rc != 0)
        remove(tmp);
    free(text);
    free(tmp);
    errno = e;
    return rc;
}
