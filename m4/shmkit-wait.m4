# shmkit-wait.m4 - choose the wait/wake mechanism of libshmkit.
# SPDX-License-Identifier: BSD-2-Clause
#
# SHMKIT_WAIT_MECHANISM
# ---------------------
# Handles --with-wait=auto|futex|umtx|openbsd-futex|netbsd-futex|darwin|
# sysv-sem|poll (default auto; --without-wait means poll).  Every probe
# compiles or links, none runs a program, so cross-compiling to the BSDs and
# macOS detects their native primitive.
#
# auto takes the first available of, best first:
#   futex          Linux futex(2) on shared mappings (not with
#                  --enable-portable-profile, whose point is to run the
#                  code the BSDs run)
#   umtx           FreeBSD _umtx_op(2) UMTX_OP_WAIT_UINT / UMTX_OP_WAKE
#   openbsd-futex  OpenBSD futex(2), process-shared since 6.4
#   netbsd-futex   NetBSD __futex system call
#   darwin         macOS os_sync_wait_on_address (14.4+ SDK and deployment
#                  target), else the private but stable __ulock_wait (10.12+)
#   sysv-sem       System V semaphores, one set of SK_WAIT_WORDS per segment
#   poll           nanosleep with backoff, always available
#
# Results:
#   wait_mechanism         shell variable and AC_SUBST: the name above
#   wait_mechanism_detail  shell variable for the summary, e.g. "darwin (ulock)"
#   SHMKIT_MECH_FUTEX, SHMKIT_MECH_UMTX, SHMKIT_MECH_OPENBSD_FUTEX,
#   SHMKIT_MECH_NETBSD_FUTEX, SHMKIT_MECH_DARWIN, SHMKIT_MECH_SYSV_SEM,
#   SHMKIT_MECH_POLL       the mechanism of new segments: exactly one is
#                          defined to 1 (SHMKIT_MECH_*: mechanisms; the
#                          public SHMKIT_WAIT_* of shmkit.h are wait modes)
#   SHMKIT_MECH_NAME       its name, as a C string
#   SHMKIT_HAVE_LINUX_FUTEX, SHMKIT_HAVE_UMTX, SHMKIT_HAVE_OPENBSD_FUTEX,
#   SHMKIT_HAVE_NETBSD_FUTEX, SHMKIT_HAVE_DARWIN_OS_SYNC,
#   SHMKIT_HAVE_DARWIN_ULOCK, SHMKIT_HAVE_SYSV_SEM   what the platform has,
#                          whatever was chosen: a process can then still wake
#                          the waiters of a segment made by another build
#   AM_CONDITIONAL MECH_FUTEX, MECH_UMTX, MECH_OPENBSD_FUTEX,
#   MECH_NETBSD_FUTEX, MECH_DARWIN, MECH_SYSV_SEM   the same, to compile
#                          src/wait-futex.c, wait-umtx.c, wait-openbsd.c,
#                          wait-netbsd.c, wait-darwin.c, wait-sem.c
#   HAVE_SEMTIMEDOP        timed System V semaphore waits can sleep
AC_DEFUN([SHMKIT_WAIT_MECHANISM], [
AC_ARG_WITH([wait],
  [AS_HELP_STRING([--with-wait=MECH],
    [wait/wake mechanism: auto, futex, umtx, openbsd-futex, netbsd-futex,
     darwin, sysv-sem or poll @<:@default=auto@:>@])],
  [], [with_wait=auto])
AS_CASE([$with_wait],
  [yes], [with_wait=auto],
  [no], [with_wait=poll],
  [auto|futex|umtx|openbsd-futex|netbsd-futex|darwin|sysv-sem|poll], [],
  [AC_MSG_ERROR([--with-wait=$with_wait: unknown mechanism; use auto, futex, umtx, openbsd-futex, netbsd-futex, darwin, sysv-sem or poll])])

# Linux: the futex system call.  FUTEX_WAIT and FUTEX_WAKE without
# FUTEX_PRIVATE_FLAG work across processes on shared mappings.
AC_CACHE_CHECK([for the Linux futex system call], [shmkit_cv_wait_linux_futex],
  [AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#include <sys/syscall.h>
#include <linux/futex.h>
]], [[
long nr = SYS_futex;
int ops = FUTEX_WAIT + FUTEX_WAKE;
return (int)nr + ops;
]])], [shmkit_cv_wait_linux_futex=yes], [shmkit_cv_wait_linux_futex=no])])

