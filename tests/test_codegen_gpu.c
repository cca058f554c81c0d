/*
 * test_codegen_gpu.c — the NVIDIA GPU backend (codegen/gpu/, `--target
 * nvptx64`) on a machine without a GPU: its SMs and errors, the facts
 * kernels take from the SM, the GPU ops of the kernel IR (verifier rules,
 * their MLIR, lowered to NVVM), kernels placed on the device and launched
 * from the entry on the grid their split loop needs, and PTX for every
 * module of the HLO corpus (testdata/hlo/, NAME.hlo and NAME.opt.hlo) and
 * for every TensorFlow model of testdata/tf/models.
 *
 * The PTX is checked by CUDA's ptxas, which assembles it for sm_80 and
 * sm_90 without a GPU ($CUDA_HOME/bin/ptxas or /usr/local/cuda/bin/ptxas
 * or ptxas on PATH).  CI installs no CUDA (scripts/install-deps.sh): there
 * the PTX is still built for every module and the corpus tests say that
 * it was not assembled.  Modules whose kernels need libdevice (the f64
 * transcendentals, floor, fmod, …) are counted apart when libdevice is
 * missing.  The corpus and the models are compiled as device code alone
 * (CgOptions.device_only, `hloc dump --stage ptx`): the host side is
 * test_driver_gpu's, and ptxas runs here, several at once, not also
 * inside the compile.  Nothing here runs a kernel: what the kernels
 * compute is checked on the kernel-IR interpreter, which simulates the
 * GPU (tests/test_codegen_gpu_sim.c; docs/backends.md, "The GPU backend").
 *
 * The corpus tests list what does not compile, so the gap is visible:
 * the modules refused with an error naming an instruction, and the ones
 * left out because codegen crashes on them for every target (a bug of
 * kernel.c's, not of this backend).  A module of the refusal list that
 * compiles fails the test too, so the list stays true.
 */
#include <dirent.h>
#include <unistd.h>

#include <llvm-c/Core.h>

#include "internal.h"
#include "test_codegen_util.h"

/* Whether len bytes at data contain the string s. */
static bool holds(const char *data, size_t len, const char *s) {
  for (size_t n = strlen(s), i = 0; i + n <= len; i++)
    if (!memcmp(data + i, s, n)) return true;
  return false;
}

static KirType T(KirElem e) { return kir_scalar(e); }

static const char elementwise[] =
    "HloModule ew\n\n"
    "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
    "  ROOT c = f32[] add(a, b)\n}\n\n"
    "ENTRY main {\n  x = f32[1000,64] parameter(0)\n  y = f32[40,1000] parameter(1)\n"
    "  sum = f32[1000,64] add(x, x)\n  prod = f32[40,1000] multiply(y, y)\n"
    "  z = f32[] constant(0)\n"
    "  total = f32[] reduce(sum, z), dimensions={0,1}, to_apply=add\n"
    "  ROOT o = (f32[1000,64], f32[40,1000], f32[]) tuple(sum, prod, total)\n}\n";

static const CgOptions gpu80 = {.target = "nvptx64"};

static HloError *compile_error(const CgOptions *o) {
  HloModule *m = ck_parse_verified(elementwise);
  CgProgram *p = NULL;
  HloError *e = cg_compile(m, o, &p);
  ck_assert_ptr_null(p);
  hlo_module_free(m);
  return e;
}

static void assert_error(HloError *e, const char *want) {
  ck_assert_msg(e, "no error (wanted: %s)", want);
  ck_assert_msg(strstr(hlo_error_message(e), want), "wanted: %s\ngot: %s", want,
                hlo_error_message(e));
  hlo_error_free(e);
}

/* ------------------------------------------------------------------------ */
/* The target                                                               */
/* ------------------------------------------------------------------------ */

START_TEST(sms_and_their_errors) {
  assert_error(compile_error(&(CgOptions){.target = "nvptx64", .cpu = "sm_75"}),
               "unknown CPU 'sm_75' for nvptx64; valid CPUs (SMs): sm_80, sm_86, sm_89, sm_90");
  assert_error(compile_error(&(CgOptions){.target = "nvptx64", .features = "+ptx80"}),
               "nvptx64 takes no --features");
  HloModule *m = ck_parse_verified(elementwise);
  const char *sms[] = {NULL, "sm_86", "sm_89", "sm_90"};
  const char *want[] = {"sm_80", "sm_86", "sm_89", "sm_90"};
  for (int i = 0; i < 4; i++) {
    CgProgram *p = NULL;
    HloError *e = cg_compile(m, &(CgOptions){.target = "nvptx64", .cpu = sms[i]}, &p);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    ck_assert_str_eq(cg_program_cpu(p), want[i]);
    ck_assert_str_eq(cg_program_triple(p), "nvptx64-nvidia-cuda");
    ck_assert(cg_program_is_host(p) && cg_program_is_cuda(p));
    char *ptx;
    size_t len;
    e = cg_program_emit(p, CG_FILE_ASSEMBLY, &ptx, &len);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    char target[32];
    snprintf(target, sizeof target, ".target %s\n", want[i]);
    ck_assert_msg(strstr(ptx, target), "%s", ptx);
    free(ptx);
    /* The object is the host's: the entry compiled for this machine,
     * with the device code as data (N_cuda_image). */
    char *obj = NULL;
    e = cg_program_emit(p, CG_FILE_OBJECT, &obj, &len);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    ck_assert(len > 4 && !memcmp(obj, "\177ELF", 4));
    ck_assert(holds(obj, len, "model_cuda_image") && holds(obj, len, want[i]));
    free(obj);
    cg_program_free(p);
  }
  hlo_module_free(m);
}
END_TEST

