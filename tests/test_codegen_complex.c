/*
 * test_codegen_complex.c — c64 and c128 values in compiled code
 * (codegen/complex.c: (re, im) pairs of the part type) against the
 * evaluator (C's complex arithmetic and functions).
 *
 * Every module takes a complex parameter and returns a complex result (or
 * the real one the op gives), each op compiled unfused (as written) and
 * after the pass pipeline (fused).  Arguments have finite parts in
 * [-4, 4] (test_codegen_util.h says why finite).
 *
 * Tolerances: add, subtract, negate, real, imag, complex, the converts,
 * the data movement and compare are exact (the same IEEE operations;
 * compare on integer parts, so that equal parts occur).  Multiply,
 * divide, abs, sign and sqrt round a few times on both sides with
 * different but equally accurate formulas (glibc's __mulsc3/__divsc3 and
 * hypot against Smith's division and a scaled hypot): a few ulps of the
 * largest term, so rtol 8 ulps and atol 8 ulps of the terms' magnitude
 * (16 for f32: |parts| ≤ 4, products ≤ 32).  The transcendentals go
 * through codegen's own f32 approximations (docs/math.md: ≤ 4 ulps) and
 * glibc's, composed (exp·cos, sin·cosh, …): rtol 2^-17 (16 ulps) and atol
 * 2^-17 times the magnitude of the factors (e^4 ≈ 55 before
 * cancellation), 1e-3 absolute in f32; power = exp(b log a) multiplies
 * the error of b log a (|b log a| ≤ 4·2.1 + 4·π) by nothing but adds it
 * to the exponent: rtol 2^-17·24.  c128 the same in f64 ulps (2^-52).
 */
#include "test_codegen_util.h"

#define U32 0x1p-23
#define U64 0x1p-52

typedef struct Ty {
  const char *c, *r;  /* complex type, part type */
  double ulp;
} Ty;

static const Ty TYPES[2] = {{"c64", "f32", U32}, {"c128", "f64", U64}};

static void both(char *text, uint64_t seed, bool small_ints, double atol, double rtol) {
  cgt_check_with(text, seed, small_ints, false, atol, rtol);
  cgt_check_with(text, seed, small_ints, true, atol, rtol);
  free(text);
}

static void unary(const Ty *t, const char *op, bool real_result, double atol, double rtol,
                  uint64_t seed) {
  both(cgt_fmt("HloModule m\nENTRY e {\n  x = %1$s[3,17] parameter(0)\n"
               "  ROOT y = %2$s[3,17] %3$s(x)\n}\n",
               t->c, real_result ? t->r : t->c, op),
       seed, false, atol, rtol);
}

static void binary(const Ty *t, const char *op, double atol, double rtol, uint64_t seed) {
  both(cgt_fmt("HloModule m\nENTRY e {\n  x = %1$s[5,9] parameter(0)\n"
               "  y = %1$s[5,9] parameter(1)\n  ROOT z = %1$s[5,9] %2$s(x, y)\n}\n",
               t->c, op),
       seed, false, atol, rtol);
}

START_TEST(exact_ops) {
  for (int i = 0; i < 2; i++) {
    const Ty *t = &TYPES[i];
    unary(t, "negate", false, 0, 0, 1);
    unary(t, "real", true, 0, 0, 2);
    unary(t, "imag", true, 0, 0, 3);
    unary(t, "copy", false, 0, 0, 4);
    binary(t, "add", 0, 0, 5);
    binary(t, "subtract", 0, 0, 6);
  }
}
END_TEST

START_TEST(arithmetic) {
  for (int i = 0; i < 2; i++) {
    const Ty *t = &TYPES[i];
    double a = 8 * t->ulp * 32, r = 8 * t->ulp;
    binary(t, "multiply", a, r, 11);
    binary(t, "divide", a, r, 12);
    unary(t, "abs", true, a, r, 13);
    unary(t, "sign", false, a, r, 14);
    unary(t, "sqrt", false, a, r, 15);
    unary(t, "rsqrt", false, a, r, 16);
  }
}
END_TEST

START_TEST(transcendentals) {
  for (int i = 0; i < 2; i++) {
    const Ty *t = &TYPES[i];
    double r = 16 * (i ? 0x1p-52 : 0x1p-21), a = i ? r * 64 : 1e-3;
    unary(t, "exponential", false, a, r, 21);
    unary(t, "log", false, a, r, 22);
    unary(t, "sine", false, a, r, 23);
    unary(t, "cosine", false, a, r, 24);
    unary(t, "tan", false, a, r, 25);
    unary(t, "tanh", false, a, r, 26);
    binary(t, "power", a * 24, r * 24, 27);
    /* real parts up to 32: tanh's branch past |re| = 20, tan's past |im| = 20 */
    for (int k = 0; k < 2; k++)
      both(cgt_fmt("HloModule m\nENTRY e {\n  x = %1$s[64] parameter(0)\n"
                   "  k = %1$s[] constant((8, 0))\n  b = %1$s[64] broadcast(k), dimensions={}\n"
                   "  y = %1$s[64] multiply(x, b)\n  ROOT z = %1$s[64] %2$s(y)\n}\n",
                   t->c, k ? "tan" : "tanh"),
           28 + (uint64_t)k, false, a, r);
  }
}
END_TEST