# FreeBSD: _umtx_op(2).  UMTX_OP_WAIT_UINT picks the process-shared sleep
# queue by itself when the word lies in a shared mapping.
AC_CACHE_CHECK([for FreeBSD _umtx_op with UMTX_OP_WAIT_UINT], [shmkit_cv_wait_umtx],
  [AC_LINK_IFELSE([AC_LANG_PROGRAM([[
#include <sys/types.h>
#include <sys/umtx.h>
]], [[
unsigned int w = 0;
struct _umtx_time t;
t._flags = UMTX_ABSTIME;
(void)t;
return _umtx_op(&w, UMTX_OP_WAKE, 1, 0, 0) + UMTX_OP_WAIT_UINT;
]])], [shmkit_cv_wait_umtx=yes], [shmkit_cv_wait_umtx=no])])

# OpenBSD: futex(2), declared in <sys/futex.h> (NetBSD's header has only
# the constants, so the link test tells the two apart).
AC_CACHE_CHECK([for OpenBSD futex()], [shmkit_cv_wait_openbsd_futex],
  [AC_LINK_IFELSE([AC_LANG_PROGRAM([[
#include <stdint.h>
#include <sys/time.h>
#include <sys/futex.h>
]], [[
volatile uint32_t w = 0;
return futex(&w, FUTEX_WAKE, 1, (const struct timespec *)0, (volatile uint32_t *)0) + FUTEX_WAIT;
]])], [shmkit_cv_wait_openbsd_futex=yes], [shmkit_cv_wait_openbsd_futex=no])])

# NetBSD: the __futex system call (NetBSD 10), reached through syscall(2).
AC_CACHE_CHECK([for the NetBSD __futex system call], [shmkit_cv_wait_netbsd_futex],
  [AC_LINK_IFELSE([AC_LANG_PROGRAM([[
#include <sys/syscall.h>
#include <sys/futex.h>
#include <unistd.h>
]], [[
int w = 0;
return syscall(SYS___futex, &w, FUTEX_WAKE, 1, (void *)0, (void *)0, 0, 0) + FUTEX_WAIT;
]])], [shmkit_cv_wait_netbsd_futex=yes], [shmkit_cv_wait_netbsd_futex=no])])

# macOS 14.4+: os_sync_wait_on_address.  Only when the deployment target is
# 14.4 or later too; otherwise the binary would not load on older systems.
AC_CACHE_CHECK([for os_sync_wait_on_address (macOS 14.4+)], [shmkit_cv_wait_darwin_os_sync],
  [AC_LINK_IFELSE([AC_LANG_PROGRAM([[
#include <Availability.h>
#include <stdint.h>
#include <os/os_sync_wait_on_address.h>
#include <os/clock.h>
#if !defined(__MAC_OS_X_VERSION_MIN_REQUIRED) || __MAC_OS_X_VERSION_MIN_REQUIRED < 140400
#error the deployment target predates os_sync_wait_on_address
#endif
]], [[
uint32_t w = 0;
return os_sync_wake_by_address_all(&w, sizeof w, OS_SYNC_WAKE_BY_ADDRESS_SHARED)
       + OS_SYNC_WAIT_ON_ADDRESS_SHARED + (int)OS_CLOCK_MACH_ABSOLUTE_TIME;
]])], [shmkit_cv_wait_darwin_os_sync=yes], [shmkit_cv_wait_darwin_os_sync=no])])

# macOS 10.12+: __ulock_wait/__ulock_wake, exported by libSystem but
# declared in no public header (wait-darwin.c declares them).
AC_CACHE_CHECK([for __ulock_wait (macOS 10.12+)], [shmkit_cv_wait_darwin_ulock],
  [AC_LINK_IFELSE([AC_LANG_PROGRAM([[
#include <stdint.h>
#ifndef __APPLE__
#error not Darwin
#endif
extern int __ulock_wait(uint32_t operation, void *addr, uint64_t value, uint32_t timeout_us);
extern int __ulock_wake(uint32_t operation, void *addr, uint64_t wake_value);
]], [[
uint32_t w = 0;
return __ulock_wake(3u | 0x100u, &w, 0) + __ulock_wait(3u, &w, 1, 1);
]])], [shmkit_cv_wait_darwin_ulock=yes], [shmkit_cv_wait_darwin_ulock=no])])

