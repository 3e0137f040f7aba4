/*
 * ls.h - "shmkit ls" and "shmkit rm --stale": enumerate the segments that
 * the system lets us see and judge each with shmkit_info().
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_TOOLS_LS_H
#define SHMKIT_TOOLS_LS_H

/* The listing options. */
struct ls_options {
    int json;     /* --json: one JSON array */
    int all;      /* -a: foreign and unreadable objects too */
    int dry_run;  /* rm --stale --dry-run: only say what would go */
    char **specs; /* the segments to consider; NULL: every one listed */
    int nspecs;
};

/* Print the list; returns the exit status. */
int ls_run(const struct ls_options *opt);

/* Remove stale owned and half-created segments (print them only with
 * opt->dry_run); returns the exit status. */
int ls_remove_stale(const struct ls_options *opt);

#endif /* SHMKIT_TOOLS_LS_H */
