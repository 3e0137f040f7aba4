/*
 * wait.pml - a Promela model of shmkit's wait/notify protocol (src/wait.c,
 * doc/FORMAT.md section 11), checked with Spin by tests/model.sh.
 *
 * What is modelled
 *   - a slot: one writer publishing VERSIONS versions of `pub`, and
 *     READERS readers (2 or 3) that all wait on `pub` and share its wake
 *     request `waiters` -- the shape of the lost wake-up of issue 11.
 *     `pub` stands for the commit word of the slot buffer that the next
 *     version uses (format 3: the writer stores it twice, odd then even,
 *     both before its notify; a waiter only asks whether it changed);
 *   - a block ring (RING=1): a producer that sends MESSAGES messages
 *     through a ring of CAPACITY frames and waits for space on `tail`
 *     (request `space_waiters`), and the consumer, which waits for data
 *     on `head` (request `waiters`) and advances `tail`: both directions,
 *     each side being the other's notifier;
 *   - the waiter's loop of block_registered() and the notifier's
 *     shmkit__notify(), step by step, each shared-memory access one atomic step;
 *   - the kernel: with the compare-and-sleep mechanisms (futex, umtx, the
 *     BSD futexes, darwin) "compare the request word with the expected
 *     value and go to sleep if equal" is ONE atomic step, and "wake all
 *     sleepers of a request word" is one atomic step.  With SEM=1 the
 *     System V mechanism instead (sem_block/sem_wake_all in
 *     src/wait-sem.c): GETVAL, the re-check of the request word, then the
 *     semop that sleeps while the generation is unchanged; a wake-up adds
 *     1 to the generation.
 *
 * Protocols (spin -DOLD=1, or the default: the new one; -DMIXED=1 makes
 * slot reader 0 an old build among new ones, as when shmkit 0.1 and a
 * newer build share a segment: it loses wake-ups, hence format 2.0):
 *   OLD: the request is a one-bit flag.  Waiter: request = 1; re-read the
 *        word; sleep while request == 1.  Notifier: if request != 0 and
 *        exchange(request, 0) != 0, wake all.  (shmkit 0.1)
 *   NEW: the request is a generation counter, its low bit "someone
 *        asked".  Waiter: v = fetch_or(request, 1); expected = v | 1;
 *        re-read the word; sleep while request == expected.  Notifier:
 *        r = request; if r is odd and CAS(request, r, r + 1) succeeds,
 *        wake all.
 *
 * Memory model: Spin interleaves whole statements, i.e. explores
 * sequentially consistent executions.  That is what the C code gets for
 * the accesses that matter: the waiter's fetch_or and re-read are seq_cst,
 * and the notifier's release store of the word is followed by a seq_cst
 * fence before its seq_cst load of the request (the Dekker pattern; the
 * fence makes any seq_cst load that follows it in the total order see the
 * store).  The request counter is a byte here; it cannot wrap within the
 * bounded runs checked (the C code's 32-bit counter would need 2^31
 * notifications while one waiter is between its fetch_or and its sleep).
 * Timeouts, signals and spurious wake-ups are not modelled: they only make
 * a waiter return and ask again, which the loop already does.  Polling
 * (the `poll` mechanism, and readers that cannot register where the
 * writer does not wake followers) watches the word itself and cannot
 * miss a change.
 *
 * Not modelled: read-only followers (issue 13; src/wait.c "Followers",
 * doc/FORMAT.md 11.6).  They sleep on the data word, and the writer skips
 * their wake-up when the clock says that a follower cannot have reached
 * its kernel compare before the new word was visible: a follower spins
 * 50 us after it saw the previous publication, the writer skips only
 * within 40 us of the clock read that preceded that publication's store.
 * Without time, Spin would explore a follower that reaches its compare
 * "instantly" and so report a lost wake-up that the clock rules out; a
 * model would need timed automata (UPPAAL) or a discrete clock with
 * bounded step lengths, which the argument in wait.c states directly.
 *
 * The property: "no waiter sleeps while its word has changed and no
 * notifier will come".  It is checked as an assertion in a state where
 * nothing can move any more (Spin's `timeout`: every process is blocked or
 * finished, so no notifier will come): then no waiter may be asleep with
 * its word different from the value it saw.  Waiters that sleep on an
 * unchanged word are legitimately blocked: their sleeps carry `end`
 * labels, and any other blocked state is reported by Spin's invalid end
 * state check.  Together this is exactly the property: a run in which a
 * waiter misses the last wake-up of its word reaches such a final state
 * (the notifiers are bounded and finish), and conversely an assertion
 * failure exhibits a sleeping waiter whose word changed after nobody is
 * left to wake it.  (An LTL formula "[] (notifiers done && word changed
 * -> <> awake)" would say the same with a never claim and a larger
 * search; the final-state form needs neither.)
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */

#ifndef OLD
#define OLD 0
#endif
#ifndef SEM
#define SEM 0
#endif
#ifndef MIXED
#define MIXED 0
#endif
#ifndef READERS
#define READERS 3
#endif
#ifndef VERSIONS
#define VERSIONS 2
#endif
#ifndef RING
#define RING 1
#endif
#ifndef MESSAGES
#define MESSAGES 3
#endif
#ifndef CAPACITY
#define CAPACITY 1
#endif

/* The waited-on words and their requests. */
#define PUB  0          /* slot pub */
#define HEAD 1          /* ring head: the consumer waits for data */
#define TAIL 2          /* ring tail: the producer waits for space */
#define NWORDS 3

