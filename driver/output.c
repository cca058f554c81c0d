/*
 * output.c — all-or-nothing output files (output.h).
 *
 * A temporary is named after its output and this process (PATH.tmp.PID):
 * beside the final file, so that rename(2) replaces it in one step, and
 * unique among concurrent hlocs writing the same path.  Files are written
 * with write(2) rather than stdio so that the errno of a failure is the
 * failing call's own: a full disk reports "No space left on device" for
 * the output it hit, not a "write error" of some later fclose.
 *
 * The signal handler may call only async-signal-safe functions: it reads
 * the registry (an array of paths and the child's pid, changed with the
 * signals blocked), kill()s the child's process group (the C compiler's
 * driver leaves its own children running when it dies), waitpid()s for
 * it, unlink()s the files, rmdir()s the directories (innermost, that is
 * latest, first) and raise()s the signal again.  The handler is installed
 * with SA_RESETHAND | SA_NODEFER, so that raise() ends the process at once
 * with the signal's default action, and a second ^C during a slow cleanup
 * (a compiler that takes its time to die) does too.
 */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* --- the registry of temporaries ------------------------------------------------ */

typedef struct Temp {
  char *path;
  bool dir;
} Temp;

static Temp *temps;     /* registered paths, in the order they were made */
static int ntemps, captemps;
static pid_t child;     /* the running child (its process group), or 0 */

static const int caught[] = {SIGINT, SIGTERM, SIGHUP};

static void on_signal(int sig) {
  if (child > 0) {
    kill(-child, sig);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  for (int i = 0; i < ntemps; i++)
    if (!temps[i].dir) unlink(temps[i].path);
  for (int i = ntemps - 1; i >= 0; i--)
    if (temps[i].dir) rmdir(temps[i].path);
  raise(sig);
}

void output_catch_signals(void) {
  for (size_t i = 0; i < sizeof caught / sizeof *caught; i++) {
    struct sigaction old, sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND | SA_NODEFER};
    sigemptyset(&sa.sa_mask);
    if (!sigaction(caught[i], NULL, &old) && old.sa_handler != SIG_IGN)
      sigaction(caught[i], &sa, NULL);
  }
}

/* Blocks the caught signals (*old: the mask before). */
static void block(sigset_t *old) {
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof caught / sizeof *caught; i++) sigaddset(&set, caught[i]);
  sigprocmask(SIG_BLOCK, &set, old);
}

static void unblock(const sigset_t *old) { sigprocmask(SIG_SETMASK, old, NULL); }

/* temp_add with the signals already blocked. */
static void add_blocked(const char *path, bool dir) {
  if (ntemps == captemps) {
    int cap = captemps ? 2 * captemps : 16;
    Temp *v = hlo_xmalloc((size_t)cap * sizeof *v);
    if (ntemps) memcpy(v, temps, (size_t)ntemps * sizeof *v);
    free(temps);
    temps = v;
    captemps = cap;
  }
  char *copy = hlo_xstrdup(path);
  temps[ntemps++] = (Temp){copy, dir};
}

void temp_add(const char *path, bool dir) {
  sigset_t old;
  block(&old);
  add_blocked(path, dir);
  unblock(&old);
}

/* Forgets path (the latest registration of it), removing it first when
 * asked. */
static void forget(const char *path, bool remove) {
  sigset_t old;
  block(&old);
  for (int i = ntemps - 1; i >= 0; i--) {
    if (strcmp(temps[i].path, path)) continue;
    if (remove && temps[i].dir) rmdir(path);
    else if (remove) unlink(path);
    free(temps[i].path);
    memmove(&temps[i], &temps[i + 1], (size_t)(ntemps - i - 1) * sizeof *temps);
    ntemps--;
    break;
  }
  unblock(&old);
}

void temp_remove(const char *path) { forget(path, true); }
void temp_keep(const char *path) { forget(path, false); }

int temp_mkdir(const char *path) {
  sigset_t old;
  block(&old);
  int rc = mkdir(path, 0777), err = errno;
  if (!rc) add_blocked(path, true);
  unblock(&old);
  errno = err;
  return rc;
}

