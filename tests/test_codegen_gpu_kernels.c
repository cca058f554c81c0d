/*
 * test_codegen_gpu_kernels.c — the shapes of the GPU backend's kernels
 * (codegen/gpu/) for representative fusions, on a machine without a GPU:
 * the grid and block each is launched with, the shared memory its PTX
 * declares, the barriers and full-warp shuffles of its block reductions
 * (each reached by every thread of the block: no enclosing branch or loop
 * whose bounds depend on the thread, a dataflow check on the kernel IR),
 * and CUDA's ptxas accepting the PTX for sm_80 and sm_90 (skipped, and
 * said so, where CUDA is not installed: CI).  Also the kernel-IR ops the
 * block reductions and the tensor-core kernels are built from (shared
 * memory, barrier, shuffle, mma): their verifier rules and their MLIR,
 * lowered through the GPU's pipeline; which dots and convolutions reach
 * tensor cores (f16, bf16, f32 only with --gpu-tf32) and the PTX
 * instruction each gets; and mma.c's fragment layout run by a C model
 * of mma over random matrices; and that every warp-synchronous call of
 * the emitted LLVM IR is `convergent` (codegen/gpu/convergent.c).
 *
 * What these kernels compute is checked in test_codegen_gpu_sim.c, on the
 * kernel-IR interpreter that simulates the GPU.  The layout check here
 * shows mma.c's table is a permutation of each matrix's elements
 * consistent with itself, which is what an emitter relies on; that it is
 * the hardware's layout rests on its transcription of the PTX ISA's
 * tables, which only a GPU run checks.  The numbers are what the launch
 * rules of docs/backends.md ("The GPU backend") give for each shape.
 */
#include <unistd.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/IRReader.h>

#include "gpu/gpu.h"
#include "internal.h"
#include "test_codegen_util.h"

static const CgOptions gpu80 = {.target = "nvptx64", .verify_kernels = true};

#define ADD_MAX                                                                 \
  "add {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"                 \
  "  ROOT c = f32[] add(a, b)\n}\n\n"                                           \
  "max {\n  a = f32[] parameter(0)\n  b = f32[] parameter(1)\n"                 \
  "  ROOT c = f32[] maximum(a, b)\n}\n\n"

static const char row_reduce[] =
    "HloModule row\n\n" ADD_MAX
    "ENTRY main {\n  x = f32[512,4096] parameter(0)\n  z = f32[] constant(0)\n"
    "  ROOT r = f32[512] reduce(x, z), dimensions={1}, to_apply=add\n}\n";

static const char column_reduce[] =
    "HloModule column\n\n" ADD_MAX
    "ENTRY main {\n  x = f32[4096,512] parameter(0)\n  z = f32[] constant(0)\n"
    "  ROOT r = f32[512] reduce(x, z), dimensions={0}, to_apply=add\n}\n";

static const char small_reduce[] =
    "HloModule small\n\n" ADD_MAX
    "ENTRY main {\n  x = f32[7] parameter(0)\n  z = f32[] constant(0)\n"
    "  ROOT r = f32[] reduce(x, z), dimensions={0}, to_apply=add\n}\n";

static const char softmax[] =
    "HloModule softmax\n\n" ADD_MAX
    "fused_softmax {\n  x = f32[512,4096] parameter(0)\n  ninf = f32[] constant(-inf)\n"
    "  m = f32[512] reduce(x, ninf), dimensions={1}, to_apply=max\n"
    "  mb = f32[512,4096] broadcast(m), dimensions={0}\n"
    "  d = f32[512,4096] subtract(x, mb)\n  e = f32[512,4096] exponential(d)\n"
    "  z = f32[] constant(0)\n  s = f32[512] reduce(e, z), dimensions={1}, to_apply=add\n"
    "  sb = f32[512,4096] broadcast(s), dimensions={0}\n"
    "  ROOT y = f32[512,4096] divide(e, sb)\n}\n\n"
    "ENTRY main {\n  x = f32[512,4096] parameter(0)\n"
    "  ROOT f = f32[512,4096] fusion(x), kind=kLoop, calls=fused_softmax\n}\n";

static const char layer_norm[] =
    "HloModule layer_norm\n\n" ADD_MAX
    "fused_norm {\n  x = f32[8,128,768] parameter(0)\n  g = f32[768] parameter(1)\n"
    "  z = f32[] constant(0)\n  s = f32[8,128] reduce(x, z), dimensions={2}, to_apply=add\n"
    "  n = f32[] constant(0.00130208333)\n  nb = f32[8,128] broadcast(n), dimensions={}\n"
    "  mean = f32[8,128] multiply(s, nb)\n"
    "  mb = f32[8,128,768] broadcast(mean), dimensions={0,1}\n"
    "  d = f32[8,128,768] subtract(x, mb)\n  d2 = f32[8,128,768] multiply(d, d)\n"
    "  v = f32[8,128] reduce(d2, z), dimensions={2}, to_apply=add\n"
    "  var = f32[8,128] multiply(v, nb)\n  eps = f32[] constant(1e-5)\n"
    "  epsb = f32[8,128] broadcast(eps), dimensions={}\n  ve = f32[8,128] add(var, epsb)\n"
    "  r = f32[8,128] rsqrt(ve)\n  rb = f32[8,128,768] broadcast(r), dimensions={0,1}\n"
    "  y = f32[8,128,768] multiply(d, rb)\n  gb = f32[8,128,768] broadcast(g), dimensions={2}\n"
    "  ROOT o = f32[8,128,768] multiply(y, gb)\n}\n\n"
    "ENTRY main {\n  x = f32[8,128,768] parameter(0)\n  g = f32[768] parameter(1)\n"
    "  ROOT f = f32[8,128,768] fusion(x, g), kind=kLoop, calls=fused_norm\n}\n";

/* An argmax: a variadic reduce of (value, index) pairs, s32 indices and
 * pred comparisons in its computation, over rows of 1000. */
static const char argmax[] =
    "HloModule argmax\n\n"
    "pick {\n  av = f32[] parameter(0)\n  ai = s32[] parameter(1)\n"
    "  bv = f32[] parameter(2)\n  bi = s32[] parameter(3)\n"
    "  gt = pred[] compare(av, bv), direction=GT\n"
    "  eq = pred[] compare(av, bv), direction=EQ\n"
    "  lt = pred[] compare(ai, bi), direction=LT\n"
    "  tie = pred[] and(eq, lt)\n  first = pred[] or(gt, tie)\n"
    "  v = f32[] select(first, av, bv)\n  i = s32[] select(first, ai, bi)\n"
    "  ROOT t = (f32[], s32[]) tuple(v, i)\n}\n\n"
    "ENTRY main {\n  x = f32[64,1000] parameter(0)\n"
    "  io = s32[64,1000] iota(), iota_dimension=1\n"
    "  ninf = f32[] constant(-inf)\n  zero = s32[] constant(0)\n"
    "  ROOT r = (f32[64], s32[64]) reduce(x, io, ninf, zero), dimensions={1}, to_apply=pick\n}\n";

/* The constant of index value v (a launch's grid or block). */
static int64_t const_of(const KirFunc *f, KirVal v) {
  const KirOp *op = f->vals[v].def;
  ck_assert(op && op->code == KIR_CONST);
  return op->imm;
}

/* What a kernel is: its launch, and what its device code holds. */
typedef struct Shape {
  int64_t grid, block;
  int64_t shared_bytes; /* declared in the PTX */
  int barriers, shuffles; /* SHARED, BARRIER, SHFL_XOR ops of its device code */
  int buffers;
  int mmas;               /* MMA ops of its device code */
  char ptx_mma[96];       /* the first mma instruction of its PTX ("": none) */
  int wgmmas;             /* WGMMA ops of its device code */
  char ptx_wgmma[96];     /* the first wgmma.mma_async of its PTX ("": none) */
} Shape;

static void count_ops(const KirBlock *b, Shape *s) {
  for (const KirOp *op = b->first; op; op = op->next) {
    for (int i = 0; i < op->nregions; i++) count_ops(op->regions[i], s);
    s->barriers += op->code == KIR_BARRIER;
    s->shuffles += op->code == KIR_SHFL_XOR;
    s->buffers += op->code == KIR_SHARED;
    s->mmas += op->code == KIR_MMA;
    s->wgmmas += op->code == KIR_WGMMA;
  }
}

/* The bytes of the `.shared` declarations of ptx whose names start with
 * `kernel` (a kernel's buffers are named after it or its task). */
static int64_t shared_bytes(const char *ptx, const char *kernel) {
  int64_t total = 0;
  for (const char *s = ptx; (s = strstr(s, ".shared .align ")); s++) {
    const char *open = strchr(s, '['), *eol = strchr(s, '\n');
    ck_assert_msg(open && (!eol || open < eol), "a .shared declaration without a size");
    const char *name = open;
    while (name > s && name[-1] != ' ') name--;
    if (!strncmp(name, kernel, strlen(kernel))) total += strtoll(open + 1, NULL, 10);
  }
  return total;
}

/* Whether function name is kernel `kernel` or its task. */
static bool of_kernel(const char *name, const char *kernel) {
  size_t n = strlen(kernel);
  return !strncmp(name, kernel, n) && (!name[n] || !strcmp(name + n, "_task"));
}

/* Whether value v of f depends on the thread's number in its block:
 * thread_id's results and what is computed from them, including loads at
 * such addresses and a loop's variables when its bounds or carried
 * values do.  Fills dep[] (by value) over f's ops in order, to a fixed
 * point. */
