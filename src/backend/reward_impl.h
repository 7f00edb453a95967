/* reward_impl.h - the reward model object shared by reward.c (the judge and
 * the public functions) and reward_prm.c (the process reward model served
 * over HTTP). Internal API. */
#ifndef GLIMP_BACKEND_REWARD_IMPL_H
#define GLIMP_BACKEND_REWARD_IMPL_H

#include "backend/http_client.h"
#include "glimp.h"

struct glimp_reward {
    glimp_backend *judge; /* judge: its backend; NULL for a prm */
    glimp_backend *owned; /* judge over its own model: == judge, freed with it */
    http_client *http;    /* prm */
    char *url;            /* prm: BASE/pooling */
    char *model;          /* prm: the server's model name */
    char *api_key;        /* prm: NULL when none */
    char *name;           /* glimp_reward_name() */
};

/* The prm's score of steps[n_steps - 1] (see glimp_reward_score). */
glimp_status reward_prm_score(glimp_reward *r, const char *question, const char *const *steps,
                              int n_steps, double *score, glimp_error *err);

/* Frees what a prm holds (the struct's other fields are reward.c's). */
void reward_prm_destroy(glimp_reward *r);

#endif
