/*
 * test_codegen_math.c — codegen/math.c's own f32 transcendentals: their
 * accuracy, and that compiled code calls no libm.
 *
 * Accuracy: each function is compiled once as a kernel over an f32 array
 * of 2^20 elements and run through the JIT on points that cover its
 * domain: the special values (±0, ±inf, NaN, the extremes, subnormals),
 * a sweep of every binade (±2^k (1 + j/64) for every k), then random
 * points — half uniform in value over the range where the function varies,
 * half uniform over bit patterns (so every binade is sampled alike).  Each
 * result is compared with libm's double-precision value, not rounded to
 * f32: the error is measured in ulps of that exact value (an ulp being
 * that of its f32 binade, 2^-149 below the normals), so a correctly
 * rounded result is within 0.5.  Inf and NaN must match exactly, and so
 * must the sign of a zero.  The maximum ulp error must stay within the
 * bound docs/math.md documents; every case prints its maxima (ulps,
 * absolute, relative) and where the worst ulp error occurred.
 *
 * Each function is measured twice: compiled for this machine (FMA where
 * it has one) and for x86-64-v2, which has no FMA, so the bounds hold
 * whether or not LLVM fuses the multiply-adds.
 *
 * No libm: a module using every transcendental in f32, f16 and bf16 is
 * compiled to an ELF object whose undefined symbols (read from its
 * SHT_SYMTAB) must not include a libm function; the same reader must find
 * `exp` in an f64 module, which keeps libm (docs/math.md).
 *
 * Vectorization: the assembly of those kernels for x86-64-v3 must use ymm
 * registers in every kernel.
 */
#include <elf.h>
#include <float.h>

#include "internal.h"
#include "kir_interp.h"
#include "test_codegen_util.h"

#define NPOINTS (1 << 20)

static double logistic_ref(double x) { return 1.0 / (1.0 + exp(-x)); }
static double rsqrt_ref(double x) { return 1.0 / sqrt(x); }

typedef struct MathCase {
  const char *op;          /* HLO opcode */
  double (*ref1)(double);  /* double reference (unary) */
  double (*ref2)(double, double); /* or binary */
  double lo, hi;           /* range of the uniform points (first operand) */
  double bound;            /* max ulp error asserted (docs/math.md) */
} MathCase;

static const MathCase cases[] = {
    {"exponential", exp, NULL, -104, 89, 1.5},
    {"exponential-minus-one", expm1, NULL, -18, 89, 2},
    {"log", log, NULL, 0, 10, 1.5},
    {"log-plus-one", log1p, NULL, -1, 10, 2},
    {"tanh", tanh, NULL, -10, 10, 2},
    {"logistic", logistic_ref, NULL, -104, 20, 2.5},
    {"erf", erf, NULL, -4, 4, 2},
    {"sine", sin, NULL, -100, 100, 1},
    {"cosine", cos, NULL, -100, 100, 1},
    {"tan", tan, NULL, -100, 100, 1},
    {"cbrt", cbrt, NULL, -100, 100, 1},
    {"sqrt", sqrt, NULL, 0, 100, 0.5},
    {"rsqrt", rsqrt_ref, NULL, 0, 100, 1.5},
    {"power", NULL, pow, 0, 10, 1},
    {"atan2", NULL, atan2, -10, 10, 2},
};
#define NCASES ((int)(sizeof cases / sizeof *cases))

/* ------------------------------------------------------------------------ */
/* Points                                                                    */
/* ------------------------------------------------------------------------ */

static float from_bits(uint32_t b) {
  float f;
  memcpy(&f, &b, 4);
  return f;
}

static const float specials[] = {
    0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -0.5f, 2.0f, -2.0f, 3.0f, -3.0f,
    INFINITY, -INFINITY, NAN, FLT_MAX, -FLT_MAX, FLT_MIN, -FLT_MIN,
    0x1p-149f, -0x1p-149f, 0x1.fffffcp-127f, 1e-30f, -1e-30f,
    88.72283f, 88.72284f, -87.33654f, -103.972f, -103.973f, -104.0f,
    89.0f, 9.0f, 10.0f, 3.92f, 0.875f, 0.625f, 0.7853981f, 1.5707963f,
    3.1415927f, 65504.0f, 1e10f, 1e30f, -1e30f, 0x1p24f, 0x1p23f + 1,
    -0x1p24f - 2, 16367173.0f * 0x1p72f, 0.99999994f, 1.0000001f};
#define NSPECIALS ((int)(sizeof specials / sizeof *specials))