static bool taint_block(const KirFunc *f, const KirBlock *b, bool *dep) {
  bool changed = false;
  for (const KirOp *op = b->first; op; op = op->next) {
    bool any = op->code == KIR_THREAD_ID;
    for (int i = 0; i < op->nopnds; i++) any |= dep[op->opnds[i]];
    if (op->code == KIR_FOR) {
      /* lo, hi, step, inits: the variable, the carried values */
      KirBlock *body = op->regions[0];
      bool bounds = dep[op->opnds[0]] || dep[op->opnds[1]] || dep[op->opnds[2]];
      if (bounds && !dep[body->args]) changed = dep[body->args] = true;
      for (int i = 0; i + 3 < op->nopnds; i++) {
        bool carried = bounds || dep[op->opnds[3 + i]] || dep[body->last->opnds[i]];
        if (carried && !dep[body->args + 1 + i]) changed = dep[body->args + 1 + i] = true;
        if (carried && !dep[op->res + i]) changed = dep[op->res + i] = true;
      }
    } else if (op->nregions) {
      /* if, while, switch: their results follow whatever they yield */
      for (int r = 0; r < op->nregions; r++) {
        const KirOp *y = op->regions[r]->last;
        for (int i = 0; y && i < y->nopnds && i < op->nres; i++) any |= dep[y->opnds[i]];
      }
    }
    for (int r = 0; r < op->nregions; r++) changed |= taint_block(f, op->regions[r], dep);
    if (op->code != KIR_FOR)
      for (int i = 0; i < op->nres; i++)
        if (any && !dep[op->res + i]) changed = dep[op->res + i] = true;
  }
  return changed;
}

/* The first barrier or shuffle of b that some threads of the block may
 * skip (under an if, while or switch, or in a loop whose bounds depend on
 * the thread), or NULL. */
static const KirOp *divergent_op(const KirBlock *b, const bool *dep, bool divergent) {
  for (const KirOp *op = b->first; op; op = op->next) {
    if ((op->code == KIR_BARRIER || op->code == KIR_SHFL_XOR) && divergent) return op;
    bool div = divergent || (op->nregions && op->code != KIR_FOR) ||
               (op->code == KIR_FOR &&
                (dep[op->opnds[0]] || dep[op->opnds[1]] || dep[op->opnds[2]]));
    for (int r = 0; r < op->nregions; r++) {
      const KirOp *bad = divergent_op(op->regions[r], dep, div);
      if (bad) return bad;
    }
  }
  return NULL;
}

static const KirOp *first_divergent(const KirFunc *f) {
  bool *dep = calloc((size_t)f->nvals, sizeof *dep);
  while (taint_block(f, f->body, dep)) {
  }
  const KirOp *bad = divergent_op(f->body, dep, false);
  free(dep);
  return bad;
}

/* Every thread of the block reaches every barrier and shuffle of f. */
static void check_uniform(const KirFunc *f) {
  const KirOp *bad = first_divergent(f);
  ck_assert_msg(!bad, "%s: a %s where threads of a block may diverge", f->name,
                bad ? kir_opcode_name(bad->code) : "");
}

/* The kernel of instruction `instr` of module text, built for the GPU
 * with options o: its shape, and the module's PTX for each SM of sms
 * (o's other options) assembled by ptxas where CUDA is installed. */
static Shape kernel_shape_on(const char *text, const char *instr, const CgOptions *o,
                             const char *const *sms, int nsms) {
  HloModule *m = ck_parse_verified(text);
  CgKernels ks;
  HloError *e = cg_kernels_build(m, o, &ks);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  const KirFunc *entry = kir_func_find(ks.k, "model_run_profiled");
  Shape s = {0};
  int nlaunch = 0;
  char kernel[128] = "";
  for (const KirOp *op = entry->body->first; op; op = op->next) {
    const KirOp *in = op->code == KIR_IF ? op->regions[0]->first : NULL;
    for (; in; in = in->next) {
      if (in->code != KIR_LAUNCH) continue;
      size_t n = strlen(in->sym), len = strlen(instr);
      if (n <= len || strcmp(in->sym + n - len, instr) || in->sym[n - len - 1] != '_') continue;
      s.grid = const_of(entry, in->opnds[0]);
      s.block = const_of(entry, in->opnds[1]);
      snprintf(kernel, sizeof kernel, "%s", in->sym);
      nlaunch++;
    }
  }
  ck_assert_msg(nlaunch == 1, "%d launches of %%%s", nlaunch, instr);
  for (const KirFunc *f = ks.k->first; f; f = f->next)
    if (f->device && f->body && of_kernel(f->name, kernel)) {
      count_ops(f->body, &s);
      check_uniform(f);
    }
  cg_signature_free(&ks.sig);
  cg_kernels_free(&ks);

  const char *ptxas = ck_ptxas();
  for (int i = 0; i < nsms; i++) {
    CgProgram *p = NULL;
    CgOptions po = *o;
    po.cpu = sms[i];
    e = cg_compile(m, &po, &p);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    char *ptx;
    size_t len;
    e = cg_program_emit(p, CG_FILE_ASSEMBLY, &ptx, &len);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    cg_program_free(p);
    int64_t bytes = shared_bytes(ptx, kernel);
    if (i) ck_assert_int_eq(bytes, s.shared_bytes);
    s.shared_bytes = bytes;
    /* Barriers and shuffles reach the PTX; a shuffle is over the full
     * warp (mask -1, clamp 31). */
    if (s.barriers) ck_assert_ptr_nonnull(strstr(ptx, "bar.sync"));
    if (s.shuffles) ck_assert_ptr_nonnull(strstr(ptx, "shfl.sync.bfly.b32"));
    const char *mma = strstr(ptx, "mma.sync");
    ck_assert_msg(!mma == !s.mmas, "%d mma ops, %s in the PTX", s.mmas, mma ? "mma" : "none");
    s.ptx_mma[0] = '\0';
    if (mma) snprintf(s.ptx_mma, sizeof s.ptx_mma, "%.*s", (int)strcspn(mma, " \t\n"), mma);
    const char *wg = strstr(ptx, "wgmma.mma_async");
    ck_assert_msg(!wg == !s.wgmmas, "%d wgmma ops, %s in the PTX", s.wgmmas, wg ? "wgmma" : "none");
    s.ptx_wgmma[0] = '\0';
    if (wg) snprintf(s.ptx_wgmma, sizeof s.ptx_wgmma, "%.*s", (int)strcspn(wg, " \t\n"), wg);
    for (const char *q = ptx; (q = strstr(q, "shfl.sync")); q++) {
      const char *eol = strchr(q, '\n');
      ck_assert_msg(eol && eol - q > 7 && !strncmp(eol - 7, "31, -1;", 7),
                    "a shuffle without the full mask: %.*s", (int)(eol ? eol - q : 40), q);
    }
    if (!ptxas) {
      printf("%s: no ptxas (CUDA is not installed): the PTX was built, not assembled\n",
             sms[i]);
      free(ptx);
      continue;
    }
    char file[] = "/tmp/hloc-ptx-XXXXXX";
    int fd = mkstemp(file);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, ptx, len), (ssize_t)len);
    close(fd);
    char *out = NULL;
    int rc = ck_sh(&out, "%s -arch=%s %s -o /dev/null", ptxas, sms[i], file);
    ck_assert_msg(rc == 0, "ptxas -arch=%s: %s", sms[i], out ? out : "");
    free(out);
    unlink(file);
    free(ptx);
  }
  hlo_module_free(m);
  return s;
}

/* The same for sm_80 and sm_90, f32 contractions in TF32 when tf32. */
static Shape kernel_shape_with(const char *text, const char *instr, bool tf32) {
  CgOptions o = gpu80;
  o.gpu_tf32 = tf32;
  static const char *const sms[] = {"sm_80", "sm_90"};
  return kernel_shape_on(text, instr, &o, sms, 2);
}

static Shape kernel_shape(const char *text, const char *instr) {
  return kernel_shape_with(text, instr, false);
}

static void assert_shape(const char *what, Shape s, int64_t grid, int64_t block, int64_t shared,
                         int barriers) {
  ck_assert_msg(s.grid == grid && s.block == block && s.shared_bytes == shared &&
                    s.barriers == barriers,
                "%s: grid %ld block %ld shared %ld barriers %d", what, (long)s.grid,
                (long)s.block, (long)s.shared_bytes, s.barriers);
}

/* ------------------------------------------------------------------------ */
/* Block reductions                                                         */
/* ------------------------------------------------------------------------ */

/* A row per block of 8 warps: 5 shuffle steps per warp, then the 8
 * warps' sums through 8 floats of shared memory between two barriers. */
START_TEST(row_reduction_is_a_block_per_row) {
  Shape s = kernel_shape(row_reduce, "r");
  assert_shape("row reduce", s, 512, 256, 8 * 4, 2);
  ck_assert_int_eq(s.shuffles, 5);
}
END_TEST

/* Softmax: the row's max and its sum of exponentials are each a block
 * reduction (32 bytes of shared memory each); the division runs on the
 * same block, its threads striding the row. */
START_TEST(softmax_is_a_block_per_row) {
  Shape s = kernel_shape(softmax, "f");
  assert_shape("softmax", s, 512, 256, 2 * 8 * 4, 4);
  ck_assert_int_eq(s.shuffles, 10);
}
END_TEST

/* Layer norm over 768 features: 8 × 128 rows, the mean and the variance
 * each a block reduction. */
START_TEST(layer_norm_is_a_block_per_row) {
  Shape s = kernel_shape(layer_norm, "f");
  assert_shape("layer norm", s, 8 * 128, 256, 2 * 8 * 4, 4);
  ck_assert_int_eq(s.shuffles, 10);
}
END_TEST

/* Seven elements: one warp, shuffles alone (no shared memory, no barrier);
 * 25 of its lanes have no element, so a flag travels with each partial. */
START_TEST(small_reduction_is_one_warp) {
  Shape s = kernel_shape(small_reduce, "r");
  assert_shape("f32[7] reduce", s, 1, 32, 0, 0);
  ck_assert_int_eq(s.shuffles, 2 * 5);
}
END_TEST

