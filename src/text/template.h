/* template.h - chat templates (internal API): the static template objects
 * and detection from an open GGUF file.
 *
 * Rendering fails only with GLIMP_ERR_ARG (bad arguments) or GLIMP_ERR_NOMEM;
 * detection fails with GLIMP_ERR_NOT_FOUND when no template matches.
 */
#ifndef GLIMP_TEXT_TEMPLATE_H
#define GLIMP_TEXT_TEMPLATE_H

#include "glimp.h"
#include "gguf/gguf.h"

/* The template for an open file (see glimp_template_from_gguf). */
const glimp_template *template_from_gguf_file(const gguf_file *f, glimp_error *err);

#endif