/* A random finite f32, uniform over bit patterns (both signs). */
static float random_bits(uint64_t *s) {
  for (;;) {
    float f = from_bits((uint32_t)cgt_rand(s));
    if (isfinite(f)) return f;
  }
}

/* Unary inputs: specials, the binade sweep, uniform and bit-pattern
 * random points. */
static void unary_points(const MathCase *c, float *x, uint64_t *s) {
  int n = 0;
  for (int i = 0; i < NSPECIALS; i++) x[n++] = specials[i];
  for (int k = -149; k <= 127; k++)
    for (int j = 0; j < 64; j++) {
      float v = ldexpf(1.0f + (float)j / 64, k);
      x[n++] = v;
      x[n++] = -v;
    }
  while (n < NPOINTS) {
    x[n] = n % 2 ? (float)cgt_uniform(s, c->lo, c->hi) : random_bits(s);
    n++;
  }
}

/* Binary inputs.  pow: x positive over all binades with y scaled so that
 * |y log2 x| stays below about 160 (elsewhere the result is 0 or inf
 * outright), negative x with integer y, uniform points, and every pair of
 * specials.  atan2: every pair of specials, then bit-pattern and uniform
 * pairs. */
static void binary_points(const MathCase *c, float *x, float *y,
                          uint64_t *s) {
  int n = 0;
  for (int i = 0; i < NSPECIALS; i++)
    for (int j = 0; j < NSPECIALS; j++, n++) {
      x[n] = specials[i];
      y[n] = specials[j];
    }
  bool is_pow = c->ref2 == pow;
  while (n < NPOINTS) {
    switch (n % 4) {
    case 0:
      x[n] = fabsf(random_bits(s));
      y[n] = is_pow ? (float)(cgt_uniform(s, -1, 1) * 160 /
                              fmax(fabs(log2(x[n])), 1e-3))
                    : random_bits(s);
      break;
    case 1:
      x[n] = is_pow ? -fabsf(random_bits(s)) : random_bits(s);
      y[n] = is_pow ? (float)(int)cgt_uniform(s, -40, 40) : random_bits(s);
      if (is_pow && fabsf(x[n]) > 16) x[n] = (float)cgt_uniform(s, -16, 0);
      break;
    default:
      x[n] = (float)cgt_uniform(s, c->lo, c->hi);
      y[n] = (float)cgt_uniform(s, -10, 10);
      break;
    }
    n++;
  }
}

/* ------------------------------------------------------------------------ */
/* Error                                                                     */
/* ------------------------------------------------------------------------ */

/* The error of got in ulps of the exact value want (INFINITY when inf,
 * NaN or a zero's sign do not match). */
static double ulp_error(float got, double want) {
  if (isnan(want)) return isnan(got) ? 0 : INFINITY;
  if (isnan(got)) return INFINITY;
  float rounded = (float)want;
  if (isinf(rounded) || isinf(got)) return got == rounded ? 0 : INFINITY;
  if (want == 0)
    return got == 0 && signbit(got) == signbit(want) ? 0
                                                     : fabs(got) / 0x1p-149;
  int e = ilogb(want);
  double ulp = ldexp(1.0, (e < -126 ? -126 : e) - 23);
  return fabs((double)got - want) / ulp;
}

typedef struct Stats {
  double ulps, abs, rel; /* maxima */
  float at_x, at_y;      /* where ulps was reached */
  float got;
  double want;
} Stats;