/* argmax: each of the two accumulators is shuffled (the rows of 1000
 * fill the block: no flags), and has 8 slots of shared memory. */
START_TEST(variadic_reduction_moves_each_accumulator) {
  Shape s = kernel_shape(argmax, "r");
  assert_shape("argmax", s, 64, 256, 8 * 4 + 8 * 4, 2);
  ck_assert_int_eq(s.shuffles, 2 * 5);
}
END_TEST

/* A column reduction runs a tile of 32 columns per block: 512 columns
 * are 16 tiles, the 8 warps of a block split the 4096 rows, and their
 * partials meet in 8 × 32 floats of shared memory.  No shuffles: the
 * lanes of a warp hold different columns. */
START_TEST(column_reduction_is_a_tile_per_block) {
  Shape s = kernel_shape(column_reduce, "r");
  assert_shape("column reduce", s, 16, 256, 8 * 32 * 4, 2);
  ck_assert_int_eq(s.shuffles, 0);
}
END_TEST

/* The mean over the middle dim of a [3, 100, 96] tensor (a fused
 * epilogue after the reduction): 3 rows × 3 tiles of 32 columns. */
static const char column_mean[] =
    "HloModule column_mean\n\n" ADD_MAX
    "fused_mean {\n  x = f32[3,100,96] parameter(0)\n  z = f32[] constant(0)\n"
    "  s = f32[3,96] reduce(x, z), dimensions={1}, to_apply=add\n"
    "  n = f32[] constant(0.01)\n  nb = f32[3,96] broadcast(n), dimensions={}\n"
    "  ROOT m = f32[3,96] multiply(s, nb)\n}\n\n"
    "ENTRY main {\n  x = f32[3,100,96] parameter(0)\n"
    "  ROOT f = f32[3,96] fusion(x), kind=kLoop, calls=fused_mean\n}\n";

START_TEST(column_mean_is_a_tile_per_block) {
  Shape s = kernel_shape(column_mean, "f");
  assert_shape("column mean", s, 9, 256, 8 * 32 * 4, 2);
}
END_TEST

/* With 100 000 columns a thread per column fills the GPU: each sums its
 * column (still coalesced), and nothing is combined. */
static const char wide_columns[] =
    "HloModule wide\n\n" ADD_MAX
    "ENTRY main {\n  x = f32[64,100000] parameter(0)\n  z = f32[] constant(0)\n"
    "  ROOT r = f32[100000] reduce(x, z), dimensions={0}, to_apply=add\n}\n";

START_TEST(wide_column_reduction_is_a_thread_per_column) {
  Shape s = kernel_shape(wide_columns, "r");
  assert_shape("wide column reduce", s, (100000 + 255) / 256, 256, 0, 0);
}
END_TEST

/* A scalar reduced from 4 elements scaling 65 536: the row's other work
 * is far more than its reduction, so it is no block's: the split loop
 * runs a thread per element, each reducing the 4 elements itself. */
static const char tiny_row[] =
    "HloModule tiny\n\n" ADD_MAX
    "fused_scale {\n  x = f32[4] parameter(0)\n  y = f32[65536] parameter(1)\n"
    "  z = f32[] constant(0)\n  s = f32[] reduce(x, z), dimensions={0}, to_apply=add\n"
    "  sb = f32[65536] broadcast(s), dimensions={}\n"
    "  ROOT o = f32[65536] multiply(y, sb)\n}\n\n"
    "ENTRY main {\n  x = f32[4] parameter(0)\n  y = f32[65536] parameter(1)\n"
    "  ROOT f = f32[65536] fusion(x, y), kind=kLoop, calls=fused_scale\n}\n";

START_TEST(a_tiny_row_is_no_blocks) {
  Shape s = kernel_shape(tiny_row, "f");
  assert_shape("tiny row", s, 65536 / 256, 256, 0, 0);
  ck_assert_int_eq(s.shuffles, 0);
}
END_TEST

/* A small kernel is split all the same: a GPU's threads start with the
 * kernel, so 10 rows are 10 threads (a warp), where the CPU runs them on
 * one thread rather than wake its pool. */
static const char small_rows[] =
    "HloModule small_rows\n\n"
    "ENTRY main {\n  x = f32[10,100] parameter(0)\n"
    "  ROOT y = f32[10,100] multiply(x, x)\n}\n";

START_TEST(small_kernels_are_split) {
  Shape s = kernel_shape(small_rows, "y");
  assert_shape("f32[10,100] multiply", s, 1, 32, 0, 0);
}
END_TEST

/* 50 column reductions in one kernel would need 50 KiB of shared memory,
 * more than a block may declare (48 KiB): those past the limit are each
 * thread's own, and ptxas takes the kernel. */