/* XLA's builder calls of complex Acos, Acosh, Cosh, Asin, Asinh and Atan
 * (builder_math.c's complex HLO), compiled as written (--O0: the single-device lowering,
 * which expands them) and after the pipeline, against the evaluator's C
 * complex functions. */
START_TEST(builder_math) {
  static const char *const fs[] = {"Acos", "Acosh", "Cosh", "Asin", "Asinh", "Atan"};
  for (int i = 0; i < 2; i++) {
    const Ty *t = &TYPES[i];
    double r = 16 * (i ? 0x1p-52 : 0x1p-21), a = i ? r * 64 : 1e-3;
    for (int k = 0; k < 6; k++)
      for (int pipeline = 0; pipeline < 2; pipeline++) {
        char *text = cgt_fmt("HloModule m\nENTRY e {\n  x = %1$s[3,17] parameter(0)\n"
                             "  ROOT y = %1$s[3,17] custom-call(x), "
                             "custom_call_target=\"xla_builder.math.%2$s\"\n}\n",
                             t->c, fs[k]);
        HloModule *m = ck_parse_verified(text);
        free(text);
        HloLiteral *x = hlo_literal_new(&m->entry->params[0]->shape);
        uint64_t s = (31 + (uint64_t)k) * 0x9E3779B97F4A7C15ULL + 1;
        cgt_fill(x, &s);
        HloLiteral *want = ck_evaluate(m, &x, 1);
        HloError *e = pipeline ? cgt_optimize(m) : (pass_single_device(m), hlo_verify(m));
        ck_assert_msg(!e, "%s", hlo_error_message(e));
        CgJit *j = cgt_jit(m, "t");
        cgt_compare(j, &x, 1, want, a, r);
        cg_jit_free(j);
        hlo_literal_free(want);
        hlo_literal_free(x);
        hlo_module_free(m);
      }
  }
}
END_TEST

/* An unfused complex op is one kernel (a loop fusion of its parts), not
 * a kernel per slice, part and concatenate. */
START_TEST(one_kernel_per_op) {
  HloModule *m = ck_parse_verified("HloModule m\nENTRY e {\n  x = c64[64] parameter(0)\n"
                                   "  y = c64[64] parameter(1)\n"
                                   "  ROOT z = c64[64] divide(x, y)\n}\n");
  CgJit *j = cgt_jit(m, "t");
  ck_assert_int_eq(cg_jit_program(j)->num_kernels, 1);
  cg_jit_free(j);
  hlo_module_free(m);
}
END_TEST

/* compare EQ/NE on integer parts, so that equal values occur. */
START_TEST(compare) {
  for (int i = 0; i < 2; i++)
    for (int d = 0; d < 2; d++)
      both(cgt_fmt("HloModule m\nENTRY e {\n  x = %1$s[64] parameter(0)\n"
                   "  y = %1$s[64] parameter(1)\n  re = %2$s[64] real(y)\n"
                   "  xi = %2$s[64] imag(x)\n  yy = %1$s[64] complex(re, xi)\n"
                   "  ROOT z = pred[64] compare(x, yy), direction=%3$s\n}\n",
                   TYPES[i].c, TYPES[i].r, d ? "NE" : "EQ"),
           31 + (uint64_t)d, true, 0, 0);
}
END_TEST

/* A complex constant, complex(re, im), every convert into a complex type,
 * data movement of complex values, and a complex tuple result. */
