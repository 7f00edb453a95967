/* router_impl.h - the router's internals shared by its files: the router
 * object, the state of one run, and the step helpers every policy builds
 * on (router.c: the loop, glimp/llm/slm/random; router_draft.c: the
 * draft-then-decide policies hstep, pplstep, specreason (its judge in
 * router_specreason.c) and rsd (its reward in router_rsd.c);
 * router_speccot.c: speccot). Internal API. */
#ifndef GLIMP_ROUTER_IMPL_H
#define GLIMP_ROUTER_IMPL_H

#include "glimp.h"

/* Purposes of the generate calls, mixed into their seeds. */
enum { SEED_SLM = 1, SEED_LLM = 2, SEED_COIN = 3, SEED_ANSWER = 4 };

struct glimp_router {
    glimp_backend *be[2];  /* indexed by glimp_role */
    glimp_router_params p; /* p.delimiter == delimiter; p.reward == reward */
    char *delimiter;
    char **stop;           /* p.stop == stop: one block, pointers then strings */
    glimp_sampler *coin;   /* draws of random:P (temperature 1 over two outcomes) */
    glimp_spec_params spec; /* speculation of the LLM's calls, as in effect */
    const char *spec_name; /* result.spec */
    char spec_note[sizeof(((glimp_error *)0)->msg) + 32]; /* why not as asked; "" if it is */
    glimp_reward *own_reward; /* rsd without params.reward: a judge over the LLM */
};

/* State of one run, shared with the backend callbacks. */
typedef struct run {
    glimp_router *r;
    const glimp_router_callbacks *cb;
    const char *question;
    glimp_router_result *res;
    const char **texts;    /* (n_steps) step texts, for rendering */
    int cap;
    glimp_step *cur;       /* the step being written */
    glimp_role writer;     /* who the current pieces come from */
    int candidate;         /* speccot: which SLM draft (mixed into its seed when > 0) */
    bool decide;           /* glimp policy: the first-token hook dispatches */
    bool announce;         /* the hook announces an SLM step (on_step_begin) */
    bool cancelled;        /* a callback asked to stop */
    bool no_exact;         /* `exact` asked of a backend without it */
} run;

/* GLIMP_ERR_ARG naming the first parameter out of range. */
glimp_status router_check_params(const glimp_router_params *p, glimp_error *err);

/* The step's writer is known: tells on_step_begin (false: cancelled). */
bool router_begin_step(run *x, glimp_role model);
/* Streams a piece of the current step (false: cancelled). */
bool router_on_piece(void *user, const char *piece, size_t len);
/* GLIMP_ERR_CANCELLED with its message. */
glimp_status router_cancelled(glimp_error *err);

/* The stop strings of a thinking step, by the stop_index a generate call
 * reports: the delimiter, then the end of the thinking with the newline
 * that the template's markup puts before it and without. So a step's text
 * never keeps that newline, in the stream or in the result: the answer's
 * prompt adds "\n</think>" itself, and a kept newline made it read
 * "...\n\n</think>", a format the model never wrote (the demo LLM then
 * repeated a step as its answer). */
enum { ROUTER_STEP_STOPS = 3 };
void router_step_stops(const glimp_router *r, const char *stops[ROUTER_STEP_STOPS]);

/* One generate call for the current step by `role` after the rendered
 * finished steps; the SLM's first token goes through the first-token hook;
 * pieces stream when `stream`. Counts go to the step and the run. */
glimp_status router_write_step(run *x, glimp_role role, bool stream, glimp_gen_result *g,
                               glimp_error *err);
/* The step's text and counts come from the call g that wrote it. */
void router_keep_text(run *x, glimp_role role, glimp_gen_result *g, double probe_part);
/* The LLM writes the current step (streamed). */
glimp_status router_by_llm(run *x, glimp_error *err);

/* An SLM draft stands: it becomes the step's text (g->text taken) and is
 * announced and streamed as one piece. */
glimp_status router_accept_draft(run *x, glimp_gen_result *g, glimp_error *err);
/* hstep, pplstep, specreason, rsd: the SLM drafts silently, a score decides. */
glimp_status router_by_draft(run *x, glimp_error *err);
/* specreason's score of `draft`: the LLM's preferred digit 0-9. */
glimp_status router_specreason_score(run *x, const char *draft, double *score,
                                     glimp_error *err);
/* rsd's score of `draft`: the reward model's. */
glimp_status router_rsd_score(run *x, const char *draft, double *score, glimp_error *err);
/* speccot: N SLM drafts, the LLM keeps the likeliest or rewrites. */
glimp_status router_by_speccot(run *x, glimp_error *err);

#endif