START_TEST(shared_memory_stays_within_its_limit) {
  HloStr t = {0};
  hlo_str_printf(&t, "HloModule many\n\n" ADD_MAX "fused_many {\n  x = f32[64,32] parameter(0)\n"
                     "  z = f32[] constant(0)\n");
  for (int i = 0; i < 50; i++)
    hlo_str_printf(&t, "  r%d = f32[32] reduce(x, z), dimensions={0}, to_apply=add\n", i);
  hlo_str_printf(&t, "  ROOT t = (");
  for (int i = 0; i < 50; i++) hlo_str_printf(&t, "%sf32[32]", i ? ", " : "");
  hlo_str_printf(&t, ") tuple(");
  for (int i = 0; i < 50; i++) hlo_str_printf(&t, "%sr%d", i ? ", " : "", i);
  hlo_str_printf(&t, ")\n}\n\nENTRY main {\n  x = f32[64,32] parameter(0)\n  ROOT f = (");
  for (int i = 0; i < 50; i++) hlo_str_printf(&t, "%sf32[32]", i ? ", " : "");
  hlo_str_printf(&t, ") fusion(x), kind=kInput, calls=fused_many\n}\n");
  Shape s = kernel_shape(t.buf, "f");
  free(t.buf);
  ck_assert_int_eq(s.block, 256);
  ck_assert_msg(s.shared_bytes > 40 << 10 && s.shared_bytes <= 48 << 10, "%ld bytes",
                (long)s.shared_bytes);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Dots as tiles                                                            */
/* ------------------------------------------------------------------------ */

/* f32[200,300] · f32[300,130]: 4 × 3 tiles of 64 × 64 (the last ones
 * partly outside), each staged in two 4 KiB tiles of shared memory with
 * two barriers per step of K. */
static const char dot[] =
    "HloModule dot\n\n"
    "ENTRY main {\n  x = f32[200,300] parameter(0)\n  w = f32[300,130] parameter(1)\n"
    "  ROOT d = f32[200,130] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}\n";

START_TEST(dot_is_a_tile_per_block) {
  Shape s = kernel_shape(dot, "d");
  assert_shape("dot", s, 4 * 3, 256, 2 * 64 * 16 * 4, 2);
  /* f32 stays exact: FMAs, no tensor core. */
  ck_assert_int_eq(s.mmas, 0);
  ck_assert_str_eq(s.ptx_mma, "");
}
END_TEST

/* With --gpu-tf32 the same dot runs on tensor cores: the same 4 × 3
 * tiles, A's and B's 64 × 32 tiles of TF32 bits (rows padded by 4
 * words), and per
 * step of 32 along K four k8 slices of 2 × 2 mma per warp. */
START_TEST(tf32_dot_runs_on_tensor_cores) {
  Shape s = kernel_shape_with(dot, "d", true);
  assert_shape("tf32 dot", s, 4 * 3, 256, 2 * 64 * (32 + 4) * 4, 2);
  ck_assert_int_eq(s.mmas, 4 * 4);
  ck_assert_str_eq(s.ptx_mma, "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32");
}
END_TEST

/* f16[70,40] · f16[40,50] → f16: 2 × 1 tiles, both partly outside (zeros
 * staged past M, N and K; stores guarded); 64 × 32 tiles of f16 (rows
 * padded by 8 elements); two k16 slices of 2 × 2 mma per step. */
static const char dot_f16[] =
    "HloModule dot_f16\n\n"
    "ENTRY main {\n  x = f16[70,40] parameter(0)\n  w = f16[40,50] parameter(1)\n"
    "  ROOT d = f16[70,50] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n}\n";

START_TEST(f16_dot_runs_on_tensor_cores) {
  Shape s = kernel_shape(dot_f16, "d");
  assert_shape("f16 dot", s, 2, 256, 2 * 64 * (32 + 8) * 2, 2);
  ck_assert_int_eq(s.mmas, 2 * 4);
  ck_assert_str_eq(s.ptx_mma, "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32");
}
END_TEST

/* A batched bf16 dot with f32 results and a bias epilogue: 3 batches of
 * 1 × 2 tiles. */
static const char dot_bf16[] =
    "HloModule dot_bf16\n\n"
    "fused_dense {\n  x = bf16[3,50,40] parameter(0)\n  w = bf16[3,40,70] parameter(1)\n"
    "  b = f32[70] parameter(2)\n"
    "  d = f32[3,50,70] dot(x, w), lhs_batch_dims={0}, rhs_batch_dims={0}, "
    "lhs_contracting_dims={2}, rhs_contracting_dims={1}\n"
    "  bb = f32[3,50,70] broadcast(b), dimensions={2}\n  ROOT y = f32[3,50,70] add(d, bb)\n}\n\n"
    "ENTRY main {\n  x = bf16[3,50,40] parameter(0)\n  w = bf16[3,40,70] parameter(1)\n"
    "  b = f32[70] parameter(2)\n"
    "  ROOT f = f32[3,50,70] fusion(x, w, b), kind=kOutput, calls=fused_dense\n}\n";

START_TEST(bf16_batched_dot_runs_on_tensor_cores) {
  Shape s = kernel_shape(dot_bf16, "f");
  assert_shape("bf16 dot", s, 3 * 1 * 2, 256, 2 * 64 * (32 + 8) * 2, 2);
  ck_assert_int_eq(s.mmas, 2 * 4);
  ck_assert_str_eq(s.ptx_mma, "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32");
}
END_TEST

/* A transposed operand: the passes give the dot its canonical form (a
 * transpose kernel before it), and the dot still reaches tensor cores. */
static const char dot_f16_nt[] =
    "HloModule dot_nt\n\n"
    "ENTRY main {\n  x = f16[64,128] parameter(0)\n  w = f16[96,128] parameter(1)\n"
    "  ROOT d = f16[64,96] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={1}\n}\n";

/* ------------------------------------------------------------------------ */
/* Convolutions as tiles (an implicit GEMM)                                 */
/* ------------------------------------------------------------------------ */

/* f32 NHWC 2×17×17×8, a 3×3 kernel to 20 features, stride 2, padding 1:
 * 2·9·9 = 162 pixels by 20 features, K = 9 taps × 8 = 72: 3 × 1 tiles of
 * dot.c's exact kernel. */
static const char conv_f32[] =
    "HloModule conv\n\n"
    "ENTRY main {\n  x = f32[2,17,17,8] parameter(0)\n  k = f32[3,3,8,20] parameter(1)\n"
    "  ROOT c = f32[2,9,9,20] convolution(x, k), window={size=3x3 stride=2x2 pad=1_1x1_1}, "
    "dim_labels=b01f_01io->b01f\n}\n";

START_TEST(conv_is_a_tile_per_block) {
  Shape s = kernel_shape(conv_f32, "c");
  assert_shape("conv", s, 3, 256, 2 * 64 * 16 * 4, 2);
  ck_assert_int_eq(s.mmas, 0);
  s = kernel_shape_with(conv_f32, "c", true);
  assert_shape("tf32 conv", s, 3, 256, 2 * 64 * (32 + 4) * 4, 2);
  ck_assert_int_eq(s.mmas, 4 * 4);
}
END_TEST

/* f16, a dilated 3×3 kernel (rhs_dilate 2, padding 2): 400 pixels (7
 * tiles) by 32 features (1). */
static const char conv_f16[] =
    "HloModule conv_f16\n\n"
    "ENTRY main {\n  x = f16[1,20,20,16] parameter(0)\n  k = f16[3,3,16,32] parameter(1)\n"
    "  ROOT c = f16[1,20,20,32] convolution(x, k), "
    "window={size=3x3 pad=2_2x2_2 rhs_dilate=2x2}, dim_labels=b01f_01io->b01f\n}\n";

START_TEST(f16_conv_runs_on_tensor_cores) {
  Shape s = kernel_shape(conv_f16, "c");
  assert_shape("f16 conv", s, 7, 256, 2 * 64 * (32 + 8) * 2, 2);
  ck_assert_int_eq(s.mmas, 2 * 4);
  ck_assert_str_eq(s.ptx_mma, "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32");
}
END_TEST

/* One spatial dim (NWC · WIO), TF32: 4·100 pixels by 16 features. */
static const char conv_1d[] =
    "HloModule conv_1d\n\n"
    "ENTRY main {\n  x = f32[4,100,8] parameter(0)\n  k = f32[5,8,16] parameter(1)\n"
    "  ROOT c = f32[4,100,16] convolution(x, k), window={size=5 pad=2_2}, "
    "dim_labels=b0f_0io->b0f\n}\n";

START_TEST(conv_1d_runs_on_tensor_cores_in_tf32) {
  Shape s = kernel_shape_with(conv_1d, "c", true);
  assert_shape("1-D conv", s, 7, 256, 2 * 64 * (32 + 4) * 4, 2);
  ck_assert_str_eq(s.ptx_mma, "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32");
}
END_TEST

/* --gpu-wgmma (sm_90a): a block is one warpgroup of 128 threads per
 * 64×64 tile (the same grid), A's and B's 64 × 32 tiles unpadded in the
 * core-matrix layout (wgmma.c), two barriers per step, and per step of 32
 * along K two m64n64k16 wgmma (four m64n64k8 for tf32), no mma.sync; the
 * PTX assembles for sm_90a.  Without the flag, sm_90a keeps mma.sync. */
static Shape wgmma_shape(const char *text, const char *instr, bool tf32, bool wgmma) {
  CgOptions o = {.target = "nvptx64", .cpu = "sm_90a", .verify_kernels = true,
                 .gpu_tf32 = tf32, .gpu_wgmma = wgmma};
  static const char *const sms[] = {"sm_90a"};
  return kernel_shape_on(text, instr, &o, sms, 1);
}

START_TEST(wgmma_runs_only_when_opted_in) {
  Shape s = wgmma_shape(dot_f16, "d", false, true);
  assert_shape("f16 dot on wgmma", s, 2, 128, 2 * 64 * 32 * 2, 2);
  ck_assert_int_eq(s.mmas, 0);
  ck_assert_int_eq(s.wgmmas, 2);
  ck_assert_str_eq(s.ptx_wgmma, "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16");
  s = wgmma_shape(dot_bf16, "f", false, true);
  assert_shape("bf16 dot on wgmma", s, 3 * 1 * 2, 128, 2 * 64 * 32 * 2, 2);
  ck_assert_str_eq(s.ptx_wgmma, "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16");
  s = wgmma_shape(dot, "d", true, true);
  assert_shape("tf32 dot on wgmma", s, 4 * 3, 128, 2 * 64 * 32 * 4, 2);
  ck_assert_int_eq(s.wgmmas, 4);
  ck_assert_str_eq(s.ptx_wgmma, "wgmma.mma_async.sync.aligned.m64n64k8.f32.tf32.tf32");
  s = wgmma_shape(conv_f16, "c", false, true);
  assert_shape("f16 conv on wgmma", s, 7, 128, 2 * 64 * 32 * 2, 2);
  ck_assert_int_eq(s.wgmmas, 2);
  /* Not opted in: mma.sync on sm_90a too; plain f32 never on wgmma. */
  s = wgmma_shape(dot_f16, "d", false, false);
  assert_shape("f16 dot on sm_90a", s, 2, 256, 2 * 64 * (32 + 8) * 2, 2);
  ck_assert_int_eq(s.wgmmas, 0);
  ck_assert_str_eq(s.ptx_wgmma, "");
  ck_assert_str_eq(s.ptx_mma, "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32");
  s = wgmma_shape(dot, "d", false, true);
  ck_assert_int_eq(s.wgmmas + s.mmas, 0);
  ck_assert_str_eq(s.ptx_wgmma, "");
}
END_TEST

/* --gpu-wgmma names sm_90a's instruction: another SM, or a CPU target, is
 * an error that says so. */
START_TEST(wgmma_needs_sm_90a) {
  HloModule *m = ck_parse_verified(dot_f16);
  const char *cpus[] = {"sm_90", "sm_80"};
  for (int i = 0; i < 2; i++) {
    CgProgram *p = NULL;
    HloError *e = cg_compile(
        m, &(CgOptions){.target = "nvptx64", .cpu = cpus[i], .gpu_wgmma = true}, &p);
    ck_assert_msg(e && strstr(hlo_error_message(e), "--gpu-wgmma needs --cpu sm_90a"), "%s: %s",
                  cpus[i], e ? hlo_error_message(e) : "accepted");
    hlo_error_free(e);
  }
  CgProgram *p = NULL;
  HloError *e = cg_compile(m, &(CgOptions){.gpu_wgmma = true}, &p);
  ck_assert_msg(e && strstr(hlo_error_message(e), "--gpu-wgmma needs --target nvptx64"), "%s",
                e ? hlo_error_message(e) : "accepted");
  hlo_error_free(e);
  hlo_module_free(m);
}
END_TEST

/* A depthwise convolution is no GEMM: it keeps gemm.c's kernel (a
 * thread per register tile), no shared memory, no mma. */
static const char conv_depthwise[] =
    "HloModule dw\n\n"
    "ENTRY main {\n  x = f32[1,16,16,8] parameter(0)\n  k = f32[3,3,1,8] parameter(1)\n"
    "  ROOT c = f32[1,16,16,8] convolution(x, k), window={size=3x3 pad=1_1x1_1}, "
    "dim_labels=b01f_01io->b01f, feature_group_count=8\n}\n";

START_TEST(depthwise_conv_stays_a_thread_per_tile) {
  Shape s = kernel_shape_with(conv_depthwise, "c", true);
  ck_assert_int_eq(s.barriers, 0);
  ck_assert_int_eq(s.shared_bytes, 0);
  ck_assert_int_eq(s.mmas, 0);
}
END_TEST

/* TF32 is the GPU's: another target refuses --gpu-tf32. */
START_TEST(tf32_needs_the_gpu) {
  CgTarget t;
  HloError *e = cg_target_create(&(CgOptions){.target = "x86_64", .gpu_tf32 = true}, &t);
  ck_assert_ptr_nonnull(e);
  ck_assert_str_eq(hlo_error_message(e), "codegen: --gpu-tf32 needs --target nvptx64 (target "
                                         "'x86_64' computes f32 exactly)");
  hlo_error_free(e);
  e = cg_target_create(&(CgOptions){.gpu_tf32 = true}, &t);
  ck_assert_ptr_nonnull(e);
  ck_assert_ptr_nonnull(strstr(hlo_error_message(e), "the host's target"));
  hlo_error_free(e);
}
END_TEST

/* A batched dot with a bias and ReLU epilogue (an output fusion): 3
 * batches of 1 × 2 tiles. */
static const char batched_dot[] =
    "HloModule bdot\n\n"
    "fused_dense {\n  x = f32[3,50,40] parameter(0)\n  w = f32[3,40,70] parameter(1)\n"
    "  b = f32[70] parameter(2)\n"
    "  d = f32[3,50,70] dot(x, w), lhs_batch_dims={0}, rhs_batch_dims={0}, "
    "lhs_contracting_dims={2}, rhs_contracting_dims={1}\n"
    "  bb = f32[3,50,70] broadcast(b), dimensions={2}\n  y = f32[3,50,70] add(d, bb)\n"
    "  z = f32[] constant(0)\n  zb = f32[3,50,70] broadcast(z), dimensions={}\n"
    "  ROOT r = f32[3,50,70] maximum(y, zb)\n}\n\n"
    "ENTRY main {\n  x = f32[3,50,40] parameter(0)\n  w = f32[3,40,70] parameter(1)\n"
    "  b = f32[70] parameter(2)\n"
    "  ROOT f = f32[3,50,70] fusion(x, w, b), kind=kOutput, calls=fused_dense\n}\n";

START_TEST(batched_dot_with_epilogue_is_a_tile_per_block) {
  Shape s = kernel_shape(batched_dot, "f");
  assert_shape("batched dot", s, 3 * 1 * 2, 256, 2 * 64 * 16 * 4, 2);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The GPU's fusion policy                                                  */
/* ------------------------------------------------------------------------ */

/* A dense layer and GELU (tanh form): dot, bias, tanh epilogue. */
static const char dense_gelu[] =
    "HloModule dense_gelu\n\n"
    "ENTRY main {\n  x = f32[64,256] parameter(0)\n  w = f32[256,512] parameter(1)\n"
    "  b = f32[512] parameter(2)\n"
    "  d = f32[64,512] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}\n"
    "  bb = f32[64,512] broadcast(b), dimensions={1}\n  y = f32[64,512] add(d, bb)\n"
    "  c = f32[] constant(0.7978845608)\n  cb = f32[64,512] broadcast(c), dimensions={}\n"
    "  k = f32[] constant(0.044715)\n  kb = f32[64,512] broadcast(k), dimensions={}\n"
    "  y3 = f32[64,512] multiply(y, y)\n  y3b = f32[64,512] multiply(y3, y)\n"
    "  t0 = f32[64,512] multiply(kb, y3b)\n  t1 = f32[64,512] add(y, t0)\n"
    "  t2 = f32[64,512] multiply(cb, t1)\n  th = f32[64,512] tanh(t2)\n"
    "  one = f32[] constant(1)\n  ob = f32[64,512] broadcast(one), dimensions={}\n"
    "  t3 = f32[64,512] add(ob, th)\n  h = f32[] constant(0.5)\n"
    "  hb = f32[64,512] broadcast(h), dimensions={}\n  t4 = f32[64,512] multiply(hb, y)\n"
    "  ROOT g = f32[64,512] multiply(t4, t3)\n}\n";

/* The kernels (fusions and unfused ops) of m's entry after the pipeline
 * with the policy of target (NULL: the host's); the module's text, with
 * the name of its last kernel, in *text and *last (malloc'd) when given. */
static int kernels_after_passes(const char *hlo, const char *target, char **text,
                                char **last) {
  HloModule *m = ck_parse_verified(hlo);
  PassPolicy policy;
  HloError *e = cg_pass_policy(&(CgOptions){.target = target}, &policy);
  if (!e) e = pass_run_pipeline(m, &(PassOptions){.policy = &policy});
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  int n = 0;
  for (const HloInstr *i = m->entry->first; i; i = i->next) {
    if (i->op == HLO_OP_PARAMETER || i->op == HLO_OP_CONSTANT || i->op == HLO_OP_TUPLE ||
        i->op == HLO_OP_GET_TUPLE_ELEMENT)
      continue;
    n++;
    if (last) {
      free(*last);
      *last = strdup(i->name);
      for (char *c = *last; *c; c++)
        if (*c == '.' || *c == '-') *c = '_'; /* as kernel.c names functions */
    }
  }
  if (text) *text = hlo_module_to_string(m);
  hlo_module_free(m);
  return n;
}

/* On the GPU the tanh joins the dot's kernel, which ptxas accepts; the
 * CPU keeps it apart, where a loop kernel of its own vectorizes it. */
START_TEST(transposed_f16_dot_runs_on_tensor_cores) {
  char *text = NULL, *last = NULL;
  ck_assert_int_eq(kernels_after_passes(dot_f16_nt, "nvptx64", &text, &last), 2);
  Shape s = kernel_shape(text, last);
  ck_assert_int_eq(s.mmas, 2 * 4);
  free(text);
  free(last);
}
END_TEST

/* A 5×5 convolution of 1 feature to 8 with constant (finite) weights and
 * padding 2: where conv-pad may make the padding a pad of the input.  The
 * tiled convolution reads zeros for its padding at no cost, so on the
 * GPU the padding stays in the convolution's window (one kernel, a tile
 * per block); the CPU pads a copy of the input first. */
START_TEST(padded_conv_is_one_gpu_kernel) {
  HloStr t = {0};
  hlo_str_printf(&t, "HloModule conv_padded\n\nENTRY main {\n  x = f32[1,12,12,1] parameter(0)\n"
                     "  k = f32[5,5,1,8] constant({");
  for (int h = 0; h < 5; h++) {
    hlo_str_printf(&t, "%s{", h ? "," : "");
    for (int w = 0; w < 5; w++) {
      hlo_str_printf(&t, "%s{{", w ? "," : "");
      for (int o = 0; o < 8; o++) hlo_str_printf(&t, "%s%d", o ? "," : "", h * 5 + w - o);
      hlo_str_printf(&t, "}}");
    }
    hlo_str_printf(&t, "}");
  }
  hlo_str_printf(&t, "})\n  ROOT c = f32[1,12,12,8] convolution(x, k), "
                     "window={size=5x5 pad=2_2x2_2}, dim_labels=b01f_01io->b01f\n}\n");
  char *text = NULL, *last = NULL;
  ck_assert_int_eq(kernels_after_passes(t.buf, "nvptx64", &text, &last), 1);
  ck_assert_msg(strstr(text, "pad=2_2x2_2"), "%s", text);
  Shape s = kernel_shape(text, last);
  assert_shape("padded conv", s, 3, 256, 2 * 64 * 16 * 4, 2);
  free(text);
  free(last);
  ck_assert_int_eq(kernels_after_passes(t.buf, NULL, NULL, NULL), 2);
  free(t.buf);
}
END_TEST

START_TEST(gelu_after_a_dense_layer_is_one_gpu_kernel) {
  char *text = NULL, *last = NULL;
  ck_assert_int_eq(kernels_after_passes(dense_gelu, "nvptx64", &text, &last), 1);
  kernel_shape(text, last);
  free(text);
  free(last);
  ck_assert_int_eq(kernels_after_passes(dense_gelu, NULL, NULL, NULL), 2);
}
END_TEST

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

/* The check above finds a barrier only some threads reach: under a
 * branch on the thread, or in a loop whose trip count depends on it. */
START_TEST(divergent_barriers_are_found) {
  KirModule *m = block_sum_module();
  KirFunc *k = kir_func_find(m, "k");
  ck_assert_ptr_null(first_divergent(k));
  const KirOp *c = k->body->last->prev; /* the if on thread 0 */
  ck_assert_int_eq(c->code, KIR_IF);
  KirBuilder b;
  kir_before(&b, c->regions[0]->last);
  kir_barrier(&b);
  ck_assert_ptr_nonnull(first_divergent(k));
  kir_module_free(m);
  m = block_sum_module();
  k = kir_func_find(m, "k");
  kir_before(&b, k->body->last);
  KirVal t = kir_gpu_index(&b, KIR_THREAD_ID);
  KirOp *l = kir_for(&b, t, kir_index(&b, 64), kir_index(&b, 32), 0, NULL);
  KirBuilder in;
  kir_at_end(&in, kir_region(l, 0));
  KirVal x = kir_shfl_xor(&in, kir_const_int(&in, kir_scalar(KIR_I32), 1), 1);
  (void)x;
  kir_yield(&in, 0, NULL);
  ck_assert_ptr_nonnull(first_divergent(k));
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

/* ------------------------------------------------------------------------ */
/* The tensor-core op and its layout                                        */
/* ------------------------------------------------------------------------ */

/* A kernel k(out) of one warp: each lane's mma of kind on constant
 * fragments, its 4 sums stored at out[lane][0..3].  In a host function
 * instead when !device (a CPU's code, to the verifier). */
static KirModule *mma_module(KirMmaKind kind, bool device) {
  KirModule *m = kir_module_new();
  int64_t dims[2] = {32, 4};
  KirType out = kir_memref(m, KIR_F32, 2, dims);
  KirFunc *k = kir_func_new(m, "k", 1, &out, 0, NULL);
  k->device = k->kernel = device;
  k->threads = k->block = device ? 32 : 0;
  KirBuilder b;
  kir_at_end(&b, k->body);
  KirType i32 = kir_scalar(KIR_I32);
  KirVal a[4], bb[2], c[4];
  for (int i = 0; i < 4; i++) a[i] = kir_const_int(&b, i32, 0x3c003c00 + i);
  for (int i = 0; i < 2; i++) bb[i] = kir_const_int(&b, i32, 0x3f803f80 + i);
  for (int i = 0; i < 4; i++) c[i] = kir_const_float(&b, kir_scalar(KIR_F32), i);
  KirVal d = kir_mma(&b, kind, a, bb, c);
  KirVal lane = device ? kir_gpu_index(&b, KIR_THREAD_ID) : kir_index(&b, 0);
  for (int i = 0; i < 4; i++) kir_store(&b, d + i, kir_param(k, 0), (KirVal[]){lane, kir_index(&b, i)});
  kir_return(&b, 0, NULL);
  return m;
}

START_TEST(mma_prints_and_lowers) {
  static const char *const want[] = {
      [KIR_MMA_F16] = "mma.m16n8k16.row.col.f32.f32(<2 x half>",
      [KIR_MMA_BF16] = "m16n8k16.row.col.bf16",
      [KIR_MMA_TF32] = "m16n8k8.row.col.tf32",
  };
  for (int kind = KIR_MMA_F16; kind <= KIR_MMA_TF32; kind++) {
    KirModule *m = mma_module((KirMmaKind)kind, true);
    HloError *e = kir_verify(m);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    char *text = kir_print(m);
    HloStr pat = {0};
    hlo_str_printf(&pat, "...= mma ... %s : f32, f32, f32, f32\n", kir_mma_name((KirMmaKind)kind));
    ck_assert_match(text, pat.buf);
    free(pat.buf);
    free(text);
    char *mlir = kir_print_mlir(m);
    ck_assert_match(mlir, kind == KIR_MMA_TF32
                              ? "...nvvm.mma.sync A[...] B[...] C[...] {layoutA = "
                                "#nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, "
                                "multiplicandAPtxType = #nvvm.mma_type<tf32>, "
                                "multiplicandBPtxType = #nvvm.mma_type<tf32>, shape = "
                                "#nvvm.shape<m = 16, n = 8, k = 8>} : (i32, i32, f32) -> "
                                "!llvm.struct<(f32, f32, f32, f32)>\n"
                              : "...nvvm.mma.sync A[...] ... #nvvm.shape<m = 16, n = 8, k = "
                                "16>} : (...) -> !llvm.struct<(f32, f32, f32, f32)>\n");
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = NULL;
    e = cg_gpu_backend.lower(mlir, ctx, &mod);
    ck_assert_msg(!e, "%s\n%s", hlo_error_message(e), mlir);
    /* NVVM's intrinsic of the shape and the operands' type. */
    char *ir = LLVMPrintModuleToString(mod);
    ck_assert_msg(strstr(ir, want[kind]), "no %s in\n%s", want[kind], ir);
    LLVMDisposeMessage(ir);
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    free(mlir);
    kir_module_free(m);
  }
}
END_TEST

START_TEST(verifier_rules_of_mma) {
  /* A CPU's code (a host function) has no tensor cores. */
  assert_rejects(mma_module(KIR_MMA_F16, false), "a GPU op outside a device function");
  /* A: 4 i32; B: 2 i32; C: 4 f32. */
  KirModule *m = mma_module(KIR_MMA_BF16, true);
  KirFunc *k = kir_func_find(m, "k");
  KirOp *op = k->body->first;
  while (op->code != KIR_MMA) op = op->next;
  KirVal f = op->opnds[6];
  op->opnds[0] = f;
  assert_rejects(m, "an mma takes A as 4 i32, B as 2 i32 and C as 4 f32 (operand 0)");
  m = mma_module(KIR_MMA_TF32, true);
  k = kir_func_find(m, "k");
  for (op = k->body->first; op->code != KIR_MMA; op = op->next) {
  }
  op->opnds[9] = op->opnds[0];
  assert_rejects(m, "(operand 9)");
  m = mma_module(KIR_MMA_TF32, true);
  k = kir_func_find(m, "k");
  for (op = k->body->first; op->code != KIR_MMA; op = op->next) {
  }
  op->pred = 3;
  assert_rejects(m, "an mma of no known kind");
}
END_TEST

/* Spots of the PTX ISA's fragment tables, transcribed by hand apart from
 * mma.c's: lane 5 is g = 1, t = 1. */
START_TEST(mma_layout_matches_the_isa_at_spots) {
  int r, c;
  gpu_mma_elem(KIR_MMA_F16, GPU_MMA_A, 5, 0, &r, &c); /* a0: (g, 2t) */
  ck_assert(r == 1 && c == 2);
  gpu_mma_elem(KIR_MMA_F16, GPU_MMA_A, 5, 3, &r, &c); /* a3: (g+8, 2t+1) */
  ck_assert(r == 9 && c == 3);
  gpu_mma_elem(KIR_MMA_BF16, GPU_MMA_A, 5, 7, &r, &c); /* a7: (g+8, 2t+9) */
  ck_assert(r == 9 && c == 11);
  gpu_mma_elem(KIR_MMA_F16, GPU_MMA_B, 5, 3, &r, &c); /* b3: (2t+9, g) */
  ck_assert(r == 11 && c == 1);
  gpu_mma_elem(KIR_MMA_TF32, GPU_MMA_A, 5, 1, &r, &c); /* a1: (g+8, t) */
  ck_assert(r == 9 && c == 1);
  gpu_mma_elem(KIR_MMA_TF32, GPU_MMA_A, 5, 2, &r, &c); /* a2: (g, t+4) */
  ck_assert(r == 1 && c == 5);
  gpu_mma_elem(KIR_MMA_TF32, GPU_MMA_B, 5, 1, &r, &c); /* b1: (t+4, g) */
  ck_assert(r == 5 && c == 1);
  gpu_mma_elem(KIR_MMA_TF32, GPU_MMA_C, 5, 2, &r, &c); /* c2: (g+8, 2t) */
  ck_assert(r == 9 && c == 2);
}
END_TEST

/* mma.c's layout run by a C model of mma on a random problem: every lane
 * gathers its fragments of A, B and C from the matrices by the table; the
 * model (mma as the PTX ISA defines it: D = A·B + C on the matrices the
 * warp's fragments make up, put back by the same table) computes D; the
 * lanes' fragments of D, scattered by the table, must be the plain
 * product.  Small integers: every sum is exact.  This shows each table is
 * a permutation of its matrix's elements that gathering and scattering
 * agree on (what the emitter and a simulator rely on), not that it is the
 * hardware's: that needs a GPU. */
START_TEST(mma_layout_is_a_consistent_permutation) {
  unsigned seed = 12345;
  for (int kind = KIR_MMA_F16; kind <= KIR_MMA_TF32; kind++) {
    const GpuMmaShape *s = gpu_mma_shape((KirMmaKind)kind);
    int M = s->m, N = s->n, K = s->k;
    ck_assert_int_eq(s->na, M * K / 32);
    ck_assert_int_eq(s->nb, K * N / 32);
    ck_assert_int_eq(s->na / s->per_reg, 4); /* kir_mma's registers */
    ck_assert_int_eq(s->nb / s->per_reg, 2);
    double A[16][16], B[16][8], C[16][8];
    for (int i = 0; i < M; i++)
      for (int k = 0; k < K; k++) A[i][k] = (int)(rand_r(&seed) % 17) - 8;
    for (int k = 0; k < K; k++)
      for (int j = 0; j < N; j++) B[k][j] = (int)(rand_r(&seed) % 17) - 8;
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) C[i][j] = (int)(rand_r(&seed) % 17) - 8;
    /* The lanes' fragments, and how often each element is held. */
    double fa[32][8], fb[32][4], fc[32][4], fd[32][4];
    int seen_a[16][16] = {{0}}, seen_b[16][8] = {{0}}, seen_c[16][8] = {{0}};
    for (int l = 0; l < 32; l++) {
      int r, c;
      for (int e = 0; e < s->na; e++) {
        gpu_mma_elem((KirMmaKind)kind, GPU_MMA_A, l, e, &r, &c);
        ck_assert(r >= 0 && r < M && c >= 0 && c < K);
        fa[l][e] = A[r][c];
        seen_a[r][c]++;
      }
      for (int e = 0; e < s->nb; e++) {
        gpu_mma_elem((KirMmaKind)kind, GPU_MMA_B, l, e, &r, &c);
        ck_assert(r >= 0 && r < K && c >= 0 && c < N);
        fb[l][e] = B[r][c];
        seen_b[r][c]++;
      }
      for (int e = 0; e < 4; e++) {
        gpu_mma_elem((KirMmaKind)kind, GPU_MMA_C, l, e, &r, &c);
        ck_assert(r >= 0 && r < M && c >= 0 && c < N);
        fc[l][e] = C[r][c];
        seen_c[r][c]++;
      }
    }
    for (int i = 0; i < M; i++)
      for (int k = 0; k < K; k++) ck_assert_int_eq(seen_a[i][k], 1);
    for (int k = 0; k < K; k++)
      for (int j = 0; j < N; j++) ck_assert_int_eq(seen_b[k][j], 1);
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) ck_assert_int_eq(seen_c[i][j], 1);
    /* The model: the warp's matrices from its fragments, D, its fragments. */
    double wa[16][16], wb[16][8], wc[16][8], wd[16][8];
    for (int l = 0; l < 32; l++) {
      int r, c;
      for (int e = 0; e < s->na; e++) {
        gpu_mma_elem((KirMmaKind)kind, GPU_MMA_A, l, e, &r, &c);
        wa[r][c] = fa[l][e];
      }
      for (int e = 0; e < s->nb; e++) {
        gpu_mma_elem((KirMmaKind)kind, GPU_MMA_B, l, e, &r, &c);
        wb[r][c] = fb[l][e];
      }
      for (int e = 0; e < 4; e++) {
        gpu_mma_elem((KirMmaKind)kind, GPU_MMA_C, l, e, &r, &c);
        wc[r][c] = fc[l][e];
      }
    }
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) {
        wd[i][j] = wc[i][j];
        for (int k = 0; k < K; k++) wd[i][j] += wa[i][k] * wb[k][j];
      }
    for (int l = 0; l < 32; l++)
      for (int e = 0; e < 4; e++) {
        int r, c;
        gpu_mma_elem((KirMmaKind)kind, GPU_MMA_C, l, e, &r, &c);
        fd[l][e] = wd[r][c];
      }
    /* The emitter's view: D's fragments scattered are A·B + C. */
    for (int l = 0; l < 32; l++)
      for (int e = 0; e < 4; e++) {
        int r, c;
        gpu_mma_elem((KirMmaKind)kind, GPU_MMA_C, l, e, &r, &c);
        double want = C[r][c];
        for (int k = 0; k < K; k++) want += A[r][k] * B[k][c];
        ck_assert_msg(fd[l][e] == want, "%s: lane %d element %d: %g, not %g",
                      kir_mma_name((KirMmaKind)kind), l, e, fd[l][e], want);
      }
  }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The warpgroup MMA's ops and layouts                                      */
/* ------------------------------------------------------------------------ */

/* A kernel k(out) of one warpgroup: shared A (64×16) and B (n×16) of
 * kind's elements, a descriptor of each, fence, one wgmma m64n`n`,
 * commit, wait, each thread's n/2 sums stored at out[t][…].  In a host
 * function instead when !device. */
static KirModule *wgmma_module(KirMmaKind kind, int n, bool device) {
  KirModule *m = kir_module_new();
  int64_t dims[2] = {128, n / 2}, ae = 64 * 16, be = (int64_t)n * 16;
  KirType out = kir_memref(m, KIR_F32, 2, dims);
  KirFunc *k = kir_func_new(m, "k", 1, &out, 0, NULL);
  k->device = k->kernel = device;
  k->threads = k->block = device ? 128 : 0;
  KirBuilder b;
  kir_at_end(&b, k->body);
  KirElem held = kind == KIR_MMA_TF32 ? KIR_I32 : KIR_I16;
  KirVal sa = kir_shared(&b, "k_a", kir_memref_shared(m, held, 1, &ae));
  KirVal sb = kir_shared(&b, "k_b", kir_memref_shared(m, held, 1, &be));
  kir_async_fence(&b);
  kir_barrier(&b);
  kir_wgmma_fence(&b);
  uint64_t fields = gpu_wgmma_fields(128, 256);
  KirVal da = kir_wgmma_desc(&b, sa, kir_index(&b, 0), fields);
  KirVal db = kir_wgmma_desc(&b, sb, kir_index(&b, 0), fields);
  KirVal c[KIR_WGMMA_MAX_N / 2];
  for (int i = 0; i < n / 2; i++) c[i] = kir_const_float(&b, kir_scalar(KIR_F32), i);
  KirVal d = kir_wgmma(&b, kind, n, da, db, c);
  kir_wgmma_commit(&b);
  kir_wgmma_wait(&b, 0);
  KirVal t = device ? kir_gpu_index(&b, KIR_THREAD_ID) : kir_index(&b, 0);
  for (int i = 0; i < n / 2; i++)
    kir_store(&b, d + i, kir_param(k, 0), (KirVal[]){t, kir_index(&b, i)});
  kir_return(&b, 0, NULL);
  return m;
}

START_TEST(wgmma_prints_and_lowers) {
  static const char *const want[] = {
      [KIR_MMA_F16] = "wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16",
      [KIR_MMA_BF16] = "wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16",
      [KIR_MMA_TF32] = "wgmma.mma_async.sync.aligned.m64n16k8.f32.tf32.tf32",
  };
  for (int kind = KIR_MMA_F16; kind <= KIR_MMA_TF32; kind++) {
    KirModule *m = wgmma_module((KirMmaKind)kind, 16, true);
    HloError *e = kir_verify(m);
    ck_assert_msg(!e, "%s", hlo_error_message(e));
    char *text = kir_print(m);
    HloStr pat = {0};
    hlo_str_printf(&pat, "...= wgmma ... m64n16 %s : f32, f32, f32, f32, f32, f32, f32, f32\n",
                   kir_mma_name((KirMmaKind)kind));
    ck_assert_match(text, pat.buf);
    free(pat.buf);
    free(text);
    char *mlir = kir_print_mlir(m);
    ck_assert_match(mlir, "...nvvm.wgmma.mma_async ... #nvvm.shape<m = 64, n = 16, k = ...>, "
                          "D [<f32>, #nvvm.wgmma_scale_out<one>], A [<...>, "
                          "#nvvm.wgmma_scale_in<one>, <row>], B [<...>, "
                          "#nvvm.wgmma_scale_in<one>, <col>] : ...");
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = NULL;
    e = cg_gpu_backend.lower(mlir, ctx, &mod);
    ck_assert_msg(!e, "%s\n%s", hlo_error_message(e), mlir);
    /* The instruction as inline PTX, the fences and the group ops as
     * NVVM's intrinsics. */
    char *ir = LLVMPrintModuleToString(mod);
    ck_assert_msg(strstr(ir, want[kind]), "no %s in\n%s", want[kind], ir);
    ck_assert_msg(strstr(ir, "llvm.nvvm.wgmma.fence.sync.aligned") &&
                      strstr(ir, "llvm.nvvm.wgmma.commit_group.sync.aligned") &&
                      strstr(ir, "llvm.nvvm.wgmma.wait_group.sync.aligned(i64 0)") &&
                      strstr(ir, "fence.proxy.async"),
                  "a fence or group op missing in\n%s", ir);
    LLVMDisposeMessage(ir);
    LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    free(mlir);
    kir_module_free(m);
  }
}
END_TEST

/* The first op of code in k's body. */
static KirOp *first_op(KirModule *m, KirOpcode code) {
  KirOp *op = kir_func_find(m, "k")->body->first;
  while (op->code != code) op = op->next;
  return op;
}

START_TEST(verifier_rules_of_wgmma) {
  assert_rejects(wgmma_module(KIR_MMA_F16, 8, false), "a GPU op outside a device function");
  KirModule *m = wgmma_module(KIR_MMA_F16, 8, true);
  KirOp *op = first_op(m, KIR_WGMMA);
  op->opnds[0] = op->opnds[2];
  assert_rejects(m, "a wgmma takes two i64 descriptors and N/2 f32 (operand 0)");
  m = wgmma_module(KIR_MMA_BF16, 8, true);
  op = first_op(m, KIR_WGMMA);
  op->opnds[5] = op->opnds[1];
  assert_rejects(m, "(operand 5)");
  m = wgmma_module(KIR_MMA_TF32, 8, true);
  first_op(m, KIR_WGMMA)->imm = 12;
  assert_rejects(m, "a wgmma's N is a multiple of 8 from 8 to 256");
  m = wgmma_module(KIR_MMA_TF32, 8, true);
  first_op(m, KIR_WGMMA)->pred = 3;
  assert_rejects(m, "a wgmma of no known kind");
  m = wgmma_module(KIR_MMA_F16, 8, true);
  first_op(m, KIR_WGMMA_WAIT)->imm = 8;
  assert_rejects(m, "a wgmma wait leaves 0 to 7 groups");
  m = wgmma_module(KIR_MMA_F16, 8, true);
  first_op(m, KIR_WGMMA_DESC)->imm |= 5;
  assert_rejects(m, "a wgmma descriptor's fields leave its address bits 0");
  m = wgmma_module(KIR_MMA_F16, 8, true);
  op = first_op(m, KIR_WGMMA_DESC);
  op->opnds[1] = op->opnds[0];
  assert_rejects(m, "a wgmma descriptor is an i64 of a shared memref and a byte offset");
}
END_TEST

/* Spots of the PTX ISA's wgmma tables, transcribed by hand apart from
 * wgmma.c: thread 37 is warp 1, g = 1, q = 1; the descriptor's fields;
 * the no-swizzle K-major layout. */
START_TEST(wgmma_layout_matches_the_isa_at_spots) {
  int r, c;
  gpu_wgmma_acc(37, 0, &r, &c); /* d0: (16 + g, 2q) */
  ck_assert(r == 17 && c == 2);
  gpu_wgmma_acc(37, 3, &r, &c); /* d3: (16 + g + 8, 2q + 1) */
  ck_assert(r == 25 && c == 3);
  gpu_wgmma_acc(37, 5, &r, &c); /* d5: (16 + g, 8 + 2q + 1) */
  ck_assert(r == 17 && c == 11);
  gpu_wgmma_acc(127, 31, &r, &c); /* the last: (63, 63) */
  ck_assert(r == 63 && c == 63);
  /* Address bits 0-13, LBO 16-29, SBO 32-45, all >> 4; swizzle 62-63. */
  uint64_t d = gpu_wgmma_encode(0x1230, gpu_wgmma_fields(128, 512));
  ck_assert_uint_eq(d, 0x123u | (8u << 16) | ((uint64_t)32 << 32));
  GpuWgmmaDesc g;
  gpu_wgmma_decode(d | (uint64_t)1 << 62, &g);
  ck_assert(g.addr == 0x1230 && g.lbo == 128 && g.sbo == 512 && g.swizzle == 1 && !g.base);
  ck_assert_int_eq(gpu_wgmma_offset(&g, 0, 0, 2), -1); /* swizzled: not ours */
  gpu_wgmma_decode(d, &g);
  /* f16 (row 9, k 10): core matrix (1, 1), its row 1, element 2. */
  ck_assert_int_eq(gpu_wgmma_offset(&g, 9, 10, 2), 512 + 128 + 16 + 4);
  /* tf32 (row 7, k 5): core matrix (0, 1), its row 7, element 1. */
  ck_assert_int_eq(gpu_wgmma_offset(&g, 7, 5, 4), 128 + 7 * 16 + 4);
}
END_TEST

/* The CPU builds none of this: its row reduction is a loop of its own. */
/* Whether call is convergent, at the call site or by its callee. */
static bool is_convergent(LLVMValueRef call) {
  unsigned kind = LLVMGetEnumAttributeKindForName("convergent", 10);
  if (LLVMGetCallSiteEnumAttribute(call, LLVMAttributeFunctionIndex, kind)) return true;
  LLVMValueRef f = LLVMGetCalledValue(call);
  return LLVMIsAFunction(f) && LLVMGetEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, kind);
}

