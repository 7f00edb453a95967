/* model_pack.c - repacks a loaded model's Q8_0, Q4_0, Q5_0, Q4_1, Q5_1, F16, BF16,
 * Q4_K and Q6_K matrices into the 16-row layouts of quant_r16.h, where the CPU
 * has kernels for them (AVX-512; BF16 with its dot products).
 *
 * The packed copy lives in one anonymous mapping advised to use huge pages
 * (decode streams every weight once per token: 2 MB pages take the page
 * walks off that stream; measured 28 -> 31 GB/s on one core). As each
 * stretch of a matrix is packed, the file pages it came from are dropped
 * from the process (MADV_DONTNEED: they stay in the page cache and would
 * be read back from the file if touched), so peak memory stays one model
 * plus a few megabytes. Matrices whose rows are not a multiple of 16, and
 * every other type, stay in the file mapping. Tied embeddings (output ==
 * tok_embd) are packed once. If the mapping cannot be made, nothing is
 * packed: the row-major path computes the same products (to rounding).
 * GLIMP_REPACK=0 in the environment keeps every matrix in the file mapping:
 * the copy is anonymous memory, which, unlike the mapping, the kernel cannot
 * page out under memory pressure (no swap), and tests run both paths.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model/model.h"
#include "model/model_pack.h"
#include "quant/quant.h"
#include "quant/quant_r16.h"

#define HUGE_PAGE ((size_t)2 << 20)
#define DROP_EVERY ((size_t)4 << 20) /* source bytes packed between drops */
#define ALIGN 64

/* w's layout when it can be repacked here, else NULL. */
static const qt_r16_layout *packable(const model_matrix *w)
{
    const qt_r16_layout *l = qt_r16_layout_of(w->type);
    return l && w->rows % QT_R16_ROWS == 0 && w->cols % l->col_multiple == 0 ? l : NULL;
}

/* Every matrix of the model, in order (output and tok_embd may share data). */
static int all_matrices(glimp_model *m, model_matrix **out)
{
    int n = 0;
    out[n++] = &m->tok_embd;
    out[n++] = &m->output;
    for (int64_t il = 0; il < m->hp.n_layer; il++) {
        model_layer *L = &m->layers[il];
        model_matrix *ws[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
        for (size_t i = 0; i < sizeof ws / sizeof *ws; i++) out[n++] = ws[i];
    }
    return n;
}

/* Every small vector of the model with its length (NULL ones included). */
static int all_vectors(glimp_model *m, const float ***out, int64_t *len)
{
    const model_hparams *hp = &m->hp;
    const int64_t q_dim = hp->n_head * hp->head_dim, kv_dim = hp->n_head_kv * hp->head_dim;
    int n = 0;
    out[n] = &m->output_norm, len[n++] = hp->n_embd;
    out[n] = &m->rope_freqs, len[n++] = hp->n_rot / 2;
    for (int64_t il = 0; il < hp->n_layer; il++) {
        model_layer *L = &m->layers[il];
        out[n] = &L->attn_norm, len[n++] = hp->n_embd;
        out[n] = &L->ffn_norm, len[n++] = hp->n_embd;
        out[n] = &L->bq, len[n++] = q_dim;
        out[n] = &L->bk, len[n++] = kv_dim;
        out[n] = &L->bv, len[n++] = kv_dim;
        out[n] = &L->q_norm, len[n++] = hp->head_dim;
        out[n] = &L->k_norm, len[n++] = hp->head_dim;
    }
    return n;
}

#define N_MATRICES(m) (2 + 7 * (m)->hp.n_layer)
#define N_VECTORS(m) (2 + 7 * (m)->hp.n_layer)
#define VECTOR_BYTES(len) (((size_t)(len) * sizeof(float) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

/* Drops the whole pages of [from, to) of the file mapping from the process. */
static void drop_pages(const uint8_t *from, const uint8_t *to)
{
    const size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    const uintptr_t a = ((uintptr_t)from + ps - 1) & ~(uintptr_t)(ps - 1);
    const uintptr_t b = (uintptr_t)to & ~(uintptr_t)(ps - 1);
    if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);
}