START_TEST(constants_converts_movement) {
  both(cgt_fmt("HloModule m\nENTRY e {\n"
               "  x = c64[2,3] parameter(0)\n  re = f32[2,3] parameter(1)\n"
               "  im = f32[2,3] parameter(2)\n  n = s32[2,3] parameter(3)\n"
               "  k = c64[2,3] constant({{(1, -2.5), (0.5, 3), (-1, 0)},"
               " {(0, 0), (2, 2), (-0.25, 7)}})\n"
               "  c = c64[2,3] complex(re, im)\n  a = c64[2,3] add(x, k)\n"
               "  b = c64[2,3] subtract(a, c)\n"
               "  fc = c64[2,3] convert(re)\n  ic = c128[2,3] convert(n)\n"
               "  w = c128[2,3] convert(b)\n  w2 = c128[2,3] add(w, ic)\n"
               "  back = c64[2,3] convert(w2)\n  s = c64[2,3] add(back, fc)\n"
               "  t = c64[3,2] transpose(s), dimensions={1,0}\n"
               "  r = c64[6] reshape(t)\n  rv = c64[6] reverse(r), dimensions={0}\n"
               "  bc = c64[4,6] broadcast(rv), dimensions={1}\n"
               "  sl = c64[2,3] slice(bc), slice={[1:3], [0:6:2]}\n"
               "  cat = c64[4,3] concatenate(sl, s), dimensions={0}\n"
               "  z = c64[] constant((0.5, -1))\n"
               "  p = c64[5,5] pad(cat, z), padding=0_1x1_1\n"
               "  i0 = s32[] constant(1)\n  i1 = s32[] constant(2)\n"
               "  ds = c64[2,3] dynamic-slice(p, i0, i1), dynamic_slice_sizes={2,3}\n"
               "  up = c64[5,5] dynamic-update-slice(p, ds, i1, i0)\n"
               "  g = pred[5,5] compare(up, p), direction=EQ\n"
               "  sel = c64[5,5] select(g, up, p)\n"
               "  tk = (c64[2], f32[]) constant(({(1, 2), (-3, 0.5)}, 4))\n"
               "  t0 = c64[2] get-tuple-element(tk), index=0\n"
               "  ROOT o = (c64[5,5], c128[2,3], f32[2,3], c64[2]) tuple(sel, w2, re, t0)\n}\n"),
       41, false, 0, 0);
}
END_TEST

/* dot and convolution of complex operands; a complex sum. */
START_TEST(contractions) {
  for (int i = 0; i < 2; i++) {
    const Ty *t = &TYPES[i];
    /* sums of 7 products of integers ≤ 8 in magnitude: exact */
    both(cgt_fmt("HloModule m\nENTRY e {\n  a = %1$s[2,4,7] parameter(0)\n"
                 "  b = %1$s[2,7,3] parameter(1)\n"
                 "  ROOT d = %1$s[2,4,3] dot(a, b), lhs_batch_dims={0},"
                 " lhs_contracting_dims={2}, rhs_batch_dims={0}, rhs_contracting_dims={1}\n}\n",
                 t->c),
         51, true, 0, 0);
    both(cgt_fmt("HloModule m\nENTRY e {\n  x = %1$s[1,6,6,2] parameter(0)\n"
                 "  w = %1$s[3,3,2,2] parameter(1)\n"
                 "  ROOT c = %1$s[1,4,4,2] convolution(x, w), window={size=3x3},"
                 " dim_labels=b01f_01io->b01f\n}\n",
                 t->c),
         52, true, 0, 0);
    both(cgt_fmt("HloModule m\nadd {\n  p = %1$s[] parameter(0)\n  q = %1$s[] parameter(1)\n"
                 "  ROOT s = %1$s[] add(p, q)\n}\nENTRY e {\n  x = %1$s[6,10] parameter(0)\n"
                 "  z = %1$s[] constant((0, 0))\n"
                 "  ROOT r = %1$s[6] reduce(x, z), dimensions={1}, to_apply=add\n}\n",
                 t->c),
         53, true, 0, 0);
  }
}
END_TEST

/* Contractions and sums whose operands and users the pipeline fuses
 * with them: a product into a sum, an epilogue after a dot. */
START_TEST(fused_contractions) {
  for (int i = 0; i < 2; i++)
    both(cgt_fmt("HloModule m\nadd {\n  p = %1$s[] parameter(0)\n  q = %1$s[] parameter(1)\n"
                 "  ROOT s = %1$s[] add(p, q)\n}\nENTRY e {\n  x = %1$s[8,12] parameter(0)\n"
                 "  y = %1$s[8,12] parameter(1)\n  b = %1$s[8,5] parameter(2)\n"
                 "  w = %1$s[12,5] parameter(3)\n"
                 "  m = %1$s[8,12] multiply(x, y)\n  z = %1$s[] constant((0, 0))\n"
                 "  r = %1$s[8] reduce(m, z), dimensions={1}, to_apply=add\n"
                 "  n = %1$s[8,12] negate(x)\n"
                 "  d = %1$s[8,5] dot(n, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
                 "  e = %1$s[8,5] add(d, b)\n  f = %1$s[8,5] multiply(e, e)\n"
                 "  ROOT t = (%1$s[8], %1$s[8,5]) tuple(r, f)\n}\n",
                 TYPES[i].c),
         81, true, 0, 0);
}
END_TEST

/* Complex values through a call, a while's tuple and get-tuple-element:
 * (x^2) i^3, exact on integer parts. */