/* The warp-synchronous calls of the LLVM IR `dump --stage llvm` prints
 * for text (the device module after O3), by kind: mma, shfl, barrier,
 * wgmma intrinsics and inline assembly; each must be convergent, so that
 * no pass of LLVM's moved it into divergent control flow. */
enum { W_MMA, W_SHFL, W_BAR, W_WGMMA, W_ASM, W_KINDS };
static void count_warp_calls(const char *text, const CgOptions *o, int *n) {
  HloModule *m = ck_parse_verified(text);
  CgOptions d = *o;
  d.device_only = true;
  CgProgram *p = NULL;
  HloError *e = cg_compile(m, &d, &p);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  char *ir;
  size_t len;
  e = cg_program_emit(p, CG_FILE_LLVM_IR, &ir, &len);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  cg_program_free(p);
  hlo_module_free(m);
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(ir, len, "ir");
  LLVMModuleRef mod;
  char *msg = NULL;
  ck_assert_msg(!LLVMParseIRInContext(ctx, buf, &mod, &msg), "%s", msg);
  static const char *const prefix[] = {"llvm.nvvm.mma.", "llvm.nvvm.shfl.sync.",
                                       "llvm.nvvm.barrier", "llvm.nvvm.wgmma."};
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
    for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(f); b; b = LLVMGetNextBasicBlock(b))
      for (LLVMValueRef i = LLVMGetFirstInstruction(b); i; i = LLVMGetNextInstruction(i)) {
        if (!LLVMIsACallInst(i)) continue;
        LLVMValueRef callee = LLVMGetCalledValue(i);
        int k = -1;
        size_t nl = 0;
        const char *name = "inline asm";
        if (LLVMIsAInlineAsm(callee)) k = W_ASM;
        else if (LLVMIsAFunction(callee)) {
          name = LLVMGetValueName2(callee, &nl);
          for (int j = 0; j < W_ASM; j++)
            if (!strncmp(name, prefix[j], strlen(prefix[j]))) k = j;
        }
        if (k < 0) continue;
        ck_assert_msg(is_convergent(i), "a call of %s is not convergent", name);
        n[k]++;
      }
  LLVMDisposeModule(mod);
  LLVMContextDispose(ctx);
  free(ir);
}

