/*
 * test_codegen_fft.c — fft compiled as the dots the pipeline's first step
 * expands it into (passes/fft_expand.c), against the evaluator's direct
 * DFT.
 *
 * Each module takes real arguments, builds the complex operand with
 * complex(re, im) (through a transpose in one case) and returns real(…)
 * and imag(…) of the result: what jnp.fft's programs do, and what the
 * expansion must leave nothing complex of (test_codegen_complex.c passes
 * complex values in and out).  Every type (FFT, IFFT, RFFT, IRFFT) over
 * one to three dimensions, even and odd lengths, batch dimensions, c64
 * and c128.
 *
 * Both sides compute in f64 with the same twiddles and round once, so
 * they differ only by the order of the f64 sums (about 1e-16 of the
 * terms, which are below 8 n here): a rounded f32 result moves by at most
 * one unit in its last place (rtol 2^-23), an f64 one by far less than
 * 1e-12, and a result that is 0 by cancellation may be a residue of
 * about 1e-13 on one side (atol 1e-12).
 */
#include "test_codegen_util.h"

#define ULP_F32 0x1p-23

static void check(char *text, uint64_t seed, double rtol) {
  cgt_check_with(text, seed, true, true, 1e-12, rtol);
  free(text);
}

/* FFT or IFFT (type) of complex(re, im), both of real type r and dims d,
 * complex type c, lengths len: returns (real, imag). */
static char *complex_module(const char *r, const char *c, const char *d, const char *type,
                            const char *len) {
  return cgt_fmt("HloModule m\nENTRY e {\n"
                 "  re = %1$s[%3$s] parameter(0)\n  im = %1$s[%3$s] parameter(1)\n"
                 "  x = %2$s[%3$s] complex(re, im)\n"
                 "  f = %2$s[%3$s] fft(x), fft_type=%4$s, fft_length={%5$s}\n"
                 "  fr = %1$s[%3$s] real(f)\n  fi = %1$s[%3$s] imag(f)\n"
                 "  ROOT t = (%1$s[%3$s], %1$s[%3$s]) tuple(fr, fi)\n}\n",
                 r, c, d, type, len);
}

START_TEST(fft_and_ifft) {
  check(complex_module("f32", "c64", "16", "FFT", "16"), 1, ULP_F32);
  check(complex_module("f32", "c64", "3,7", "IFFT", "7"), 2, ULP_F32);
  check(complex_module("f32", "c64", "2,4,6", "FFT", "4,6"), 3, ULP_F32);
  check(complex_module("f32", "c64", "3,4,5", "IFFT", "3,4,5"), 4, ULP_F32);
  check(complex_module("f64", "c128", "2,5,8", "FFT", "5,8"), 5, 1e-12);
}
END_TEST

/* RFFT of x and IRFFT of complex(re, im) with lengths len (the last
 * halved plus one in h). */
static char *real_module(const char *d, const char *h, const char *len) {
  return cgt_fmt("HloModule m\nENTRY e {\n"
                 "  x = f32[%1$s] parameter(0)\n"
                 "  r = c64[%2$s] fft(x), fft_type=RFFT, fft_length={%3$s}\n"
                 "  rr = f32[%2$s] real(r)\n  ri = f32[%2$s] imag(r)\n"
                 "  re = f32[%2$s] parameter(1)\n  im = f32[%2$s] parameter(2)\n"
                 "  c = c64[%2$s] complex(re, im)\n"
                 "  i = f32[%1$s] fft(c), fft_type=IRFFT, fft_length={%3$s}\n"
                 "  ROOT t = (f32[%2$s], f32[%2$s], f32[%1$s]) tuple(rr, ri, i)\n}\n",
                 d, h, len);
}

START_TEST(rfft_and_irfft) {
  check(real_module("3,32", "3,17", "32"), 1, ULP_F32);
  check(real_module("4,9", "4,5", "9"), 2, ULP_F32);
  check(real_module("2,6,8", "2,6,5", "6,8"), 3, ULP_F32);
  check(real_module("3,5,7", "3,5,4", "3,5,7"), 4, ULP_F32);
}
END_TEST

/* The operand reaches fft through a transpose of the complex value, and
 * the result leaves through one (jnp.fft along a leading axis). */
START_TEST(fft_through_transposes) {
  check(cgt_fmt("HloModule m\nENTRY e {\n"
                "  re = f32[4,6] parameter(0)\n  im = f32[4,6] parameter(1)\n"
                "  x = c64[4,6] complex(re, im)\n"
                "  xt = c64[6,4] transpose(x), dimensions={1,0}\n"
                "  f = c64[6,4] fft(xt), fft_length={4}\n"
                "  ft = c64[4,6] transpose(f), dimensions={1,0}\n"
                "  fr = f32[4,6] real(ft)\n  fi = f32[4,6] imag(ft)\n"
                "  ROOT t = (f32[4,6], f32[4,6]) tuple(fr, fi)\n}\n"),
        1, ULP_F32);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_fft");
  TCase *t = tcase_create("fft");
  tcase_set_timeout(t, 600);
  tcase_add_test(t, fft_and_ifft);
  tcase_add_test(t, rfft_and_irfft);
  tcase_add_test(t, fft_through_transposes);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
