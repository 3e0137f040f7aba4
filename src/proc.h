/*
 * proc.h - processes, their start times and PID namespaces; the clock
 * (proc.c).  Internal to libshmkit.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_PROC_H
#define SHMKIT_PROC_H

#include <stdint.h>

/* 32-bit token of a process's start time, never 0 when known; 0 when the
 * platform cannot tell or the process does not exist. */
uint32_t shmkit__proc_start_token(long pid);
/* 64-bit start time in platform units (0 unknown), for the header. */
uint64_t shmkit__proc_start_time(long pid);
/* The 32-bit token of a 64-bit start time (0 stays 0). */
uint32_t shmkit__token_from_start(uint64_t start);
/* 1 if a process with PID exists, 0 if not. */
int shmkit__proc_exists(long pid);
/* 1 if the process identified by PID and start TOKEN (0 = unknown) is alive,
 * 0 if it is dead or its pid was reused. */
int shmkit__proc_alive(long pid, uint32_t token);
uint32_t shmkit__self_token(void);
/* 32-bit id of this process's PID namespace, never 0 when known; 0 where
 * the system has none or cannot tell (Linux without /proc). */
uint32_t shmkit__pidns_self(void);
/* 1 if a pid recorded with namespace id NS can be judged by its number
 * here: NS is ours, or 0 (not recorded: format 1.0, or no namespaces). */
int shmkit__pidns_is_mine(uint32_t ns);

/* ---- time ---------------------------------------------------------- */

uint64_t shmkit__monotonic_ns(void);
void shmkit__sleep_ns(uint64_t ns);

#endif /* SHMKIT_PROC_H */
