// SPDX-License-Identifier: GPL-2.0
/* The goro tracepoints (module/trace.h) are instantiated here. */
#define CREATE_TRACE_POINTS
#include "trace.h"
