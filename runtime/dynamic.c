/*
 * dynamic.c — arrays with bounded dynamic dimensions (docs/api.md,
 * "Bounded dynamic dimensions") at the edge of a compiled program: the
 * program takes each such array padded to its bound and returns each such
 * result padded too, with the sizes as extra s32 scalars.  Hosts that hold
 * the arrays at their run-time sizes (`hloc run`, generated executables)
 * pad and trim them here, and check an array against its bound here, so
 * that they do it and word it alike.  Arrays are dense and row-major; a
 * dynamic dimension's bit is set in a uint32_t mask (bit d: dimension d),
 * its bound being the buffer's dimension.
 */
#include <stdio.h>
#include <string.h>

#include "hloc_runtime.h"

void rt_copy_corner(size_t esize, int rank, const int64_t *small_dims, void *small,
                    const int64_t *big_dims, void *big, int into_big) {
  int64_t n = 1, idx[RT_MAX_RANK] = {0};
  for (int d = 0; d < rank; d++) n *= small_dims[d];
  for (int64_t i = 0; i < n; i++) {
    int64_t off = 0;
    for (int d = 0; d < rank; d++) off = off * big_dims[d] + idx[d];
    char *bp = (char *)big + off * (int64_t)esize, *sp = (char *)small + i * (int64_t)esize;
    memcpy(into_big ? bp : sp, into_big ? sp : bp, esize);
    for (int d = rank - 1; d >= 0 && ++idx[d] == small_dims[d]; d--) idx[d] = 0;
  }
}

const char *rt_type_text(char *buf, size_t len, RtDtype dtype, int rank, const int64_t *dims,
                         uint32_t dynamic) {
  int k = snprintf(buf, len, "%s[", rt_dtype_name(dtype));
  for (int i = 0; i < rank && k > 0 && (size_t)k < len; i++)
    k += snprintf(buf + k, len - (size_t)k, "%s%s%lld", i ? "," : "",
                  dynamic >> i & 1 ? "<=" : "", (long long)dims[i]);
  if (k > 0 && (size_t)k < len) snprintf(buf + k, len - (size_t)k, "]");
  return buf;
}

int rt_dims_fit(int rank, const int64_t *bound, uint32_t dynamic, int got_rank,
                const int64_t *got, char *why, size_t whylen) {
  if (why && whylen) *why = '\0';
  if (got_rank != rank) return 0;
  for (int d = 0; d < rank; d++)
    if (!(dynamic >> d & 1) && got[d] != bound[d]) return 0;
  for (int d = 0; d < rank; d++)
    if (dynamic >> d & 1 && got[d] > bound[d]) {
      if (why) snprintf(why, whylen, "dimension %d is at most %lld, the file has %lld", d,
                        (long long)bound[d], (long long)got[d]);
      return 0;
    }
  return 1;
}
