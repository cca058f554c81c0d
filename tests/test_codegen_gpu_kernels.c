/*
 * test_codegen_gpu_kernels.c — the GPU backend's kernels (codegen/gpu/) on
 * a machine without a GPU.  The kernel-IR ops block reductions are built
 * from (a block's shared memory, its barrier, warp shuffles): their
 * verifier rules and their MLIR, lowered through the GPU's pipeline.
 */
#include <unistd.h>

#include <llvm-c/Core.h>

#include "internal.h"
#include "test_codegen_util.h"

/* ------------------------------------------------------------------------ */
/* The kernel-IR ops of block reductions                                    */
/* ------------------------------------------------------------------------ */

/* A kernel k(buf) whose block sums buf's 64 floats: each thread its
 * element, shuffles, warp sums through shared memory, lane 0 stores. */
static KirModule *block_sum_module(void) {
  KirModule *m = kir_module_new();
  int64_t d64[1] = {64}, d2[1] = {2};
  KirType buf = kir_memref(m, KIR_F32, 1, d64);
  KirType smem = kir_memref_shared(m, KIR_F32, 1, d2);
  KirFunc *k = kir_func_new(m, "k", 1, &buf, 0, NULL);
  k->device = k->kernel = true;
  k->threads = k->block = 64;
  KirBuilder b;
  kir_at_end(&b, k->body);
  KirVal t = kir_gpu_index(&b, KIR_THREAD_ID);
  KirVal x = kir_load(&b, kir_param(k, 0), &t);
  for (int d = 16; d >= 1; d /= 2) x = kir_binop(&b, KIR_ADDF, x, kir_shfl_xor(&b, x, d));
  KirVal s = kir_shared(&b, "k_sums", smem);
  KirVal w = kir_binop(&b, KIR_DIVUI, t, kir_index(&b, 32));
  kir_store(&b, x, s, &w);
  kir_barrier(&b);
  KirVal zero = kir_index(&b, 0), one = kir_index(&b, 1);
  KirVal sum = kir_binop(&b, KIR_ADDF, kir_load(&b, s, &zero), kir_load(&b, s, &one));
  KirOp *c = kir_if(&b, kir_cmpi(&b, KIR_EQ, t, zero), 0, NULL);
  KirBuilder in;
  kir_at_end(&in, kir_region(c, 0));
  kir_store(&in, sum, kir_param(k, 0), &zero);
  kir_yield(&in, 0, NULL);
  kir_at_end(&in, kir_region(c, 1));
  kir_yield(&in, 0, NULL);
  kir_return(&b, 0, NULL);
  KirFunc *h = kir_func_new(m, "host", 1, &buf, 0, NULL);
  kir_at_end(&b, h->body);
  KirVal arg = kir_param(h, 0);
  kir_launch(&b, k, kir_index(&b, 1), kir_index(&b, 64), 1, &arg);
  kir_return(&b, 0, NULL);
  return m;
}

START_TEST(block_ops_print_and_lower) {
  KirModule *m = block_sum_module();
  HloError *e = kir_verify(m);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  char *text = kir_print(m);
  ck_assert_match(text, "  %s = shfl_xor %x xor 16 : f32\n"
                        "...shared @k_sums : memref<2xf32, #gpu.address_space<workgroup>>\n"
                        "...  barrier\n");
  free(text);
  char *mlir = kir_print_mlir(m);
  ck_assert_match(mlir, "  gpu.module @hloc_device {\n"
                        "  memref.global \"private\" @k_sums : memref<2xf32, "
                        "#gpu.address_space<workgroup>> = uninitialized {alignment = 16 : i64}\n"
                        "...gpu.shuffle xor ... : f32\n"
                        "...memref.get_global @k_sums : memref<2xf32, "
                        "#gpu.address_space<workgroup>>\n"
                        "...gpu.barrier\n");
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMModuleRef mod = NULL;
  e = cg_gpu_backend.lower(mlir, ctx, &mod);
  ck_assert_msg(!e, "%s\n%s", hlo_error_message(e), mlir);
  /* The shared buffer is storage of the block's (address space 3). */
  LLVMValueRef g = LLVMGetNamedGlobal(mod, "k_sums");
  ck_assert_ptr_nonnull(g);
  ck_assert_int_eq(LLVMGetPointerAddressSpace(LLVMTypeOf(g)), 3);
  LLVMDisposeModule(mod);
  LLVMContextDispose(ctx);
  free(mlir);
  kir_module_free(m);
}
END_TEST

static void assert_rejects(KirModule *m, const char *want) {
  HloError *e = kir_verify(m);
  ck_assert_msg(e, "the verifier accepted a bad module (wanted: %s)", want);
  ck_assert_msg(strstr(hlo_error_message(e), want), "wanted: %s\ngot: %s", want,
                hlo_error_message(e));
  hlo_error_free(e);
  kir_module_free(m);
}

START_TEST(verifier_rules_of_block_ops) {
  /* Shared memory, barriers and shuffles are the device's. */
  KirModule *m = block_sum_module();
  KirFunc *h = kir_func_find(m, "host");
  KirBuilder b;
  kir_before(&b, h->body->last);
  kir_barrier(&b);
  assert_rejects(m, "a GPU op outside a device function");
  m = block_sum_module();
  h = kir_func_find(m, "host");
  kir_before(&b, h->body->last);
  int64_t two = 2;
  kir_shared(&b, "h_sums", kir_memref_shared(m, KIR_F32, 1, &two));
  assert_rejects(m, "a GPU op outside a device function");
  /* Shared memory is a memref of the shared space. */
  m = block_sum_module();
  KirFunc *k = kir_func_find(m, "k");
  kir_before(&b, k->body->last);
  kir_shared(&b, "k_more", kir_memref(m, KIR_F32, 1, &two));
  assert_rejects(m, "shared memory is a named memref in the shared space");
  /* A shuffle moves a 32- or 64-bit scalar, by a power of two below 32. */
  m = block_sum_module();
  k = kir_func_find(m, "k");
  kir_before(&b, k->body->last);
  kir_shfl_xor(&b, kir_const_int(&b, kir_scalar(KIR_I16), 1), 1);
  assert_rejects(m, "a shuffle moves one i32, i64, f32 or f64");
  m = block_sum_module();
  k = kir_func_find(m, "k");
  kir_before(&b, k->body->last);
  kir_shfl_xor(&b, kir_const_float(&b, kir_vector(KIR_F32, 4), 1), 1);
  assert_rejects(m, "a shuffle moves one i32, i64, f32 or f64");
  m = block_sum_module();
  k = kir_func_find(m, "k");
  kir_before(&b, k->body->last);
  kir_shfl_xor(&b, kir_const_int(&b, kir_scalar(KIR_I32), 1), 3);
  assert_rejects(m, "a shuffle's lane mask is 1, 2, 4, 8 or 16");
  m = block_sum_module();
  k = kir_func_find(m, "k");
  kir_before(&b, k->body->last);
  kir_shfl_xor(&b, kir_const_int(&b, kir_scalar(KIR_I32), 1), 32);
  assert_rejects(m, "a shuffle's lane mask is 1, 2, 4, 8 or 16");
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_gpu_kernels");
  TCase *o = tcase_create("ops");
  tcase_add_test(o, block_ops_print_and_lower);
  tcase_add_test(o, verifier_rules_of_block_ops);
  suite_add_tcase(s, o);
  return ck_run_suite(s);
}