HloError *temp_make(const char *stem, bool dir, char **path) {
  const char *tmp = getenv("TMPDIR");
  HloStr s = {0};
  hlo_str_printf(&s, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", stem);
  *path = hlo_str_take(&s);
  sigset_t old;
  block(&old);
  int fd = -1;
  bool made = dir ? mkdtemp(*path) != NULL : (fd = mkstemp(*path)) >= 0;
  int err = errno;
  if (made) add_blocked(*path, dir);
  unblock(&old);
  if (fd >= 0) close(fd);
  if (made) return NULL;
  HloError *e = hlo_error("cannot make a temporary %s '%s': %s", dir ? "directory" : "file",
                          *path, strerror(err));
  free(*path);
  *path = NULL;
  return e;
}

int child_run(const char *const *argv, int *status) {
  posix_spawnattr_t attr;
  sigset_t old;
  posix_spawnattr_init(&attr);
  block(&old);
  /* The child starts with the mask hloc had, not the blocked one. */
  posix_spawnattr_setsigmask(&attr, &old);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  pid_t pid;
  int err = posix_spawnp(&pid, argv[0], NULL, &attr, (char *const *)argv, environ);
  if (!err) child = pid;
  unblock(&old);
  posix_spawnattr_destroy(&attr);
  if (err) return err;
  while (waitpid(pid, status, 0) < 0)
    if (errno != EINTR) {
      err = errno;
      break;
    }
  block(&old);
  child = 0;
  unblock(&old);
  return err;
}

/* --- outputs ----------------------------------------------------------------- */

const char *outputs_add(Outputs *o, const char *path) {
  if (o->n == o->cap) {
    o->cap = o->cap ? 2 * o->cap : 8;
    o->v = hlo_xrealloc(o->v, (size_t)o->cap * sizeof *o->v);
  }
  HloStr tmp = {0};
  hlo_str_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
  Output *out = &o->v[o->n++];
  out->path = hlo_xstrdup(path);
  out->tmp = hlo_str_take(&tmp);
  temp_add(out->tmp, false);
  return out->tmp;
}

/* Writes the pieces to the file `at` (created or truncated); errors name
 * `path`. */
static HloError *write_to(const char *at, const char *path, const struct iovec *parts,
                          int nparts) {
  int fd = open(at, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return hlo_error("cannot write '%s': %s", path, strerror(errno));
  int err = 0;
  for (int i = 0; i < nparts && !err; i++) {
    const char *p = parts[i].iov_base;
    size_t left = parts[i].iov_len;
    while (left && !err) {
      ssize_t n = write(fd, p, left);
      if (n < 0 && errno != EINTR) err = errno;
      if (n > 0) {
        p += n;
        left -= (size_t)n;
      }
    }
  }
  if (close(fd) && !err) err = errno;
  return err ? hlo_error("cannot write '%s': %s", path, strerror(err)) : NULL;
}

HloError *write_file(const char *path, const struct iovec *parts, int nparts) {
  return write_to(path, path, parts, nparts);
}

HloError *outputs_write(Outputs *o, const char *path, const struct iovec *parts, int nparts) {
  return write_to(outputs_add(o, path), path, parts, nparts);
}

HloError *outputs_write_bytes(Outputs *o, const char *path, const void *data, size_t len) {
  struct iovec part = {(void *)data, len};
  return outputs_write(o, path, &part, 1);
}

void outputs_discard(Outputs *o) {
  for (int i = 0; i < o->n; i++) {
    temp_remove(o->v[i].tmp);
    free(o->v[i].path);
    free(o->v[i].tmp);
  }
  free(o->v);
  *o = (Outputs){0};
}

/* The renames run with the signals blocked: a signal during them takes
 * effect once they are done, so it never leaves part of the set renamed. */
HloError *outputs_commit(Outputs *o) {
  sigset_t old;
  block(&old);
  int done = 0;
  while (done < o->n && !rename(o->v[done].tmp, o->v[done].path)) done++;
  HloError *e = NULL;
  if (done < o->n) {
    e = hlo_error("cannot write '%s': %s", o->v[done].path, strerror(errno));
    for (int i = 0; i < done; i++) unlink(o->v[i].path);
  }
  for (int i = 0; i < done; i++) temp_keep(o->v[i].tmp);
  outputs_discard(o);
  unblock(&old);
  return e;
}
