/*
 * names.c — finding a compiled program's argument or result by the name a
 * user gives: the one set of rules (hloc_runtime.h, hloc_buffers_find)
 * behind `hloc run --input NAME=`, a generated executable's --input,
 * libhloc's by-name lookup and the Python binding's keys, so that all of
 * them accept the same names and say the same when one is wrong.
 *
 * A buffer answers to its own name (the config's or signature's, a C
 * identifier) and to its TensorFlow name, recorded as "NODE:INDEX"; a
 * bare "NODE" is output 0 of NODE, as TensorFlow reads a fetch.  The two
 * kinds of name are matched together, so a name that is one buffer's name
 * and another's TensorFlow name is refused as ambiguous rather than bound
 * by whichever rule comes first.  Positions ("N", "argN") come last: only
 * a name no buffer answers to is read as a number.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hloc_runtime.h"

/* Whether b's TensorFlow name is `name`, or `name` is its node and the
 * output is 0. */
static bool tf_match(const hloc_buffer_info *b, const char *name) {
  if (!b->tf_name) return false;
  if (!strcmp(b->tf_name, name)) return true;
  size_t n = strlen(name);
  return !strncmp(b->tf_name, name, n) && !strcmp(b->tf_name + n, ":0");
}

/* Whether b's TensorFlow name says nothing its name does not: "x:0" for
 * buffer x. */
static bool tf_redundant(const hloc_buffer_info *b) {
  size_t n = strlen(b->name);
  return !b->tf_name || (!strncmp(b->tf_name, b->name, n) && !strcmp(b->tf_name + n, ":0"));
}

/* Appends printf output to err[*len…], truncating at errlen. */
static void put(char *err, size_t errlen, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *err, size_t errlen, size_t *len, const char *fmt, ...) {
  if (!errlen || *len >= errlen - 1) return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(err + *len, errlen - *len, fmt, ap);
  va_end(ap);
  if (k > 0) *len = *len + (size_t)k < errlen ? *len + (size_t)k : errlen - 1;
}

/* Levenshtein distance of a and b, capped: 3 for anything above 2 (only
 * "did you mean" needs it). */
static int near(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b);
  if (n > m + 2 || m > n + 2 || m > 256) return 3;
  int row[258];
  for (size_t j = 0; j <= m; j++) row[j] = (int)j;
  for (size_t i = 1; i <= n; i++) {
    int diag = row[0];
    row[0] = (int)i;
    for (size_t j = 1; j <= m; j++) {
      int up = row[j];
      int best = diag + (a[i - 1] != b[j - 1]);
      if (row[j] + 1 < best) best = row[j] + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[m] < 3 ? row[m] : 3;
}

int hloc_buffers_find(const hloc_buffer_info *b, int n, const char *what, const char *name,
                      char *err, size_t errlen) {
  size_t len = 0;
  if (errlen) err[0] = '\0';
  int by_name = -1, by_tf = -1;
  for (int i = 0; i < n; i++) {
    if (by_name < 0 && b[i].name && !strcmp(b[i].name, name)) by_name = i;
    if (by_tf < 0 && tf_match(&b[i], name)) by_tf = i;
  }
  if (by_name >= 0 && by_tf >= 0 && by_name != by_tf) {
    const hloc_buffer_info *x = &b[by_name], *y = &b[by_tf];
    put(err, errlen, &len,
        "the name '%s' is ambiguous: it names %s %d (%s) and is the TensorFlow name of %s %d "
        "(%s, %s): write ",
        name, what, by_name, x->name, what, by_tf, y->name, y->tf_name);
    if (x->tf_name) put(err, errlen, &len, "'%s' or ", x->tf_name);
    put(err, errlen, &len, "'%d' for %s %d, '%s' for %s %d", by_name, what, by_name, y->name,
        what, by_tf);
    return -1;
  }
  if (by_name >= 0) return by_name;
  if (by_tf >= 0) return by_tf;
  bool args = !strcmp(what, "input");
  const char *num = args && !strncmp(name, "arg", 3) && name[3] ? name + 3 : name;
  size_t digits = strlen(num);
  if (digits && digits < 10 && strspn(num, "0123456789") == digits) {
    long v = strtol(num, NULL, 10);
    if (v < n) return (int)v;
  }
  put(err, errlen, &len, "the model has no %s named '%s'", what, name);
  const char *best = NULL;
  int bestd = 3;
  char node[256];
  /* at most two edits, and fewer than the name has letters ('zz' is not
   * a misspelt 'b') */
  size_t given = strlen(name);
  if (given < 3) bestd = (int)given;
  for (int i = 0; i < n; i++) {
    int d = near(name, b[i].name);
    if (d < bestd) bestd = d, best = b[i].name;
    if (b[i].tf_name && (d = near(name, b[i].tf_name)) < bestd) bestd = d, best = b[i].tf_name;
    /* "NODE" for "NODE:0", the spelling of most fetches */
    size_t k = b[i].tf_name ? strlen(b[i].tf_name) : 0;
    if (k > 2 && !strcmp(b[i].tf_name + k - 2, ":0") && k - 2 < sizeof node) {
      memcpy(node, b[i].tf_name, k - 2);
      node[k - 2] = '\0';
      if ((d = near(name, node)) < bestd) bestd = d, best = b[i].tf_name;
    }
  }
  if (best) put(err, errlen, &len, " (did you mean '%s'?)", best);
  put(err, errlen, &len, " (%ss: ", what);
  for (int i = 0; i < n; i++) {
    put(err, errlen, &len, "%s%s", i ? ", " : "", b[i].name);
    if (!tf_redundant(&b[i])) put(err, errlen, &len, " (%s)", b[i].tf_name);
  }
  put(err, errlen, &len, "%s)", n ? "" : "none");
  return -1;
}

int hloc_program_find(const hloc_program *p, int results, const char *name, char *err,
                      size_t errlen) {
  return results ? hloc_buffers_find(p->results, p->num_results, "output", name, err, errlen)
                 : hloc_buffers_find(p->args, p->num_args, "input", name, err, errlen);
}
