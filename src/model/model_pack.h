/* model_pack.h - the repacked copy of a model's Q8_0, F16 and BF16 matrices (model_pack.c). */
#ifndef GLIMP_MODEL_MODEL_PACK_H
#define GLIMP_MODEL_MODEL_PACK_H

#include "model/model.h"

/* Repacks every Q8_0, F16 and BF16 matrix with a multiple of 16 rows when this CPU has
 * the kernel for it (quant_r16.h); leaves the model as it is otherwise, or
 * when memory for the copy cannot be mapped. Call once, after loading. */
void model_pack(glimp_model *m);
/* Unmaps the packed copy (from glimp_model_free). */
void model_unpack(glimp_model *m);

#endif