# System V semaphores: everywhere, but jails and sandboxes may lack them at
# run time (then waiting degrades to polling).
AC_CACHE_CHECK([for System V semaphores], [shmkit_cv_wait_sysv_sem],
  [AC_LINK_IFELSE([AC_LANG_PROGRAM([[
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>
]], [[
struct sembuf op;
int id = semget(IPC_PRIVATE, 1, 0);
op.sem_num = 0;
op.sem_op = 0;
op.sem_flg = 0;
return semop(id, &op, 1) + semctl(id, 0, IPC_RMID);
]])], [shmkit_cv_wait_sysv_sem=yes], [shmkit_cv_wait_sysv_sem=no])])
shmkit_wait_sysv_sem=$shmkit_cv_wait_sysv_sem

# semtimedop, declared (the bare reference fails to compile otherwise,
# where a call might only warn): timed semaphore waits that sleep.  Linux
# and NetBSD have it.
AS_IF([test "x$shmkit_wait_sysv_sem" = xyes], [
  AC_CACHE_CHECK([for semtimedop], [shmkit_cv_func_semtimedop],
    [AC_LINK_IFELSE([AC_LANG_PROGRAM([[
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>
]], [[
struct sembuf op;
struct timespec ts;
(void)semtimedop;
op.sem_num = 0;
op.sem_op = 0;
op.sem_flg = 0;
ts.tv_sec = 0;
ts.tv_nsec = 0;
return semtimedop(0, &op, 1, &ts);
]])], [shmkit_cv_func_semtimedop=yes], [shmkit_cv_func_semtimedop=no])])
  AS_IF([test "x$shmkit_cv_func_semtimedop" = xyes],
        [AC_DEFINE([HAVE_SEMTIMEDOP], [1], [Define to 1 if semtimedop is declared and links.])])
])

# What the platform has, whatever is chosen below.
AS_IF([test "x$shmkit_cv_wait_linux_futex" = xyes],
      [AC_DEFINE([SHMKIT_HAVE_LINUX_FUTEX], [1], [Define to 1 if the Linux futex system call is available.])])
AS_IF([test "x$shmkit_cv_wait_umtx" = xyes],
      [AC_DEFINE([SHMKIT_HAVE_UMTX], [1], [Define to 1 if FreeBSD _umtx_op is available.])])
AS_IF([test "x$shmkit_cv_wait_openbsd_futex" = xyes],
      [AC_DEFINE([SHMKIT_HAVE_OPENBSD_FUTEX], [1], [Define to 1 if OpenBSD futex() is available.])])
AS_IF([test "x$shmkit_cv_wait_netbsd_futex" = xyes],
      [AC_DEFINE([SHMKIT_HAVE_NETBSD_FUTEX], [1], [Define to 1 if the NetBSD __futex system call is available.])])
AS_IF([test "x$shmkit_cv_wait_darwin_os_sync" = xyes],
      [AC_DEFINE([SHMKIT_HAVE_DARWIN_OS_SYNC], [1], [Define to 1 if macOS os_sync_wait_on_address is usable.])])
AS_IF([test "x$shmkit_cv_wait_darwin_ulock" = xyes],
      [AC_DEFINE([SHMKIT_HAVE_DARWIN_ULOCK], [1], [Define to 1 if macOS __ulock_wait is available.])])
AS_IF([test "x$shmkit_wait_sysv_sem" = xyes],
      [AC_DEFINE([SHMKIT_HAVE_SYSV_SEM], [1], [Define to 1 if System V semaphores are available.])])
AM_CONDITIONAL([MECH_FUTEX], [test "x$shmkit_cv_wait_linux_futex" = xyes])
AM_CONDITIONAL([MECH_UMTX], [test "x$shmkit_cv_wait_umtx" = xyes])
AM_CONDITIONAL([MECH_OPENBSD_FUTEX], [test "x$shmkit_cv_wait_openbsd_futex" = xyes])
AM_CONDITIONAL([MECH_NETBSD_FUTEX], [test "x$shmkit_cv_wait_netbsd_futex" = xyes])
AM_CONDITIONAL([MECH_DARWIN],
               [test "x$shmkit_cv_wait_darwin_os_sync" = xyes || test "x$shmkit_cv_wait_darwin_ulock" = xyes])
AM_CONDITIONAL([MECH_SYSV_SEM], [test "x$shmkit_wait_sysv_sem" = xyes])