/* Packs w into dst (16 rows at a time, layout l), dropping its source pages
 * as it goes. */
static void pack_matrix(const model_matrix *w, const qt_r16_layout *l, uint8_t *dst)
{
    const size_t group = QT_R16_ROWS * w->row_bytes;
    const uint8_t *src = w->data, *dropped = w->data;
    for (int64_t r = 0; r < w->rows; r += QT_R16_ROWS) {
        l->pack(src, w->row_bytes, w->cols, dst);
        src += group, dst += group;
        if ((size_t)(src - dropped) >= DROP_EVERY) {
            drop_pages(dropped, src);
            dropped = src;
        }
    }
    drop_pages(dropped, src);
}

void model_pack(glimp_model *m)
{
    const char *env = getenv("GLIMP_REPACK");
    if (env && strcmp(env, "0") == 0) return;
    model_matrix **ws = malloc((size_t)N_MATRICES(m) * sizeof *ws);
    const float ***vs = malloc((size_t)N_VECTORS(m) * sizeof *vs);
    int64_t *vlen = malloc((size_t)N_VECTORS(m) * sizeof *vlen);
    if (!ws || !vs || !vlen) {
        free(ws), free(vs), free(vlen);
        return;
    }
    const int n = all_matrices(m, ws), nv = all_vectors(m, vs, vlen);
    const bool tied = m->output.data == m->tok_embd.data;
    size_t total = 0;
    for (int i = 0; i < n; i++)
        if (packable(ws[i]) && !(i == 1 && tied))
            total += ((size_t)ws[i]->rows * ws[i]->row_bytes + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (total == 0) {
        free(ws), free(vs), free(vlen);
        return;
    }
    /* The small vectors are copied too: read from the mapping during
     * inference, each would map its file page back, and with large folios
     * the 2 MB around it (an F16 0.5B model: 90 MB of dropped weights
     * resident again). */
    for (int i = 0; i < nv; i++)
        if (*vs[i]) total += VECTOR_BYTES(vlen[i]);
    /* a mapping HUGE_PAGE larger, trimmed to start on a huge page */
    const size_t size = (total + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uint8_t *raw = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        free(ws), free(vs), free(vlen);
        return;
    }
    uint8_t *base = (uint8_t *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (base > raw) munmap(raw, (size_t)(base - raw));
    munmap(base + size, HUGE_PAGE - (size_t)(base - raw)); /* the rest, never empty */
    madvise(base, size, MADV_HUGEPAGE);
    madvise(base, size, MADV_DONTFORK); /* forked helpers (sandbox, probes) never run the model */

    uint8_t *dst = base;
    /* vectors first: reading one maps the file around it back in, which the
     * matrices' drops below then undo */
    for (int i = 0; i < nv; i++) {
        if (!*vs[i]) continue;
        memcpy(dst, *vs[i], (size_t)vlen[i] * sizeof(float));
        *vs[i] = (const float *)dst;
        dst += VECTOR_BYTES(vlen[i]);
    }
    for (int i = 0; i < n; i++) {
        model_matrix *w = ws[i];
        const qt_r16_layout *l = packable(w);
        if (!l) continue;
        if (i == 1 && tied) { /* the embeddings' copy */
            *w = *ws[0];
            continue;
        }
        pack_matrix(w, l, dst);
        w->data = dst;
        w->r16 = l;
        dst += ((size_t)w->rows * w->row_bytes + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    }
    m->packed = base;
    m->packed_bytes = size;
    free(ws), free(vs), free(vlen);
}

void model_unpack(glimp_model *m)
{
    if (m->packed) munmap(m->packed, m->packed_bytes);
    m->packed = NULL;
}
