/*
 * wait-sem.c - System V semaphores, compiled where configure found them.
 *
 * The portable fallback: everywhere, though jails and sandboxes may lack
 * them at run time (then the creator's waits degrade to polling).  The
 * creator of a segment makes a set of SK_WAIT_WORDS semaphores and records
 * its id in the segment; the wait index selects the semaphore.
 *
 * A semaphore cannot compare a word in memory and sleep atomically, and a
 * counting semaphore used as a token pile loses wake-ups: a waiter that has
 * checked the word but not yet called semop is not counted by GETNCNT, and a
 * waiter that is woken, returns and waits again can take a token meant for
 * another one.  So the semaphore is not consumed at all; it is a generation
 * number G in [1, SK_SEM_GEN_LIMIT]:
 *
 *   waker:   G += 1  (or, at the limit, G = 1 in one semop that also adds)
 *   waiter:  g = GETVAL; re-check the word; then one atomic semop of
 *              { -g IPC_NOWAIT, +g }          G >= g, else G wrapped: return
 *              { -(g+1), +(g+1) }             sleep while G <= g
 *            which leaves G unchanged and sleeps only while no wake-up has
 *            happened since g was read.
 *
 * A wake-up that precedes the GETVAL also precedes the re-check (both are
 * ordered by the semaphore set's lock), so the waiter sees the new word; a
 * wake-up after the GETVAL makes G > g or G < g, and the semop does not
 * sleep, or stops sleeping: nothing can be lost, and no stale token is ever
 * left behind.  Every waiter blocked on the semaphore is woken by each
 * wake-up (broadcast), as the futex path does.  Semaphore operations are
 * applied in order and all or nothing, on Linux, the BSDs and macOS alike,
 * and sleepers re-evaluate their whole operation when woken.
 *
 * The one theoretical hole is an ABA: exactly SK_SEM_GEN_LIMIT - 1 wake-ups
 * (with waiters) between a waiter's GETVAL and its semop.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hooks.h"
#include "wait-mech.h"

#include <errno.h>
#include <string.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>

/* The fourth argument of semctl; callers define it (Linux does not). */
union sk_semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

/* IPC_STAT of SEMID into *DS: 0, or -1 (errno). */
static int sem_stat(int semid, struct semid_ds *ds)
{
    union sk_semun arg;

    memset(ds, 0, sizeof *ds);
    arg.buf = ds;
    return semctl(semid, 0, IPC_STAT, arg);
}

static int sem_create(struct sk_waitset *ws, unsigned mode)
{
    union sk_semun arg;
    int semid, num;

    /* The owner always keeps read and alter rights: it is the writer. */
    semid = semget(IPC_PRIVATE, SK_WAIT_WORDS,
                   IPC_CREAT | IPC_EXCL | (int)((mode & 0777u) | 0600u));
    if (semid < 0)
        return -errno;
    arg.val = 1;
    for (num = 0; num < SK_WAIT_WORDS; num++) {
        if (semctl(semid, num, SETVAL, arg) != 0) {
            int err = errno;

            (void)semctl(semid, 0, IPC_RMID);
            return -err;
        }
    }
    ws->semid = semid;
    return 0;
}

/* Take SEMID only if it looks like a set made by sem_create: it came from
 * shared memory, and posting to somebody else's semaphores would be bad. */
static int sem_adopt(struct sk_waitset *ws, int semid)
{
    struct semid_ds ds;

    if (semid < 0 || sem_stat(semid, &ds) != 0 || ds.sem_nsems != SK_WAIT_WORDS)
        return 0;
    ws->semid = semid;
    return 1;
}

/* Remove the set.  With OWNER_UID the id came from a segment: only a set
 * made by the segment's owner is the segment's. */
static void sem_destroy(struct sk_waitset *ws, const long *owner_uid)
{
    struct semid_ds ds;

    if (ws->semid < 0)
        return;
    if (owner_uid != NULL &&
        (sem_stat(ws->semid, &ds) != 0 || (long)ds.sem_perm.cuid != *owner_uid))
        return;
    (void)semctl(ws->semid, 0, IPC_RMID);
}

