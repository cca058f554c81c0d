/*
 * output.h — the files a command of `hloc` writes, made all or nothing:
 * each is written under a temporary name beside its final one
 * (PATH.tmp.PID, so that the rename stays within one file system), and
 * only once all of them are complete are they renamed, together; on a
 * failure the temporaries are removed and nothing of the command's output
 * appears.  `compile`, `run` and `dump -o` all write this way.  Messages
 * name the user's path, never the temporary one, with the system's reason.
 * Internal to driver/.
 */
#ifndef HLOC_DRIVER_OUTPUT_H
#define HLOC_DRIVER_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "hlo.h"

/* One output: where it goes and where it is made first. */
typedef struct Output {
  char *path; /* the final name */
  char *tmp;  /* the temporary name */
} Output;

/* The outputs of one command, in the order they were added.  Zero is an
 * empty set. */
typedef struct Outputs {
  Output *v;
  int n, cap;
} Outputs;

/* Adds an output that another program makes (the C compiler): returns the
 * temporary name to have it written under, valid until the set is
 * committed or discarded. */
const char *outputs_add(Outputs *o, const char *path);
/* Adds an output and writes the nparts pieces, one after the other, into
 * its temporary file; a failure ("cannot write 'PATH': REASON") leaves the
 * temporary for outputs_discard. */
HloError *outputs_write(Outputs *o, const char *path, const struct iovec *parts, int nparts);
/* outputs_write of one piece. */
HloError *outputs_write_bytes(Outputs *o, const char *path, const void *data, size_t len);
/* Renames every temporary to its final name and empties the set.  Should
 * a rename fail, the outputs already renamed are removed too and the rest
 * discarded: all or nothing. */
HloError *outputs_commit(Outputs *o);
/* Removes the temporaries (after a failure) and empties the set. */
void outputs_discard(Outputs *o);

/* Writes the pieces to path itself (a file of hloc's private temporary
 * directory, which no user reads); errors name path. */
HloError *write_file(const char *path, const struct iovec *parts, int nparts);

/* --- what an interrupted command leaves: nothing ---------------------------
 *
 * SIGINT, SIGTERM and SIGHUP end hloc as they always do (the exit status
 * says which signal), but first remove every temporary still registered:
 * the outputs' temporaries, the private temporary directory and its files,
 * an output directory `run` made; and end the child running at the time
 * (the C compiler, Graphviz) with the same signal, so that it cannot write
 * a file after the cleanup.  The registry is changed with these signals
 * blocked, and only while hloc runs one thread, so the handler always sees
 * it whole. */

/* Installs the handler for each of the three signals that is not ignored
 * (nohup's and a background job's stay ignored).  Once, from main. */
void output_catch_signals(void);
/* Registers path, before it is made, for removal on a signal: unlinked,
 * or removed as an empty directory when dir. */
void temp_add(const char *path, bool dir);
/* Removes a registered path now and forgets it. */
void temp_remove(const char *path);
/* Forgets a registered path, leaving it (it became a final output). */
void temp_keep(const char *path);
/* mkdir(path, 0777), registered when it made the directory; returns
 * mkdir's result. */
int temp_mkdir(const char *path);
/* Makes and registers $TMPDIR/STEM-XXXXXX (TMPDIR default /tmp): a
 * directory, or else an empty file; *path is malloc'd. */
HloError *temp_make(const char *stem, bool dir, char **path);

/* Runs argv[0] (found on PATH) with argv in a process group of its own,
 * registered as the child to end on a signal, and waits for it.  Returns
 * 0 with its wait status in *status, or the errno of a failed start. */
int child_run(const char *const *argv, int *status);

#endif