static void measure(const MathCase *c, const float *x, const float *y,
                    const float *got, Stats *st) {
  memset(st, 0, sizeof *st);
  for (int i = 0; i < NPOINTS; i++) {
    double want = c->ref1 ? c->ref1(x[i]) : c->ref2(x[i], y[i]);
    double u = ulp_error(got[i], want);
    if (u > st->ulps || (u == INFINITY && st->ulps != INFINITY)) {
      st->ulps = u;
      st->at_x = x[i];
      st->at_y = y ? y[i] : 0;
      st->got = got[i];
      st->want = want;
    }
    if (isfinite(want) && isfinite(got[i]) && fabs(want) <= FLT_MAX) {
      double d = fabs((double)got[i] - want);
      if (d > st->abs) st->abs = d;
      if (fabs(want) >= FLT_MIN && d / fabs(want) > st->rel)
        st->rel = d / fabs(want);
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Compiling and running                                                     */
/* ------------------------------------------------------------------------ */

static CgProgram *compile_text(const char *text, const CgOptions *o) {
  HloModule *m = ck_parse_verified(text);
  CgProgram *p = NULL;
  HloError *e = cg_compile(m, o, &p);
  ck_assert_msg(e == NULL, "compile failed: %s", hlo_error_message(e));
  hlo_module_free(m);
  return p;
}

/* One kernel: f32[NPOINTS] results of op on one or two parameters. */
static char *kernel_text(const MathCase *c) {
  HloStr m = {0};
  hlo_str_printf(&m, "HloModule m\n\nENTRY main {\n");
  hlo_str_printf(&m, "  x = f32[%d] parameter(0)\n", NPOINTS);
  if (c->ref2) hlo_str_printf(&m, "  y = f32[%d] parameter(1)\n", NPOINTS);
  hlo_str_printf(&m, "  ROOT r = f32[%d] %s(x%s)\n}\n", NPOINTS, c->op,
                 c->ref2 ? ", y" : "");
  return hlo_str_take(&m);
}

static void run_case(const MathCase *c, const char *cpu, const float *x,
                     const float *y, float *got) {
  char *text = kernel_text(c);
  CgOptions o = {.name = "m", .cpu = cpu};
  CgProgram *p = compile_text(text, &o);
  free(text);
  CgJit *j = NULL;
  HloError *e = cg_jit(p, &j);
  ck_assert_msg(e == NULL, "JIT failed: %s", hlo_error_message(e));
  cg_program_free(p);
  void *bufs[3] = {(void *)x, (void *)y, got};
  if (!y) bufs[1] = got;
  ck_assert_int_eq(hloc_program_run(cg_jit_program(j), bufs), 0);
  cg_jit_free(j);
}

START_TEST(accuracy) {
  const MathCase *c = &cases[_i];
  float *x = malloc(NPOINTS * sizeof *x), *got = malloc(NPOINTS * sizeof *got);
  float *y = c->ref2 ? malloc(NPOINTS * sizeof *y) : NULL;
  uint64_t s = 0x9E3779B97F4A7C15ULL * (uint64_t)(_i + 1);
  if (c->ref2) binary_points(c, x, y, &s);
  else unary_points(c, x, &s);
  static const char *const cpus[] = {NULL, "x86-64-v2"};
  for (int k = 0; k < 2; k++) {
#if !defined(__x86_64__)
    if (cpus[k]) continue;
#endif
    run_case(c, cpus[k], x, y, got);
    Stats st;
    measure(c, x, y, got, &st);
    printf("%-22s %-9s max %.3f ulp at (%.9g, %.9g): got %.9g, want %.17g;"
           " max abs %.3g, max rel %.3g\n",
           c->op, cpus[k] ? cpus[k] : "native", st.ulps, st.at_x, st.at_y,
           st.got, st.want, st.abs, st.rel);
    ck_assert_msg(st.ulps <= c->bound,
                  "%s (%s): %.3f ulp > %.3g at (%.9g, %.9g): got %.9g, "
                  "want %.17g",
                  c->op, cpus[k] ? cpus[k] : "native", st.ulps, c->bound,
                  st.at_x, st.at_y, st.got, st.want);
  }
  free(x);
  free(y);
  free(got);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* exp's scalef form                                                         */
/* ------------------------------------------------------------------------ */

/* Where the target scales a full vector by 2^n in one instruction
 * (CgTargetInfo.scalef: AVX-512's vscalefps), exp_core applies 2^n with
 * it instead of as two exact factors; both round once, so the results
 * must be the same bits.  exponential, logistic and erf (the functions
 * built on exp_core) are compiled for znver4 (512-bit vectors, scalef)
 * and x86-64-v3 (256-bit, no AVX-512) and compared on the accuracy
 * points: through the kernel-IR interpreter on every 16th point (any
 * host), and through the JIT on all of them where the host has AVX-512.
 * The znver4 kernel IR must hold a scalef, so the form is exercised. */
#define SCALEF_SAMPLE (NPOINTS / 16)

/* op over an f32[n] parameter, interpreted (kir_interp.h) for cpu. */
static void interpret_case(const char *op, const char *cpu, const float *x, float *got, int n,
                           int *nscalef) {
  HloStr t = {0};
  hlo_str_printf(&t, "HloModule m\n\nENTRY main {\n  x = f32[%d] parameter(0)\n"
                     "  ROOT r = f32[%d] %s(x)\n}\n", n, n, op);
  HloModule *m = ck_parse_verified(t.buf);
  free(t.buf);
  CgOptions o = {.name = "m", .cpu = cpu};
  PassPolicy policy;
  ck_assert(!cg_pass_policy(&o, &policy));
  ck_assert(!pass_run_pipeline(m, &(PassOptions){.policy = &policy}));
  CgKernels ks;
  HloError *e = cg_kernels_build(m, &o, &ks);
  ck_assert_msg(e == NULL, "%s", hlo_error_message(e));
  char *kir = kir_print(ks.k);
  *nscalef = 0;
  for (const char *q = kir; (q = strstr(q, " scalef ")); q++) ++*nscalef;
  free(kir);
  char entry[160];
  snprintf(entry, sizeof entry, "%s_run_profiled", ks.sig.name);
  void *arena = malloc(ks.sig.scratch_bytes ? ks.sig.scratch_bytes : 1);
  int32_t cancel = 0;
  KirInterpArg a[5] = {{.data = (void *)x, .bytes = n * sizeof(float)},
                       {.data = got, .bytes = n * sizeof(float)},
                       {.data = arena, .bytes = ks.sig.scratch_bytes},
                       {.data = &cancel},
                       {.data = NULL}};
  uint64_t status = 1;
  e = kir_interp_run(ks.k, entry, 5, a, NULL, &status);
  ck_assert_msg(e == NULL, "%s", hlo_error_message(e));
  ck_assert_int_eq(status, 0);
  free(arena);
  cg_signature_free(&ks.sig);
  cg_kernels_free(&ks);
  hlo_module_free(m);
}

static void assert_same_bits(const char *op, const char *how, const float *x, const float *a,
                             const float *b, int n) {
  for (int i = 0; i < n; i++)
    ck_assert_msg(!memcmp(a + i, b + i, sizeof *a),
                  "%s (%s): at %.9g znver4 gives %.9g, x86-64-v3 %.9g", op, how, x[i], a[i], b[i]);
}

START_TEST(scalef_same_bits) {
  static const int exp_cases[] = {0, 5, 6}; /* exponential, logistic, erf */
  const MathCase *c = &cases[exp_cases[_i]];
  float *x = malloc(NPOINTS * sizeof *x), *a = malloc(NPOINTS * sizeof *a),
        *b = malloc(NPOINTS * sizeof *b);
  float *xs = malloc(SCALEF_SAMPLE * sizeof *xs);
  uint64_t s = 0x5CA1EF5CA1EFULL * (uint64_t)(_i + 1);
  unary_points(c, x, &s);
  for (int i = 0; i < SCALEF_SAMPLE; i++) xs[i] = x[16 * i];
  int n512 = 0, n256 = 0;
  interpret_case(c->op, "znver4", xs, a, SCALEF_SAMPLE, &n512);
  interpret_case(c->op, "x86-64-v3", xs, b, SCALEF_SAMPLE, &n256);
  ck_assert_msg(n512 > 0, "%s: no scalef in the znver4 kernel", c->op);
  ck_assert_int_eq(n256, 0);
  assert_same_bits(c->op, "interpreted", xs, a, b, SCALEF_SAMPLE);
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) {
    run_case(c, "znver4", x, NULL, a);
    run_case(c, "x86-64-v3", x, NULL, b);
    assert_same_bits(c->op, "compiled", x, a, b, NPOINTS);
  }
#endif
  free(x);
  free(a);
  free(b);
  free(xs);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* No libm, vectorized                                                       */
/* ------------------------------------------------------------------------ */

static const char *const transcendentals[] = {
    "exponential", "exponential-minus-one", "log", "log-plus-one", "tanh",
    "logistic", "erf", "sine", "cosine", "tan", "cbrt", "sqrt", "rsqrt"};
#define NTRANS ((int)(sizeof transcendentals / sizeof *transcendentals))

/* Every transcendental of type t on a [1024] array, one result each. */
static char *all_ops_text(const char *t) {
  HloStr m = {0}, root = {0}, tys = {0};
  hlo_str_printf(&m, "HloModule all\n\nENTRY main {\n");
  hlo_str_printf(&m, "  x = %s[1024] parameter(0)\n  y = %s[1024] parameter(1)\n",
                 t, t);
  for (int i = 0; i < NTRANS + 2; i++) {
    if (i < NTRANS)
      hlo_str_printf(&m, "  r%d = %s[1024] %s(x)\n", i, t, transcendentals[i]);
    else
      hlo_str_printf(&m, "  r%d = %s[1024] %s(x, y)\n", i, t,
                     i == NTRANS ? "power" : "atan2");
    hlo_str_printf(&root, "%sr%d", i ? ", " : "", i);
    hlo_str_printf(&tys, "%s%s[1024]", i ? ", " : "", t);
  }
  hlo_str_printf(&m, "  ROOT t = (%s) tuple(%s)\n}\n", tys.buf, root.buf);
  free(root.buf);
  free(tys.buf);
  return hlo_str_take(&m);
}

/* The undefined symbols of an ELF64 relocatable object, " a b c ". */
static char *undefined_symbols(const char *obj, size_t len) {
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)obj;
  ck_assert(len > sizeof *eh && !memcmp(eh->e_ident, ELFMAG, SELFMAG));
  ck_assert_int_eq(eh->e_ident[EI_CLASS], ELFCLASS64);
  const Elf64_Shdr *sh = (const Elf64_Shdr *)(obj + eh->e_shoff);
  HloStr names = {0};
  hlo_str_printf(&names, " ");
  for (int i = 0; i < eh->e_shnum; i++) {
    if (sh[i].sh_type != SHT_SYMTAB) continue;
    const Elf64_Sym *sym = (const Elf64_Sym *)(obj + sh[i].sh_offset);
    const char *str = obj + sh[sh[i].sh_link].sh_offset;
    for (size_t k = 1; k < sh[i].sh_size / sizeof *sym; k++)
      if (sym[k].st_shndx == SHN_UNDEF && str[sym[k].st_name])
        hlo_str_printf(&names, "%s ", str + sym[k].st_name);
  }
  return hlo_str_take(&names);
}

static char *object_undefined(const char *text) {
  CgOptions o = {.name = "all"};
  CgProgram *p = compile_text(text, &o);
  char *obj;
  size_t len;
  HloError *e = cg_program_emit(p, CG_FILE_OBJECT, &obj, &len);
  ck_assert_msg(e == NULL, "%s", hlo_error_message(e));
  char *undef = undefined_symbols(obj, len);
  free(obj);
  cg_program_free(p);
  return undef;
}

/* libm's functions of the ops above, in both precisions. */
static const char *const libm[] = {
    "exp", "expm1", "log", "log1p", "tanh", "erf", "erfc", "sin", "cos",
    "tan", "cbrt", "pow", "atan2", "atan", "exp2", "log2", "sqrt", "fma",
    "floor", "ceil", "round", "roundeven", "nearbyint", "ldexp", "frexp"};

START_TEST(no_libm_calls) {
  static const char *const types[] = {"f32", "f16", "bf16"};
  for (int t = 0; t < 3; t++) {
    char *text = all_ops_text(types[t]);
    char *undef = object_undefined(text);
    for (size_t i = 0; i < sizeof libm / sizeof *libm; i++)
      for (int f = 0; f < 2; f++) {
        char name[32];
        snprintf(name, sizeof name, " %s%s ", libm[i], f ? "f" : "");
        ck_assert_msg(!strstr(undef, name), "%s: the object calls%s(undefined:%s)",
                      types[t], name, undef);
      }
    free(undef);
    free(text);
  }
  /* The reader does see libm where it is used: f64 keeps it. */
  char *undef = object_undefined("HloModule d\n\nENTRY main {\n"
                                 "  x = f64[16] parameter(0)\n"
                                 "  ROOT r = f64[16] exponential(x)\n}\n");
  ck_assert_msg(strstr(undef, " exp "), "undefined:%s", undef);
  free(undef);
}
END_TEST

/* In the x86-64-v3 assembly every kernel function uses ymm registers. */
START_TEST(kernels_vectorized) {
  char *text = all_ops_text("f32");
  CgOptions o = {.name = "all", .target = "x86_64", .cpu = "x86-64-v3"};
  CgProgram *p = compile_text(text, &o);
  free(text);
  char *as;
  size_t len;
  HloError *e = cg_program_emit(p, CG_FILE_ASSEMBLY, &as, &len);
  ck_assert_msg(e == NULL, "%s", hlo_error_message(e));
  int kernels = 0;
  for (char *line = strtok(as, "\n"); line;) {
    /* A kernel's label "all_k<N>_<name>:" opens its body. */
    if (strncmp(line, "all_k", 5) || line[strlen(line) - 1] != ':') {
      line = strtok(NULL, "\n");
      continue;
    }
    char name[128];
    snprintf(name, sizeof name, "%s", line);
    bool ymm = false;
    for (line = strtok(NULL, "\n"); line && strncmp(line, ".Lfunc_end", 10);
         line = strtok(NULL, "\n"))
      ymm |= strstr(line, "%ymm") != NULL;
    ck_assert_msg(ymm, "%s has no ymm register", name);
    kernels++;
  }
  ck_assert_int_eq(kernels, NTRANS + 2);
  free(as);
  cg_program_free(p);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_math");
  TCase *t = tcase_create("math");
  tcase_set_timeout(t, 300);
  tcase_add_loop_test(t, accuracy, 0, NCASES);
  tcase_add_loop_test(t, scalef_same_bits, 0, 3);
  tcase_add_test(t, no_libm_calls);
  tcase_add_test(t, kernels_vectorized);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
