/*
 * fault.c - a segment that shrinks under its mapping must not crash us.
 *
 * Whoever may write a POSIX shared memory object may also ftruncate it.
 * Touching a mapping past the new end of the object is then SIGBUS, whose
 * default action kills the process: any local user with write access
 * could kill every reader and writer of a segment, although doc/SECURITY.md
 * promises that such a user can damage the data but not crash the calls.
 * (System V segments cannot change size, and macOS allows one ftruncate
 * per object: neither can shrink.  See doc/PORTING.md.)
 *
 * The mechanism: a SIGBUS handler, installed once per process by the
 * first mapping of an object that can shrink, and a registry of those
 * mappings.  When a fault is in one of them, the handler maps private
 * anonymous zero pages over the whole mapping (MAP_FIXED, same
 * protection), marks it truncated and returns: the faulting access runs
 * again on the zero pages, so a read sees zeros and a write lands in a
 * page that no other process sees.  Every library operation asks
 * sk_fault_truncated() (one atomic load) after touching the mapping, and
 * returns SHMKIT_ECORRUPT, "segment truncated", instead of what it read.
 * Validation alone would not do: a zero header fails (no magic), but zero
 * slot words are a consistent slot at version 0 and a zero frame is an
 * empty message numbered 0, which a reader that expects message 0 takes.
 * The check also touches the mapping's last byte (shmkit__seg_verdict).
 *
 * Why this and not something else:
 *   - sigsetjmp/siglongjmp around every access puts a sigsetjmp (a system
 *     call where it saves the signal mask) on the fast paths, and jumping
 *     out of the middle of an operation leaves the handle half-updated;
 *     it cannot cover the zero-copy pointers the application holds at all.
 *   - fstat before every access is a system call on the fast path, and
 *     still racy: the object can shrink right after the fstat.
 *   - MAP_PRIVATE or reading with pread cannot share memory at all.
 *   - Sealing the object against shrinking (F_SEAL_SHRINK) works for
 *     Linux memfd objects, which have no name to open, and FreeBSD's
 *     sealable objects, not for the named objects of shm_open elsewhere;
 *     and a reader cannot rely on a seal that the creator did not set.
 * The handler costs nothing until a segment actually shrinks, and then
 * covers every access, the application's own through the zero-copy
 * pointers included.
 *
 * mmap is not on POSIX's list of async-signal-safe functions, but it is a
 * plain system call (no lock in the C library) on every system shmkit
 * supports: Linux (glibc, musl), the BSDs and macOS.  The handler
 * otherwise only does lock-free atomic loads and stores on the registry,
 * sigaction and raise.
 *
 * The handler is installed with SA_SIGINFO (it needs the fault address)
 * and SA_ONSTACK (an application that runs its handlers on an alternate
 * stack, for instance to report stack overflows, keeps doing so: without
 * an alternate stack the flag changes nothing); SA_RESTART and SA_NODEFER
 * are taken over from the previous handler, whose behaviour the
 * application chose, and so is its signal mask.  Never SA_RESETHAND: the
 * handler must stay for the next fault (a previous handler's SA_RESETHAND
 * is honoured by dropping it after its first call).  A SIGBUS that is not
 * a fault in a watched mapping goes to the previous handler; if that was
 * the default action, the default action is restored and the fault
 * happens again (or the signal is raised again if a process sent it), so
 * the process dies as it would have without shmkit, with its core dump.
 *
 * An application that installs its own SIGBUS handler after opening a
 * segment replaces this one; it must then pass the faults it does not
 * expect to the handler it replaced (as every library that handles SIGBUS
 * must), or a shrinking segment kills the process as before.  A process
 * whose SIGBUS disposition is back to the default at the next open gets
 * the handler again.  SHMKIT_NO_SIGBUS_HANDLER (set, non-empty, not "0")
 * in the environment keeps the library from ever installing it.
 *
 * Under valgrind, a handler that returns to the faulting access needs
 * --vex-iropt-register-updates=allregs-at-mem-access: otherwise valgrind
 * resumes the access with registers that are not up to date.
 *
 * Threads: several threads may fault at once, on one mapping or several:
 * the first one replaces the mapping, the others wait until it has.  A
 * mapping is unwatched before it is unmapped; a thread must not use a
 * handle (or a zero-copy pointer) while another closes it, which is a
 * use after free anyway.  The library must not be unloaded (dlclose)
 * while the handler is installed.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "atomics.h"
#include "fault.h"


#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif

/* sk_fault_map.use */
enum { USE_FREE = 0, USE_CLAIMED, USE_LIVE };

/* The registry: chunks of entries, linked, never freed, so that the
 * handler can walk it without a lock at any moment. */
