/* spec_check.c - whether a backend can run a speculation setting: the
 * mode's names, the draft lengths, and the vocabulary rule of the model
 * drafter (the draft's token strings equal the target's over their shared
 * id range, so a drafted id means the same text to both models).
 *
 * Failure: GLIMP_ERR_ARG for bad lengths or a missing draft,
 * GLIMP_ERR_UNSUPPORTED with the reason when the pair cannot speculate.
 */
#include "backend/backend_impl.h"
#include "backend/spec_check.h"

#include "base/error.h"

#include <string.h>

static const char *const mode_names[] = {
    [GLIMP_SPEC_OFF] = "off", [GLIMP_SPEC_MODEL] = "model", [GLIMP_SPEC_NGRAM] = "ngram"};

const char *glimp_spec_mode_name(glimp_spec_mode mode)
{
    return (unsigned)mode <= GLIMP_SPEC_NGRAM ? mode_names[mode] : "unknown";
}

glimp_status glimp_spec_parse_mode(const char *text, glimp_spec_mode *mode, glimp_error *err)
{
    for (int i = 0; i <= GLIMP_SPEC_NGRAM; i++)
        if (text && !strcmp(text, mode_names[i])) {
            *mode = (glimp_spec_mode)i;
            return GLIMP_OK;
        }
    return glimp_error_set(err, GLIMP_ERR_ARG, "speculation '%s': use model, ngram or off",
                           text ? text : "");
}

glimp_status glimp_backend_spec_check(glimp_backend *target, const glimp_spec_params *spec,
                                      glimp_error *err)
{
    if (!target || !spec) return glimp_error_set(err, GLIMP_ERR_ARG, "speculation: NULL argument");
    if (spec->mode == GLIMP_SPEC_OFF) return GLIMP_OK;
    if ((unsigned)spec->mode > GLIMP_SPEC_NGRAM)
        return glimp_error_set(err, GLIMP_ERR_ARG, "speculation: unknown mode %d", (int)spec->mode);
    if (spec->draft_min < 1 || spec->draft_max < spec->draft_min ||
        spec->draft_max > GLIMP_SPEC_DRAFT_LIMIT)
        return glimp_error_set(err, GLIMP_ERR_ARG,
                               "speculation: draft lengths %d..%d (need 1 <= min <= max <= %d)",
                               spec->draft_min, spec->draft_max, GLIMP_SPEC_DRAFT_LIMIT);
    if (spec->mode == GLIMP_SPEC_MODEL && !spec->draft)
        return glimp_error_set(err, GLIMP_ERR_ARG, "speculation: mode model needs a draft backend");
    return backend_spec_check(target, spec, err);
}

glimp_status spec_vocab_check(const glimp_tokenizer *target, const glimp_tokenizer *draft,
                              glimp_error *err)
{
    const int32_t nt = glimp_tokenizer_n_vocab(target), nd = glimp_tokenizer_n_vocab(draft);
    const int32_t shared = nt < nd ? nt : nd;
    for (int32_t id = 0; id < shared; id++) {
        size_t lt = 0, ld = 0;
        const char *a = glimp_token_text(target, id, &lt), *b = glimp_token_text(draft, id, &ld);
        if (!a || !b || lt != ld || memcmp(a, b, lt))
            return glimp_error_set(err, GLIMP_ERR_UNSUPPORTED,
                                   "the draft's vocabulary differs from the model's at token %d "
                                   "('%.*s' vs '%.*s'): speculation off for this pair",
                                   (int)id, (int)(ld > 40 ? 40 : ld), b ? b : "",
                                   (int)(lt > 40 ? 40 : lt), a ? a : "");
    }
    if (shared == 0)
        return glimp_error_set(err, GLIMP_ERR_UNSUPPORTED, "the draft has an empty vocabulary");
    return GLIMP_OK;
}
