/*
 * output.c — all-or-nothing output files (output.h).
 *
 * A temporary is named after its output and this process (PATH.tmp.PID):
 * beside the final file, so that rename(2) replaces it in one step, and
 * unique among concurrent hlocs writing the same path.  Files are written
 * with write(2) rather than stdio so that the errno of a failure is the
 * failing call's own: a full disk reports "No space left on device" for
 * the output it hit, not a "write error" of some later fclose.
 */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *outputs_add(Outputs *o, const char *path) {
  if (o->n == o->cap) {
    o->cap = o->cap ? 2 * o->cap : 8;
    o->v = realloc(o->v, (size_t)o->cap * sizeof *o->v);
    HLO_CHECK(o->v);
  }
  HloStr tmp = {0};
  hlo_str_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
  Output *out = &o->v[o->n++];
  out->path = strdup(path);
  HLO_CHECK(out->path);
  out->tmp = hlo_str_take(&tmp);
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
    unlink(o->v[i].tmp);
    free(o->v[i].path);
    free(o->v[i].tmp);
  }
  free(o->v);
  *o = (Outputs){0};
}

HloError *outputs_commit(Outputs *o) {
  int done = 0;
  while (done < o->n && !rename(o->v[done].tmp, o->v[done].path)) done++;
  HloError *e = NULL;
  if (done < o->n) {
    e = hlo_error("cannot write '%s': %s", o->v[done].path, strerror(errno));
    for (int i = 0; i < done; i++) unlink(o->v[i].path);
  }
  outputs_discard(o);
  return e;
}