/* A program without kernels (its results are its arguments, copied on
 * the host) has PTX without entries. */
START_TEST(no_kernels) {
  HloModule *m = ck_parse_verified("HloModule i\n\nENTRY main {\n  x = f32[4] parameter(0)\n"
                                   "  ROOT t = (f32[4], f32[4]) tuple(x, x)\n}\n");
  CgProgram *p = NULL;
  HloError *e = cg_compile(m, &gpu80, &p);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  char *ptx;
  size_t len;
  e = cg_program_emit(p, CG_FILE_ASSEMBLY, &ptx, &len);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  ck_assert_ptr_nonnull(strstr(ptx, ".target sm_80\n"));
  ck_assert_ptr_null(strstr(ptx, ".entry"));
  free(ptx);
  cg_program_free(p);
  hlo_module_free(m);
}
END_TEST

/* What one thread has: 128-bit vectors, the registers a full SM leaves
 * each thread (in vectors of 4), the SM's L1 and shared memory. */
START_TEST(facts_come_from_the_sm) {
  static const struct {
    const char *sm;
    int regs;
    int64_t l1;
  } want[] = {{"sm_80", 8, 192 << 10}, {"sm_86", 10, 128 << 10},
              {"sm_89", 10, 128 << 10}, {"sm_90", 8, 256 << 10}};
  for (int i = 0; i < 4; i++) {
    CgTarget t;
    HloError *e = cg_target_create(&(CgOptions){.target = "nvptx64", .cpu = want[i].sm}, &t);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    ck_assert_ptr_eq(t.backend, &cg_gpu_backend);
    ck_assert_int_eq(t.info.vector_bits, 128);
    ck_assert_int_eq(t.info.preferred_bits, 128);
    ck_assert_int_eq(t.info.vector_regs, want[i].regs);
    ck_assert_int_eq(t.info.l1d_bytes, want[i].l1);
    ck_assert(t.info.fma && t.info.int8_dot && t.info.cheap_threads);
    cg_target_free(&t);
  }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* GPU ops of the kernel IR                                                 */
/* ------------------------------------------------------------------------ */

/* A kernel k(buf) storing its global thread index's float at that index,
 * reading a constant, launched from host(buf) on 2 blocks of 8. */
static KirModule *launching_module(void) {
  KirModule *m = kir_module_new();
  int64_t d16[1] = {16};
  KirType buf = kir_memref(m, KIR_F32, 1, d16);
  static const float data[16] = {1, 2, 3};
  kir_global_new(m, "g0", buf, data, sizeof data);
  KirFunc *k = kir_func_new(m, "k", 1, &buf, 0, NULL);
  k->device = k->kernel = true;
  k->threads = 16;
  KirBuilder b;
  kir_at_end(&b, k->body);
  KirVal block = kir_gpu_index(&b, KIR_BLOCK_ID);
  KirVal threads = kir_gpu_index(&b, KIR_BLOCK_DIM);
  KirVal thread = kir_gpu_index(&b, KIR_THREAD_ID);
  KirVal i = kir_binop(&b, KIR_ADDI, kir_binop(&b, KIR_MULI, block, threads), thread);
  KirVal n = kir_binop(&b, KIR_MULI, kir_gpu_index(&b, KIR_GRID_DIM), threads);
  KirVal g = kir_get_global(&b, "g0", buf);
  KirVal x = kir_load(&b, g, &i);
  KirVal nf = kir_cast(&b, KIR_UITOFP, kir_cast(&b, KIR_INDEX_CASTUI, n, T(KIR_I64)), T(KIR_F32));
  KirVal v = kir_binop(&b, KIR_ADDF, x, nf);
  kir_store(&b, v, kir_param(k, 0), &i);
  kir_return(&b, 0, NULL);
  KirFunc *h = kir_func_new(m, "host", 1, &buf, 0, NULL);
  kir_at_end(&b, h->body);
  KirVal arg = kir_param(h, 0);
  KirVal grid = kir_index(&b, 2), blk = kir_index(&b, 8);
  kir_launch(&b, k, grid, blk, 1, &arg);
  kir_return(&b, 0, NULL);
  return m;
}

/* The entry for the host (CgBackend.host_mlir): the launch, a constant
 * copied onto the device and a read of device memory go through the
 * runtime, the status it returns goes through hloc_cuda_entry_begin (-1
 * outside a run), the device code leaves the module; a store to device memory on
 * the host, and a launch of a kernel the signature lacks, are errors
 * naming the op. */
static KirModule *host_module(bool store) {
  KirModule *m = kir_module_new();
  int64_t d16[1] = {16};
  KirType buf = kir_memref(m, KIR_F32, 1, d16);
  static const float data[16] = {1, 2, 3};
  kir_global_new(m, "g0", buf, data, sizeof data);
  KirFunc *k = kir_func_new(m, "k", 1, &buf, 0, NULL);
  k->device = k->kernel = true;
  KirBuilder b;
  kir_at_end(&b, k->body);
  kir_return(&b, 0, NULL);
  KirFunc *h = kir_func_new(m, "model_run_profiled", 1, &buf, 1, (KirType[]){T(KIR_I32)});
  kir_at_end(&b, h->body);
  KirVal arg = kir_param(h, 0), zero = kir_index(&b, 0);
  kir_copy(&b, kir_get_global(&b, "g0", buf), arg);
  kir_launch(&b, k, kir_index(&b, 1), kir_index(&b, 1), 1, &arg);
  if (store) kir_store(&b, kir_const_float(&b, T(KIR_F32), 1), arg, &zero);
  KirVal x = kir_cast(&b, KIR_FPTOSI, kir_load(&b, arg, &zero), T(KIR_I32));
  kir_return(&b, 1, &x);
  return m;
}

START_TEST(host_side_calls_the_runtime) {
  CgKernelInfo kernel = {.symbol = (char *)"k"};
  CgSignature sig = {.name = "model", .kernels = &kernel, .nkernels = 1};
  KirModule *m = host_module(false);
  char *mlir = NULL;
  HloError *e = cg_gpu_backend.host_mlir(m, &sig, &mlir);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  ck_assert_msg(!strstr(mlir, "gpu.") && !strstr(mlir, "@k(") &&
                    strstr(mlir, "call @hloc_cuda_entry_launch(") &&
                    strstr(mlir, "call @hloc_cuda_entry_begin(") &&
                    strstr(mlir, "call @hloc_cuda_entry_copy("),
                "%s", mlir);
  /* the copy in, the read back: two copies; the read is of an alloca */
  ck_assert_ptr_nonnull(strstr(strstr(mlir, "call @hloc_cuda_entry_copy(") + 1,
                               "call @hloc_cuda_entry_copy("));
  ck_assert_ptr_nonnull(strstr(mlir, "memref.alloca"));
  free(mlir);
  kir_module_free(m);
  m = host_module(true);
  assert_error(cg_gpu_backend.host_mlir(m, &sig, &mlir),
               "codegen: nvptx64: model_run_profiled: an access to device memory on the host");
  kir_module_free(m);
  m = host_module(false);
  sig.nkernels = 0;
  assert_error(cg_gpu_backend.host_mlir(m, &sig, &mlir), "a launch of no kernel of the signature");
  kir_module_free(m);
}
END_TEST

START_TEST(gpu_ops_print_and_lower) {
  KirModule *m = launching_module();
  HloError *e = kir_verify(m);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  char *text = kir_print(m);
  ck_assert_match(text, "func @k(%buf: memref<16xf32>) kernel(16 threads) {\n"
                        "  %b = block_id : index\n"
                        "  %d = block_dim : index\n"
                        "  %t = thread_id : index\n"
                        "  %i = muli %b, %d : index\n"
                        "  %first = addi %i, %t : index\n"
                        "  %g = grid_dim : index\n"
                        "func @host(%arg: memref<16xf32>) {\n"
                        "  launch @k %grid, %block, %arg\n");
  free(text);
  char *mlir = kir_print_mlir(m);
  ck_assert_match(mlir, "module attributes {gpu.container_module} {\n"
                        "  func.func @host(%a: memref<16xf32>) {\n"
                        "    gpu.launch_func @hloc_device::@k blocks in (%two, ..., ...) threads "
                        "in (%eight, ..., ...) args(%a : memref<16xf32>)\n"
                        "  gpu.module @hloc_device {\n"
                        "  memref.global @g0 : memref<16xf32> = uninitialized {alignment = 64 "
                        ": i64}\n"
                        "  gpu.func @k(%b: memref<16xf32>) kernel {\n"
                        "    %bid = gpu.block_id x\n"
                        "    %bdim = gpu.block_dim x\n"
                        "    %tid = gpu.thread_id x\n"
                        "    %gdim = gpu.grid_dim x\n"
                        "    gpu.return\n");
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMModuleRef mod = NULL;
  e = cg_gpu_backend.lower(mlir, ctx, &mod);
  ck_assert_msg(!e, "%s\n%s", hlo_error_message(e), mlir);
  /* The device module alone: the kernel, taking a bare pointer, and the
   * constant's storage, writable, its bytes left to the runtime. */
  LLVMValueRef k = LLVMGetNamedFunction(mod, "k");
  ck_assert_ptr_nonnull(k);
  ck_assert_int_eq(LLVMGetFunctionCallConv(k), LLVMPTXKernelCallConv);
  ck_assert_int_eq(LLVMCountParams(k), 1);
  ck_assert_int_eq(LLVMGetTypeKind(LLVMTypeOf(LLVMGetParam(k, 0))), LLVMPointerTypeKind);
  ck_assert_ptr_null(LLVMGetNamedFunction(mod, "host"));
  LLVMValueRef g = LLVMGetNamedGlobal(mod, "g0");
  ck_assert_ptr_nonnull(g);
  ck_assert(!LLVMIsGlobalConstant(g));
  ck_assert_int_eq(LLVMGetLinkage(g), LLVMExternalLinkage);
  LLVMDisposeModule(mod);
  LLVMContextDispose(ctx);
  free(mlir);
  kir_module_free(m);
}
END_TEST

/* Asserts the verifier rejects m with a message holding `want`. */
static void assert_rejects(KirModule *m, const char *want) {
  HloError *e = kir_verify(m);
  ck_assert_msg(e, "the verifier accepted a bad module (wanted: %s)", want);
  ck_assert_msg(strstr(hlo_error_message(e), want), "wanted: %s\ngot: %s", want,
                hlo_error_message(e));
  hlo_error_free(e);
  kir_module_free(m);
}

START_TEST(verifier_rules_of_gpu_ops) {
  /* Thread ids exist on the device only. */
  KirModule *m = launching_module();
  KirFunc *h = kir_func_find(m, "host");
  KirBuilder b;
  kir_before(&b, h->body->last);
  kir_gpu_index(&b, KIR_THREAD_ID);
  assert_rejects(m, "a GPU index outside a device function");
  /* Launches are the host's, of kernels. */
  m = launching_module();
  KirFunc *k = kir_func_find(m, "k");
  kir_at_start(&b, k->body);
  kir_launch(&b, k, kir_index(&b, 1), kir_index(&b, 1), 1, (KirVal[]){kir_param(k, 0)});
  assert_rejects(m, "a launch in a device function");
  m = launching_module();
  kir_func_find(m, "k")->kernel = false;
  assert_rejects(m, "@k is no GPU kernel");
  /* A kernel is launched, never called; nothing calls across. */
  m = launching_module();
  h = kir_func_find(m, "host");
  k = kir_func_find(m, "k");
  kir_before(&b, h->body->last);
  kir_call(&b, k, 1, (KirVal[]){kir_param(h, 0)});
  assert_rejects(m, "calls the GPU kernel @k");
  m = launching_module();
  k = kir_func_find(m, "k");
  KirFunc *f = kir_func_new(m, "on_host", 0, NULL, 0, NULL);
  kir_at_end(&b, f->body);
  kir_return(&b, 0, NULL);
  kir_before(&b, k->body->last);
  kir_call(&b, f, 0, NULL);
  assert_rejects(m, "calls @on_host across the host and the device");
  /* A launch passes the kernel's parameters. */
  m = launching_module();
  h = kir_func_find(m, "host");
  kir_before(&b, h->body->last);
  KirVal one = kir_index(&b, 1);
  kir_launch(&b, kir_func_find(m, "k"), one, one, 0, NULL);
  assert_rejects(m, "operands where");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Kernels on the device                                                    */
/* ------------------------------------------------------------------------ */

/* The constant of index value v (a launch's grid or block). */
static int64_t const_of(const KirFunc *f, KirVal v) {
  const KirOp *op = f->vals[v].def;
  ck_assert(op && op->code == KIR_CONST);
  return op->imm;
}

/* Every kernel the entry called is launched on the grid its split loop
 * needs: the rows of an f32[1000,64] add on 4 blocks of 256 threads, the
 * 40 rows of an f32[40,1000] multiply on one block of 64 (40 rounded up to
 * warps), the reduction to a scalar on one block of 256, which reduces its
 * one row (gpu/reduce.c; tests/test_codegen_gpu_kernels.c). */
START_TEST(kernels_are_launched) {
  HloModule *m = ck_parse_verified(elementwise);
  CgTarget t;
  HloError *e = cg_target_create(&gpu80, &t);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  CgKernels ks;
  e = cg_generate(m, &gpu80, &t, &ks);
  if (!e) e = t.backend->place(ks.k, &ks.sig, &t);
  if (!e) e = kir_verify(ks.k);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  const KirFunc *entry = kir_func_find(ks.k, "model_run_profiled");
  ck_assert(entry && !entry->device);
  int nlaunch = 0;
  int64_t shape[3][3] = {{0}};
  const char *kinds[3] = {"sum", "prod", "total"};
  for (const KirOp *op = entry->body->first; op; op = op->next) {
    /* Each launch sits in the cancellation point's branch. */
    const KirOp *in = op->code == KIR_IF ? op->regions[0]->first : NULL;
    for (; in; in = in->next) {
      ck_assert_int_ne(in->code, KIR_CALL);
      if (in->code != KIR_LAUNCH) continue;
      const KirFunc *k = kir_func_find(ks.k, in->sym);
      ck_assert(k->device && k->kernel);
      int which = strstr(k->name, "_sum") ? 0 : strstr(k->name, "_prod") ? 1 : 2;
      ck_assert_msg(strstr(k->name, kinds[which]), "%s", k->name);
      shape[which][0] = k->threads;
      shape[which][1] = const_of(entry, in->opnds[0]);
      shape[which][2] = const_of(entry, in->opnds[1]);
      nlaunch++;
    }
  }
  ck_assert_int_eq(nlaunch, 3);
  int64_t want[3][3] = {{1000, 4, 256}, {40, 1, 64}, {256, 1, 256}};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      ck_assert_msg(shape[i][j] == want[i][j], "%s: threads, grid, block %ld %ld %ld", kinds[i],
                    (long)shape[i][0], (long)shape[i][1], (long)shape[i][2]);
  /* A split kernel runs its grid-stride loop, calling its task on the
   * device. */
  const KirFunc *task = NULL;
  for (const KirFunc *f = ks.k->first; f; f = f->next)
    if (strstr(f->name, "_sum_task")) task = f;
  ck_assert(task && task->device && !task->kernel);
  char *text = kir_print(ks.k);
  ck_assert_match(text, "func @... kernel(1000 threads) {\n"
                        "  %b = block_id : index\n"
                        "  %d = block_dim : index\n"
                        "  %t = thread_id : index\n"
                        "  %i = muli %b, %d : index\n"
                        "  %first = addi %i, %t : index\n"
                        "  %g = grid_dim : index\n"
                        "  %stride = muli %g, %d : index\n"
                        "  for %iv = %first to %n step %stride {\n"
                        "    %next = addi %iv, %one : index\n"
                        "    call @..._sum_task ..., %iv, %next\n");
  free(text);
  cg_signature_free(&ks.sig);
  cg_kernels_free(&ks);
  cg_target_free(&t);
  /* In the PTX: an entry per kernel, the split one indexing by thread. */
  CgProgram *p = NULL;
  e = cg_compile(m, &gpu80, &p);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  char *ptx;
  size_t len;
  e = cg_program_emit(p, CG_FILE_ASSEMBLY, &ptx, &len);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  int entries = 0;
  for (const char *s = ptx; (s = strstr(s, ".visible .entry ")); s++) entries++;
  ck_assert_int_eq(entries, 3);
  ck_assert_ptr_nonnull(strstr(ptx, "%tid.x"));
  ck_assert_ptr_nonnull(strstr(ptx, "%ctaid.x"));
  free(ptx);
  cg_program_free(p);
  hlo_module_free(m);
}
END_TEST

/* f64 transcendentals call libdevice (__nv_exp for libm's exp), linked
 * into the device module: the PTX defines no function of its own for it,
 * and calls none. */
START_TEST(libdevice_where_needed) {
  HloModule *m = ck_parse_verified("HloModule e\n\nENTRY main {\n  x = f64[8] parameter(0)\n"
                                   "  ROOT y = f64[8] exponential(x)\n}\n");
  CgTarget t;
  HloError *e = cg_target_create(&gpu80, &t);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  CgKernels ks;
  e = cg_generate(m, &gpu80, &t, &ks);
  if (!e) e = t.backend->place(ks.k, &ks.sig, &t);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  const KirFunc *nv = kir_func_find(ks.k, "__nv_exp");
  ck_assert(nv && nv->external && nv->device);
  cg_signature_free(&ks.sig);
  cg_kernels_free(&ks);
  cg_target_free(&t);
  if (ck_sh(NULL, "test -f ${CUDA_HOME:-/usr/local/cuda}/nvvm/libdevice/libdevice.10.bc") != 0) {
    printf("libdevice_where_needed: no libdevice (no CUDA installed): not linked\n");
    hlo_module_free(m);
    return;
  }
  CgProgram *p = NULL;
  e = cg_compile(m, &gpu80, &p);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  char *ptx;
  size_t len;
  e = cg_program_emit(p, CG_FILE_ASSEMBLY, &ptx, &len);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  ck_assert_msg(!strstr(ptx, "__nv_exp") && !strstr(ptx, "call"), "%s", ptx);
  free(ptx);
  cg_program_free(p);
  hlo_module_free(m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The corpus in PTX, assembled by ptxas                                    */
/* ------------------------------------------------------------------------ */

/* Modules refused on the GPU, with the instruction the error names. */
static const struct {
  const char *name, *names;
} refused[] = {
    {"hand_custom_call", "%cc.0"}, /* custom-call: no target is supported anywhere */
};

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The corpus's module names (NAME for NAME.hlo), sorted; malloc'd. */
static int corpus_modules(char ***out) {
  DIR *d = opendir("testdata/hlo");
  ck_assert_ptr_nonnull(d);
  int n = 0, cap = 256;
  char **names = malloc((size_t)cap * sizeof *names);
  for (struct dirent *de; (de = readdir(d));) {
    size_t len = strlen(de->d_name);
    if (len < 5 || strcmp(de->d_name + len - 4, ".hlo")) continue;
    if (n == cap) names = realloc(names, (size_t)(cap *= 2) * sizeof *names);
    names[n++] = strndup(de->d_name, len - 4);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, by_name);
  *out = names;
  return n;
}

/* Module `name` through the passes (the GPU's policy) to PTX for sm: the
 * device code alone (CgOptions.device_only), which the test assembles. */
static HloError *module_ptx(const char *name, const char *sm, char **ptx) {
  char path[300];
  snprintf(path, sizeof path, "testdata/hlo/%s.hlo", name);
  HloModule *m = NULL;
  CgOptions o = {.target = "nvptx64", .cpu = sm, .verify_kernels = true, .device_only = true};
  HloError *e = hlo_parse_file(path, &m);
  PassPolicy policy;
  if (!e) e = cg_pass_policy(&o, &policy);
  if (!e) e = pass_run_pipeline(m, &(PassOptions){.policy = &policy});
  CgProgram *p = NULL;
  if (!e) e = cg_compile(m, &o, &p);
  size_t len;
  if (!e) e = cg_program_emit(p, CG_FILE_ASSEMBLY, ptx, &len);
  cg_program_free(p);
  hlo_module_free(m);
  return e;
}

/* Every module of the corpus as PTX for sm, assembled by ptxas for it:
 * the NAME.hlo modules, or (opt) the NAME.opt.hlo ones.  The PTX files
 * are written to a directory and assembled at the end, several ptxas at
 * once (ck_ptxas_dir). */
static void corpus_assembles(const char *sm, bool opt) {
  const char *ptxas = ck_ptxas();
  char **names;
  int n = corpus_modules(&names), total = 0, built = 0, assembled = 0, no_libdevice = 0;
  HloStr bad = {0}, gaps = {0};
  char dir[] = "/tmp/hloc-ptx-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  for (int i = 0; i < n; i++) {
    const char *name = names[i];
    size_t len = strlen(name);
    if (opt != (len > 4 && !strcmp(name + len - 4, ".opt"))) {
      free(names[i]);
      continue;
    }
    total++;
    const char *refusal = NULL;
    for (size_t r = 0; r < sizeof refused / sizeof *refused; r++)
      if (!strcmp(name, refused[r].name)) refusal = refused[r].names;
    char *ptx = NULL;
    HloError *e = module_ptx(name, sm, &ptx);
    if (e && refusal && strstr(hlo_error_message(e), refusal)) {
      hlo_str_printf(&gaps, "\n  %s: refused: %s", name, hlo_error_message(e));
    } else if (e && strstr(hlo_error_message(e), "libdevice was not found")) {
      no_libdevice++;
    } else if (e) {
      hlo_str_printf(&bad, "\n  %s: %s", name, hlo_error_message(e));
    } else if (refusal) {
      hlo_str_printf(&bad, "\n  %s: compiles, but is listed as refused", name);
    } else {
      built++;
      char file[400];
      snprintf(file, sizeof file, "%s/%s.ptx", dir, name);
      FILE *f = fopen(file, "w");
      ck_assert_ptr_nonnull(f);
      ck_assert_int_eq(fwrite(ptx, 1, strlen(ptx), f), strlen(ptx));
      fclose(f);
    }
    if (e) hlo_error_free(e);
    free(ptx);
    free(names[i]);
  }
  free(names);
  if (ptxas) {
    char *refusals = NULL;
    assembled = ck_ptxas_dir(ptxas, dir, sm, &refusals);
    if (refusals) hlo_str_printf(&bad, "%s", refusals);
    free(refusals);
  }
  ck_assert_int_eq(ck_sh(NULL, "rm -r %s", dir), 0);
  printf("nvptx64 %s: %d of %d corpus modules (NAME%s.hlo) compile to PTX, %d assembled by "
         "ptxas%s",
         sm, built, total, opt ? ".opt" : "", assembled,
         ptxas ? "" : " (no ptxas: CUDA is not installed, the PTX was built, not assembled)");
  if (no_libdevice) printf("; %d need libdevice, which is missing", no_libdevice);
  printf("%s\n", gaps.buf ? gaps.buf : "");
  ck_assert_msg(!bad.buf, "nvptx64 %s:%s", sm, bad.buf);
  free(gaps.buf);
}

/* sm_80 then sm_90, each for the NAME.hlo then the NAME.opt.hlo modules
 * (four runs, so that each stays well inside Check's timeout). */
START_TEST(corpus_assembles_for_sm_80_and_sm_90) { corpus_assembles(_i < 2 ? "sm_80" : "sm_90", _i % 2); }
END_TEST

/* The TensorFlow models of testdata/tf/models (GraphDef and config),
 * through `hloc dump --stage ptx` for sm_80 and sm_90, each assembled by
 * ptxas for its SM.  Loop index i: the i-th model by name. */
START_TEST(models_assemble) {
  DIR *d = opendir("testdata/tf/models");
  ck_assert_ptr_nonnull(d);
  char *names[64];
  int n = 0;
  for (struct dirent *de; (de = readdir(d)) && n < 64;) {
    size_t len = strlen(de->d_name);
    if (len > 3 && !strcmp(de->d_name + len - 3, ".pb")) names[n++] = strndup(de->d_name, len - 3);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, by_name);
  ck_assert_int_ge(n, 9);
  if (_i < n) {
    const char *ptxas = ck_ptxas();
    char dir[] = "/tmp/hloc-gpu-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *sms[] = {"sm_80", "sm_90"};
    for (int k = 0; k < 2; k++) {
      char *out = NULL;
      int rc = ck_sh(&out,
                     "%s dump testdata/tf/models/%s.pb --config testdata/tf/models/%s.config.pbtxt "
                     "--stage ptx --cpu %s -o %s/m.ptx",
                     ck_env("HLOC_BIN"), names[_i], names[_i], sms[k], dir);
      ck_assert_msg(rc == 0, "%s %s: %s", names[_i], sms[k], out);
      free(out);
      if (ptxas) {
        rc = ck_sh(&out, "%s -arch=%s %s/m.ptx -o /dev/null", ptxas, sms[k], dir);
        ck_assert_msg(rc == 0, "%s: ptxas -arch=%s: %s", names[_i], sms[k], out);
        free(out);
      }
    }
    printf("nvptx64: %s compiles to PTX for sm_80 and sm_90%s\n", names[_i],
           ptxas ? ", assembled by ptxas" : " (no ptxas: not assembled)");
    ck_assert_int_eq(ck_sh(NULL, "rm -r %s", dir), 0);
  }
  for (int i = 0; i < n; i++) free(names[i]);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The command line                                                         */
/* ------------------------------------------------------------------------ */

START_TEST(dump_stage_ptx) {
  const char *hloc = ck_env("HLOC_BIN");
  char *out = NULL;
  int rc = ck_sh(&out, "%s dump testdata/hlo/mlp_softmax.hlo --stage ptx", hloc);
  ck_assert_msg(rc == 0, "%s", out);
  ck_assert_ptr_nonnull(strstr(out, ".target sm_80\n"));
  ck_assert_ptr_nonnull(strstr(out, ".visible .entry model_k"));
  free(out);
  rc = ck_sh(&out, "%s dump testdata/hlo/mlp_softmax.hlo --stage ptx --cpu sm_90 --name net",
             hloc);
  ck_assert_msg(rc == 0, "%s", out);
  ck_assert_ptr_nonnull(strstr(out, ".target sm_90\n"));
  ck_assert_ptr_nonnull(strstr(out, ".visible .entry net_k"));
  free(out);
  rc = ck_sh(&out, "%s dump testdata/hlo/mlp_softmax.hlo --stage ptx --target x86_64", hloc);
  ck_assert_int_eq(rc, 2);
  ck_assert_msg(strstr(out, "--stage ptx is the PTX of --target nvptx64, not of 'x86_64'"), "%s",
                out);
  free(out);
  rc = ck_sh(&out, "%s dump testdata/hlo/mlp_softmax.hlo --stage ptx --cpu sm_70", hloc);
  ck_assert_int_eq(rc, 1);
  ck_assert_msg(strstr(out, "valid CPUs (SMs): sm_80, sm_86, sm_89, sm_90"), "%s", out);
  free(out);
  /* compile: an object and a header; what it cannot do yet is refused
   * before anything is written. */
  char dir[] = "/tmp/hloc-gpu-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  rc = ck_sh(&out, "%s compile testdata/hlo/mlp_softmax.hlo --target nvptx64 --separate-weights "
             "-o %s/m", hloc, dir);
  ck_assert_int_eq(rc, 1);
  ck_assert_msg(strstr(out, "--separate-weights is not supported for GPU programs"), "%s", out);
  free(out);
  ck_assert_int_eq(ck_count_files(dir), 0);
  rc = ck_sh(&out, "%s compile testdata/hlo/mlp_softmax.hlo --target nvptx64 -o %s/m", hloc,
             dir);
  ck_assert_msg(rc == 0, "%s", out);
  free(out);
  ck_assert_int_eq(ck_count_files(dir), 2);
  rc = ck_sh(&out, "rm %s/m.o %s/m.h", dir, dir);
  ck_assert_int_eq(rc, 0);
  free(out);
  rmdir(dir);
}
END_TEST

/* A long row reduction into few results runs on many blocks: tree-reduce
 * splits it in two (passes/tree_reduce.c) and fusion keeps the levels
 * apart, so f32[16777216] -> f32[] runs 4096 blocks reducing chunks of
 * 4096 into partials, then one block reducing them, and f32[4,4194304]
 * -> f32[4] 8192 blocks of chunks of 2048, then a block per result.  The
 * CPU keeps one reduce each.  ptxas takes the kernels. */
static const char tree_hlo[] =
    "HloModule big\n\nadd {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"
    "  ROOT c = f32[] add(a, b)\n}\n\nENTRY main {\n  x = f32[16777216] parameter(0)\n"
    "  y = f32[4,4194304] parameter(1)\n  z = f32[] constant(0)\n"
    "  s = f32[] reduce(x, z), dimensions={0}, to_apply=add\n"
    "  r = f32[4] reduce(y, z), dimensions={1}, to_apply=add\n"
    "  ROOT t = (f32[], f32[4]) tuple(s, r)\n}\n";

START_TEST(long_reductions_run_on_many_blocks) {
  const char *hloc = ck_env("HLOC_BIN");
  char dir[] = "/tmp/hloc-tree-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[64];
  ck_write_file(dir, "t.hlo", tree_hlo, path, sizeof path);
  char *out = NULL;
  int rc = ck_sh(&out, "%s dump %s --stage kir --target nvptx64", hloc, path);
  ck_assert_msg(rc == 0, "%s", out);
  /* Kernels by their threads: chunks, then partials, for each reduce. */
  static const char *const kernels[] = {
      "kernel(2097152 threads in blocks of 256)", "kernel(1024 threads in blocks of 256)",
      "kernel(1048576 threads in blocks of 256)", "kernel(256 threads in blocks of 256)"};
  int n = 0;
  for (const char *k = out; (k = strstr(k, " kernel(")); k++) n++;
  ck_assert_msg(n == 4, "%d kernels:\n%s", n, out);
  for (int i = 0; i < 4; i++) ck_assert_msg(strstr(out, kernels[i]), "no %s:\n%s", kernels[i], out);
  free(out);
  rc = ck_sh(&out, "%s dump %s --target x86_64 | grep -c ' reduce('", hloc, path);
  ck_assert_msg(rc == 0 && atoi(out) == 2, "the CPU's reduces: %s", out);
  free(out);
  const char *ptxas = ck_ptxas();
  const char *sms[] = {"sm_80", "sm_90"};
  for (int i = 0; i < 2; i++) {
    rc = ck_sh(&out, "%s dump %s --stage ptx --cpu %s -o %s/t.ptx", hloc, path, sms[i], dir);
    ck_assert_msg(rc == 0, "%s", out);
    free(out);
    if (!ptxas) continue;
    rc = ck_sh(&out, "%s -arch=%s %s/t.ptx -o /dev/null", ptxas, sms[i], dir);
    ck_assert_msg(rc == 0, "ptxas -arch=%s: %s", sms[i], out);
    free(out);
  }
  if (!ptxas) printf("long_reductions_run_on_many_blocks: no ptxas: the PTX was not assembled\n");
  ck_assert_int_eq(ck_sh(NULL, "rm -r %s", dir), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_gpu");
  TCase *t = tcase_create("target");
  tcase_add_test(t, sms_and_their_errors);
  tcase_add_test(t, no_kernels);
  tcase_add_test(t, facts_come_from_the_sm);
  tcase_add_test(t, gpu_ops_print_and_lower);
  tcase_add_test(t, host_side_calls_the_runtime);
  tcase_add_test(t, verifier_rules_of_gpu_ops);
  tcase_add_test(t, kernels_are_launched);
  tcase_add_test(t, libdevice_where_needed);
  tcase_add_test(t, dump_stage_ptx);
  tcase_add_test(t, long_reductions_run_on_many_blocks);
  suite_add_tcase(s, t);
  TCase *c = tcase_create("corpus");
  /* Each run compiles a quarter of the corpus (or a model) for two SMs
   * and assembles it: well under a minute alone, several on a loaded
   * machine, past Check's default of 120 s. */
  tcase_set_timeout(c, 900);
  tcase_add_loop_test(c, corpus_assembles_for_sm_80_and_sm_90, 0, 4);
  /* One run per model: as many as testdata/tf/models holds (at least 9),
   * runs past the last doing nothing. */
  tcase_add_loop_test(c, models_assemble, 0, 12);
  suite_add_tcase(s, c);
  return ck_run_suite(s);
}
