/*
 * check_util.c — see check_util.h.
 */
#include "check_util.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

void ck_write_file(const char *dir, const char *name, const char *text, char *path, size_t len) {
  ck_assert_msg((size_t)snprintf(path, len, "%s/%s", dir, name) < len, "path too long: %s/%s", dir,
                name);
  FILE *f = fopen(path, "w");
  ck_assert_msg(f != NULL, "cannot create %s", path);
  ck_assert_msg(fputs(text, f) >= 0 && fclose(f) == 0, "cannot write %s", path);
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
  HloType t = got->shape.type;
  bool integral = !hlo_type_is_float(t) && !hlo_type_is_complex(t);
  if (hlo_type_is_complex(t)) n *= 2; /* part by part: element i/2 */
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
    double g, w;
    if (t == HLO_C64) {
      g = ((const float *)got->data)[i];
      w = ((const float *)want->data)[i];
    } else if (t == HLO_C128) {
      g = ((const double *)got->data)[i];
      w = ((const double *)want->data)[i];
    } else {
      g = hlo_literal_get_f64(got, i);
      w = hlo_literal_get_f64(want, i);
    }
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

/* The JAX corpus's modules that use ops hloc reads but does not run yet;
 * each entry goes when the op arrives (the tests then say so). */
static const struct {
  const char *file;
  CkStep step;
  const char *message;
} refusals[] = {
    {NULL, 0, NULL}, /* none at present */
};

const char *ck_corpus_listed(const char *file, CkStep step) {
  for (size_t i = 0; i < sizeof refusals / sizeof *refusals; i++)
    if (refusals[i].file && !strcmp(refusals[i].file, file) && refusals[i].step == step)
      return refusals[i].message;
  return NULL;
}

int ck_corpus_refusal(const char *file, CkStep step, const HloError *e, HloStr *report) {
  static const char *const steps[] = {"verify", "evaluate", "pipeline", "compile",
                                      "compile --O0"};
  const char *want = ck_corpus_listed(file, step);
  if (!want) return -1;
  if (!e) {
    hlo_str_printf(report, "\n  %s: %s: passes, but is listed as refused", file, steps[step]);
    return 1;
  }
  if (strcmp(hlo_error_message(e), want)) {
    hlo_str_printf(report, "\n  %s: %s: refused with \"%s\", listed as \"%s\"", file,
                   steps[step], hlo_error_message(e), want);
    return 1;
  }
  return 0;
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

pid_t ck_sh_start(const char *fmt, ...) {
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  return pid;
}

void ck_wait_for_file(pid_t pid, const char *path, double seconds) {
  for (int i = 0; i < seconds * 100; i++) {
    if (!access(path, F_OK)) return;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid)
      ck_abort_msg("%s did not appear: the process ended first (status %#x)", path, status);
    nanosleep(&(struct timespec){0, 10000000}, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  ck_abort_msg("%s did not appear in %g s", path, seconds);
}

int ck_wait_signal(pid_t pid, double seconds) {
  for (int i = 0; i < seconds * 100; i++) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    nanosleep(&(struct timespec){0, 10000000}, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  ck_abort_msg("process %d did not end in %g s", (int)pid, seconds);
  return -1;
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

const char *ck_ptxas(void) {
  static char path[512];
  const char *home = getenv("CUDA_HOME");
  snprintf(path, sizeof path, "%s/bin/ptxas", home && *home ? home : "/usr/local/cuda");
  if (access(path, X_OK) == 0) return path;
  char *out = NULL;
  if (ck_sh(&out, "command -v ptxas") == 0 && out) {
    out[strcspn(out, "\n")] = '\0';
    snprintf(path, sizeof path, "%s", out);
    free(out);
    return path;
  }
  free(out);
  return NULL;
}

int ck_ptxas_dir(const char *ptxas, const char *dir, const char *sm, char **report) {
  *report = NULL;
  /* Each run leaves NAME.ok or NAME.log (its message) beside NAME.ptx. */
  char *out = NULL;
  int rc = ck_sh(&out,
                 "cd %s && for f in *.ptx; do [ -e \"$f\" ] && printf '%%s\\0' \"$f\"; done | "
                 "xargs -0 -r -P 4 -n 1 sh -c '%s -arch=%s -o /dev/null \"$0\" > \"$0.log\" "
                 "2>&1 && rm \"$0.log\" && touch \"$0.ok\"; exit 0'",
                 dir, ptxas, sm);
  ck_assert_msg(rc == 0, "running ptxas in %s: %s", dir, out ? out : "");
  free(out);
  HloStr bad = {0};
  int ok = 0;
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  for (struct dirent *de; (de = readdir(d));) {
    size_t n = strlen(de->d_name);
    char path[1024];
    if (n > 7 && !strcmp(de->d_name + n - 7, ".ptx.ok")) {
      ok++;
    } else if (n > 8 && !strcmp(de->d_name + n - 8, ".ptx.log")) {
      snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
      char *log = ck_read_file(path, NULL);
      hlo_str_printf(&bad, "\n  %.*s: ptxas -arch=%s: %.2000s", (int)(n - 8), de->d_name, sm, log);
      free(log);
    } else {
      continue;
    }
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    unlink(path);
  }
  closedir(d);
  *report = bad.buf;
  return ok;
}

int ck_run_suite(Suite *s) {
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* ck_match                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct Binding {
  char name[32];
  char value[32];
} Binding;

typedef struct Bindings {
  Binding b[256];
  int n;
} Bindings;

static const char *bound(const Bindings *bs, const char *name, size_t n) {
  for (int i = 0; i < bs->n; i++)
    if (strlen(bs->b[i].name) == n && !strncmp(bs->b[i].name, name, n)) return bs->b[i].value;
  return NULL;
}

/* Whether line [l, le) matches pattern [p, pe) from the start, to the end;
 * new bindings go to bs (kept only on success). */
static bool match_here(const char *l, const char *le, const char *p, const char *pe,
                       Bindings *bs) {
  while (p < pe) {
    if (pe - p >= 3 && !strncmp(p, "...", 3)) {
      for (const char *t = le; t >= l; t--) {
        Bindings save = *bs;
        if (match_here(t, le, p + 3, pe, bs)) return true;
        *bs = save;
      }
      return false;
    }
    if (*p == '%' && p + 1 < pe && isalpha((unsigned char)p[1])) {
      const char *q = p + 1;
      while (q < pe && (isalnum((unsigned char)*q) || *q == '_')) q++;
      if (l >= le || *l != '%' || l + 1 >= le || !isdigit((unsigned char)l[1])) return false;
      const char *v = l + 1;
      while (v < le && isdigit((unsigned char)*v)) v++;
      const char *have = bound(bs, p + 1, (size_t)(q - p - 1));
      if (have) {
        if (strlen(have) != (size_t)(v - l) || strncmp(have, l, (size_t)(v - l))) return false;
      } else {
        ck_assert_int_lt(bs->n, 256);
        Binding *b = &bs->b[bs->n++];
        snprintf(b->name, sizeof b->name, "%.*s", (int)(q - p - 1), p + 1);
        snprintf(b->value, sizeof b->value, "%.*s", (int)(v - l), l);
      }
      p = q;
      l = v;
      continue;
    }
    if (l >= le || *l != *p) return false;
    l++;
    p++;
  }
  return l == le;
}

/* Whether the pattern occurs in the line (anywhere: an implicit leading
 * and trailing "..."). */
static bool match_line(const char *l, const char *le, const char *p, const char *pe,
                       Bindings *bs) {
  for (const char *t = l; t <= le; t++) {
    Bindings save = *bs;
    for (const char *u = le; u >= t; u--)
      if (match_here(t, u, p, pe, bs)) return true;
    *bs = save;
  }
  return false;
}

static const char *line_end(const char *s) {
  const char *e = strchr(s, '\n');
  return e ? e : s + strlen(s);
}

static const char *skip_space(const char *s, const char *e) {
  while (s < e && (*s == ' ' || *s == '\t')) s++;
  return s;
}

/* The lines from `from` up to `to` (NULL: the end) that match no NOT
 * pattern; else the account of the first that does. */
static char *check_nots(const char *from, const char *to, const char *const (*nots)[2],
                        int nnots, const Bindings *bs) {
  for (int k = 0; k < nnots; k++)
    for (const char *m = from; *m && (!to || m < to);) {
      const char *me = line_end(m);
      Bindings scratch = *bs;
      if (match_line(m, me, nots[k][0], nots[k][1], &scratch)) {
        HloStr s = {0};
        hlo_str_printf(&s, "NOT: %.*s\n  matched: %.*s", (int)(nots[k][1] - nots[k][0]),
                       nots[k][0], (int)(me - m), m);
        return hlo_str_take(&s);
      }
      m = *me ? me + 1 : me;
    }
  return NULL;
}

char *ck_match(const char *text, const char *pattern) {
  Bindings bs = {.n = 0};
  const char *at = text;  /* where the next positive match may start */
  const char *nots[64][2];
  int nnots = 0;
  for (const char *p = pattern; *p;) {
    const char *pe = line_end(p), *ps = skip_space(p, pe);
    const char *next = *pe ? pe + 1 : pe;
    if (ps == pe) {
      p = next;
      continue;
    }
    if (pe - ps > 5 && !strncmp(ps, "NOT: ", 5)) {
      ck_assert_int_lt(nnots, 64);
      nots[nnots][0] = ps + 5;
      nots[nnots++][1] = pe;
      p = next;
      continue;
    }
    const char *found = NULL, *l;
    for (l = at; *l && !found;) {
      const char *le = line_end(l);
      if (match_line(l, le, ps, pe, &bs)) found = l;
      else l = *le ? le + 1 : le;
    }
    char *why = check_nots(at, found, (const char *const(*)[2])nots, nnots, &bs);
    if (why) return why;
    nnots = 0;
    if (!found) {
      HloStr s = {0};
      const char *ae = line_end(at);
      hlo_str_printf(&s, "no line matches: %.*s\n  searching from: %.*s", (int)(pe - ps), ps,
                     (int)(ae - at), at);
      return hlo_str_take(&s);
    }
    const char *fe = line_end(found);
    at = *fe ? fe + 1 : fe;
    p = next;
  }
  return check_nots(at, NULL, (const char *const(*)[2])nots, nnots, &bs);
}

void ck_assert_match(const char *text, const char *pattern) {
  char *why = ck_match(text, pattern);
  /* Check's messages are short: the account and the text's first lines. */
  ck_assert_msg(why == NULL, "%s\n--- in ---\n%.3000s", why, text);
}

const char ck_threads_hlo[] =
    "HloModule m\n\nENTRY e {\n  x = f32[256,256] parameter(0)\n"
    "  w = f32[256,256] parameter(1)\n"
    "  d = f32[256,256] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
    "  t = f32[256,256] tanh(d)\n  i = f32[1,32,32,16] parameter(2)\n"
    "  k = f32[3,3,16,32] parameter(3)\n"
    "  c = f32[1,32,32,32] convolution(i, k), window={size=3x3 pad=1_1x1_1}, "
    "dim_labels=b01f_01io->b01f\n"
    "  ROOT r = (f32[256,256], f32[1,32,32,32]) tuple(t, c)\n}\n";

const char ck_expanded_ops_hlo[] =
      "HloModule m\n"
      "pick_true {\n  t = () parameter(0)\n  ROOT c = f32[] constant(0)\n}\n"
      "pick_false {\n  t = () parameter(0)\n  ROOT c = f32[] constant(1)\n}\n"
      "half {\n  h = f32[] parameter(0)\n  k = f32[] constant(0.5)\n"
      "  ROOT m = f32[] multiply(h, k)\n}\n"
      "f {\n  a = f32[] parameter(0)\n  b = s32[] parameter(1)\n  c = f32[] convert(b)\n"
      "  lt = pred[] compare(a, c), direction=LT\n  t = () tuple()\n"
      "  s = f32[] conditional(lt, t, t), true_computation=pick_true, "
      "false_computation=pick_false\n"
      "  h = f32[] call(a), to_apply=half\n  q = f32[] sinh(h)\n"
      "  ROOT r = f32[] add(s, q)\n}\n"
      "ENTRY e {\n  x = f32[4,3] parameter(0)\n  y = f64[4,3] parameter(1)\n"
      "  z = bf16[4,3] parameter(2)\n  i = s32[4,3] parameter(3)\n"
      "  a0 = f32[4,3] acos(x)\n  a1 = f32[4,3] asin(x)\n  a2 = f32[4,3] atan(x)\n"
      "  a3 = f32[4,3] acosh(x)\n  a4 = f32[4,3] asinh(x)\n  a5 = f32[4,3] atanh(x)\n"
      "  a6 = f32[4,3] cosh(x)\n  a7 = f32[4,3] sinh(x)\n"
      "  b0 = f64[4,3] asinh(y)\n  b1 = f64[4,3] cosh(y)\n  b2 = f64[4,3] acos(y)\n"
      "  c0 = bf16[4,3] atanh(z)\n  c1 = bf16[4,3] sinh(z)\n"
      "  r0 = f32[4,3] reduce-precision(x), exponent_bits=5, mantissa_bits=10\n"
      "  r1 = f32[4,3] reduce-precision(a6), exponent_bits=8, mantissa_bits=7\n"
      "  r2 = f64[4,3] reduce-precision(y), exponent_bits=8, mantissa_bits=23\n"
      "  r3 = bf16[4,3] reduce-precision(z), exponent_bits=5, mantissa_bits=2\n"
      "  u0 = u32[4,3] bitcast-convert(r0)\n  u1 = u32[4,3] bitcast-convert(r1)\n"
      "  u2 = u64[4,3] bitcast-convert(r2)\n  u3 = u16[4,3] bitcast-convert(r3)\n"
      "  m = f32[4,3] map(x, i), dimensions={0,1}, to_apply=f\n"
      "  e0 = f32[4,3] real(x)\n  e1 = f64[4,3] imag(y)\n"
      "  ROOT out = (f32[4,3], f32[4,3], f32[4,3], f32[4,3], f32[4,3], f32[4,3], f32[4,3], "
      "f32[4,3], f64[4,3], f64[4,3], f64[4,3], bf16[4,3], bf16[4,3], u32[4,3], u32[4,3], "
      "u64[4,3], u16[4,3], f32[4,3], f32[4,3], f64[4,3]) "
      "tuple(a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, c0, c1, u0, u1, u2, u3, m, e0, e1)\n}\n";

const char ck_buffers_hlo[] =
    "HloModule m\nc {\n  p = (s32[], b(f32[3])) parameter(0)\n"
    "  i = s32[] get-tuple-element(p), index=0\n  two = s32[] constant(2)\n"
    "  ROOT lt = pred[] compare(i, two), direction=LT\n}\n"
    "b {\n  p = (s32[], b(f32[3])) parameter(0)\n"
    "  i = s32[] get-tuple-element(p), index=0\n  one = s32[] constant(1)\n"
    "  j = s32[] add(i, one)\n  x = b(f32[3]) get-tuple-element(p), index=1\n"
    "  u = f32[3] custom-call(x), custom_call_target=\"Unpin\"\n  e = f32[3] exponential(u)\n"
    "  y = b(f32[3]) custom-call(e), custom_call_target=\"Pin\"\n"
    "  ROOT t = (s32[], b(f32[3])) tuple(j, y)\n}\n"
    "ENTRY e {\n  p = f32[4,2] parameter(0)\n  q = b(f32[3]) parameter(1)\n"
    "  a = b(f32[4,2]{0,1}) custom-call(p), custom_call_target=\"Pin\", "
    "output_to_operand_aliasing={{}: (0, {})}\n"
    "  u = f32[4,2]{0,1} custom-call(a), custom_call_target=\"Unpin\", "
    "output_to_operand_aliasing={{}: (0, {})}\n  n = f32[4,2] negate(u)\n"
    "  zero = s32[] constant(0)\n  t = (s32[], b(f32[3])) tuple(zero, q)\n"
    "  w = (s32[], b(f32[3])) while(t), condition=c, body=b\n"
    "  g = b(f32[3]) get-tuple-element(w), index=1\n"
    "  v = f32[3] custom-call(g), custom_call_target=\"Unpin\"\n"
    "  z = b(f32[2]) custom-call(), custom_call_target=\"CreateBuffer\"\n"
    "  zu = f32[2] custom-call(z), custom_call_target=\"Unpin\"\n"
    "  al = f32[2] custom-call(), custom_call_target=\"AllocateBuffer\"\n"
    "  lc = f32[2]{0} custom-call(zu), custom_call_target=\"LayoutConstraint\"\n"
    "  za = f32[2] add(lc, al)\n"
    "  ROOT r = (f32[4,2], f32[3], f32[2]) tuple(n, v, za)\n}\n";
