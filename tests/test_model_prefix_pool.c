/* test_model_prefix_pool.c - sessions lending each other prompt prefixes
 * (glimp_prefix_pool), on ../shared/ref's lq-q8_0 model and its prompt p2:
 *  - a member takes exactly what another settled (all of it, part of it,
 *    nothing while the donor is claimed), never what it holds already, and
 *    never from a non-member; a non-member borrows nothing;
 *  - a session that borrowed and appended the rest ends with the logits of
 *    the donor that computed everything itself (bit for bit) and near the
 *    reference's (llama.cpp, ref/expected.tsv's tolerances for lq-q8_0 p2);
 *  - threads: a donor that keeps claiming, truncating, recomputing and
 *    settling while another thread borrows from it; every borrow ends in
 *    the same logits (TSan checks the locking). */
#include <pthread.h>

#include "glimp.h"
#include "test_model_util.h"

#define REF_TOL_MAX 0.32 /* ref/expected.tsv, lq-q8_0.gguf p2 */
#define REF_TOL_MEAN 0.054

static glimp_model *model;
static lgt_file p2;
static size_t n, nv;
static float *want; /* the logits after all of p2, computed by one session alone */

static glimp_session *session(void)
{
    glimp_error err = {0};
    glimp_session_params sp = glimp_session_default_params();
    sp.n_threads = 1;
    glimp_session *s = glimp_session_create(model, &sp, &err);
    REQUIRE(s, "session: %s", err.msg);
    return s;
}

static bool sync_p2(glimp_session *s)
{
    glimp_error err = {0};
    return glimp_session_sync(s, p2.tokens, n, NULL, &err) == GLIMP_OK;
}

static bool holds_p2(const glimp_session *s, size_t k)
{
    return glimp_session_n_tokens(s) == k &&
           !memcmp(glimp_session_tokens(s), p2.tokens, k * sizeof *p2.tokens);
}

static void test_lending(void)
{
    glimp_error err = {0};
    glimp_prefix_pool *pool = glimp_prefix_pool_create(&err);
    REQUIRE(pool, "pool: %s", err.msg);
    glimp_session *donor = session(), *b = session(), *c = session(), *out = session();
    CHECK(glimp_prefix_pool_add(pool, donor, &err) == GLIMP_OK &&
              glimp_prefix_pool_add(pool, b, &err) == GLIMP_OK &&
              glimp_prefix_pool_add(pool, c, &err) == GLIMP_OK, "add: %s", err.msg);
    CHECK(glimp_prefix_pool_add(pool, b, &err) == GLIMP_ERR_ARG, "a member twice");
    REQUIRE(sync_p2(donor), "donor computes p2");
    want = malloc(nv * sizeof *want);
    REQUIRE(want, "oom");
    memcpy(want, glimp_session_logits(donor), nv * sizeof *want);

    CHECK(glimp_prefix_pool_borrow(pool, b, p2.tokens, n) == 0, "nothing settled: nothing lent");
    glimp_prefix_pool_settle(pool, donor, 40);
    CHECK(glimp_prefix_pool_borrow(pool, b, p2.tokens, n) == 40 && holds_p2(b, 40),
          "b takes the 40 settled tokens (holds %zu)", glimp_session_n_tokens(b));
    CHECK(glimp_prefix_pool_borrow(pool, out, p2.tokens, n) == 0 && holds_p2(out, 0),
          "a non-member borrows nothing");
    glimp_prefix_pool_settle(pool, donor, n);
    CHECK(glimp_prefix_pool_borrow(pool, b, p2.tokens, 60) == 20 && holds_p2(b, 60),
          "b takes rows 40..60 of a 60-token prompt, not what it holds (holds %zu)",
          glimp_session_n_tokens(b));
    CHECK(glimp_prefix_pool_borrow(pool, b, p2.tokens, n) == n - 60 && holds_p2(b, n),
          "b takes the rest");
    CHECK(!glimp_session_logits(b), "a copy brings no logits");
    REQUIRE(sync_p2(b), "b syncs p2");
    CHECK(!memcmp(glimp_session_logits(b), want, nv * sizeof *want),
          "borrowed + last token recomputed = computed alone, bit for bit");
    const float *ref = p2.logits + (size_t)(p2.n_pos - 1) * nv;
    double dmax = max_abs_diff(glimp_session_logits(b), ref, nv), dsum = 0;
    for (size_t i = 0; i < nv; i++) dsum += fabs((double)glimp_session_logits(b)[i] - ref[i]);
    printf("borrowed p2 vs reference: max %.4f, mean %.5f\n", dmax, dsum / (double)nv);
    CHECK(dmax <= REF_TOL_MAX && dsum / (double)nv <= REF_TOL_MEAN,
          "vs reference: max %g, mean %g", dmax, dsum / (double)nv);

    glimp_prefix_pool_claim(pool, donor);
    glimp_prefix_pool_claim(pool, b);
    CHECK(glimp_prefix_pool_borrow(pool, c, p2.tokens, n) == 0, "claimed members lend nothing");
    glimp_prefix_pool_settle(pool, b, 30);
    CHECK(glimp_prefix_pool_borrow(pool, c, p2.tokens, n) == 30 && holds_p2(c, 30),
          "c takes b's 30 settled tokens");
    glimp_prefix_pool_remove(pool, b);
    glimp_prefix_pool_remove(pool, b); /* no longer a member: nothing */
    glimp_prefix_pool_settle(pool, b, n);
    glimp_session_truncate(c, 0, NULL);
    CHECK(glimp_prefix_pool_borrow(pool, c, p2.tokens, n) == 0, "removed members lend nothing");
    CHECK(glimp_prefix_pool_copied(pool) == 40 + 20 + (n - 60) + 30, "copied count %llu",
          glimp_prefix_pool_copied(pool));
    glimp_prefix_pool_remove(pool, donor);
    glimp_prefix_pool_remove(pool, c);
    glimp_prefix_pool_free(pool);
    glimp_session_free(donor);
    glimp_session_free(b);
    glimp_session_free(c);
    glimp_session_free(out);
}

