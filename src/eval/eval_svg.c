/* eval_svg.c - a minimal SVG writer for the report's plots: a document of
 * rects, lines, circles, polylines and XML-escaped text, plus 1-2-5 axis
 * ticks. Writes into an eval_buf (growth failure is reported once, by
 * eval_svg_save); numbers are printed with %.2f so output is deterministic.
 */
#include "eval/eval.h"

#include <errno.h>
#include <math.h>
#include <string.h>

void eval_svg_begin(eval_buf *b, int width, int height)
{
    eval_buf_printf(b,
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                    "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n"
                    "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
                    width, height, width, height, width, height);
}

void eval_svg_end(eval_buf *b) { eval_buf_puts(b, "</svg>\n"); }

static void put_paint(eval_buf *b, const char *attr, const char *value)
{
    eval_buf_printf(b, " %s=\"%s\"", attr, value ? value : "none");
}

void eval_svg_rect(eval_buf *b, double x, double y, double w, double h, const char *fill,
                   const char *stroke)
{
    eval_buf_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"", x, y,
                    fmax(w, 0), fmax(h, 0));
    put_paint(b, "fill", fill);
    put_paint(b, "stroke", stroke);
    eval_buf_puts(b, "/>\n");
}

static void put_dash(eval_buf *b, const char *dash)
{
    if (dash) eval_buf_printf(b, " stroke-dasharray=\"%s\"", dash);
}

void eval_svg_line(eval_buf *b, double x1, double y1, double x2, double y2, const char *stroke,
                   double width, const char *dash)
{
    eval_buf_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"", x1, y1, x2, y2);
    put_paint(b, "stroke", stroke);
    eval_buf_printf(b, " stroke-width=\"%.2f\"", width);
    put_dash(b, dash);
    eval_buf_puts(b, "/>\n");
}

void eval_svg_circle(eval_buf *b, double cx, double cy, double r, const char *fill,
                     const char *stroke, double stroke_width)
{
    eval_buf_printf(b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\"", cx, cy, r);
    put_paint(b, "fill", fill);
    put_paint(b, "stroke", stroke);
    eval_buf_printf(b, " stroke-width=\"%.2f\"/>\n", stroke_width);
}

void eval_svg_polyline(eval_buf *b, const double *xy, size_t n_points, const char *stroke,
                       double width, const char *dash)
{
    eval_buf_puts(b, "<polyline points=\"");
    for (size_t i = 0; i < n_points; i++)
        eval_buf_printf(b, "%s%.2f,%.2f", i ? " " : "", xy[2 * i], xy[2 * i + 1]);
    eval_buf_puts(b, "\" fill=\"none\"");
    put_paint(b, "stroke", stroke);
    eval_buf_printf(b, " stroke-width=\"%.2f\"", width);
    put_dash(b, dash);
    eval_buf_puts(b, "/>\n");
}

static void put_escaped(eval_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': eval_buf_puts(b, "&amp;"); break;
        case '<': eval_buf_puts(b, "&lt;"); break;
        case '>': eval_buf_puts(b, "&gt;"); break;
        case '"': eval_buf_puts(b, "&quot;"); break;
        case '\'': eval_buf_puts(b, "&apos;"); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t') eval_buf_putc(b, *s);
        }
    }
}

void eval_svg_text(eval_buf *b, double x, double y, double size, const char *anchor,
                   double rotate, const char *fill, const char *text)
{
    eval_buf_printf(b, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\" text-anchor=\"%s\"", x, y,
                    size, anchor);
    if (rotate != 0) eval_buf_printf(b, " transform=\"rotate(%.1f %.2f %.2f)\"", rotate, x, y);
    put_paint(b, "fill", fill ? fill : "#222222");
    eval_buf_putc(b, '>');
    put_escaped(b, text);
    eval_buf_puts(b, "</text>\n");
}

glimp_status eval_svg_save(const eval_buf *b, const char *path, glimp_error *err)
{
    if (b->oom) return glimp_error_set(err, GLIMP_ERR_NOMEM, "%s: out of memory", path);
    FILE *f = fopen(path, "w");
    if (!f) return glimp_error_set(err, GLIMP_ERR_IO, "%s: %s", path, strerror(errno));
    size_t n = fwrite(eval_buf_str(b), 1, b->len, f);
    if (fclose(f) != 0 || n != b->len)
        return glimp_error_set(err, GLIMP_ERR_IO, "%s: write failed", path);
    return GLIMP_OK;
}

size_t eval_nice_ticks(double lo, double hi, int target, double *t, size_t max)
{
    if (!(hi > lo) || target < 1 || !max) return 0;
    double raw = (hi - lo) / target, mag = pow(10, floor(log10(raw))), step = mag;
    if (raw / mag > 5) step = 10 * mag;
    else if (raw / mag > 2) step = 5 * mag;
    else if (raw / mag > 1) step = 2 * mag;
    size_t n = 0;
    for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9 && n < max; v += step)
        t[n++] = fabs(v) < step * 1e-9 ? 0.0 : v;
    return n;
}