#define CHUNK_MAPS 64

struct chunk {
    struct sk_fault_map maps[CHUNK_MAPS];
#if defined(HAVE_STDATOMIC_H) && !defined(__STDC_NO_ATOMICS__)
    struct chunk *_Atomic next;
#else
    struct chunk *next;
#endif
};

static struct chunk first_chunk;

static struct chunk *next_chunk(struct chunk *c)
{
#if defined(HAVE_STDATOMIC_H) && !defined(__STDC_NO_ATOMICS__)
    return atomic_load_explicit(&c->next, memory_order_acquire);
#else
    return __atomic_load_n(&c->next, __ATOMIC_ACQUIRE);
#endif
}

/* Link NEW after C if nothing is linked there yet. */
static int link_chunk(struct chunk *c, struct chunk *new_chunk)
{
    struct chunk *none = NULL;

#if defined(HAVE_STDATOMIC_H) && !defined(__STDC_NO_ATOMICS__)
    return atomic_compare_exchange_strong_explicit(&c->next, &none, new_chunk,
                                                   memory_order_acq_rel,
                                                   memory_order_acquire);
#else
    return __atomic_compare_exchange_n(&c->next, &none, new_chunk, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
#endif
}

/* The live entry whose mapping contains ADDR, or NULL.  Async-signal-safe. */
static struct sk_fault_map *find_live(const void *addr)
{
    uintptr_t a = (uintptr_t)addr;
    struct chunk *c;
    int i;

    for (c = &first_chunk; c != NULL; c = next_chunk(c)) {
        for (i = 0; i < CHUNK_MAPS; i++) {
            struct sk_fault_map *m = &c->maps[i];

            if (sk_load(&m->use, SK_ACQUIRE) == USE_LIVE && a >= (uintptr_t)m->base &&
                a - (uintptr_t)m->base < m->size)
                return m;
        }
    }
    return NULL;
}

/* A free entry, now claimed by the caller; NULL if out of memory. */
static struct sk_fault_map *claim_entry(void)
{
    for (;;) {
        struct chunk *c = &first_chunk, *last = c, *fresh;
        int i;

        for (; c != NULL; c = next_chunk(c)) {
            for (i = 0; i < CHUNK_MAPS; i++) {
                uint32_t expected = USE_FREE;

                if (sk_cas(&c->maps[i].use, &expected, USE_CLAIMED))
                    return &c->maps[i];
            }
            last = c;
        }
        fresh = calloc(1, sizeof *fresh);
        if (fresh == NULL)
            return NULL;
        if (!link_chunk(last, fresh))
            free(fresh); /* another thread added one: look again */
    }
}

/* ---- the handler ---------------------------------------------------- */

static struct sigaction previous;            /* SIGBUS before our handler */
static sk_atomic_u32 previous_spent;         /* its SA_RESETHAND took effect */
static sk_atomic_u32 install_lock;
static sk_atomic_u32 ever_installed;

/* A fault of the accessing instruction itself (it runs again if the
 * handler returns), as opposed to a signal sent by a process. */
static int from_fault(const siginfo_t *info)
{
    switch (info->si_code) {
#ifdef BUS_ADRALN
    case BUS_ADRALN:
#endif
#ifdef BUS_MCEERR_AR
    case BUS_MCEERR_AR:
#endif
    case BUS_ADRERR:
    case BUS_OBJERR:
        return 1;
    default:
        return 0;
    }
}

/* An access to a page that the object no longer backs: BUS_ADRERR on
 * Linux, BUS_OBJERR where the object's pager reports it (FreeBSD). */
static int past_the_end(const siginfo_t *info)
{
    return info->si_code == BUS_ADRERR || info->si_code == BUS_OBJERR;
}

/* Map zeros over M, once even if several threads fault on it at once.
 * The state says "truncated" before the zero pages appear, so that no
 * thread can read zeros and then find the mapping intact. */
static int replace_with_zeros(struct sk_fault_map *m)
{
    uint32_t state = SK_FAULT_INTACT;

    if (sk_cas(&m->state, &state, SK_FAULT_REPLACING)) {
        void *p = mmap(m->base, m->size, m->prot, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1,
                       0);

        state = p == m->base ? SK_FAULT_REPLACED : SK_FAULT_FAILED;
        sk_store(&m->state, state, SK_RELEASE);
        return state == SK_FAULT_REPLACED;
    }
    while (state == SK_FAULT_REPLACING)
        state = sk_load(&m->state, SK_ACQUIRE);
    return state == SK_FAULT_REPLACED;
}

/* What SIGBUS would have done without us. */
static void default_action(int sig, const siginfo_t *info)
{
    struct sigaction dfl;

    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    /* A fault happens again when we return, and kills with a core dump at
     * the faulting access; a sent signal is sent again (it stays pending
     * until the handler returns). */
    if (!from_fault(info))
        raise(sig);
}

static void pass_on(int sig, siginfo_t *info, void *context)
{
    struct sigaction prev = previous;

    if (sk_load(&previous_spent, SK_ACQUIRE)) {
        default_action(sig, info);
        return;
    }
#ifdef SA_RESETHAND
    if (prev.sa_flags & (int)SA_RESETHAND) /* unsigned on Linux */
        sk_store(&previous_spent, 1u, SK_RELEASE);
#endif
    if (prev.sa_flags & SA_SIGINFO) {
        prev.sa_sigaction(sig, info, context);
    } else if (prev.sa_handler == SIG_IGN) {
        if (from_fault(info)) /* a fault cannot be ignored */
            default_action(sig, info);
    } else if (prev.sa_handler == SIG_DFL) {
        default_action(sig, info);
    } else {
        prev.sa_handler(sig);
    }
}

static void on_sigbus(int sig, siginfo_t *info, void *context)
{
    int saved_errno = errno;
    struct sk_fault_map *m = NULL;

    if (info != NULL && past_the_end(info))
        m = find_live(info->si_addr);
    if (m == NULL || !replace_with_zeros(m))
        pass_on(sig, info, context);
    errno = saved_errno;
}

/* ---- installing it --------------------------------------------------- */

static int opted_out(void)
{
    const char *v = getenv("SHMKIT_NO_SIGBUS_HANDLER");

    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

static int is_ours(const struct sigaction *sa)
{
    return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == on_sigbus;
}

static int is_default(const struct sigaction *sa)
{
    return !(sa->sa_flags & SA_SIGINFO) && sa->sa_handler == SIG_DFL;
}

/* Install the handler in front of PREV, the current disposition. */
static void install(const struct sigaction *prev)
{
    struct sigaction sa;
    int keep = SA_RESTART;

#ifdef SA_NODEFER
    keep |= SA_NODEFER;
#endif
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | (prev->sa_flags & keep);
    if (is_default(prev) || (!(prev->sa_flags & SA_SIGINFO) && prev->sa_handler == SIG_IGN))
        sigemptyset(&sa.sa_mask);
    else
        sa.sa_mask = prev->sa_mask; /* the mask the previous handler asked for */
    previous = *prev;
    sk_store(&previous_spent, 0u, SK_RELEASE);
    if (sigaction(SIGBUS, &sa, NULL) == 0)
        sk_store(&ever_installed, 1u, SK_RELEASE);
}

/* Install the handler unless it is in place, the application replaced it
 * (its handler must pass on what it does not expect), or the environment
 * says not to.  Under a lock (not a signal handler's business): two
 * threads opening their first segments at once install it once.  A
 * fork() while another thread holds the lock would leave the child's
 * copy held; it is held for two sigaction calls only. */
static void ensure_handler(void)
{
    struct sigaction cur;
    uint32_t unlocked = 0;

    while (!sk_cas(&install_lock, &unlocked, 1u)) {
        unlocked = 0;
        sched_yield();
    }
    if (!opted_out() && sigaction(SIGBUS, NULL, &cur) == 0 && !is_ours(&cur) &&
        (!sk_load(&ever_installed, SK_ACQUIRE) || is_default(&cur)))
        install(&cur);
    sk_store(&install_lock, 0u, SK_RELEASE);
}

/* ---- the registry's interface ---------------------------------------- */

struct sk_fault_map *shmkit__fault_watch(void *base, size_t size, int writable)
{
    struct sk_fault_map *m = claim_entry();

    if (m == NULL)
        return NULL;
    m->base = base;
    m->size = size;
    m->prot = PROT_READ | (writable ? PROT_WRITE : 0);
    sk_store(&m->state, SK_FAULT_INTACT, SK_RELAXED);
    sk_store(&m->use, USE_LIVE, SK_RELEASE);
    ensure_handler();
    return m;
}

void shmkit__fault_unwatch(struct sk_fault_map *map)
{
    if (map != NULL)
        sk_store(&map->use, USE_FREE, SK_RELEASE);
}

int shmkit__fault_truncated_at(const void *addr)
{
    return sk_fault_truncated(find_live(addr));
}

void shmkit__fault_probe(const void *base, size_t size)
{
    if (base != NULL && size != 0)
        (void)*((const volatile unsigned char *)base + size - 1);
}

int shmkit__fault_handler_installed(void)
{
    struct sigaction cur;

    return sigaction(SIGBUS, NULL, &cur) == 0 && is_ours(&cur);
}
