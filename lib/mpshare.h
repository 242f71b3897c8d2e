/* mpshare.h — the umbrella header
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#define MPSHARE_INSIDE

#include "mp-error.h"
#include "mp-gvalue.h"
#include "mp-serialize.h"
#include "mp-args.h"
#include "mp-process.h"
#include "mp-forkserver.h"
#include "mp-pool.h"
#include "mp-sync.h"
#include "mp-shared-memory.h"
#include "mp-resource-tracker.h"
#include "mp-shared.h"
#include "mp-connection.h"
#include "mp-auth.h"
#include "mp-connect.h"
#include "mp-listener.h"
#include "mp-manager.h"
#include "mp-proxy.h"
#include "mp-context.h"
#include "mp-catalog.h"
#include "mp-explain.h"
#include "mp-trace.h"
#include "mp-timeline.h"
#include "mp-check.h"

#undef MPSHARE_INSIDE
