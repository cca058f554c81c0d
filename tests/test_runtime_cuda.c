/*
 * test_runtime_cuda.c — the runtime's CUDA driver glue (runtime/cuda.c).
 *
 * Everywhere: a missing driver and a library that is no driver are the
 * error values "no CUDA driver found", naming the file (HLOC_CUDA_DRIVER
 * picks it).  The default driver, libcuda.so.1, is then opened as a
 * program would: on a machine without it (CI, and the machine this was
 * written on) that is the same clean error; with it and a GPU, a small
 * PTX kernel is loaded, its global filled, launched on buffers copied in,
 * and its result copied back and checked, and a launch of a kernel the
 * module lacks is an error naming it.  Without a GPU that part says that
 * it was skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "hloc_runtime.h"

static void assert_open_fails(const char *driver, const char *want1, const char *want2) {
  char err[512] = "";
  hloc_cuda *c = (hloc_cuda *)1;
  setenv("HLOC_CUDA_DRIVER", driver, 1);
  int rc = hloc_cuda_open(&c, err, sizeof err);
  unsetenv("HLOC_CUDA_DRIVER");
  ck_assert_int_eq(rc, -1);
  ck_assert_ptr_null(c);
  ck_assert_msg(strstr(err, want1) && strstr(err, want2), "wanted: %s … %s\ngot: %s", want1,
                want2, err);
}

START_TEST(no_driver_is_an_error) {
  assert_open_fails("/nonexistent/libcuda.so.1", "no CUDA driver found",
                    "/nonexistent/libcuda.so.1");
  /* A library, but no CUDA driver. */
  assert_open_fails("libm.so.6", "no CUDA driver found", "libm.so.6 has no cuInit");
}
END_TEST

/* out[i] = in[i] * scale, one thread per element (block of 8). */
static const char twice_ptx[] =
    ".version 7.0\n.target sm_80\n.address_size 64\n"
    ".visible .global .align 4 .b8 scale[4];\n"
    ".visible .entry twice(.param .u64 out, .param .u64 in)\n{\n"
    "  .reg .b32 %r<2>;\n  .reg .f32 %f<4>;\n  .reg .b64 %rd<6>;\n"
    "  ld.param.u64 %rd1, [out];\n  ld.param.u64 %rd2, [in];\n"
    "  cvta.to.global.u64 %rd1, %rd1;\n  cvta.to.global.u64 %rd2, %rd2;\n"
    "  mov.u32 %r1, %tid.x;\n  mul.wide.u32 %rd3, %r1, 4;\n  add.s64 %rd4, %rd2, %rd3;\n"
    "  ld.global.f32 %f1, [%rd4];\n  ld.global.f32 %f2, [scale];\n  mul.f32 %f3, %f1, %f2;\n"
    "  add.s64 %rd5, %rd1, %rd3;\n  st.global.f32 [%rd5], %f3;\n  ret;\n}\n";

START_TEST(the_default_driver) {
  char err[512] = "";
  hloc_cuda *c = NULL;
  unsetenv("HLOC_CUDA_DRIVER");
  if (hloc_cuda_open(&c, err, sizeof err)) {
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, "no CUDA driver found (libcuda.so.1: ") || strstr(err, "no GPU"),
                  "%s", err);
    printf("the_default_driver: %s: the GPU part is skipped\n", err);
    return;
  }
  float in[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8] = {0}, scale = 2.5f;
  uint64_t din, dout;
#define OK(call) ck_assert_msg((call) == 0, "%s", err)
  OK(hloc_cuda_load(c, twice_ptx, err, sizeof err));
  OK(hloc_cuda_set_global(c, "scale", &scale, sizeof scale, err, sizeof err));
  OK(hloc_cuda_alloc(c, sizeof in, &din, err, sizeof err));
  OK(hloc_cuda_alloc(c, sizeof out, &dout, err, sizeof err));
  OK(hloc_cuda_to_device(c, din, in, sizeof in, err, sizeof err));
  uint64_t args[2] = {dout, din};
  OK(hloc_cuda_launch(c, "twice", 1, 8, args, 2, err, sizeof err));
  OK(hloc_cuda_sync(c, "twice", err, sizeof err));
  OK(hloc_cuda_to_host(c, out, dout, sizeof out, err, sizeof err));
  for (int i = 0; i < 8; i++) ck_assert_float_eq(out[i], in[i] * scale);
  ck_assert_int_eq(hloc_cuda_launch(c, "thrice", 1, 8, args, 2, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "cuModuleGetFunction (thrice): CUDA_ERROR_NOT_FOUND"), "%s", err);
  OK(hloc_cuda_free(c, din, err, sizeof err));
  OK(hloc_cuda_free(c, dout, err, sizeof err));
#undef OK
  hloc_cuda_close(c);
  printf("the_default_driver: a GPU ran the kernel\n");
}
END_TEST

int main(void) {
  Suite *s = suite_create("runtime_cuda");
  TCase *t = tcase_create("cuda");
  tcase_add_test(t, no_driver_is_an_error);
  tcase_add_test(t, the_default_driver);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
