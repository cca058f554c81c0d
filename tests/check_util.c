/*
 * check_util.c — see check_util.h.
 */
#include "check_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "literal_io.h"

char *ck_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  ck_assert_msg(buf && fread(buf, 1, (size_t)n, f) == (size_t)n, "cannot read %s", path);
  buf[n] = '\0';
  fclose(f);
  if (len) *len = (size_t)n;
  return buf;
}

HloModule *ck_parse(const char *text) {
  HloModule *m = NULL;
  HloError *e = hlo_parse(text, strlen(text), "<test>", &m);
  ck_assert_msg(e == NULL, "parse failed: %s", hlo_error_message(e));
  return m;
}

HloModule *ck_parse_verified(const char *text) {
  HloModule *m = ck_parse(text);
  HloError *e = hlo_verify(m);
  ck_assert_msg(e == NULL, "verify failed: %s", hlo_error_message(e));
  return m;
}

HloLiteral *ck_read_npy(const char *path) {
  HloLiteral *l = NULL;
  HloError *e = hloc_read_npy(path, &l);
  ck_assert_msg(e == NULL, "%s", hlo_error_message(e));
  return l;
}

HloLiteral *ck_evaluate(const HloModule *m, HloLiteral *const *args, int nargs) {
  HloLiteral *out = NULL;
  HloError *e = hlo_evaluate(m, args, nargs, &out);
  ck_assert_msg(e == NULL, "evaluate failed: %s", hlo_error_message(e));
  return out;
}

bool ck_allclose(const HloLiteral *got, const HloLiteral *want, double atol, double rtol,
                 char *msg, size_t msglen) {
  if (!hlo_shape_equal(&got->shape, &want->shape, false)) {
    char *g = hlo_shape_to_string(&got->shape), *w = hlo_shape_to_string(&want->shape);
    snprintf(msg, msglen, "shape %s, expected %s", g, w);
    free(g);
    free(w);
    return false;
  }
  int64_t n = hlo_shape_elements(&got->shape);
  bool integral = !hlo_type_is_float(got->shape.type);
  for (int64_t i = 0; i < n; i++) {
    if (integral) {
      int64_t g = hlo_literal_get_s64(got, i), w = hlo_literal_get_s64(want, i);
      if (g != w) {
        snprintf(msg, msglen, "element %lld: got %lld, expected %lld", (long long)i,
                 (long long)g, (long long)w);
        return false;
      }
      continue;
    }
    double g = hlo_literal_get_f64(got, i), w = hlo_literal_get_f64(want, i);
    bool ok;
    if (isnan(w)) ok = isnan(g);
    else if (isinf(w)) ok = g == w;
    else ok = fabs(g - w) <= atol + rtol * fabs(w);
    if (!ok) {
      snprintf(msg, msglen, "element %lld: got %.9g, expected %.9g (atol %g, rtol %g)",
               (long long)i, g, w, atol, rtol);
      return false;
    }
  }
  return true;
}

int ck_hlo_corpus(const CkCorpusCase **cases) {
  static CkCorpusCase all[512];
  static int n;
  if (!n) {
    FILE *f = fopen("testdata/hlo/MANIFEST", "r");
    ck_assert_msg(f != NULL, "missing testdata/hlo/MANIFEST");
    char line[1024];
    while (fgets(line, sizeof line, f)) {
      if (line[0] == '#' || line[0] == '\n') continue;
      ck_assert_int_lt(n, (int)(sizeof all / sizeof all[0]));
      CkCorpusCase *c = &all[n++];
      char nin[16], nout[16];
      ck_assert_msg(sscanf(line, "%127s %15s %15s %lf %lf", c->name, nin, nout, &c->atol,
                           &c->rtol) == 5,
                    "bad MANIFEST line: %s", line);
      c->nin = strcmp(nin, "-") ? atoi(nin) : -1;
      c->nout = strcmp(nout, "-") ? atoi(nout) : -1;
    }
    fclose(f);
  }
  *cases = all;
  return n;
}

int ck_sh(char **out, const char *fmt, ...) {
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  HloStr s = {0};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) hlo_str_append(&s, buf, n);
  int status = pclose(p);
  char *text = hlo_str_take(&s);
  if (out) *out = text;
  else free(text);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const char *ck_env(const char *name) {
  const char *v = getenv(name);
  ck_assert_msg(v != NULL, "%s is not set (run through ctest)", name);
  return v;
}

int ck_count_files(const char *dir) {
  char *out;
  ck_assert_int_eq(ck_sh(&out, "ls -A %s | wc -l", dir), 0);
  int n = atoi(out);
  free(out);
  return n;
}

int ck_run_suite(Suite *s) {
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