# Which mechanisms can be chosen.
shmkit_wait_usable_futex=$shmkit_cv_wait_linux_futex
AS_IF([test "x$enable_portable_profile" = xyes], [shmkit_wait_usable_futex=no])
shmkit_wait_usable_darwin=no
AS_IF([test "x$shmkit_cv_wait_darwin_os_sync" = xyes || test "x$shmkit_cv_wait_darwin_ulock" = xyes],
      [shmkit_wait_usable_darwin=yes])

AC_MSG_CHECKING([which wait/wake mechanism to use])
AS_IF([test "x$with_wait" = xauto], [
  AS_IF([test "x$shmkit_wait_usable_futex" = xyes], [wait_mechanism=futex],
        [test "x$shmkit_cv_wait_umtx" = xyes], [wait_mechanism=umtx],
        [test "x$shmkit_cv_wait_openbsd_futex" = xyes], [wait_mechanism=openbsd-futex],
        [test "x$shmkit_cv_wait_netbsd_futex" = xyes], [wait_mechanism=netbsd-futex],
        [test "x$shmkit_wait_usable_darwin" = xyes], [wait_mechanism=darwin],
        [test "x$shmkit_wait_sysv_sem" = xyes], [wait_mechanism=sysv-sem],
        [wait_mechanism=poll])
], [
  shmkit_wait_ok=yes
  AS_CASE([$with_wait],
    [futex], [shmkit_wait_ok=$shmkit_wait_usable_futex],
    [umtx], [shmkit_wait_ok=$shmkit_cv_wait_umtx],
    [openbsd-futex], [shmkit_wait_ok=$shmkit_cv_wait_openbsd_futex],
    [netbsd-futex], [shmkit_wait_ok=$shmkit_cv_wait_netbsd_futex],
    [darwin], [shmkit_wait_ok=$shmkit_wait_usable_darwin],
    [sysv-sem], [shmkit_wait_ok=$shmkit_wait_sysv_sem])
  AS_IF([test "x$shmkit_wait_ok" != xyes], [
    AC_MSG_RESULT([unavailable])
    AS_IF([test "x$with_wait" = xfutex && test "x$shmkit_cv_wait_linux_futex" = xyes],
          [AC_MSG_ERROR([--with-wait=futex conflicts with --enable-portable-profile, which turns the Linux futex off])])
    AC_MSG_ERROR([--with-wait=$with_wait: this mechanism is not available for $host (see config.log for the failed probe); use --with-wait=auto])
  ])
  wait_mechanism=$with_wait
])

wait_mechanism_detail=$wait_mechanism
AS_CASE([$wait_mechanism],
  [futex], [AC_DEFINE([SHMKIT_MECH_FUTEX], [1], [Define to 1 to wait with the Linux futex.])],
  [umtx], [AC_DEFINE([SHMKIT_MECH_UMTX], [1], [Define to 1 to wait with FreeBSD _umtx_op.])],
  [openbsd-futex], [AC_DEFINE([SHMKIT_MECH_OPENBSD_FUTEX], [1], [Define to 1 to wait with OpenBSD futex().])],
  [netbsd-futex], [AC_DEFINE([SHMKIT_MECH_NETBSD_FUTEX], [1], [Define to 1 to wait with the NetBSD __futex system call.])],
  [darwin], [
    AC_DEFINE([SHMKIT_MECH_DARWIN], [1], [Define to 1 to wait with a macOS primitive.])
    # src/wait-darwin.c waits with os_sync where the build has it.
    AS_IF([test "x$shmkit_cv_wait_darwin_os_sync" = xyes],
          [wait_mechanism_detail="darwin (os_sync)"],
          [wait_mechanism_detail="darwin (ulock)"])],
  [sysv-sem], [
    AC_DEFINE([SHMKIT_MECH_SYSV_SEM], [1], [Define to 1 to wait with System V semaphores.])
    AS_IF([test "x$shmkit_cv_func_semtimedop" != xyes],
          [wait_mechanism_detail="sysv-sem (no semtimedop: timed waits poll)"])],
  [poll], [AC_DEFINE([SHMKIT_MECH_POLL], [1], [Define to 1 to wait by polling with nanosleep.])])
AC_MSG_RESULT([$wait_mechanism_detail])
AC_DEFINE_UNQUOTED([SHMKIT_MECH_NAME], ["$wait_mechanism"],
                   [The wait/wake mechanism chosen by configure.])
AC_SUBST([wait_mechanism])
])