START_TEST(control_flow) {
  both(cgt_fmt("HloModule m\n"
               "sq {\n  a = c64[4] parameter(0)\n  ROOT m = c64[4] multiply(a, a)\n}\n"
               "body {\n  p = (s32[], c64[4]) parameter(0)\n"
               "  i = s32[] get-tuple-element(p), index=0\n"
               "  x = c64[4] get-tuple-element(p), index=1\n"
               "  one = s32[] constant(1)\n  i2 = s32[] add(i, one)\n"
               "  k = c64[] constant((0, 1))\n  kb = c64[4] broadcast(k), dimensions={}\n"
               "  y = c64[4] multiply(x, kb)\n  ROOT t = (s32[], c64[4]) tuple(i2, y)\n}\n"
               "cond {\n  p = (s32[], c64[4]) parameter(0)\n"
               "  i = s32[] get-tuple-element(p), index=0\n  n = s32[] constant(3)\n"
               "  ROOT lt = pred[] compare(i, n), direction=LT\n}\n"
               "ENTRY e {\n  x = c64[4] parameter(0)\n  c = c64[4] call(x), to_apply=sq\n"
               "  z = s32[] constant(0)\n  t = (s32[], c64[4]) tuple(z, c)\n"
               "  w = (s32[], c64[4]) while(t), condition=cond, body=body\n"
               "  ROOT r = c64[4] get-tuple-element(w), index=1\n}\n"),
       71, true, 0, 0);
}
END_TEST

/* An fft whose operand and result stay complex: a complex parameter and
 * result around fft_expand.c's dots (its accuracy: test_codegen_fft.c),
 * which the pipeline's first step builds. */
static void pipelined(char *text, uint64_t seed, bool small_ints, double atol, double rtol) {
  cgt_check_with(text, seed, small_ints, true, atol, rtol);
  free(text);
}

START_TEST(fft_parameter_and_result) {
  pipelined(cgt_fmt("HloModule m\nENTRY e {\n  x = c64[4,16] parameter(0)\n"
               "  ROOT f = c64[4,16] fft(x), fft_type=FFT, fft_length={16}\n}\n"),
       61, true, 1e-12, U32);
  pipelined(cgt_fmt("HloModule m\nENTRY e {\n  x = c128[3,5,8] parameter(0)\n"
               "  ROOT f = c128[3,5,8] fft(x), fft_type=IFFT, fft_length={5,8}\n}\n"),
       62, true, 1e-12, 1e-12);
}
END_TEST

/* An op with no form on pairs is refused, naming the instruction. */
START_TEST(refusals) {
  HloModule *m = ck_parse_verified(
      "HloModule m\nlt {\n  p = c64[] parameter(0)\n  q = c64[] parameter(1)\n"
      "  a = f32[] real(p)\n  b = f32[] real(q)\n"
      "  ROOT c = pred[] compare(a, b), direction=LT\n}\n"
      "ENTRY e {\n  x = c64[8] parameter(0)\n"
      "  ROOT s = c64[8] sort(x), dimensions={0}, to_apply=lt\n}\n");
  CgProgram *p = NULL;
  HloError *e = cg_compile(m, &(CgOptions){.name = "t"}, &p);
  ck_assert_msg(e != NULL, "compiled a sort of complex values");
  ck_assert_str_eq(hlo_error_message(e),
                   "codegen: unsupported: %s = c64[8]{0} sort(%x) has element type c64: this op"
                   " on complex values is evaluated by the"
                   " interpreter only (hloc run --interpret)");
  hlo_error_free(e);
  hlo_module_free(m);
  /* fft itself is compiled only as passes/fft_expand.c's dots (which the
   * pipeline builds up to length 1,024). */
  m = ck_parse_verified("HloModule m\nENTRY e {\n  x = c64[2048] parameter(0)\n"
                        "  ROOT f = c64[2048] fft(x), fft_type=FFT, fft_length={2048}\n}\n");
  e = cgt_optimize(m);
  ck_assert_msg(!e, "pipeline: %s", hlo_error_message(e));
  e = cg_compile(m, &(CgOptions){.name = "t"}, &p);
  ck_assert_msg(e != NULL, "compiled an fft of length 2048");
  ck_assert_msg(strstr(hlo_error_message(e), " fft(%x) has element type c64: this op on complex"
                                             " values is evaluated by the interpreter only"),
                "%s", hlo_error_message(e));
  hlo_error_free(e);
  hlo_module_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_complex");
  TCase *t = tcase_create("complex");
  tcase_set_timeout(t, 600);
  tcase_add_test(t, exact_ops);
  tcase_add_test(t, arithmetic);
  tcase_add_test(t, transcendentals);
  tcase_add_test(t, builder_math);
  tcase_add_test(t, one_kernel_per_op);
  tcase_add_test(t, compare);
  tcase_add_test(t, constants_converts_movement);
  tcase_add_test(t, contractions);
  tcase_add_test(t, fused_contractions);
  tcase_add_test(t, control_flow);
  tcase_add_test(t, fft_parameter_and_result);
  tcase_add_test(t, refusals);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
