/*
 * objects.c - the objects of a "shmkit bench" row (segments with unique
 * names, pipes, a socket pair, message queues), made by the parent before
 * it starts the children and removed when the row ends.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "bench-int.h"

#ifdef BENCH_SYSV_MQ
#include <sys/ipc.h>
#include <sys/msg.h>
#endif

/* A name no other object of this run has: the pid and a counter. */
void make_spec(struct bench_run *run, char *buf, size_t len)
{
    unsigned n = run->name_counter++;

    if (run->opt.backend == SHMKIT_BACKEND_SYSV)
        snprintf(buf, len, "sysv:0x%08lx",
                 0x6b000000ul + (((unsigned long)getpid() & 0xffffu) << 8) + (n & 0xffu));
    else
        snprintf(buf, len, "/shmkit-bench.%ld.%u", (long)getpid(), n);
}

void objects_init(struct objects *o)
{
    memset(o, 0, sizeof *o);
    o->pipe_fd[0][0] = o->pipe_fd[0][1] = o->pipe_fd[1][0] = o->pipe_fd[1][1] = -1;
    o->sock[0] = o->sock[1] = -1;
    o->msqid[0] = o->msqid[1] = -1;
}

void remove_segments(struct objects *o)
{
    int d;

    for (d = 0; d < 2; d++)
        if (o->seg[d][0] != '\0') {
            (void)shmkit_unlink(o->seg[d]);
            o->seg[d][0] = '\0';
        }
}

void objects_free(struct objects *o)
{
    int d, e;

    remove_segments(o);
    for (d = 0; d < 2; d++) {
        for (e = 0; e < 2; e++)
            if (o->pipe_fd[d][e] >= 0)
                close(o->pipe_fd[d][e]);
        if (o->sock[d] >= 0)
            close(o->sock[d]);
#ifdef BENCH_POSIX_MQ
        if (o->have_mq[d])
            mq_close(o->mq[d]);
#endif
#ifdef BENCH_SYSV_MQ
        if (o->msqid[d] >= 0)
            (void)msgctl(o->msqid[d], IPC_RMID, NULL);
#endif
    }
    objects_init(o);
}

#ifdef BENCH_POSIX_MQ
/* A queue of one SIZE-byte message; removed by name at once, the
 * descriptors live on in the children. */
static int make_posix_mq(const struct job *job, mqd_t *q, char *why, size_t len)
{
    struct mq_attr attr;
    char name[64];

    memset(&attr, 0, sizeof attr);
    attr.mq_maxmsg = 1;
    attr.mq_msgsize = (long)job->size;
    snprintf(name, sizeof name, "/shmkit-bench.%ld.mq%u", (long)getpid(),
             job->run->name_counter++);
    *q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    if (*q == (mqd_t)-1) {
        snprintf(why, len, "mq_open with %zu-byte messages: %s%s", job->size, strerror(errno),
                 errno == EINVAL || errno == EMFILE || errno == ENOMEM
                     ? " (above the system's mq limits)" : "");
        return -1;
    }
    (void)mq_unlink(name);
    return 0;
}
#endif

#ifdef BENCH_SYSV_MQ
/* A private queue; probe that a SIZE-byte message fits (msgmax). */
static int make_sysv_mq(const struct job *job, int *id, char *why, size_t len)
{
    unsigned char *m;
    long type = 1;
    int rc = 0;

    *id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (*id < 0) {
        snprintf(why, len, "msgget: %s", strerror(errno));
        return -1;
    }
    m = calloc(1, sizeof type + job->size);
    if (m == NULL) {
        snprintf(why, len, "out of memory");
        return -1;
    }
    memcpy(m, &type, sizeof type);
    if (msgsnd(*id, m, job->size, IPC_NOWAIT) != 0) {
        snprintf(why, len, "msgsnd of %zu bytes: %s%s", job->size, strerror(errno),
                 errno == EINVAL || errno == EAGAIN ? " (above msgmax or msgmnb)" : "");
        rc = -1;
    } else {
        (void)msgrcv(*id, m, job->size, 0, IPC_NOWAIT);
    }
    free(m);
    return rc;
}
#endif

/* Create the segment SPEC of the row: a slot of its record size, or a
 * block ring for its messages; *CALL names the call for a message. */
static int create_segment(const struct job *job, const char *spec, const char **call)
{
    int rc;

    if (job->transport == T_SLOT) {
        shmkit_slot *s;
        *call = "shmkit_slot_create";
        rc = shmkit_slot_create(&s, spec, NULL, job->size, 0600, SHMKIT_EXCL);
        if (rc == 0)
            shmkit_slot_close(s);
    } else {
        struct shmkit_ring_options options;
        shmkit_ring *r;
        *call = "shmkit_ring_create";
        ring_options(job->section, job->size, &options);
        options.consumers = (unsigned)job->consumers;
        rc = shmkit_ring_create(&r, spec, &options);
        if (rc == 0)
            shmkit_ring_close(r);
    }
    return rc;
}

/* Name and create the segment of direction D.  0, or -1 with WHY set. */
static int make_segment(struct job *job, int d, char *why, size_t len)
{
    char *spec = job->obj.seg[d];
    const char *call;
    int rc;

    make_spec(job->run, spec, sizeof job->obj.seg[d]);
    rc = create_segment(job, spec, &call);
    if (rc < 0) {
        spec[0] = '\0';
        snprintf(why, len, "%s: %s (%s)", call, shmkit_strerror(rc), shmkit_error_detail());
        return -1;
    }
    return 0;
}

int objects_make(struct job *job, char *why, size_t len)
{
    struct objects *o = &job->obj;
    int d;

    for (d = 0; d < 2; d++) {
        switch (job->transport) {
        case T_SLOT:
        case T_RING:
        case T_RING_ZC:
            if (make_segment(job, d, why, len) < 0)
                return -1;
            break;
        case T_PIPE:
            if (pipe(o->pipe_fd[d]) != 0) {
                snprintf(why, len, "pipe: %s", strerror(errno));
                return -1;
            }
            break;
        case T_UNIX:
            if (d == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, o->sock) != 0) {
                snprintf(why, len, "socketpair: %s", strerror(errno));
                return -1;
            }
            break;
#ifdef BENCH_POSIX_MQ
        case T_POSIX_MQ:
            if (make_posix_mq(job, &o->mq[d], why, len) < 0)
                return -1;
            o->have_mq[d] = 1;
            break;
#endif
#ifdef BENCH_SYSV_MQ
        case T_SYSV_MQ:
            if (make_sysv_mq(job, &o->msqid[d], why, len) < 0)
                return -1;
            break;
#endif
        default:
            break;
        }
    }
    return 0;
}