/* mma.sync, shuffles, barriers and wgmma must be executed by the whole
 * warp (warpgroup) at once.  LLVM 22 declares the mma intrinsics without
 * `convergent` and the inline assembly of wgmma.mma_async has none, so
 * before convergent.c these failed. */
START_TEST(warp_synchronous_calls_are_convergent) {
  int n[W_KINDS] = {0};
  count_warp_calls(dot_f16, &gpu80, n);
  ck_assert_int_gt(n[W_MMA], 0);
  ck_assert_int_gt(n[W_BAR], 0);
  count_warp_calls(row_reduce, &gpu80, n);
  ck_assert_int_gt(n[W_SHFL], 0);
  CgOptions w = {.target = "nvptx64", .cpu = "sm_90a", .gpu_wgmma = true};
  count_warp_calls(dot_f16, &w, n);
  ck_assert_int_gt(n[W_WGMMA], 0);
  ck_assert_int_gt(n[W_ASM], 0);
}
END_TEST

/* convergent.c on a module of its own: the mma call and the inline
 * assembly become convergent, and so do the functions reaching them
 * through calls; a function reaching none stays as it was. */
START_TEST(convergence_reaches_the_callers) {
  static const char ir[] =
      "declare { float, float, float, float } @llvm.nvvm.mma.m16n8k16.row.col.f32.f32("
      "<2 x half>, <2 x half>, <2 x half>, <2 x half>, <2 x half>, <2 x half>, "
      "float, float, float, float)\n"
      "define internal float @mma(<2 x half> %a) {\n"
      "  %r = call { float, float, float, float } @llvm.nvvm.mma.m16n8k16.row.col.f32.f32("
      "<2 x half> %a, <2 x half> %a, <2 x half> %a, <2 x half> %a, <2 x half> %a, "
      "<2 x half> %a, float 0.0, float 0.0, float 0.0, float 0.0)\n"
      "  %x = extractvalue { float, float, float, float } %r, 0\n  ret float %x\n}\n"
      "define internal void @asm() {\n"
      "  call void asm sideeffect \"bar.warp.sync -1;\", \"\"()\n  ret void\n}\n"
      "define internal float @task(<2 x half> %a) {\n"
      "  call void @asm()\n  %x = call float @mma(<2 x half> %a)\n  ret float %x\n}\n"
      "define internal float @plain(float %x) {\n  %y = fadd float %x, 1.0\n  ret float %y\n}\n"
      "define ptx_kernel void @k(<2 x half> %a, ptr %o) {\n"
      "  %x = call float @task(<2 x half> %a)\n  %y = call float @plain(float %x)\n"
      "  store float %y, ptr %o\n  ret void\n}\n";
  LLVMContextRef ctx = LLVMContextCreate();
  LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(ir, strlen(ir), "ir");
  LLVMModuleRef mod;
  char *msg = NULL;
  ck_assert_msg(!LLVMParseIRInContext(ctx, buf, &mod, &msg), "%s", msg);
  gpu_mark_convergent(mod);
  unsigned kind = LLVMGetEnumAttributeKindForName("convergent", 10);
  static const struct {
    const char *fn;
    bool convergent;
  } want[] = {{"mma", true}, {"asm", true}, {"task", true}, {"k", true}, {"plain", false}};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    LLVMValueRef f = LLVMGetNamedFunction(mod, want[i].fn);
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(!LLVMGetEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, kind) ==
                      !want[i].convergent,
                  "@%s: convergent should be %d", want[i].fn, want[i].convergent);
    /* every call in @k and @task: convergent exactly when its callee is */
    for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(f); b; b = LLVMGetNextBasicBlock(b))
      for (LLVMValueRef c = LLVMGetFirstInstruction(b); c; c = LLVMGetNextInstruction(c))
        if (LLVMIsACallInst(c))
          ck_assert_msg(is_convergent(c) ==
                          (strcmp(LLVMGetValueName(LLVMGetCalledValue(c)), "plain") != 0),
                        "a call in @%s", want[i].fn);
  }
  ck_assert_msg(!LLVMVerifyModule(mod, LLVMReturnStatusAction, &msg), "%s", msg);
  LLVMDisposeMessage(msg);
  LLVMDisposeModule(mod);
  LLVMContextDispose(ctx);
}
END_TEST

