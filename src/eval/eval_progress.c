/* eval_progress.c - the progress line of an eval run: a bar redrawn in
 * place on a terminal, a plain line otherwise; items per minute and an ETA
 * from the mean time per finished item. Never fails (cuts at cap). */
#include "eval/eval.h"

#include <string.h>

static void format_duration(char *buf, size_t cap, double s)
{
    if (!(s >= 0) || s > 1e8) snprintf(buf, cap, "?");
    else if (s >= 3600) snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else if (s >= 60) snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else snprintf(buf, cap, "%ds", (int)s);
}

void glimp_eval_progress_format(char *buf, size_t cap, bool tty, size_t done, size_t total,
                                double elapsed_s)
{
    enum { BAR = 30 };
    double frac = total ? (double)done / (double)total : 1.0;
    char eta[32], el[32];
    format_duration(eta, sizeof eta, done ? elapsed_s / (double)done * (double)(total - done) : -1);
    format_duration(el, sizeof el, elapsed_s);
    double rate = elapsed_s > 0 ? (double)done / elapsed_s * 60 : 0;
    if (!tty) {
        snprintf(buf, cap, "eval: %zu/%zu items (%.0f%%), %s elapsed, %.1f/min, ETA %s\n", done,
                 total, 100 * frac, el, rate, eta);
        return;
    }
    char bar[BAR + 1];
    int fill = (int)(frac * BAR + 0.5);
    memset(bar, '#', (size_t)fill);
    memset(bar + fill, '.', (size_t)(BAR - fill));
    bar[BAR] = '\0';
    snprintf(buf, cap, "\r[%s] %zu/%zu %3.0f%% %s %.1f/min ETA %s\x1b[K", bar, done, total,
             100 * frac, el, rate, eta);
}
