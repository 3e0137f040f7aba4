/*
 * internal.h - every internal header of libshmkit at once, for the unit
 * tests and fuzz targets (tests/), which reach into all the modules.
 * The library's own files include the module headers they use, never
 * this one (tests/layers.sh checks it).  Nothing here is public API.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_INTERNAL_H
#define SHMKIT_INTERNAL_H

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shmkit.h"
#include "atomics.h"
#include "format.h"
/* 1: building blocks */
#include "error.h"
#include "proc.h"
#include "copy.h"
#include "hooks.h"
#include "fault.h"
#include "holder.h"
/* 2: specs */
#include "spec.h"
/* 3: backends and wait mechanisms */
#include "backend.h"
#include "wait.h"
/* 4: header */
#include "header.h"
/* 5: segments and leases */
#include "segment.h"
#include "lease.h"
/* 6: slot and ring */
#include "handle.h"
#include "slot.h"
#include "ring.h"

#endif /* SHMKIT_INTERNAL_H */
