/*
 * join.pml - a Promela model of a consumer joining a block ring afresh
 * while the writer runs (src/ring-consumers.c, doc/FORMAT.md 10.6),
 * checked with Spin by tests/model.sh.
 *
 * What is modelled
 *   - the writer of a ring of CAP frames, publishing MESSAGES frames of
 *     one position each.  It keeps the slowest tail it saw, `wmin`, and
 *     scans the consumer table only when `wmin` says the ring is full:
 *     scan, store `oldest`, scan again (the Dekker half of the writer),
 *     and waits (rescans) while there is no room.  A tail more than CAP
 *     behind head is skipped, as in scan_once();
 *   - consumer A, active from the start (entry 0), which consumes at any
 *     pace;
 *   - the joiner (entry 1): picks the newest frame or `oldest`, stores
 *     its tail, then becomes active; then loads `oldest` and, while its
 *     position is older, moves up to it and stores its tail again; only
 *     then does it read, at any pace.
 *
 * The property: the writer never overwrites a frame that a consumer that
 * has joined has not consumed: when it writes position `head`, which
 * replaces position `head - CAP`, every joined consumer's tail is past
 * `head - CAP`.
 *
 * Positions do not wrap (MESSAGES is small).  Spin explores sequentially
 * consistent interleavings of single loads and stores; the C code gets
 * that for this protocol from its seq_cst fences: the writer's store of
 * `oldest` and the joiner's activation are each followed by a seq_cst
 * fence before the loads of the other side (the Dekker pattern).
 *
 * -DNO_RESCAN=1 drops the writer's second scan, and -DNO_CHECK=1 the
 * joiner's check of `oldest`: each must give an error trail, which shows
 * that the model can see the race the protocol closes.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */

#ifndef CAP
#define CAP 2
#endif
#ifndef MESSAGES
#define MESSAGES 6
#endif
#ifndef NO_RESCAN
#define NO_RESCAN 0
#endif
#ifndef NO_CHECK
#define NO_CHECK 0
#endif

byte head = 0;          /* the end of the published frames */
byte oldest = 0;        /* the writer's announcement (header word 404) */
byte tail[2];           /* entry 0: consumer A; entry 1: the joiner */
bool act[2];
bool joined = false;    /* ghost: the joiner has finished its handshake */

/* One pass over the table, as scan_once: m = the slowest tail of an
 * active entry within CAP of head (head if none).  Each load is a step. */
inline scan_once(m) {
    i = 0;
    do
    :: i < 2 ->
        if
        :: act[i] ->
            t = tail[i];
            if
            :: t <= head && head - t <= CAP && t < m -> m = t
            :: else -> skip
            fi
        :: else -> skip
        fi;
        i++
    :: else -> break
    od
}

proctype writer() {
    byte wmin = 0, m, t, i;

    do
    :: head == MESSAGES -> break
    :: head < MESSAGES ->
        do
        :: head - wmin < CAP -> break
        :: else ->
            m = head;
            scan_once(m);
            oldest = m;
            if
            :: !NO_RESCAN -> scan_once(m)
            :: else -> skip
            fi;
            wmin = m
        od;
        /* Writing position head replaces position head - CAP. */
        assert(head < CAP || !act[0] || tail[0] > head - CAP);
        assert(head < CAP || !joined || tail[1] > head - CAP);
        head++
    od
}

proctype consumer_a() {
    do
    :: tail[0] < head -> tail[0]++
    :: tail[0] == MESSAGES -> break
    od
}

proctype joiner() {
    byte p, h, o;

    /* Where to start: the newest frame, or what the writer keeps. */
    h = head;
    if
    :: h > 0 -> p = h - 1
    :: true -> o = oldest; p = o
    fi;
    tail[1] = p;
    act[1] = true;
    do
    :: NO_CHECK -> break
    :: !NO_CHECK ->
        o = oldest;
        if
        :: p >= o -> break
        :: else -> p = o; tail[1] = p
        fi
    od;
    joined = true;
    do
    :: tail[1] < head -> tail[1]++
    :: tail[1] == MESSAGES -> break
    od
}

/* Entry 0 is active from creation (doc/FORMAT.md section 5). */
init {
    act[0] = true;
    atomic {
        run writer();
        run consumer_a();
        run joiner()
    }
}
