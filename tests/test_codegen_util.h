/*
 * test_codegen_util.h — the differential harness the codegen suites share
 * (included by each tests/test_codegen_*.c; not a suite itself).
 *
 * check_hlo(text, seed, atol, rtol): parses and verifies HLO text, draws
 * random arguments from a fixed seed, evaluates the module with the
 * reference evaluator, compiles it for the host and runs it through the
 * JIT's N_program descriptor, and compares every result.  Integer and pred
 * results must match exactly; float results within atol + rtol·|expected|
 * (NaN matches NaN, infinities must match), with tolerances each caller
 * states and justifies.
 *
 * Random arguments mix "interesting" values (zeros, ±1, extremes of the
 * type, shift counts around the bit width; for floats ±0, ±inf, NaN,
 * subnormals, halves) with ordinary small values, so XLA's edge-case rules
 * are exercised on every run.
 */
#ifndef HLOC_TESTS_CODEGEN_UTIL_H
#define HLOC_TESTS_CODEGEN_UTIL_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "codegen.h"
#include "passes.h"

/* xorshift64*: deterministic across platforms. */
static inline uint64_t cgt_rand(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1DULL;
}

static inline double cgt_uniform(uint64_t *s, double lo, double hi) {
  return lo + (hi - lo) * (double)(cgt_rand(s) >> 11) * 0x1p-53;
}

static inline double cgt_float_value(uint64_t *s) {
  static const double special[] = {0.0, -0.0, 1.0, -1.0, 0.5, -2.5, INFINITY,
                                    -INFINITY, NAN, 1e-40, -3e-42, 65504.0,
                                    1e-5, 3.0, 100.0};
  if (cgt_rand(s) % 8 == 0)
    return special[cgt_rand(s) % (sizeof special / sizeof *special)];
  return cgt_uniform(s, -8.0, 8.0);
}

/* Fills l (an array literal) with random values of its type; with
 * small_ints, floats get integers in [-8, 8] instead (see check_hlo_exact). */
static inline void cgt_fill_values(HloLiteral *l, uint64_t *s, bool small_ints) {
  if (l->shape.type == HLO_TUPLE) {
    for (int i = 0; i < l->shape.ntuple; i++) cgt_fill_values(l->elems[i], s, small_ints);
    return;
  }
  HloType t = l->shape.type;
  int64_t n = hlo_shape_elements(&l->shape);
  size_t size = hlo_type_size(t);
  int bits = (int)size * 8;
  if (hlo_type_is_complex(t)) {
    /* Finite parts only: C's complex functions (the evaluator's) recover
     * infinities from NaN results by Annex G's rules, which compiled code,
     * like XLA's, does not follow (codegen/complex.c). */
    for (int64_t i = 0; i < 2 * n; i++) {
      double v = small_ints ? (double)(int)(cgt_rand(s) % 17) - 8 : cgt_uniform(s, -4, 4);
      if (t == HLO_C64) ((float *)l->data)[i] = (float)v;
      else ((double *)l->data)[i] = v;
    }
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    if (hlo_type_is_float(t)) {
      hlo_literal_set_f64(l, i, small_ints ? (double)(int)(cgt_rand(s) % 17) - 8
                                           : cgt_float_value(s));
      continue;
    }
    if (t == HLO_PRED) {
      ((uint8_t *)l->data)[i] = cgt_rand(s) & 1;
      continue;
    }
    uint64_t v;
    bool is_signed = hlo_type_is_signed(t);
    switch (cgt_rand(s) % 8) {
    case 0: { /* an extreme or a boundary */
      uint64_t min = is_signed ? (uint64_t)1 << (bits - 1) : 0;
      uint64_t cands[] = {0, 1, (uint64_t)-1, min, min - 1, 2,
                          (uint64_t)bits - 1, (uint64_t)bits,
                          (uint64_t)bits + 1};
      v = cands[cgt_rand(s) % (sizeof cands / sizeof *cands)];
      break;
    }
    case 1: v = cgt_rand(s); break; /* any bit pattern */
    default:
      v = is_signed ? (uint64_t)(int64_t)(cgt_rand(s) % 41) - 20
                    : cgt_rand(s) % 41;
      break;
    }
    /* A sub-byte integer fills its byte as the evaluator holds it:
     * wrapped to its width, sign-extended when signed. */
    int width = hlo_type_bits(t);
    if (width < bits) {
      v &= ((uint64_t)1 << width) - 1;
      if (is_signed && v >> (width - 1)) v |= ~(uint64_t)0 << width;
    }
    memcpy((char *)l->data + i * (int64_t)size, &v, size); /* little-endian */
  }
}

