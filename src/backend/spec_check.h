/* spec_check.h - the model drafter's vocabulary rule (spec_check.c). */
#ifndef GLIMP_BACKEND_SPEC_CHECK_H
#define GLIMP_BACKEND_SPEC_CHECK_H

#include "glimp.h"

/* GLIMP_OK when both vocabularies have the same token strings over their
 * shared id range; GLIMP_ERR_UNSUPPORTED naming the first difference. */
glimp_status spec_vocab_check(const glimp_tokenizer *target, const glimp_tokenizer *draft,
                              glimp_error *err);

#endif