static void sem_set_op(struct sembuf *op, unsigned short num, int delta, int flags)
{
    op->sem_num = num;
    op->sem_op = (short)delta;
    op->sem_flg = (short)flags;
}

/* The semop that sleeps while the generation is still GEN (see above):
 * 0, or -errno. */
static int sem_sleep(int semid, unsigned short num, int gen, uint64_t deadline)
{
    struct sembuf ops[4];

    sem_set_op(&ops[0], num, -gen, IPC_NOWAIT);
    sem_set_op(&ops[1], num, gen, 0);
    sem_set_op(&ops[2], num, -(gen + 1), 0);
    sem_set_op(&ops[3], num, gen + 1, 0);
#if defined(HAVE_SEMTIMEDOP)
    if (deadline != 0) {
        struct shmkit__wait_timeout t; /* anew: the GETVAL and the re-check took time */

        if (shmkit__wait_timeout(deadline, &t) != 0)
            return -ETIMEDOUT;
        return semtimedop(semid, ops, 4, &t.rel) == 0 ? 0 : -errno;
    }
#else
    (void)deadline;
#endif
    return semop(semid, ops, 4) == 0 ? 0 : -errno;
}

static int sem_block(const struct sk_wait_sleep *s)
{
    unsigned short num = (unsigned short)(s->index % SK_WAIT_WORDS);
    uint64_t deadline = s->timeout.deadline;
    int semid = s->ws->semid, gen, rc;

    if (semid < 0)
        return shmkit__wait_poll_block(s->word, s->expected, deadline, SK_POLL_MAX_NS);
#if !defined(HAVE_SEMTIMEDOP)
    /* Without semtimedop (macOS, FreeBSD, OpenBSD) a timed wait cannot
     * sleep in semop: it naps. */
    if (deadline != 0)
        return -ENOSYS;
#endif
    gen = semctl(semid, num, GETVAL);
    if (gen < 1 || gen > SK_SEM_GEN_LIMIT)
        /* Removed with its segment, not ours to alter, or meddled with:
         * nothing to sleep on (a nap). */
        return -EIDRM;
    if (sk_load(s->word, SK_SEQ_CST) != s->expected)
        return 0;
    sk_hook_point("sem-before-semop");
    rc = sem_sleep(semid, num, gen, deadline);
    /* EAGAIN: the generation wrapped (a wake-up), or semtimedop timed out
     * (wait.c tells the two apart by the clock).  Other errors: EINTR;
     * EIDRM, EACCES, EINVAL... make wait.c nap. */
    if (rc == -EAGAIN)
        return deadline != 0 ? -ETIMEDOUT : 0;
    return rc;
}

static void sem_wake_all(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word)
{
    unsigned short num = (unsigned short)(index % SK_WAIT_WORDS);
    int tries;

    (void)word;
    if (ws->semid < 0)
        return;
    for (tries = 0; tries < 8; tries++) {
        struct sembuf ops[2];
        int gen = semctl(ws->semid, num, GETVAL), nops = 1;

        if (gen < 0)
            return; /* the set is gone or not ours: nothing to wake */
        if (gen >= 1 && gen < SK_SEM_GEN_LIMIT) {
            sem_set_op(&ops[0], num, 1, 0);
        } else {
            /* Back to 1.  The +1 is what makes every system re-evaluate
             * the sleepers; the IPC_NOWAIT keeps a concurrent waker from
             * blocking us. */
            sem_set_op(&ops[0], num, -gen, IPC_NOWAIT);
            sem_set_op(&ops[1], num, 1, 0);
            nops = 2;
        }
        if (semop(ws->semid, ops, (size_t)nops) == 0 || (errno != EAGAIN && errno != EINTR))
            return;
    }
}

const struct sk_wait_ops shmkit__wait_sem_ops = {
    .mech = SK_MECH_SYSV_SEM, .can_wait = 1, .block = sem_block, .wake_all = sem_wake_all,
    .create = sem_create, .adopt = sem_adopt, .destroy = sem_destroy,
};