static inline void cgt_fill(HloLiteral *l, uint64_t *s) {
  cgt_fill_values(l, s, false);
}

/* The host CPU backend's policy for the passes. */
static inline PassPolicy cgt_policy(void) {
  PassPolicy policy;
  HloError *e = cg_pass_policy(NULL, &policy);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  return policy;
}

/* The pass pipeline as hloc runs it for the host: with that policy. */
static inline HloError *cgt_optimize(HloModule *m) {
  PassPolicy policy = cgt_policy();
  return pass_run_pipeline(m, &(PassOptions){.policy = &policy});
}

/* Compiles m with options o (a host CPU) and loads it; every kernel goes
 * through the kernel-IR verifier first. */
static inline CgJit *cgt_jit_with(const HloModule *m, const CgOptions *opts) {
  CgOptions o = *opts;
  o.verify_kernels = true;
  CgProgram *p = NULL;
  HloError *e = cg_compile(m, &o, &p);
  ck_assert_msg(e == NULL, "compile failed: %s", hlo_error_message(e));
  CgJit *j = NULL;
  e = cg_jit(p, &j);
  ck_assert_msg(e == NULL, "JIT failed: %s", hlo_error_message(e));
  cg_program_free(p);
  return j;
}

/* Compiles m for the host with default options and loads it. */
static inline CgJit *cgt_jit(const HloModule *m, const char *name) {
  return cgt_jit_with(m, &(CgOptions){.name = name});
}

/* Whether this machine can run p's code: a test compiles for several CPU
 * classes (SSE2, AVX2, AVX-512, …) and runs each against the evaluator,
 * but a class the machine lacks would die of SIGILL.  Such a run is
 * skipped, said once per process on stderr; compiling it still ran. */
static inline bool cgt_host_runs(const hloc_program *p) {
  char why[512];
  if (!hloc_program_check_cpu(p, why, sizeof why)) return true;
  static bool said;
  if (!said) fprintf(stderr, "skipped running code this CPU cannot run: %s\n", why);
  said = true;
  return false;
}

/* The flat leaves of a (possibly tuple) literal. */
static inline int cgt_leaves(HloLiteral *l, HloLiteral **out) {
  if (l->shape.type != HLO_TUPLE) {
    out[0] = l;
    return 1;
  }
  int n = 0;
  for (int i = 0; i < l->shape.ntuple; i++) n += cgt_leaves(l->elems[i], out + n);
  return n;
}

/* Runs the compiled j on args (a tuple argument is passed as its leaves,
 * as the compiled function takes it) and compares with the evaluator's
 * `want`. */
static inline void cgt_compare(CgJit *j, HloLiteral *const *args, int nargs,
                               HloLiteral *want, double atol, double rtol) {
  const hloc_program *p = cg_jit_program(j);
  if (!cgt_host_runs(p)) return;
  HloLiteral *leaves[512], *flat[512];
  int nflat = 0;
  for (int i = 0; i < nargs; i++) nflat += cgt_leaves(args[i], flat + nflat);
  int n = cgt_leaves(want, leaves);
  ck_assert_int_eq(p->num_args, nflat);
  ck_assert_int_eq(p->num_results, n);
  void *bufs[1024];
  HloLiteral *got[512];
  for (int i = 0; i < nflat; i++) bufs[i] = flat[i]->data;
  nargs = nflat;
  for (int r = 0; r < n; r++) {
    got[r] = hlo_literal_new(&leaves[r]->shape);
    /* Poison the output so a kernel that writes nothing is caught. */
    memset(got[r]->data, 0xA5, hlo_shape_byte_size(&got[r]->shape));
    bufs[nargs + r] = got[r]->data;
    ck_assert_uint_eq(p->results[r].bytes, hlo_shape_byte_size(&leaves[r]->shape));
  }
  ck_assert_int_eq(hloc_program_run(p, bufs), 0);
  for (int r = 0; r < n; r++) {
    char msg[512];
    bool ok = ck_allclose(got[r], leaves[r], atol, rtol, msg, sizeof msg);
    ck_assert_msg(ok, "result %d (%s): %s", r, p->results[r].name, msg);
    hlo_literal_free(got[r]);
  }
}