typedef struct donor_job {
    glimp_prefix_pool *pool;
    glimp_session *s;
    int rounds;
    bool ok;
} donor_job;

/* Claims, drops a varying tail, recomputes it and settles, round after round. */
static void *donor_loop(void *arg)
{
    donor_job *d = arg;
    d->ok = true;
    for (int r = 0; r < d->rounds; r++) {
        glimp_prefix_pool_claim(d->pool, d->s);
        glimp_session_truncate(d->s, (size_t)(10 + (r * 37) % (int)(n - 10)), NULL);
        d->ok &= sync_p2(d->s);
        glimp_prefix_pool_settle(d->pool, d->s, n);
    }
    return NULL;
}

static void test_threads(void)
{
    glimp_error err = {0};
    glimp_prefix_pool *pool = glimp_prefix_pool_create(&err);
    REQUIRE(pool, "pool: %s", err.msg);
    glimp_session *d = session(), *b = session();
    REQUIRE(glimp_prefix_pool_add(pool, d, &err) == GLIMP_OK &&
                glimp_prefix_pool_add(pool, b, &err) == GLIMP_OK, "add: %s", err.msg);
    donor_job job = {pool, d, 12, false};
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, donor_loop, &job) == 0, "thread");
    int same = 0, rounds = 12;
    size_t lent = 0;
    for (int r = 0; r < rounds; r++) {
        glimp_prefix_pool_claim(pool, b);
        glimp_session_truncate(b, 0, NULL);
        lent += glimp_prefix_pool_borrow(pool, b, p2.tokens, n);
        same += sync_p2(b) && !memcmp(glimp_session_logits(b), want, nv * sizeof *want);
        glimp_prefix_pool_settle(pool, b, n);
    }
    pthread_join(t, NULL);
    printf("threads: %d of %d rounds equal, %zu tokens borrowed\n", same, rounds, lent);
    CHECK(job.ok && same == rounds, "donor ok %d, %d of %d rounds equal", job.ok, same, rounds);
    glimp_prefix_pool_remove(pool, d);
    glimp_prefix_pool_remove(pool, b);
    glimp_prefix_pool_free(pool);
    glimp_session_free(d);
    glimp_session_free(b);
}

int main(void)
{
    char path[4200];
    const char *dir = test_shared_or_skip("ref");
    glimp_error err = {0};
    snprintf(path, sizeof path, "%s/lq-q8_0.p2.logits.bin", dir);
    int read_ok = lgt_read(path, &p2);
    REQUIRE(read_ok && p2.n_pos == p2.n_tokens, "read %s (all positions)", path);
    snprintf(path, sizeof path, "%s/lq-q8_0.gguf", dir);
    model = glimp_model_load(path, NULL, &err);
    REQUIRE(model, "load: %s", err.msg);
    n = (size_t)p2.n_tokens;
    nv = glimp_model_n_vocab(model);
    REQUIRE(nv == (size_t)p2.n_vocab && n > 60, "shapes");
    test_lending();
    test_threads();
    free(want);
    glimp_model_free(model);
    lgt_free(&p2);
    return test_finish();
}