START_TEST(the_cpu_has_no_groups) {
  ck_assert_ptr_null(cg_cpu_backend.groups);
  ck_assert_ptr_null(cg_cpu_backend.group_reduce);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_gpu_kernels");
  TCase *t = tcase_create("kernels");
  tcase_add_test(t, row_reduction_is_a_block_per_row);
  tcase_add_test(t, softmax_is_a_block_per_row);
  tcase_add_test(t, layer_norm_is_a_block_per_row);
  tcase_add_test(t, small_reduction_is_one_warp);
  tcase_add_test(t, variadic_reduction_moves_each_accumulator);
  tcase_add_test(t, column_reduction_is_a_tile_per_block);
  tcase_add_test(t, column_mean_is_a_tile_per_block);
  tcase_add_test(t, wide_column_reduction_is_a_thread_per_column);
  tcase_add_test(t, a_tiny_row_is_no_blocks);
  tcase_add_test(t, small_kernels_are_split);
  tcase_add_test(t, shared_memory_stays_within_its_limit);
  tcase_add_test(t, dot_is_a_tile_per_block);
  tcase_add_test(t, batched_dot_with_epilogue_is_a_tile_per_block);
  tcase_add_test(t, gelu_after_a_dense_layer_is_one_gpu_kernel);
  tcase_add_test(t, tf32_dot_runs_on_tensor_cores);
  tcase_add_test(t, f16_dot_runs_on_tensor_cores);
  tcase_add_test(t, bf16_batched_dot_runs_on_tensor_cores);
  tcase_add_test(t, transposed_f16_dot_runs_on_tensor_cores);
  tcase_add_test(t, padded_conv_is_one_gpu_kernel);
  tcase_add_test(t, conv_is_a_tile_per_block);
  tcase_add_test(t, f16_conv_runs_on_tensor_cores);
  tcase_add_test(t, conv_1d_runs_on_tensor_cores_in_tf32);
  tcase_add_test(t, depthwise_conv_stays_a_thread_per_tile);
  tcase_add_test(t, tf32_needs_the_gpu);
  tcase_add_test(t, wgmma_runs_only_when_opted_in);
  tcase_add_test(t, wgmma_needs_sm_90a);
  suite_add_tcase(s, t);
  TCase *o = tcase_create("ops");
  tcase_add_test(o, block_ops_print_and_lower);
  tcase_add_test(o, verifier_rules_of_block_ops);
  tcase_add_test(o, divergent_barriers_are_found);
  tcase_add_test(o, the_cpu_has_no_groups);
  tcase_add_test(o, mma_prints_and_lowers);
  tcase_add_test(o, verifier_rules_of_mma);
  tcase_add_test(o, mma_layout_matches_the_isa_at_spots);
  tcase_add_test(o, mma_layout_is_a_consistent_permutation);
  tcase_add_test(o, wgmma_prints_and_lowers);
  tcase_add_test(o, verifier_rules_of_wgmma);
  tcase_add_test(o, wgmma_layout_matches_the_isa_at_spots);
  tcase_add_test(o, warp_synchronous_calls_are_convergent);
  tcase_add_test(o, convergence_reaches_the_callers);
  suite_add_tcase(s, o);
  return ck_run_suite(s);
}
