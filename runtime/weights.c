/*
 * weights.c — separate weights files (`hloc compile --separate-weights`):
 * the fingerprint the compiler writes into a file's header and the model's
 * header repeats, and the loader that checks a file against the model
 * before copying its payload into the model's N_weights.
 *
 * The loader trusts nothing in the file: it must be a regular file of
 * exactly header + N_WEIGHTS_BYTES bytes, with the magic, byte count and
 * fingerprint the model expects; a file for another model, a truncated or
 * extended one, a directory or an unreadable path is an error naming the
 * path and the reason.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hloc_runtime.h"
#include "rt_internal.h"

/* FNV-1a over 64-bit little-endian words (and the tail bytes), with the
 * length mixed in: fast enough for gigabytes at compile time. */
uint64_t hloc_weights_fingerprint(const void *bytes, size_t len) {
  const unsigned char *p = bytes;
  uint64_t h = 0xcbf29ce484222325u ^ (uint64_t)len;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001b3u;
  }
  for (; i < len; i++) h = (h ^ p[i]) * 0x100000001b3u;
  return h ^ (h >> 29);
}

static uint64_t le64(const unsigned char *b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
  return v;
}

int hloc_load_weights(const char *path, void *dst, uint64_t bytes, uint64_t fingerprint,
                      char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) return rt_fail(err, errlen, "cannot open weights file '%s': %s", path, strerror(errno));
  struct stat st;
  int rc = -1;
  unsigned char head[HLOC_WEIGHTS_HEADER_BYTES];
  if (fstat(fileno(f), &st)) {
    rt_fail(err, errlen, "cannot read weights file '%s': %s", path, strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    rt_fail(err, errlen, "weights file '%s' is not a regular file", path);
  } else if (fread(head, 1, sizeof head, f) != sizeof head ||
             memcmp(head, HLOC_WEIGHTS_MAGIC, 8)) {
    rt_fail(err, errlen, "'%s' is not an hloc weights file", path);
  } else if (le64(head + 8) != bytes || (uint64_t)st.st_size != sizeof head + bytes) {
    rt_fail(err, errlen,
         "weights file '%s' holds %llu bytes of weights in %lld bytes, but the model needs "
         "%llu", path, (unsigned long long)le64(head + 8), (long long)st.st_size,
         (unsigned long long)bytes);
  } else if (le64(head + 16) != fingerprint) {
    rt_fail(err, errlen,
         "weights file '%s' belongs to another model (fingerprint %016llx, this model's is "
         "%016llx): recompile, or use the file written with this model", path,
         (unsigned long long)le64(head + 16), (unsigned long long)fingerprint);
  } else if (bytes && fread(dst, 1, (size_t)bytes, f) != bytes) {
    rt_fail(err, errlen, "cannot read weights file '%s': %s", path,
         ferror(f) ? strerror(errno) : "it is shorter than its header says");
  } else {
    rc = 0;
  }
  fclose(f);
  return rc;
}