/* The differential check of one module; with `pipeline`, the module goes
 * through pass_run_pipeline after it is evaluated (the passes must not
 * change its results). */
static inline void cgt_check_opts(const char *text, uint64_t seed, bool small_ints,
                                  bool pipeline, const CgOptions *o, double atol,
                                  double rtol) {
  HloModule *m = ck_parse_verified(text);
  const HloComputation *entry = m->entry;
  HloLiteral *args[64];
  uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (int i = 0; i < entry->nparams; i++) {
    args[i] = hlo_literal_new(&entry->params[i]->shape);
    cgt_fill_values(args[i], &s, small_ints);
  }
  HloLiteral *want = ck_evaluate(m, args, entry->nparams);
  if (pipeline) {
    HloError *e = cgt_optimize(m);
    ck_assert_msg(!e, "pipeline: %s", hlo_error_message(e));
  }
  /* An exact comparison needs Winograd's exact form (F(2x2, 3x3)). */
  CgOptions exact = *o;
  exact.exact_winograd |= atol == 0 && rtol == 0;
  CgJit *j = cgt_jit_with(m, &exact);
  cgt_compare(j, args, entry->nparams, want, atol, rtol);
  cg_jit_free(j);
  hlo_literal_free(want);
  for (int i = 0; i < entry->nparams; i++) hlo_literal_free(args[i]);
  hlo_module_free(m);
}

static inline void cgt_check_with(const char *text, uint64_t seed, bool small_ints,
                                  bool pipeline, double atol, double rtol) {
  cgt_check_opts(text, seed, small_ints, pipeline, &(CgOptions){.name = "t"}, atol, rtol);
}

static inline void cgt_check(const char *text, uint64_t seed, bool small_ints,
                             double atol, double rtol) {
  cgt_check_with(text, seed, small_ints, false, atol, rtol);
}

/* The differential test of one HLO module (see the top of this file). */
static inline void check_hlo(const char *text, uint64_t seed, double atol,
                             double rtol) {
  cgt_check(text, seed, false, atol, rtol);
}

/* The same with float arguments drawn from the integers in [-8, 8] and an
 * exact comparison: for modules whose float results are sums of products
 * of a few such values, every intermediate is an integer far below 2^24,
 * exact in f32 and in double, so accumulation order and precision cannot
 * matter. */
static inline void check_hlo_exact(const char *text, uint64_t seed) {
  cgt_check(text, seed, true, 0, 0);
}

/* A string printed with printf's format, malloc'ed (the caller frees it). */
static inline char *cgt_vfmt(const char *fmt, va_list ap) {
  va_list cp;
  va_copy(cp, ap);
  int n = vsnprintf(NULL, 0, fmt, cp);
  va_end(cp);
  char *text = malloc((size_t)n + 1);
  if (!text) abort();
  vsnprintf(text, (size_t)n + 1, fmt, ap);
  return text;
}
static inline char *cgt_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *cgt_fmt(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *text = cgt_vfmt(fmt, ap);
  va_end(ap);
  return text;
}

/* check_hlo on text built with printf. */
static inline void check_hlof(uint64_t seed, double atol, double rtol,
                              const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline void check_hlof(uint64_t seed, double atol, double rtol,
                              const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *text = cgt_vfmt(fmt, ap);
  va_end(ap);
  check_hlo(text, seed, atol, rtol);
  free(text);
}

#endif