/* Waiters: the slot readers, then the ring consumer and the producer. */
#define CONSUMER READERS
#define PRODUCER (READERS + 1)
#define NWAITERS (READERS + 2)

byte word[NWORDS];      /* the waited-on words (bounded counters) */
byte req[NWORDS];       /* their wake requests */
byte gen[NWORDS];       /* SEM: the generation semaphore of each word */

/* Kernel state and what the final-state assertion needs to know. */
byte sleeping_on[NWAITERS];  /* futex: request word + 1 slept on, 0 awake */
bool sem_asleep[NWAITERS];   /* SEM: blocked in semop */
byte waits_for[NWAITERS];    /* the word each waiter waits on */
byte seen_by[NWAITERS];      /* the value it waits to see change */

/* The kernel's wake-all on request word W: one atomic step. */
inline wake_all(w)
{
#if SEM
    gen[w] = gen[w] + 1;
#else
    d_step {
        byte i = 0;
        do
        :: i < NWAITERS ->
            if
            :: sleeping_on[i] == w + 1 -> sleeping_on[i] = 0
            :: else -> skip
            fi;
            i++
        :: else -> break
        od
    }
#endif
}

/* shmkit__notify(): after the store of word W (release); the seq_cst fence
 * is implied by the interleaving semantics. */
inline notify(w)
{
    byte r;
#if OLD
    r = req[w];
    if
    :: r != 0 ->
        atomic { r = req[w]; req[w] = 0 };   /* exchange */
        if
        :: r != 0 -> wake_all(w)
        :: else -> skip
        fi
    :: else -> skip
    fi
#else
    bool took;
    r = req[w];
    if
    :: (r & 1) ->
        atomic {                              /* CAS(req, r, r + 1) */
            if
            :: req[w] == r -> req[w] = r + 1; took = true
            :: else -> took = false
            fi
        };
        if
        :: took -> wake_all(w)
        :: else -> skip
        fi
    :: else -> skip
    fi
#endif
}

/* block_registered(): wait until word[W] != SEEN.  ME is the waiter's
 * number.  Returns (falls through) once it has seen the change. */
inline wait_changed(me, w, seen)
{
    byte expected, g;
    waits_for[me] = w;
    seen_by[me] = seen;
    do
    ::
        /* W1: ask for a wake-up (seq_cst) */
        if
        :: OLD || (MIXED && me == 0) ->
            req[w] = 1;
            expected = 1
        :: else ->
            atomic { expected = req[w] | 1; req[w] = expected }  /* fetch_or */
        fi;
        /* W2: re-read the word (seq_cst) */
        if
        :: word[w] != seen -> break
        :: else -> skip
        fi;
        /* here the waiter may be preempted for as long as it takes */
#if SEM
        g = gen[w];                                  /* semctl(GETVAL) */
        if
        :: req[w] == expected ->                     /* re-check, then semop */
            atomic {
                if
                :: gen[w] == g -> sem_asleep[me] = true
                :: else -> skip
                fi
            };
end_semsleep:
            (!sem_asleep[me] || gen[w] != g);         /* sleeps while G = g */
            sem_asleep[me] = false
        :: else -> skip                              /* spurious return */
        fi;
#else
        atomic {                                     /* compare and sleep */
            if
            :: req[w] == expected -> sleeping_on[me] = w + 1
            :: else -> skip
            fi
        };
end_sleep:
        (sleeping_on[me] == 0);
#endif
        /* woken, or the compare failed: changed? else ask again */
        if
        :: word[w] != seen -> break
        :: else -> skip
        fi
    od
}

proctype slot_writer()
{
    byte n = 1;
    do
    :: n <= VERSIONS ->
        word[PUB] = n;                  /* pub = n, release */
        notify(PUB);
        n++
    :: else -> break
    od
}

/* A slot reader waits for each new version for ever (it never knows the
 * last one has come): its sleep on an unchanged word is a valid end. */
proctype slot_reader(byte me)
{
    byte seen;
end_reader:
    do
    :: seen = word[PUB];                /* take the word, read the version */
        wait_changed(me, PUB, seen)
    od
}

proctype ring_producer()
{
    byte sent = 0, t;
    do
    :: sent < MESSAGES ->
        t = word[TAIL];
        if
        :: word[HEAD] - t < CAPACITY ->
            word[HEAD] = word[HEAD] + 1;    /* publish a frame: head, release */
            notify(HEAD);
            sent++
        :: else ->
            wait_changed(PRODUCER, TAIL, t) /* full: wait for space */
        fi
    :: else -> break
    od
}

proctype ring_consumer()
{
    byte got = 0, h;
    do
    :: got < MESSAGES ->
        h = word[HEAD];
        if
        :: h != word[TAIL] ->
            word[TAIL] = word[TAIL] + 1;    /* consume a frame: tail, release */
            notify(TAIL);
            got++
        :: else ->
            wait_changed(CONSUMER, HEAD, h) /* empty: wait for data */
        fi
    :: else -> break
    od
}

/* The property, checked once nothing can move any more. */
active proctype final_state()
{
    byte i = 0;
    timeout ->
    do
    :: i < NWAITERS ->
        assert(!((sleeping_on[i] != 0 || sem_asleep[i]) &&
                 word[waits_for[i]] != seen_by[i]));
        i++
    :: else -> break
    od
}

init
{
    atomic {
        byte k = 0;
        gen[PUB] = 1; gen[HEAD] = 1; gen[TAIL] = 1;
        do
        :: k < READERS -> run slot_reader(k); k++
        :: else -> break
        od;
        run slot_writer();
#if RING
        run ring_producer();
        run ring_consumer()
#endif
    }
}
