/* router_impl.h - internal helpers shared by the router's files. */
#ifndef GLIMP_ROUTER_IMPL_H
#define GLIMP_ROUTER_IMPL_H

#include "glimp.h"

/* GLIMP_ERR_ARG naming the first parameter out of range. */
glimp_status router_check_params(const glimp_router_params *p, glimp_error *err);

#endif
