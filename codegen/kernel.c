/*
 * kernel.c — the MLIR module of a compiled program: one kernel function
 * per unfused instruction, and the entry function N_run (printed as
 * N_run_profiled, see "Cancellation" and "Profiling" below) that calls
 * them in order,
 * runs control flow and fills the result buffers.
 *
 * N_run takes its arguments, its results and the scratch arena as static
 * memrefs; the pipeline lowers them with the bare-pointer calling
 * convention, so the exported symbol is exactly the C signature of
 * codegen.h.  At its top N_run makes one memref.view of the arena per
 * scratch slot of the plan (plan.c); everything after refers to those.
 * Instructions run in the plan's order: the schedule buffer assignment
 * computed liveness over, so values sharing arena bytes never overlap in
 * time.
 *
 * A kernel is a private function taking the memrefs of its operands and
 * outputs, and of its working memory when it needs some (a sort: the
 * backend's policy says how much, cg_kernel_temp_bytes, and the plan has
 * it in the arena).  Elemental kernels (everything but scatter and sort)
 * are a loop nest over the output storing what the elemental emitter
 * computes; a fusion is one such kernel with its fused computation
 * inlined.  Kernels write only their own outputs and working memory; an
 * output may be the very buffer of an
 * operand when buffer assignment saw that the kernel reads each element of
 * it only to compute the same element of the output (in place), which the
 * loop nest honours by loading before it stores.
 *
 * while, conditional and call run in N_run itself: the called
 * computations' instructions are emitted in place (their kernels are
 * functions like any other), with copies in and out of the callees'
 * parameter and root buffers.  A while is scf.while over memory state:
 * copy the operand into the while's buffers; then loop { copy state →
 * condition parameter; run the condition; stop unless true; copy state →
 * body parameter; run the body; copy the body's root → state }.
 *
 * Cancellation.  The body takes one more
 * argument: a pointer to an i32 flag a host may set from another thread
 * (N_run and N_run_buffers, built in cpu/abi.c, pass a constant zero).  It
 * is polled — one atomic monotonic load — before every kernel call and at
 * the head of every while iteration, the cancellation points.  The first
 * point that sees it set records its number in a status cell; from then on
 * every kernel call is skipped (each is guarded by "status is 0") and
 * every while condition is false, so the run ends after a bounded number
 * of copies and returns that number, which the signature's cancel_points
 * map to a name.  The flag is never written, and a run whose flag stays 0
 * computes exactly what it did without polling.
 *
 * Profiling.  The body is printed as N_run_profiled: after the flag it
 * takes a profiler (hloc_profiler in runtime/hloc_runtime.h, or NULL), and
 * each kernel call k is bracketed by profiler->enter(profiler, k) and
 * profiler->leave(profiler, k), called through the pointers the profiler
 * holds.  The entry tests the profiler for NULL once, at its top; each
 * bracket is an scf.if on that bit.  So one object serves both: a run
 * without a profiler (N_run, N_run_cancellable, built in cpu/abi.c, pass
 * NULL) pays two untaken, perfectly predicted branches per kernel call —
 * nothing next to a kernel, and less than the cancellation poll beside it
 * — and needs no profiling build; and the object refers to no runtime
 * symbol for it, so hosts that never profile link nothing more.  (A
 * second entry compiled only on request would save even the branches,
 * but every profile would then need a recompile, and the executables
 * could not offer --profile.)  Kernel k is a call site, numbered in
 * program order: a kernel in a while body is one kernel called once per
 * iteration.  The signature's kernels describe each (CgKernelInfo).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void cg_fail(CgGen *g, HloError *e) {
  if (g->err) hlo_error_free(e);
  else g->err = e;
}

void cg_fail_instr(CgGen *g, const HloInstr *x, const char *what) {
  char *d = hlo_instr_describe(x);
  cg_fail(g, hlo_error("codegen: unsupported: %s %s", d, what));
  free(d);
}

KirType cg_memref_type(CgGen *g, const HloShape *s) {
  /* An array with no elements is memref<0xT> whatever its rank: nothing
   * reads or writes it (its kernels are skipped), and MLIR's bare-pointer
   * calling convention does not lower memref<4x0xT> arguments. */
  if (s->rank > 1 && hlo_shape_elements(s) == 0) {
    int64_t zero = 0;
    return kir_memref(g->k, cg_mem_elem(s->type), 1, &zero);
  }
  return kir_memref(g->k, cg_mem_elem(s->type), s->rank, s->dims);
}

/* A constant's bytes become a global of the kernel IR, which carries them
 * to the LLVM module untouched: no text, no copy. */
const char *cg_constant_global(CgGen *g, const HloInstr *x) {
  if (g->global_of[x->id]) return g->global_of[x->id];
  char name[64];
  snprintf(name, sizeof name, "_const%d", g->nglobals++);
  HloStr full = {0};
  hlo_str_printf(&full, "%s%s", g->prefix, name);
  g->global_of[x->id] = hlo_str_take(&full);
  const HloLiteral *l = x->literal;
  kir_global_new(g->k, g->global_of[x->id], cg_memref_type(g, &l->shape), l->data,
                 hlo_shape_byte_size(&l->shape));
  return g->global_of[x->id];
}

/* ------------------------------------------------------------------------ */
/* Buffers in N_run                                                          */
/* ------------------------------------------------------------------------ */

typedef struct Entry {
  CgGen *g;
  CgSignature *sig;     /* gets the cancellation points */
  CgFn fn;              /* N_run_profiled */
  CgVal cancel;         /* its flag argument (ptr) */
  CgVal profiler;       /* its profiler argument (ptr, may be NULL) */
  CgVal profiling;      /* i1: the profiler is not NULL */
  CgVal status;         /* memref<1xi32>: 0, or the point that stopped the run */
  const HloInstr *loop; /* the innermost while being emitted, or NULL */
  CgVal *arg_vals;      /* by argument number */
  CgVal *result_vals;   /* by result number */
  CgVal *slot_vals;     /* by scratch slot */
} Entry;

/* The memref of a buffer in N_run (constants: a fresh get_global). */
static CgVal buffer_value(Entry *en, const CgBuf *b) {
  switch (b->kind) {
  case CG_BUF_ARG: return en->arg_vals[b->index];
  case CG_BUF_RESULT: return en->result_vals[b->index];
  case CG_BUF_SCRATCH: return en->slot_vals[b->index];
  case CG_BUF_CONST:
    return kir_get_global(&en->fn.b, cg_constant_global(en->g, b->constant),
                          cg_memref_type(en->g, &b->shape));
  case CG_BUF_NONE: break; /* callers skip tokens */
  }
  HLO_UNREACHABLE();
}

static void copy_buffer(Entry *en, const CgBuf *from, const CgBuf *to) {
  if (to->kind == CG_BUF_NONE || cg_buf_same(from, to) || hlo_shape_elements(&to->shape) == 0)
    return;
  CgVal src = buffer_value(en, from), dst = buffer_value(en, to);
  kir_copy(&en->fn.b, src, dst);
}

/* Copies every leaf of `from`'s buffers into `to`'s (same flat shape). */
static void copy_leaves(Entry *en, const HloInstr *from, const HloInstr *to) {
  int n, m;
  const CgBuf *src = cg_plan_leaves(&en->g->plan, from, &n);
  const CgBuf *dst = cg_plan_leaves(&en->g->plan, to, &m);
  /* A callee parameter its root does not depend on is not scheduled, so
   * has no buffer: nothing would read the copy. */
  if (!dst) return;
  HLO_CHECK(src && n == m);
  for (int i = 0; i < n; i++) copy_buffer(en, &src[i], &dst[i]);
}

/* ------------------------------------------------------------------------ */
/* Kernels                                                                   */
/* ------------------------------------------------------------------------ */

/* A C-identifier-safe copy of s (letters, digits, '_'). */
static void sanitize(char *dst, size_t n, const char *s) {
  size_t i = 0;
  for (; s[i] && i + 1 < n; i++)
    dst[i] = isalnum((unsigned char)s[i]) ? s[i] : '_';
  dst[i] = '\0';
}

/* The memrefs of x's leaves in the kernel being emitted: kernel
 * parameters for buffers, get_global for constants.  An operand (bind)
 * then reads from them.  Returns the next parameter number. */
static int leaf_memrefs(CgFn *f, const HloInstr *x, bool bind,
                        const CgVal *params, int next, CgVal *out) {
  int n;
  const CgBuf *leaves = cg_plan_leaves(&f->g->plan, x, &n);
  for (int i = 0; i < n; i++) {
    if (leaves[i].kind == CG_BUF_CONST)
      out[i] = kir_get_global(&f->b, cg_constant_global(f->g, leaves[i].constant),
                              cg_memref_type(f->g, &leaves[i].shape));
    else if (leaves[i].kind == CG_BUF_NONE)
      out[i] = 0; /* a token: nothing reads it */
    else
      out[i] = params[next++];
  }
  if (bind) cg_bind_memrefs(f, x, n, out);
  return next;
}

/* ------------------------------------------------------------------------ */
/* Loop nests and hoisting                                                   */
/* ------------------------------------------------------------------------ */

/* A kernel is a loop nest over its output, outer dims first.  A member of
 * a fused computation whose index is exactly the first d loop indices (a
 * row vector broadcast along the rows, a row reduction, anything computed
 * from those) is the same for every iteration of the inner loops, so it is
 * evaluated once at depth d — after opening loops 0..d-1, before the
 * rest — in post order; the memo then serves every later read at that
 * index.  A reduce read through a row broadcast thus reduces its row once
 * and the inner loops sweep the row with the scalar (softmax, layer norm),
 * and a reduce nested in another reduce's operand is computed before the
 * outer loop starts instead of in its every iteration.  passes/fusion.c
 * relies on exactly this when it fuses expensive ops below such
 * broadcasts (the backend's policy says so: PassPolicy.hoist_prefix_values).
 *
 * The analysis is hlo/'s (hlo_fused_prefixes): per member, the "prefix
 * lengths" p it is read with — its index starts with the first p loop
 * indices.  A member of rank r read with p = r is evaluated exactly at a
 * loop prefix.  Only unconditionally evaluated paths pass p on, so
 * hoisting never evaluates an element the nest would not. */

/* The members of fused computation fc evaluated exactly at a loop prefix
 * when roots[] are read at theirs, in post order (malloc'd). */
static HloInstr **hoisted(const HloComputation *fc, const HloInstr *const *roots, int nroots,
                          int *n) {
  int norder;
  HloInstr **order = hlo_post_order(fc, &norder);
  uint16_t *prefixes = hlo_fused_prefixes(fc, roots, nroots);
  *n = 0;
  for (int i = 0; i < norder; i++) {
    const HloInstr *x = order[i];
    if (hlo_type_is_array(x->shape.type) && x->op != HLO_OP_CONSTANT &&
        prefixes[x->id] >> x->shape.rank & 1)
      order[(*n)++] = order[i];
  }
  free(prefixes);
  return order;
}

/* One output of a kernel: the instruction whose leaves are stored and the
 * memrefs of those leaves. */
typedef struct Output {
  const HloInstr *x;
  const CgVal *out;
} Output;

/* Parking.  An expensive value computed inside a row reduction's loop is
 * computed one scalar at a time: the loop carries the sum, which LLVM
 * does not reassociate, so it does not vectorize it.  And a row kernel may
 * read such a value in several passes over a row: softmax's exp(x - max)
 * is summed by the row reduction, then divided by the sum in the sweep.
 * So before the first reduction that reads it, a loop of its own over the
 * row computes the value (no loop-carried value: it vectorizes) and stores
 * it into an output of the kernel with the nest's shape; every later read
 * of that row loads it, and the sweep overwrites an output element only
 * after reading the value at the same index.  When the value is itself an
 * output (a producer merged into the reduction that consumes it,
 * multi_output_fusion.c), it needs no sweep at all.  This is safe only
 * when every read of the value is of the current row: every user reads it
 * at its own index (elementwise, same dims) and is equally safe, or is a
 * reduction of the row hoisted at the row's depth, or is an output. */

static bool costly(HloOpcode op) {
  HloCost c = hlo_opcode_cost(op);
  return c == HLO_COST_EXPENSIVE || c == HLO_COST_TRANSCENDENTAL;
}

typedef struct Park {
  const HloInstr *value;  /* NULL: nothing parked */
  const HloInstr *first;  /* the first hoisted reduction that reads it */
  int output;             /* the output whose buffer holds it */
} Park;

typedef struct ParkCtx {
  const HloComputation *fc;
  const HloShape *nest;
  int depth;              /* the rows' depth: rank of the reductions */
  const bool *hoisted;    /* by id */
  uint8_t *local;         /* by id: 0 unknown, 1 row-local, 2 not */
} ParkCtx;

/* y reduces, at the rows' depth, the trailing dims of the nest. */
static bool row_reduction(const ParkCtx *c, const HloInstr *y) {
  if (y->op != HLO_OP_REDUCE || y->noperands != 2 || !c->hoisted[y->id] ||
      y->shape.rank != c->depth || !hlo_shape_same_dims(&y->operands[0]->shape, c->nest))
    return false;
  for (int k = 0; k < y->dimensions.n; k++)
    if (y->dimensions.v[k] < c->depth) return false;
  return true;
}

static bool row_local(ParkCtx *c, const HloInstr *x) {
  if (c->local[x->id]) return c->local[x->id] == 1;
  bool ok = true;
  for (int u = 0; u < x->nusers && ok; u++) {
    const HloInstr *y = x->users[u];
    if (y == c->fc->root && y->op == HLO_OP_TUPLE) continue;
    if (row_reduction(c, y)) continue;
    ok = hlo_shape_same_dims(&y->shape, c->nest) && hlo_reads_at_own_index(y, x) &&
         row_local(c, y);
  }
  c->local[x->id] = ok ? 1 : 2;
  return ok;
}

/* first[id] = the index of the first hoisted value (of rank below the
 * nest's) whose computation reads instruction id, or -1: one walk in all,
 * since a walk may stop where an earlier one passed (all below was marked
 * then, by an earlier value). */
static int *first_readers(HloInstr *const *hoist, int nh, int64_t nids, int rank) {
  int *first = hlo_xmalloc(sizeof *first * (size_t)nids);
  for (int64_t i = 0; i < nids; i++) first[i] = -1;
  int cap = 64, n = 0;
  const HloInstr **stack = hlo_xmalloc(sizeof *stack * (size_t)cap);
  for (int h = 0; h < nh; h++) {
    if (hoist[h]->shape.rank >= rank || first[hoist[h]->id] >= 0) continue;
    first[hoist[h]->id] = h;
    stack[n++] = hoist[h];
    while (n) {
      const HloInstr *x = stack[--n];
      for (int i = 0; i < x->noperands; i++) {
        const HloInstr *o = x->operands[i];
        if (first[o->id] >= 0) continue;
        first[o->id] = h;
        if (n == cap) stack = hlo_xrealloc(stack, sizeof *stack * (size_t)(cap *= 2));
        stack[n++] = o;
      }
    }
  }
  free(stack);
  return first;
}

static Park plan_park(const HloComputation *fc, HloInstr *const *hoist, int nh,
                      const Output *outputs, int nout, const HloShape *nest) {
  Park park = {0};
  int64_t nids = fc->module->next_id;
  bool *hoisted = hlo_xcalloc((size_t)nids, sizeof *hoisted);
  ParkCtx c = {.fc = fc, .nest = nest, .hoisted = hoisted, .local = hlo_xcalloc((size_t)nids, 1)};
  for (int i = 0; i < nh; i++) hoisted[hoist[i]->id] = true;
  int *reader = first_readers(hoist, nh, nids, nest->rank);
  int norder;
  HloInstr **order = hlo_post_order(fc, &norder);
  /* Closest to the outputs first: parking it saves the most. */
  for (int i = norder - 1; i >= 0 && !park.value; i--) {
    const HloInstr *e = order[i];
    if (!costly(e->op) || e->shape.type == HLO_TUPLE || !hlo_shape_same_dims(&e->shape, nest))
      continue;
    const HloInstr *first = reader[e->id] >= 0 ? hoist[reader[e->id]] : NULL;
    int out = -1;
    for (int k = 0; k < nout && out < 0; k++)
      if (outputs[k].x == e) out = k;
    for (int k = 0; k < nout && out < 0; k++)
      if (outputs[k].x->shape.type == e->shape.type &&
          hlo_shape_same_dims(&outputs[k].x->shape, nest))
        out = k;
    if (!first || out < 0) continue;
    c.depth = first->shape.rank;
    memset(c.local, 0, (size_t)nids);
    if (!row_reduction(&c, first) || !row_local(&c, e)) continue;
    park = (Park){e, first, out};
  }
  free(order);
  free(c.local);
  free(reader);
  free(hoisted);
  return park;
}

/* The lanes a loop over the last dim (of n elements) computing values of
 * `bits` runs as vectors with: the target's preferred width (such loops
 * are bound by memory, or by math.c's polynomials, which vectorize at any
 * width), narrowed where that makes n a multiple; 0 for short rows. */
static int row_lanes(const CgFn *f, int64_t n, int bits) {
  if (n < 4) return 0;
  int lanes = f->g->target->info.preferred_bits / bits;
  while (lanes > 4 && n % lanes) lanes /= 2;
  return lanes >= 2 ? lanes : 0;
}

/* Stores the elements of `values` along the last dim of `shape`, from idx
 * (whose last value this sets): as vectors of `lanes` (0: one at a time,
 * in a loop), the rest element by element. */
static void sweep_last(CgFn *f, const HloShape *shape, CgVal *idx, int lanes,
                       void (*body)(CgFn *, const CgVal *, void *), void *ctx) {
  int r = shape->rank;
  if (!lanes) {
    CgLoop l = cg_for(f, shape->dims[r - 1], 0, NULL);
    idx[r - 1] = l.iv;
    body(f, idx, ctx);
    cg_for_end(f, &l, NULL);
    return;
  }
  CgSweep s = cg_sweep(shape->dims[r - 1], lanes, true);
  while (cg_sweep_next(f, &s)) {
    idx[r - 1] = s.j;
    f->vlanes = s.now;
    body(f, idx, ctx);
    f->vlanes = 0;
  }
}

/* The same over the task's range [lo, hi) of the last dim (a kernel split
 * along it): whole vectors from lo while they fit, then element by
 * element; every element is computed as in sweep_last, so the bits do not
 * depend on where the ranges fall. */
static void sweep_range(CgFn *f, CgVal lo, CgVal hi, CgVal *idx, int r, int lanes,
                        void (*body)(CgFn *, const CgVal *, void *), void *ctx) {
  CgVal L = cg_index(f, lanes);
  CgVal whole = cg_iop(f, KIR_MULI, cg_iop(f, KIR_DIVUI, cg_iop(f, KIR_SUBI, hi, lo), L), L);
  CgVal mid = cg_iop(f, KIR_ADDI, lo, whole);
  CgLoop v = cg_for_values(f, lo, mid, L, 0, NULL);
  idx[r - 1] = v.iv;
  f->vlanes = lanes;
  body(f, idx, ctx);
  f->vlanes = 0;
  cg_for_end(f, &v, NULL);
  CgLoop t = cg_for_range(f, mid, hi, 0, NULL);
  idx[r - 1] = t.iv;
  body(f, idx, ctx);
  cg_for_end(f, &t, NULL);
}

typedef struct Fill {
  const HloInstr *v;
  CgVal m;
  CgRowPrefetch pf;
} Fill;

static void fill_one(CgFn *f, const CgVal *at, void *ctx) {
  const Fill *fl = ctx;
  if (f->vlanes) cg_row_prefetch(f, &fl->pf, at[fl->v->shape.rank - 1], f->vlanes);
  cg_store(f, cg_elem(f, fl->v, at), fl->m, &fl->v->shape, at);
}

/* Parks value v: the loops over dims d.. of nest, within the row idx[0..d)
 * is, store v into memref m (the last as vectors where v is computed as
 * vectors); then v reads from m. */
static void fill_row(CgFn *f, const HloInstr *v, CgVal m, const HloShape *nest,
                     const CgVal *idx, int d) {
  CgLoop loops[HLO_MAX_RANK];
  CgVal at[HLO_MAX_RANK];
  int r = nest->rank;
  memcpy(at, idx, sizeof(CgVal) * (size_t)d);
  for (int j = d; j < r - 1; j++) {
    loops[j] = cg_for(f, nest->dims[j], 0, NULL);
    at[j] = loops[j].iv;
  }
  Fill fl = {v, m, {0}};
  if (d == r - 1) cg_row_prefetch_plan(f, &v, 1, NULL, NULL, 0, nest, at, &fl.pf);
  int lanes = cg_vec_native(f, v) ? row_lanes(f, nest->dims[r - 1], cg_type_bits(v->shape.type) > 32 ? 64 : 32) : 0;
  sweep_last(f, nest, at, lanes, fill_one, &fl);
  for (int j = r - 2; j >= d; j--) cg_for_end(f, &loops[j], NULL);
  cg_bind_memrefs(f, v, 1, &m);
}

/* The loop nest over `shape` storing outputs[]: each output's dims are
 * the leading dims of shape and it is stored at that depth (a row result
 * next to the row it summarises).  fc, when given, is the fused
 * computation whose members are hoisted. */
/* The members hoisted to depth d (and the parked value's fill before the
 * reduction that first reads it), then the outputs stored at depth d. */
static void emit_depth(CgFn *f, int d, HloInstr *const *hoist, int nh, const Park *park,
                       const Output *outputs, int nout, const HloShape *shape, const CgVal *idx) {
  for (int i = 0; i < nh; i++) {
    if (hoist[i]->shape.rank != d) continue;
    if (hoist[i] == park->first)
      fill_row(f, park->value, outputs[park->output].out[0], shape, idx, d);
    /* A sweep over the row follows: it prefetches, not the reduction. */
    f->early_pass = d == shape->rank - 1;
    cg_elem(f, hoist[i], idx);
    f->early_pass = false;
  }
  for (int k = 0; k < nout; k++) {
    const HloShape *leaves[256];
    int n = cg_shape_leaves(&outputs[k].x->shape, leaves, 256);
    if (leaves[0]->rank != d || (park->value && park->value == outputs[k].x)) continue;
    CgVal vals[256];
    cg_elems(f, outputs[k].x, idx, vals);
    for (int j = 0; j < n; j++) cg_store(f, vals[j], outputs[k].out[j], leaves[j], idx);
  }
}

typedef struct Depth {
  HloInstr *const *hoist;
  int nh;
  const Park *park;
  const Output *outputs;
  int nout;
  const HloShape *shape;
  const CgRowPrefetch *pf;
} Depth;

static void emit_full_depth(CgFn *f, const CgVal *idx, void *ctx) {
  const Depth *d = ctx;
  if (d->pf && f->vlanes) cg_row_prefetch(f, d->pf, idx[d->shape->rank - 1], f->vlanes);
  emit_depth(f, d->shape->rank, d->hoist, d->nh, d->park, d->outputs, d->nout, d->shape, idx);
}

/* x reads, at its own index, a reduction computed as vectors of columns
 * (cg_reduce_vec_direct). */
static bool reads_column_reduce(const HloInstr *x, uint8_t *seen) {
  if (seen[x->id]) return false;
  seen[x->id] = 1;
  if (cg_reduce_vec_direct(x)) return true;
  /* A scalar is read whole, not by columns (and cg_vec_direct takes
   * arrays of rank >= 1). */
  if (x->op == HLO_OP_PARAMETER || x->op == HLO_OP_REDUCE || !hlo_type_is_array(x->shape.type) ||
      x->shape.rank == 0 || !cg_vec_direct(x))
    return false;
  for (int i = 0; i < x->noperands; i++)
    if (reads_column_reduce(x->operands[i], seen)) return true;
  return false;
}

/* The lanes the nest's innermost loop runs as vectors with, or 0: when
 * everything computed at the nest's full index is vectors (cg_vec_native),
 * at the target's preferred width (a loop kernel is bound by memory, or by
 * math.c's polynomials, which vectorize at any width), narrowed so that
 * the row is a multiple where it can be. */
static int nest_lanes(CgFn *f, HloInstr *const *hoist, int nh, const Output *outputs,
                      int nout, const HloShape *shape) {
  int r = shape->rank;
  if (r < 1) return 0;
  int bits = 32;
  for (int k = 0; k < nout; k++) {
    const HloShape *leaves[256];
    int n = cg_shape_leaves(&outputs[k].x->shape, leaves, 256);
    if (leaves[0]->rank != r) continue;
    for (int j = 0; j < n; j++)
      if (cg_type_bits(leaves[j]->type) > bits) bits = cg_type_bits(leaves[j]->type);
    if (!cg_vec_native(f, outputs[k].x)) return 0;
  }
  for (int i = 0; i < nh; i++)
    if (hoist[i]->shape.rank == r && !cg_vec_native(f, hoist[i])) return 0;
  int lanes = row_lanes(f, shape->dims[r - 1], bits);
  /* A column reduction carries a vector of sums per vector of its row
   * across all the rows it reduces: up to four at once, so one pass over
   * the input (a 64-byte line read whole) serves as many columns (an SE
   * block's 32-channel mean at 112×112: one pass, not four); wider rows
   * than that run by rows (columns_by_rows). */
  bool columns = false;
  uint8_t *seen = hlo_xcalloc((size_t)f->g->m->next_id, 1);
  for (int k = 0; k < nout && !columns; k++) columns = reads_column_reduce(outputs[k].x, seen);
  free(seen);
  int64_t n = shape->dims[r - 1];
  for (int base = lanes; columns && lanes && lanes < 4 * base && n % (2 * lanes) == 0;)
    lanes *= 2;
  return lanes;
}

/* The column reductions of the nest (of `lanes` vectors along its last
 * dim) that run by rows (reduce.c, cg_reduce_columns_by_rows) into xs[],
 * their block of columns into *block; 0 when none does.  They are those
 * read only at the nest's full index (so that binding them to their sums
 * serves every read), when the nest's columns are wider than one vector
 * of `lanes` (narrower ones are read in one pass already).  Not where
 * threads are cheap: a GPU's thread takes few columns, and its column
 * reductions are group kernels. */
static int columns_by_rows(const CgFn *f, const HloComputation *fc, const Output *outputs,
                           int nout, const HloShape *shape, int lanes, const HloInstr **xs,
                           int64_t *block) {
  int r = shape->rank, n = 0;
  const CgTargetInfo *t = &f->g->target->info;
  if (!lanes || r < 1 || shape->dims[r - 1] <= lanes || t->cheap_threads) return 0;
  if (!fc) {
    if (nout == 1 && cg_reduce_vec_direct(outputs[0].x)) xs[n++] = outputs[0].x;
  } else {
    const HloInstr *roots[256];
    for (int k = 0; k < nout; k++) roots[k] = outputs[k].x;
    bool *at = hlo_fused_at_nest_index(fc);
    uint16_t *prefixes = hlo_fused_prefixes(fc, roots, nout);
    for (const HloInstr *i = fc->first; i; i = i->next) {
      if (!cg_reduce_vec_direct(i) || !at[i->id] || prefixes[i->id] != 1u << r ||
          !hlo_shape_same_dims(&i->shape, shape))
        continue;
      if (n == CG_COLUMN_BY_ROWS_MAX) {
        n = 0;
        break;
      }
      xs[n++] = i;
    }
    free(prefixes);
    free(at);
  }
  *block = n ? cg_column_block(t, xs, n, lanes) : 0;
  return *block >= lanes ? n : 0;
}

/* The nest of a group's task (CgFn.group): see "Group kernels" below. */
static void store_group(CgFn *f, const HloComputation *fc, const Output *outputs, int nout,
                        const HloShape *shape) {
  int q = f->par_dim, r = shape->rank, nh = 0;
  HloInstr **hoist = NULL;
  if (fc) {
    const HloInstr *roots[256];
    for (int k = 0; k < nout; k++) roots[k] = outputs[k].x;
    hoist = hoisted(fc, roots, nout, &nh);
  }
  /* The group's row: its iteration, over the first q dims row-major
   * (a column kernel's: its tile, the last of them). */
  CgVal idx[HLO_MAX_RANK], row = f->par_lo, first;
  if (f->columns) {
    /* The tile's columns go to consecutive threads, a column past the
     * row's end to the last column (computed, never stored). */
    CgVal tiles = cg_index(f, (shape->dims[r - 1] + CG_COLUMN_TILE - 1) / CG_COLUMN_TILE);
    CgVal tile = cg_iop(f, KIR_REMUI, row, tiles);
    row = cg_iop(f, KIR_DIVUI, row, tiles);
    CgVal tl = cg_index(f, CG_COLUMN_TILE);
    CgVal col = cg_iop(f, KIR_ADDI, cg_iop(f, KIR_MULI, tile, tl), cg_iop(f, KIR_REMUI, f->lane, tl));
    CgVal inside = cg_icmp(f, KIR_SLT, col, cg_index(f, shape->dims[r - 1]));
    idx[r - 1] = cg_select(f, inside, col, cg_index(f, shape->dims[r - 1] - 1));
    first = cg_and(f, inside, cg_icmp(f, KIR_SLT, f->lane, tl));
  } else {
    first = cg_icmp(f, KIR_EQ, f->lane, cg_index(f, 0));
  }
  for (int d = q - 1; d >= 0; d--) {
    CgVal dim = cg_index(f, shape->dims[d]);
    idx[d] = d ? cg_iop(f, KIR_REMUI, row, dim) : row;
    if (d) row = cg_iop(f, KIR_DIVUI, row, dim);
  }
  /* Up to depth q every thread of the group runs every op: the row's
   * reductions are the group's; an output of the row's own rank is
   * computed by all and stored by lane 0 (a column kernel's, of rank r,
   * by the first CG_COLUMN_TILE threads, a column each). */
  f->uniform = f->nscopes;
  Park none = {0};
  int top = f->columns ? r : q;
  for (int d = 0; d <= top; d++) emit_depth(f, d, hoist, nh, &none, outputs, 0, shape, idx);
  for (int k = 0; k < nout; k++) {
    const HloShape *leaves[256];
    int n = cg_shape_leaves(&outputs[k].x->shape, leaves, 256);
    if (leaves[0]->rank != top) continue;
    CgVal vals[256];
    cg_elems(f, outputs[k].x, idx, vals);
    CgIf only = cg_if(f, first, 0, NULL);
    for (int j = 0; j < n; j++) cg_store(f, vals[j], outputs[k].out[j], leaves[j], idx);
    cg_endif(f, &only, NULL);
  }
  /* Below, the lanes share the row: lane l takes the indices l, l + group,
   * … of dim q (consecutive lanes, consecutive elements) and the dims
   * after it whole. */
  if (top < r) {
    CgLoop loops[HLO_MAX_RANK];
    int nloops = 0;
    loops[nloops] = cg_for_values(f, f->lane, cg_index(f, shape->dims[q]), cg_index(f, f->group),
                                  0, NULL);
    idx[q] = loops[nloops++].iv;
    for (int d = q + 1; d <= r; d++) {
      emit_depth(f, d, hoist, nh, &none, outputs, nout, shape, idx);
      if (d == r) break;
      loops[nloops] = cg_for(f, shape->dims[d], 0, NULL);
      idx[d] = loops[nloops++].iv;
    }
    while (nloops > 0) cg_for_end(f, &loops[--nloops], NULL);
  }
  free(hoist);
}

/* Streaming stores.  An output larger than the target's last-level cache
 * is gone from it by the time the kernel ends, so caching it buys its
 * reader nothing; and each line the kernel writes is first read from
 * memory (a store allocates its line), a third of the traffic of a layer
 * norm or an add.  Where the target has stores that bypass the caches
 * (CgTargetInfo.streaming_stores), the sweep stores such an output with
 * them: on Zen 4, a layer norm of f32[4096,4096] went from 19.8 to 27.2
 * GB/s (bench/kernels.md).  They need addresses aligned to the vector's size:
 * every vector of the sweep starts a multiple of `lanes` elements into
 * its row, so a row length that is a multiple of `lanes` and a buffer
 * aligned to the vector make every store aligned.  Buffers come from the
 * caller, aligned to their element type only, so the kernel checks the
 * addresses once per row and sweeps with plain stores where one is not
 * aligned; the bits are the same either way.  Streaming stores are weakly
 * ordered: the nest ends with a fence, before the task says it is done.
 * A parked value's output is read back in the sweep ("Parking" above), so
 * such a kernel keeps plain stores. */
static int streaming_outputs(CgFn *f, const Output *outputs, int nout, const HloShape *shape,
                             int lanes, const Park *park, CgVal *mem, int *align) {
  const CgTargetInfo *t = &f->g->target->info;
  int r = shape->rank, n = 0;
  if (!t->streaming_stores || !t->l3_bytes || !lanes || park->value || r == 0 ||
      shape->dims[r - 1] % lanes)
    return 0;
  for (int k = 0; k < nout && n < CG_NT_MAX; k++) {
    const HloShape *s = &outputs[k].x->shape;
    int bytes = cg_type_bits(s->type) / 8;
    if (!hlo_type_is_array(s->type) || s->rank != r || !hlo_shape_has_default_layout(s) ||
        bytes < 1 || lanes * bytes < 16 || hlo_shape_elements(s) * bytes <= t->l3_bytes)
      continue;
    align[n] = lanes * bytes;
    mem[n++] = outputs[k].out[0];
  }
  return n;
}

/* The sweep with streaming stores into the n memrefs mem[] where each
 * address is a multiple of its align[] (no row prefetch for them: the
 * stores do not read their lines), else with plain ones. */
static void sweep_streaming(CgFn *f, const HloShape *shape, CgVal *idx, int lanes,
                            const Depth *at, int n, const CgVal *mem, const int *align) {
  CgVal ok = kir_bool(&f->b, true), zero = cg_index(f, 0);
  for (int k = 0; k < n; k++) {
    CgVal rem = cg_iop(f, KIR_ANDI, kir_addr(&f->b, mem[k]), cg_index(f, align[k] - 1));
    ok = cg_and(f, ok, cg_icmp(f, KIR_EQ, rem, zero));
  }
  CgIf c = cg_if(f, ok, 0, NULL);
  Depth streaming = *at;
  CgRowPrefetch pf;
  if (at->pf) {
    /* The sources' next row only. */
    pf = *at->pf;
    int kept = 0;
    for (int j = 0; j < pf.n; j++) {
      bool out = false;
      for (int k = 0; k < n; k++) out = out || pf.mem[j] == mem[k];
      if (!out) {
        pf.mem[kept] = pf.mem[j];
        pf.flat[kept++] = pf.flat[j];
      }
    }
    pf.n = kept;
    streaming.pf = &pf;
  }
  f->nnt = n;
  f->streamed = true;
  memcpy(f->nt_mem, mem, (size_t)n * sizeof *mem);
  memcpy(f->nt_align, align, (size_t)n * sizeof *align);
  sweep_last(f, shape, idx, lanes, emit_full_depth, &streaming);
  f->nnt = 0;
  cg_else(f, &c, NULL);
  sweep_last(f, shape, idx, lanes, emit_full_depth, (void *)at);
  cg_endif(f, &c, NULL);
}

static void store_nest(CgFn *f, const HloComputation *fc, const Output *outputs, int nout,
                       const HloShape *shape) {
  if (f->group) {
    store_group(f, fc, outputs, nout, shape);
    return;
  }
  int nh = 0;
  HloInstr **hoist = NULL;
  Park park = {0};
  if (fc) {
    const HloInstr *roots[256];
    for (int k = 0; k < nout; k++) roots[k] = outputs[k].x;
    hoist = hoisted(fc, roots, nout, &nh);
    park = plan_park(fc, hoist, nh, outputs, nout, shape);
  }
  /* In a parallel-for task the outermost loop runs over the task's range
   * only: every output element is stored within the row of its first
   * index, so tasks write disjoint elements.  A value parked at depth 0
   * fills the whole nest: then the task whose range starts at 0 runs the
   * whole nest and the others nothing (still correct, just serial). */
  bool split = f->par;
  int sd = f->par_dim;
  f->par = false;
  bool whole = false;
  CgIf only_first = {0};
  if (split) {
    /* The split loop is the one parallel_kernel chose: the first of size
     * > 1 (the dims before it are 1).  Whatever is stored or parked at a
     * depth up to it would be written by every task. */
    bool ok = sd < shape->rank && shape->dims[sd] == f->par_n;
    for (int d = 0; ok && d < sd; d++) ok = shape->dims[d] == 1;
    if (park.value && park.first->shape.rank <= sd) ok = false;
    for (int k = 0; ok && k < nout; k++) {
      const HloShape *leaves[256];
      cg_shape_leaves(&outputs[k].x->shape, leaves, 256);
      if (leaves[0]->rank <= sd && !(park.value && park.value == outputs[k].x)) ok = false;
    }
    split = ok;
    whole = !ok;
  }
  if (whole) {
    CgVal is_first = cg_icmp(f, KIR_EQ, f->par_lo, cg_index(f, 0));
    only_first = cg_if(f, is_first, 0, NULL);
  }
  /* The innermost loop runs as vectors when it can (a sweep, cg_sweep). */
  int r = shape->rank;
  int lanes = nest_lanes(f, hoist, nh, outputs, nout, shape);
  const HloInstr *by_rows[CG_COLUMN_BY_ROWS_MAX];
  int64_t block = 0;
  int nby_rows =
      park.value ? 0 : columns_by_rows(f, fc, outputs, nout, shape, lanes, by_rows, &block);
  bool split_last = split && sd == r - 1;
  f->split_row = split_last && !nby_rows;
  CgLoop loops[HLO_MAX_RANK];
  CgVal idx[HLO_MAX_RANK];
  int nloops = 0;
  for (int d = 0; d <= r; d++) {
    emit_depth(f, d, hoist, nh, &park, outputs, nout, shape, idx);
    if (d == r) break;
    if (d == r - 1 && lanes) {
      Depth at = {hoist, nh, &park, outputs, nout, shape, NULL};
      CgRowPrefetch pf;
      if (!nby_rows && !split_last) {
        const HloInstr *xs[256];
        const HloShape *os[CG_ROW_PREFETCH_MAX];
        CgVal om[CG_ROW_PREFETCH_MAX];
        int nx = 0, no = 0;
        for (int k = 0; k < nout && nx < 256; k++)
          if (outputs[k].x->shape.rank == r && !(park.value && park.value == outputs[k].x)) {
            xs[nx++] = outputs[k].x;
            if (no < CG_ROW_PREFETCH_MAX && hlo_shape_has_default_layout(&outputs[k].x->shape)) {
              os[no] = &outputs[k].x->shape;
              om[no++] = outputs[k].out[0];
            }
          }
        /* The output's next row too, where passes over the row come
         * before the sweep (a row kernel): its stores would otherwise
         * wait on their lines after those passes (measured: layer norm
         * 0.70 → 0.75 of STREAM; a plain add, 0.96 → 0.90, does not). */
        bool passes = false;
        for (int i = 0; i < nh; i++) passes = passes || hoist[i]->shape.rank == r - 1;
        if (!passes) no = 0;
        cg_row_prefetch_plan(f, xs, nx, om, os, no, shape, idx, &pf);
        at.pf = &pf;
      }
      CgVal nt_mem[CG_NT_MAX];
      int nt_align[CG_NT_MAX];
      int nnt = nby_rows || split_last
                    ? 0
                    : streaming_outputs(f, outputs, nout, shape, lanes, &park, nt_mem, nt_align);
      if (nby_rows)
        cg_reduce_columns_by_rows(f, by_rows, nby_rows, block,
                                  split_last ? f->par_lo : cg_index(f, 0),
                                  split_last ? f->par_hi : cg_index(f, shape->dims[r - 1]),
                                  shape->dims[r - 1], idx, r, lanes, emit_full_depth, &at);
      else if (split_last)
        sweep_range(f, f->par_lo, f->par_hi, idx, r, lanes, emit_full_depth, &at);
      else if (nnt)
        sweep_streaming(f, shape, idx, lanes, &at, nnt, nt_mem, nt_align);
      else sweep_last(f, shape, idx, lanes, emit_full_depth, &at);
      break;
    }
    loops[nloops] = split && d == sd ? cg_for_range(f, f->par_lo, f->par_hi, 0, NULL)
                                     : cg_for(f, shape->dims[d], 0, NULL);
    idx[d] = loops[nloops++].iv;
  }
  while (nloops > 0) cg_for_end(f, &loops[--nloops], NULL);
  f->split_row = false;
  if (f->streamed) kir_stream_fence(&f->b);
  f->streamed = false;
  if (whole) cg_endif(f, &only_first, NULL);
  if (park.value) cg_bind_compute(f, park.value);
  free(hoist);
}

/* m (a memref of shape `from`) as a memref of shape `to`: the same
 * row-major elements. */
static CgVal view_as(CgFn *f, CgVal m, const HloShape *to) {
  return kir_reshape(&f->b, m, cg_memref_type(f->g, to));
}

/* Whether a's dims are the leading dims of b's. */
static bool leading_dims(const HloShape *a, const HloShape *b) {
  if (a->rank > b->rank) return false;
  for (int d = 0; d < a->rank; d++)
    if (a->dims[d] != b->dims[d]) return false;
  return true;
}

/* The body of x's kernel: out[] are x's leaf memrefs, opm[i] the first
 * leaf memref of operand i (operands are bound). */
static void kernel_body(CgFn *f, const HloInstr *x, const CgVal *out,
                        int nout, const CgVal *opm, CgVal temp, const CgGemm *gemm) {
  const HloShape *leaves[256];
  cg_shape_leaves(&x->shape, leaves, 256);
  if (x->op == HLO_OP_SORT) {
    cg_kernel_sort(f, x, out, opm, temp);
    return;
  }
  if (x->op == HLO_OP_SCATTER) {
    for (int k = 0; k < (x->noperands - 1) / 2; k++) kir_copy(&f->b, opm[k], out[k]);
    cg_kernel_scatter(f, x, out);
    return;
  }
  /* A fusion's members are evaluated in place of the fusion, its
   * parameters reading the fusion's operands; a multi-output fusion's
   * outputs are its root tuple's operands.  A reshape at the root is a
   * view of the same row-major bytes: the nest runs over its operand
   * instead, so that the members sit at the nest's own index (what
   * passes/fusion.c counts on to put a row kernel behind a reshape). */
  const HloComputation *fc = x->op == HLO_OP_FUSION ? x->called[0] : NULL;
  Output outputs[256];
  CgVal view = out[0];
  int n = 0;
  if (fc) {
    for (int i = 0; i < fc->nparams; i++) cg_bind_alias(f, fc->params[i], x->operands[i]);
    const HloInstr *root = fc->root;
    if (root->op == HLO_OP_TUPLE && root->noperands == nout) {
      for (int k = 0; k < nout; k++) outputs[n++] = (Output){root->operands[k], &out[k]};
    } else if (nout > 1) { /* a root of several leaves (a variadic reduce) */
      outputs[n++] = (Output){root, out};
    } else {
      root = hlo_fused_nest_root(fc);
      if (root != fc->root) view = view_as(f, view, &root->shape);
      outputs[n++] = (Output){root, &view};
    }
  } else {
    outputs[n++] = (Output){x, out};
  }
  if (gemm) { /* one output: x itself or the fusion's (viewed) root */
    if (f->tiled) f->g->target->backend->tile_emit(f, gemm, view);
    else cg_gemm_emit(f, gemm, view);
    return;
  }
  /* The leaves of one output are stored together: they share dims. */
  const HloShape *first[256] = {0};
  for (int k = 0; k < n; k++) {
    const HloShape *ls[256];
    int nl = cg_shape_leaves(&outputs[k].x->shape, ls, 256);
    for (int j = 1; j < nl; j++)
      if (!hlo_shape_same_dims(ls[j], ls[0])) {
        cg_fail_instr(f->g, x, "has outputs of different shapes");
        return;
      }
    first[k] = ls[0];
  }
  const HloShape *nest = first[0];
  for (int k = 1; k < n; k++)
    if (first[k]->rank > nest->rank) nest = first[k];
  bool one_nest = true;
  for (int k = 0; k < n; k++) one_nest &= leading_dims(first[k], nest);
  if (one_nest) {
    store_nest(f, fc, outputs, n, nest);
    return;
  }
  /* Outputs of unrelated shapes: one loop nest each. */
  for (int k = 0; k < n; k++) store_nest(f, fc, &outputs[k], 1, first[k]);
}

int64_t cg_kernel_temp_bytes(const HloInstr *x) {
  return x->op == HLO_OP_SORT ? cg_sort_temp_bytes(x) : 0;
}

/* No array element to compute: zero-size arrays and tokens (an after-all
 * is no kernel). */
static bool is_empty(const HloShape *s) {
  const HloShape *leaves[256];
  int n = cg_shape_leaves(s, leaves, 256);
  for (int k = 0; k < n; k++)
    if (hlo_type_is_array(leaves[k]->type) && hlo_shape_elements(leaves[k]) > 0) return false;
  return true;
}

/* ------------------------------------------------------------------------ */
/* Parallel kernels                                                          */
/* ------------------------------------------------------------------------ */

/* A kernel whose loop nest is large enough is split across threads: the
 * nest's outermost loop of size > 1 (leading dims of 1, a batch of one,
 * are no loop to split) runs its n iterations in parallel, as the backend
 * runs such a loop (CgBackend.parallel: on the CPU, tasks of the runtime's
 * thread pool); the usual loop nest is emitted in the task with that loop
 * over the task's range only.  Every output element is stored in the
 * iteration of its first index and no loop over a reduced dimension is
 * split, so threads write disjoint elements and the results are
 * bit-identical with any number of threads.
 *
 * Worth it when that loop has >= 2 iterations and either
 * the nest has >= PAR_MIN_ELEMENTS elements, or its dots, convolutions and
 * reductions cost >= PAR_MIN_FLOPS (2 × elements × the values each output
 * element reduces): below that, waking threads costs more than it saves.
 * Where threads are cheap (CgTargetInfo.cheap_threads: a GPU's, started
 * with the kernel) any loop of >= 2 iterations is worth it. */
enum { PAR_MIN_ELEMENTS = 32768, PAR_MIN_FLOPS = 1 << 20 };

/* A matrix multiply runs its register tiles in parallel (gemm.c), when
 * there are several and the multiply costs as much as PAR_MIN_FLOPS. */
static bool gemm_parallel(const CgGemm *gm, bool cheap, int64_t *n) {
  *n = gm->nunits;
  return *n >= 2 && (cheap || 2 * gm->B * gm->M * gm->N * gm->K >= PAR_MIN_FLOPS);
}

/* The values each output element of x reduces (0 for elementwise ops). */
static int64_t reduced_per_element(const HloInstr *x) {
  if (x->op == HLO_OP_DOT) {
    int64_t k = 1;
    const HloShape *l = &x->operands[0]->shape;
    for (int i = 0; i < x->dot.lhs_contracting.n; i++)
      k *= l->dims[x->dot.lhs_contracting.v[i]];
    return k;
  }
  if (x->op == HLO_OP_CONVOLUTION) {
    const HloShape *k = &x->operands[1]->shape;
    int64_t out = k->dims[x->conv.k_out_feature];
    return out > 0 ? hlo_shape_elements(k) / out : 0;
  }
  if (x->op == HLO_OP_REDUCE || x->op == HLO_OP_REDUCE_WINDOW) {
    const HloShape *leaves[256];
    cg_shape_leaves(&x->shape, leaves, 256);
    int64_t out = hlo_shape_elements(leaves[0]);
    return out > 0 ? hlo_shape_elements(&x->operands[0]->shape) / out : 0;
  }
  return 0;
}

/* A sort runs its rows in parallel, split along its largest dim other
 * than the sort dim, when there are >= 2 such rows and the sort moves
 * PAR_MIN_ELEMENTS elements. */
static bool parallel_sort(const HloInstr *x, bool cheap, int *dim, int64_t *n) {
  const HloShape *s = &x->operands[0]->shape;
  int64_t sd = x->dimensions.v[0];
  *n = 0;
  for (int d = 0; d < s->rank; d++)
    if (d != sd && s->dims[d] > *n) {
      *dim = d;
      *n = s->dims[d];
    }
  return *n >= 2 && (cheap || cg_sort_moves(x) >= PAR_MIN_ELEMENTS);
}

/* Whether x's kernel is split across threads; *n: the iterations of its
 * outermost loop.  The nest is found as kernel_body finds it. */
static bool parallel_kernel(const HloInstr *x, bool cheap, int *dim, int64_t *n) {
  if (x->op == HLO_OP_SORT) return parallel_sort(x, cheap, dim, n);
  if (x->op == HLO_OP_SCATTER) return false;
  const HloShape *leaves[256];
  int nl = cg_shape_leaves(&x->shape, leaves, 256);
  const HloShape *nest = leaves[0];
  const HloComputation *fc = x->op == HLO_OP_FUSION ? x->called[0] : NULL;
  int64_t per = reduced_per_element(x);
  if (fc) {
    const HloInstr *root = fc->root;
    if (root->op == HLO_OP_TUPLE && root->noperands == nl) {
      const HloShape *first[256];
      nest = NULL;
      for (int k = 0; k < nl; k++) {
        const HloShape *ls[256];
        cg_shape_leaves(&root->operands[k]->shape, ls, 256);
        first[k] = ls[0];
        if (!nest || ls[0]->rank > nest->rank) nest = ls[0];
      }
      for (int k = 0; k < nl; k++)
        if (!leading_dims(first[k], nest)) return false;
    } else {
      root = hlo_fused_nest_root(fc);
      const HloShape *ls[256];
      cg_shape_leaves(&root->shape, ls, 256);
      nest = ls[0];
    }
    for (const HloInstr *i = fc->first; i; i = i->next) per += reduced_per_element(i);
  }
  /* The outermost loop of size > 1 (a batch of 1 is no loop). */
  int d = 0;
  while (d < nest->rank && nest->dims[d] == 1) d++;
  if (d == nest->rank || nest->dims[d] < 2) return false;
  int64_t elems = hlo_shape_elements(nest);
  if (!cheap && elems < PAR_MIN_ELEMENTS && (per <= 0 || 2 * elems * per < PAR_MIN_FLOPS))
    return false;
  *dim = d;
  *n = nest->dims[d];
  return true;
}

/* ------------------------------------------------------------------------ */
/* Group kernels                                                             */
/* ------------------------------------------------------------------------ */

/* A kernel whose nest reduces rows — a reduce of its input's trailing dims
 * evaluated at a loop prefix of depth q (a row reduction, softmax's max
 * and sum, layer norm's moments) — runs each row on a group of threads
 * that cooperate where the backend has groups (CgBackend.groups: a GPU's
 * blocks): one group per element of the nest's first q dims (the row),
 * whose threads reduce the row together (CgBackend.group_reduce) and
 * share its other elements (store_group).  q is the deepest such
 * reduction's; an output of rank below q would be stored by every group,
 * so then the kernel is no group kernel, nor when its outputs are no one
 * nest.  Nothing of this changes a target without groups. */
typedef struct Group {
  int depth;         /* q */
  int64_t rows;      /* the elements of the nest's first q dims; with
                      * columns, its first r - 1 dims × its column tiles */
  int64_t per_row;   /* what the deepest row (or column) reduction reduces */
  int64_t row_elems; /* the nest's elements of a row (of a tile) */
  bool columns;      /* a column kernel (below) */
} Group;

/* A kernel whose nest is a column reduction's output — a reduce keeping
 * its input's minor dim, evaluated at the nest's full index, every output
 * of the nest's rank (a reduction over a batch, a bias gradient, a mean
 * over rows) — runs each tile of CG_COLUMN_TILE consecutive columns of a
 * row of its nest on a group (a column kernel): its threads split the
 * reduced elements, each tile's columns taken by consecutive threads (so
 * they read consecutive elements), and combine what they have for each
 * column (CgBackend.group_reduce).  Then q is r - 1 and a group's
 * iteration is a tile (store_group). */
static bool column_kernel(const HloComputation *fc, const HloInstr *x, const HloShape *nest,
                          const uint16_t *prefixes, const HloInstr *const *roots, int nroots,
                          Group *gr) {
  int r = nest->rank;
  if (r < 1) return false;
  for (int k = 0; k < nroots; k++) {
    const HloShape *ls[256];
    cg_shape_leaves(&roots[k]->shape, ls, 256);
    if (ls[0]->rank != r) return false;
  }
  gr->per_row = 0;
  for (const HloInstr *i = fc ? fc->first : x; i; i = fc ? i->next : NULL) {
    if (!cg_reduces_columns(i) || i->operands[0]->shape.rank - i->dimensions.n != r ||
        (fc && !(prefixes[i->id] >> r & 1)))
      continue;
    int64_t m = 1;
    for (int k = 0; k < i->dimensions.n; k++) m *= i->operands[0]->shape.dims[i->dimensions.v[k]];
    if (m > gr->per_row) gr->per_row = m;
  }
  if (gr->per_row < 2) return false;
  gr->columns = true;
  gr->depth = r - 1;
  gr->rows = (nest->dims[r - 1] + CG_COLUMN_TILE - 1) / CG_COLUMN_TILE;
  for (int d = 0; d < r - 1; d++) gr->rows *= nest->dims[d];
  gr->row_elems = CG_COLUMN_TILE;
  return gr->rows >= 1;
}

static bool group_kernel(const HloInstr *x, Group *gr) {
  if (x->op != HLO_OP_FUSION && x->op != HLO_OP_REDUCE) return false;
  const HloInstr *roots[256];
  int nroots = 0, nl = cg_shape_nleaves(&x->shape);
  const HloComputation *fc = x->op == HLO_OP_FUSION ? x->called[0] : NULL;
  if (!fc) {
    roots[nroots++] = x;
  } else if (fc->root->op == HLO_OP_TUPLE && fc->root->noperands == nl) {
    for (int k = 0; k < nl; k++) roots[nroots++] = fc->root->operands[k];
  } else {
    roots[nroots++] = nl > 1 ? fc->root : hlo_fused_nest_root(fc);
  }
  const HloShape *first[256], *nest = NULL;
  for (int k = 0; k < nroots; k++) {
    const HloShape *ls[256];
    cg_shape_leaves(&roots[k]->shape, ls, 256);
    first[k] = ls[0];
    if (!nest || ls[0]->rank > nest->rank) nest = ls[0];
  }
  for (int k = 0; k < nroots; k++)
    if (!leading_dims(first[k], nest)) return false;
  gr->depth = -1;
  uint16_t *prefixes = fc ? hlo_fused_prefixes(fc, roots, nroots) : NULL;
  for (const HloInstr *i = fc ? fc->first : x; i; i = fc ? i->next : NULL) {
    if (!cg_reduces_trailing(i)) continue;
    const HloShape *in = &i->operands[0]->shape;
    int q = in->rank - i->dimensions.n;
    if (q <= gr->depth || q > nest->rank || (fc && !(prefixes[i->id] >> q & 1))) continue;
    int64_t out = 1;
    for (int d = 0; d < q; d++) out *= in->dims[d];
    gr->depth = q;
    gr->per_row = out ? hlo_shape_elements(in) / out : 0;
  }
  gr->columns = false;
  if (gr->depth < 0) {
    bool col = column_kernel(fc, x, nest, prefixes, roots, nroots, gr);
    free(prefixes);
    return col;
  }
  free(prefixes);
  if (gr->per_row < 1) return false;
  for (int k = 0; k < nroots; k++)
    if (first[k]->rank < gr->depth) return false;
  gr->rows = 1;
  for (int d = 0; d < gr->depth; d++) gr->rows *= nest->dims[d];
  gr->row_elems = gr->rows ? hlo_shape_elements(nest) / gr->rows : 0;
  return gr->rows >= 1;
}

/* The body of x's kernel function given its parameters (memrefs; its
 * working memory, when it has some, last). */
static void emit_body(CgFn *f, const HloInstr *x, const CgVal *params, const CgGemm *gemm) {
  CgVal out[256], opm[256], leaf_vals[256];
  int next = leaf_memrefs(f, x, false, params, 0, out);
  int nout = cg_shape_nleaves(&x->shape);
  for (int i = 0; i < x->noperands; i++) {
    const HloInstr *op = x->operands[i];
    int j = 0;
    while (x->operands[j] != op) j++;
    /* A constant operand stays computed: scalars become immediates. */
    if (j == i)
      next = leaf_memrefs(f, op, op->op != HLO_OP_CONSTANT, params, next,
                          leaf_vals);
    opm[i] = j == i ? leaf_vals[0] : opm[j];
  }
  CgVal temp = cg_plan_temp(&f->g->plan, x) ? params[next] : 0;
  kernel_body(f, x, out, nout, opm, temp, gemm);
}

/* ------------------------------------------------------------------------ */
/* Cancellation points                                                       */
/* ------------------------------------------------------------------------ */

/* Moves N_run's builder to the end of region i of op. */
static void in_region(Entry *en, KirOp *op, int i) {
  kir_at_end(&en->fn.b, kir_region(op, i));
}

/* Whether the run goes on: status is still 0. */
static CgVal running(Entry *en) {
  KirBuilder *b = &en->fn.b;
  CgVal at = kir_index(b, 0);
  return kir_cmpi(b, KIR_EQ, kir_load(b, en->status, &at),
                  kir_const_int(b, kir_scalar(KIR_I32), 0));
}

/* A cancellation point named `where`: when the run still goes on and the
 * flag is set, the status becomes this point's number.  Returns whether
 * the run goes on. */
static CgVal poll(Entry *en, char *where) {
  CgSignature *sig = en->sig;
  sig->cancel_points = hlo_xrealloc(sig->cancel_points, (size_t)(sig->ncancel_points + 1) *
                                                           sizeof *sig->cancel_points);
  sig->cancel_points[sig->ncancel_points++] = where;
  KirBuilder *b = &en->fn.b;
  KirType i32 = kir_scalar(KIR_I32);
  CgVal at = kir_index(b, 0), zero = kir_const_int(b, i32, 0);
  CgVal status = kir_load(b, en->status, &at);
  CgVal stop = kir_binop(b, KIR_ANDI, kir_cmpi(b, KIR_EQ, status, zero),
                         kir_cmpi(b, KIR_NE, kir_poll(b, en->cancel), zero));
  status = kir_select(b, stop, kir_const_int(b, i32, sig->ncancel_points), status);
  kir_store(b, status, en->status, &at);
  return kir_cmpi(b, KIR_EQ, status, zero);
}

/* The name of the point before kernel x: x, and the loop it runs in. */
static char *kernel_point(const Entry *en, const HloInstr *x) {
  HloStr s = {0};
  hlo_str_printf(&s, "%%%s", x->name);
  if (en->loop) hlo_str_printf(&s, " in %%%s", en->loop->name);
  return hlo_str_take(&s);
}

/* ------------------------------------------------------------------------ */
/* Profiling                                                                 */
/* ------------------------------------------------------------------------ */

/* How much an instruction says about the time of a fusion holding it:
 * contractions, then reductions, then the other loops with work of their
 * own (scatter, sort); 0 for elementwise and data movement. */
static int weight(const HloInstr *i) {
  switch (hlo_opcode_kind(i->op)) {
  case HLO_KIND_CONTRACT: return 3;
  case HLO_KIND_REDUCTION: return 2;
  default: return hlo_opcode_cost(i->op) == HLO_COST_LOOP ? 1 : 0;
  }
}

/* The instruction that dominates x's kernel: x, or for a fusion the
 * first of its fused instructions of the greatest weight (NULL when all
 * are elementwise or data movement). */
static const HloInstr *hero(const HloInstr *x) {
  if (x->op != HLO_OP_FUSION || x->ncalled < 1) return x;
  const HloInstr *best = NULL;
  for (const HloInstr *i = x->called[0]->first; i; i = i->next)
    if (weight(i) > (best ? weight(best) : 0)) best = i;
  return best;
}

/* Records kernel x (function `symbol`) in the signature; returns its
 * number. */
static int kernel_info(Entry *en, const HloInstr *x, const char *symbol) {
  CgSignature *sig = en->sig;
  sig->kernels = hlo_xrealloc(sig->kernels, (size_t)(sig->nkernels + 1) * sizeof *sig->kernels);
  CgKernelInfo *k = &sig->kernels[sig->nkernels];
  const HloInstr *h = hero(x);
  HloStr kind = {0};
  hlo_str_printf(&kind, "%s", hlo_opcode_name(x->op));
  if (h && h != x) hlo_str_printf(&kind, "(%s)", hlo_opcode_name(h->op));
  const char *tf = h && h->metadata.op_name ? h->metadata.op_name : x->metadata.op_name;
  HloStr shape = {0};
  hlo_shape_print_as(&shape, &x->shape, false);
  *k = (CgKernelInfo){
      .symbol = hlo_xstrdup(symbol),
      .instruction = hlo_xstrdup(x->name),
      .kind = hlo_str_take(&kind),
      .shape = hlo_str_take(&shape),
      .tf_op = tf ? hlo_xstrdup(tf) : NULL,
      .loop = en->loop ? hlo_xstrdup(en->loop->name) : NULL,
  };
  return sig->nkernels++;
}

/* Calls the profiler's hook `slot` (0: enter, 1: leave) for kernel k when
 * there is a profiler. */
static void profile_hook(Entry *en, int slot, int k) {
  KirBuilder *b = &en->fn.b, here = *b;
  KirOp *on = kir_if(b, en->profiling, 0, NULL);
  in_region(en, on, 0);
  kir_hook(b, en->profiler, slot, kir_const_int(b, kir_scalar(KIR_I32), k));
  kir_yield(b, 0, NULL);
  in_region(en, on, 1);
  kir_yield(b, 0, NULL);
  *b = here;
}

/* Emits x's kernel function and calls it from N_run. */
static void emit_kernel(Entry *en, const HloInstr *x) {
  CgGen *g = en->g;
  if (is_empty(&x->shape)) return;
  if (cg_shape_nleaves(&x->shape) > 256 || x->noperands > 256) {
    cg_fail_instr(g, x, "has more than 256 outputs or operands");
    return;
  }
  /* Parameters: x's leaves, then each distinct operand's non-constant
   * leaves, then its working memory. */
  int cap = 16, nargs = 0;
  CgBuf *args = hlo_xmalloc((size_t)cap * sizeof *args);
  for (int i = -1; i < x->noperands; i++) {
    const HloInstr *op = i < 0 ? x : x->operands[i];
    bool seen = false;
    for (int j = 0; j < i; j++) seen |= x->operands[j] == op;
    if (seen) continue;
    int n;
    const CgBuf *leaves = cg_plan_leaves(&g->plan, op, &n);
    HLO_CHECK(leaves);
    for (int k = 0; k < n; k++) {
      if (leaves[k].kind == CG_BUF_CONST || leaves[k].kind == CG_BUF_NONE) continue;
      if (nargs == cap) {
        cap *= 2;
        args = hlo_xrealloc(args, (size_t)cap * sizeof *args);
      }
      args[nargs++] = leaves[k];
    }
  }
  const CgBuf *temp = cg_plan_temp(&g->plan, x);
  if (temp) {
    if (nargs == cap) args = hlo_xrealloc(args, (size_t)++cap * sizeof *args);
    args[nargs++] = *temp;
  }

  char base[128];
  sanitize(base, sizeof base, x->name);
  HloStr nm = {0};
  hlo_str_printf(&nm, "%s_k%d_%s", g->prefix, g->nkernels++, base);
  char *name = hlo_str_take(&nm);
  KirType *types = hlo_xmalloc((size_t)(nargs ? nargs : 1) * sizeof *types);
  CgVal *vals = hlo_xmalloc((size_t)(nargs ? nargs : 1) * sizeof *vals);
  CgVal *params = hlo_xmalloc((size_t)(nargs ? nargs : 1) * sizeof *params);
  for (int i = 0; i < nargs; i++) types[i] = cg_memref_type(g, &args[i].shape);
  /* Internal linkage: only N_run, N_run_buffers and N_program are
   * exported, so objects of several models link together.  noinline:
   * inlined, the hundreds of single-call kernels of a model would make
   * N_run one huge function, and LLVM's O3 and code generation are
   * superlinear in function size (MobileNetV2: 67 s instead of 16 s). */
  KirFunc *kf = kir_func_new(g->k, name, nargs, types, 0, NULL);
  kf->internal = kf->noinline = true;
  CgFn f;
  for (int i = 0; i < nargs; i++) params[i] = kir_param(kf, i);

  int64_t niter = 0;
  int split_dim = 0;
  CgGemm gm;
  const CgGemm *gemm = cg_gemm_plan(g, x, &gm) ? &gm : NULL;
  bool cheap = g->target->info.cheap_threads;
  bool par = nargs > 0 && (gemm ? gemm_parallel(gemm, cheap, &niter)
                                : parallel_kernel(x, cheap, &split_dim, &niter));
  Group gr;
  CgTask gt;
  const CgBackend *be = g->target->backend;
  if (gemm && nargs > 0 && be->tiles && be->tiles(g, kf, gemm, &gt)) {
    cg_fn_init(&f, g, gt.fn);
    f.par_lo = gt.lo;
    f.par_hi = gt.hi;
    f.group = gt.group;
    f.lane = gt.lane;
    f.tiled = true;
    f.uniform = -1; /* no reduction in a contraction's kernel is the group's */
    emit_body(&f, x, gt.params, gemm);
    free(gt.params);
  } else if (!gemm && nargs > 0 && be->groups && group_kernel(x, &gr) &&
             be->groups(g, kf, gr.rows, gr.per_row, gr.row_elems, gr.columns, &gt)) {
    cg_fn_init(&f, g, gt.fn);
    f.par = true;
    f.par_dim = gr.depth;
    f.par_n = gr.rows;
    f.par_lo = gt.lo;
    f.par_hi = gt.hi;
    f.group = gt.group;
    f.lane = gt.lane;
    f.columns = gr.columns;
    emit_body(&f, x, gt.params, NULL);
    free(gt.params);
  } else if (par) {
    CgTask t = g->target->backend->parallel(g, kf, niter);
    cg_fn_init(&f, g, t.fn);
    f.par = true;
    f.par_dim = split_dim;
    f.par_n = niter;
    f.par_lo = t.lo;
    f.par_hi = t.hi;
    emit_body(&f, x, t.params, gemm);
    free(t.params);
  } else {
    cg_fn_init(&f, g, kf);
    emit_body(&f, x, params, gemm);
  }
  kir_return(&f.b, 0, NULL);
  cg_fn_free(&f);

  KirBuilder *b = &en->fn.b, after = *b;
  KirOp *go = kir_if(b, poll(en, kernel_point(en, x)), 0, NULL);
  in_region(en, go, 0);
  for (int i = 0; i < nargs; i++) vals[i] = buffer_value(en, &args[i]);
  int k = kernel_info(en, x, name);
  profile_hook(en, 0, k);
  kir_call(b, kf, nargs, vals);
  profile_hook(en, 1, k);
  kir_yield(b, 0, NULL);
  in_region(en, go, 1);
  kir_yield(b, 0, NULL);
  *b = after;
  free(vals);
  free(params);
  free(types);
  free(args);
  free(name);
}

/* ------------------------------------------------------------------------ */
/* Control flow in N_run                                                     */
/* ------------------------------------------------------------------------ */

static void emit_computation(Entry *en, const HloComputation *c);

/* The scalar value of an array instruction's buffer (a predicate, an
 * index), loaded in N_run. */
static CgVal load_scalar(Entry *en, const HloInstr *x) {
  int n;
  const CgBuf *b = cg_plan_leaves(&en->g->plan, x, &n);
  return cg_load(&en->fn, buffer_value(en, b), &b->shape, NULL);
}

static void emit_while(Entry *en, const HloInstr *x) {
  KirBuilder *b = &en->fn.b, after = *b;
  const HloComputation *cond = x->called[0], *body = x->called[1];
  const HloInstr *outer = en->loop;
  copy_leaves(en, x->operands[0], x);
  KirOp *w = kir_while(b, 0, NULL);
  in_region(en, w, 0);
  HloStr where = {0};
  hlo_str_printf(&where, "while %%%s", x->name);
  poll(en, hlo_str_take(&where));
  en->loop = x;
  copy_leaves(en, x, cond->params[0]);
  emit_computation(en, cond);
  /* A cancelled run leaves the loop whatever the (skipped) condition. */
  CgVal go = kir_binop(b, KIR_ANDI, load_scalar(en, cond->root), running(en));
  kir_condition(b, go, 0, NULL);
  in_region(en, w, 1);
  copy_leaves(en, x, body->params[0]);
  emit_computation(en, body);
  copy_leaves(en, body->root, x);
  kir_yield(b, 0, NULL);
  en->loop = outer;
  *b = after;
}

/* Branch k of a conditional: its operand in, the branch, its root out. */
static void emit_branch(Entry *en, const HloInstr *x, int k) {
  const HloComputation *c = x->called[k];
  copy_leaves(en, x->operands[k + 1], c->params[0]);
  emit_computation(en, c);
  copy_leaves(en, c->root, x);
  kir_yield(&en->fn.b, 0, NULL);
}

static void emit_conditional(Entry *en, const HloInstr *x) {
  KirBuilder *b = &en->fn.b, after = *b;
  const HloInstr *sel = x->operands[0];
  CgVal v = load_scalar(en, sel);
  if (sel->shape.type == HLO_PRED) {
    /* true runs branch 0, false branch 1 */
    KirOp *c = kir_if(b, v, 0, NULL);
    for (int k = 0; k < 2; k++) {
      in_region(en, c, k);
      emit_branch(en, x, k);
    }
    *b = after;
    return;
  }
  /* An index out of range runs the last branch. */
  int nb = x->ncalled;
  CgFn *f = &en->fn;
  CgVal i = cg_to_index(f, v, sel->shape.type);
  CgVal ok = cg_and(f, cg_icmp(f, KIR_SGE, i, cg_index(f, 0)),
                    cg_icmp(f, KIR_SLT, i, cg_index(f, nb)));
  CgVal s = cg_select(f, ok, i, cg_index(f, nb - 1));
  KirOp *sw = kir_switch(b, s, nb - 1);
  for (int k = 0; k < nb; k++) {
    in_region(en, sw, k);
    emit_branch(en, x, k);
  }
  *b = after;
}

static void emit_call(Entry *en, const HloInstr *x) {
  const HloComputation *c = x->called[0];
  for (int i = 0; i < x->noperands; i++) copy_leaves(en, x->operands[i], c->params[i]);
  emit_computation(en, c);
  copy_leaves(en, c->root, x);
}

static void emit_computation(Entry *en, const HloComputation *c) {
  int n;
  HloInstr **order = cg_plan_order(&en->g->plan, c, &n);
  for (int i = 0; i < n && !en->g->err; i++) {
    const HloInstr *x = order[i];
    switch (x->op) {
    case HLO_OP_PARAMETER:
    case HLO_OP_CONSTANT:
    case HLO_OP_TUPLE:
    case HLO_OP_GET_TUPLE_ELEMENT: break;
    case HLO_OP_WHILE: emit_while(en, x); break;
    case HLO_OP_CONDITIONAL: emit_conditional(en, x); break;
    case HLO_OP_CALL: emit_call(en, x); break;
    case HLO_OP_COPY:
      /* A tuple copy is a copy of each leaf; an array copy is a kernel
       * (fusion may fold it into its users). */
      if (hlo_shape_is_tuple(&x->shape)) copy_leaves(en, x->operands[0], x);
      else emit_kernel(en, x);
      break;
    case HLO_OP_CUSTOM_CALL: {
      /* The ones hloc knows were rewritten by the passes (canonical_forms.c). */
      HloStr why = {0};
      hlo_str_printf(&why, "(custom-call target \"%s\" is not supported: nothing implements it)",
                     x->custom_call_target ? x->custom_call_target : "");
      char *w = hlo_str_take(&why);
      cg_fail_instr(en->g, x, w);
      free(w);
      break;
    }
    default: emit_kernel(en, x); break;
    }
  }
  free(order);
}

/* ------------------------------------------------------------------------ */
/* The signature                                                             */
/* ------------------------------------------------------------------------ */

static bool is_identifier(const char *s) {
  if (!s || !(isalpha((unsigned char)*s) || *s == '_')) return false;
  for (; *s; s++)
    if (!(isalnum((unsigned char)*s) || *s == '_')) return false;
  return true;
}

/* Names the header cannot use as parameter names. */
static bool is_reserved(const char *s) {
  static const char *const words[] = {
      "auto", "break", "case", "char", "const", "continue", "default", "do",
      "double", "else", "enum", "extern", "float", "for", "goto", "if",
      "inline", "int", "long", "register", "restrict", "return", "short",
      "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
      "unsigned", "void", "volatile", "while", "bool", "true", "false",
      "scratch", "buffers", "cancel", "profiler",
      /* C++'s own, so that the header compiles as C++ (and --emit cpp) */
      "alignas", "alignof", "and", "asm", "catch", "class", "const_cast", "constexpr",
      "decltype", "delete", "dynamic_cast", "explicit", "export", "friend", "mutable",
      "namespace", "new", "noexcept", "not", "nullptr", "operator", "or", "private",
      "protected", "public", "reinterpret_cast", "static_assert", "static_cast", "template",
      "this", "thread_local", "throw", "try", "typeid", "typename", "using", "virtual",
      "wchar_t", "xor", "char16_t", "char32_t", "and_eq", "bitand", "bitor", "compl",
      "not_eq", "or_eq", "xor_eq", "char8_t", "concept", "consteval", "constinit", "co_await",
      "co_return", "co_yield", "requires"};
  for (size_t i = 0; i < sizeof words / sizeof *words; i++)
    if (!strcmp(s, words[i])) return true;
  return false;
}

/* A C identifier from `want`, unique among names[0..n). */
static char *unique_name(const char *want, char **names, int n) {
  size_t len = strlen(want);
  char *base = hlo_xmalloc(len + 3);
  sanitize(base + 1, len + 1, want);
  base[0] = '_';
  char *b = isdigit((unsigned char)base[1]) || !base[1] ? base : base + 1;
  if (is_reserved(b)) strcat(b, "_");
  char *name = hlo_xmalloc(strlen(b) + 24);
  strcpy(name, b);
  for (int suffix = 2;; suffix++) {
    bool clash = false;
    for (int i = 0; i < n && !clash; i++) clash = !strcmp(names[i], name);
    if (!clash) break;
    sprintf(name, "%s_%d", b, suffix);
  }
  free(base);
  return name;
}

char **cg_buffer_names(const char *const *want, int n) {
  char **names = hlo_xcalloc((size_t)n + 1, sizeof *names);
  for (int i = 0; i < n; i++) names[i] = unique_name(want[i], names, i);
  return names;
}

/* s is the buffer's shape in the legalized module; t its type in the
 * user's (a complex buffer's pairs are the last dimension of s). */
static void fill_info(CgBufferInfo *info, const HloShape *s, HloType t, char *name) {
  info->name = name;
  info->type = s->type;
  info->rank = s->rank;
  memcpy(info->dims, s->dims, sizeof info->dims);
  info->bytes = hlo_shape_byte_size(s);
  if (hlo_type_is_complex(t)) {
    info->type = t;
    info->dims[--info->rank] = 0;
  }
}

/* The parameter result r writes back into (HloModule.alias), or -1. */
static int aliased_param(const HloModule *m, int r) {
  for (int i = 0; i < m->nalias; i++)
    if (m->alias[i].result == r) return m->alias[i].param;
  return -1;
}

/* Bytes past the plan's arena for the aliased results (see emit_entry). */
static size_t alias_bytes(const HloModule *m, const CgPlan *plan) {
  size_t bytes = 0;
  for (int i = 0; i < m->nalias; i++)
    bytes += (hlo_shape_byte_size(&plan->result_src[m->alias[i].result].shape) + 63) & ~(size_t)63;
  return bytes;
}

static HloError *build_signature(const HloModule *m, const CgLegalized *l,
                                 const CgPlan *plan, const char *prefix,
                                 CgSignature *sig) {
  const CgOptions *o = &l->opts;
  const HloComputation *entry = m->entry;
  memset(sig, 0, sizeof *sig);
  if (o->arg_names && o->narg_names != entry->nparams)
    return hlo_error("codegen: %d argument names given for %d parameters",
                     o->narg_names, entry->nparams);
  if (o->result_names && o->nresult_names != plan->nresults)
    return hlo_error("codegen: %d result names given for %d results",
                     o->nresult_names, plan->nresults);
  sig->name = hlo_xstrdup(prefix);
  sig->nargs = entry->nparams;
  sig->nresults = plan->nresults - m->nalias;
  sig->args = hlo_xcalloc((size_t)sig->nargs, sizeof *sig->args);
  sig->results = hlo_xcalloc((size_t)sig->nresults, sizeof *sig->results);
  char **names = hlo_xcalloc((size_t)(sig->nargs + sig->nresults + 1), sizeof *names);
  int nn = 0;
  for (int i = 0; i < sig->nargs; i++) {
    const HloInstr *p = entry->params[i];
    const char *want = o->arg_names && o->arg_names[i] ? o->arg_names[i] : p->name;
    names[nn] = unique_name(want, names, nn);
    fill_info(&sig->args[i], &p->shape, l->arg_types ? l->arg_types[i] : p->shape.type,
              names[nn++]);
    if (o->arg_tf_names && o->arg_tf_names[i])
      sig->args[i].tf_name = hlo_xstrdup(o->arg_tf_names[i]);
  }
  for (int i = 0; i < m->nalias; i++) sig->args[m->alias[i].param].updated = true;
  for (int i = 0, k = 0; i < plan->nresults; i++) {
    if (aliased_param(m, i) >= 0) continue;
    char dflt[32];
    snprintf(dflt, sizeof dflt, "result%d", k);
    const char *want =
        o->result_names && o->result_names[i] ? o->result_names[i] : dflt;
    names[nn] = unique_name(want, names, nn);
    if (o->result_tf_names && o->result_tf_names[i])
      sig->results[k].tf_name = hlo_xstrdup(o->result_tf_names[i]);
    const HloShape *rs = &plan->result_src[i].shape;
    fill_info(&sig->results[k++], rs, l->result_types ? l->result_types[i] : rs->type,
              names[nn++]);
  }
  free(names);
  sig->scratch_bytes = plan->scratch_bytes + alias_bytes(m, plan);
  sig->scratch_align = plan->scratch_align;
  return NULL;
}

void cg_signature_free(CgSignature *s) {
  for (int i = 0; i < s->nargs; i++) {
    free((char *)s->args[i].name);
    free((char *)s->args[i].tf_name);
  }
  for (int i = 0; i < s->nresults; i++) {
    free((char *)s->results[i].name);
    free((char *)s->results[i].tf_name);
  }
  free(s->args);
  free(s->results);
  for (int i = 0; i < s->ncancel_points; i++) free(s->cancel_points[i]);
  free(s->cancel_points);
  for (int i = 0; i < s->nkernels; i++) {
    CgKernelInfo *k = &s->kernels[i];
    free(k->symbol);
    free(k->instruction);
    free(k->kind);
    free(k->shape);
    free(k->tf_op);
    free(k->loop);
  }
  free(s->kernels);
  free((char *)s->name);
  memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------------ */
/* The module                                                                */
/* ------------------------------------------------------------------------ */

static void emit_entry(CgGen *g, CgSignature *sig) {
  Entry en = {.g = g, .sig = sig};
  const CgPlan *p = &g->plan;
  const HloModule *m = g->m;
  int nparams = sig->nargs + sig->nresults + 3;
  KirType *types = hlo_xmalloc((size_t)nparams * sizeof *types);
  for (int i = 0; i < sig->nargs; i++)
    types[i] = cg_memref_type(g, &g->m->entry->params[i]->shape);
  for (int i = 0, k = 0; i < p->nresults; i++)
    if (aliased_param(m, i) < 0) types[sig->nargs + k++] = cg_memref_type(g, &p->result_src[i].shape);
  int64_t arena_bytes = (int64_t)sig->scratch_bytes;
  KirType arena = kir_memref(g->k, KIR_I8, 1, &arena_bytes);
  types[nparams - 3] = arena;
  types[nparams - 2] = types[nparams - 1] = kir_scalar(KIR_PTR);
  HloStr nm = {0};
  hlo_str_printf(&nm, "%s_run_profiled", g->prefix);
  char *name = hlo_str_take(&nm);
  KirType i32 = kir_scalar(KIR_I32);
  KirFunc *run = kir_func_new(g->k, name, nparams, types, 1, &i32);
  free(name);
  free(types);
  cg_fn_init(&en.fn, g, run);
  en.arg_vals = hlo_xmalloc((size_t)(sig->nargs + 1) * sizeof *en.arg_vals);
  en.result_vals = hlo_xmalloc((size_t)(p->nresults + 1) * sizeof *en.result_vals);
  en.slot_vals = hlo_xmalloc((size_t)(p->nslots + 1) * sizeof *en.slot_vals);
  for (int i = 0; i < sig->nargs; i++) en.arg_vals[i] = kir_param(run, i);
  CgVal scratch = kir_param(run, nparams - 3);
  /* An aliased result is no buffer of the caller: it lives past the
   * plan's arena, where nothing else does, and is copied into its
   * parameter's buffer at the end.  Computing it into the parameter
   * itself would overwrite the old value while kernels still read it. */
  size_t alias_at = p->scratch_bytes;
  for (int i = 0, k = 0; i < p->nresults; i++) {
    if (aliased_param(m, i) < 0) {
      en.result_vals[i] = kir_param(run, sig->nargs + k++);
      continue;
    }
    const HloShape *rs = &p->result_src[i].shape;
    en.result_vals[i] =
        kir_view(&en.fn.b, scratch, cg_index(&en.fn, (int64_t)alias_at), cg_memref_type(g, rs));
    alias_at += (hlo_shape_byte_size(rs) + 63) & ~(size_t)63;
  }
  en.cancel = kir_param(run, nparams - 2);
  en.profiler = kir_param(run, nparams - 1);
  en.profiling = kir_nonnull(&en.fn.b, en.profiler);
  int64_t one = 1;
  en.status = kir_alloca(&en.fn.b, kir_memref(g->k, KIR_I32, 1, &one), 4);
  CgVal at = kir_index(&en.fn.b, 0);
  kir_store(&en.fn.b, kir_const_int(&en.fn.b, i32, 0), en.status, &at);

  for (int s = 0; s < p->nslots; s++) en.slot_vals[s] = 0;
  for (int i = 0; i < p->nleaves; i++) {
    const CgBuf *b = &p->leaves[i];
    if (b->kind != CG_BUF_SCRATCH || en.slot_vals[b->index]) continue;
    CgVal off = cg_index(&en.fn, (int64_t)b->offset);
    en.slot_vals[b->index] = kir_view(&en.fn.b, scratch, off, cg_memref_type(g, &b->shape));
  }
  emit_computation(&en, g->m->entry);
  for (int i = 0; i < p->nresults; i++) {
    int param = aliased_param(m, i);
    CgBuf res = {.kind = CG_BUF_RESULT, .index = i,
                 .shape = p->result_src[i].shape};
    CgBuf arg = {.kind = CG_BUF_ARG, .index = param, .shape = res.shape};
    /* A variable left as it was needs no copy at all. */
    if (param < 0 || !cg_buf_same(&p->result_src[i], &arg)) copy_buffer(&en, &p->result_src[i], &res);
  }
  /* Only after every result is in place: one result may read another's
   * argument (x' = y, y' = x). */
  for (int i = 0; i < m->nalias; i++) {
    const HloAlias *a = &m->alias[i];
    CgBuf res = {.kind = CG_BUF_RESULT, .index = a->result,
                 .shape = p->result_src[a->result].shape};
    CgBuf arg = {.kind = CG_BUF_ARG, .index = a->param, .shape = res.shape};
    if (!cg_buf_same(&p->result_src[a->result], &arg)) copy_buffer(&en, &res, &arg);
  }
  CgVal status = kir_load(&en.fn.b, en.status, &at);
  kir_return(&en.fn.b, 1, &status);
  cg_fn_free(&en.fn);
  free(en.arg_vals);
  free(en.result_vals);
  free(en.slot_vals);
}

HloError *cg_generate(const HloModule *m, const CgOptions *opts, const CgTarget *t,
                      CgKernels *out) {
  static const CgOptions defaults = {0};
  const CgOptions *o = opts ? opts : &defaults;
  const char *prefix = o->name ? o->name : "model";
  memset(out, 0, sizeof *out);
  if (!is_identifier(prefix))
    return hlo_error("codegen: name '%s' is not a C identifier", prefix);
  HloError *err = cg_legalize(m, o, &out->legal);
  if (err) return err;
  m = out->legal.m;
  o = &out->legal.opts;
  CgGen g = {.m = m, .prefix = prefix, .target = t};
  PassPolicy policy;
  t->backend->policy(t, &policy);
  err = cg_plan_buffers(m, o->one_slot_per_value ? CG_PLAN_SLOTS : CG_PLAN_ASSIGNED, &policy,
                        &g.plan);
  if (!err) {
    err = build_signature(m, &out->legal, &g.plan, prefix, &out->sig);
    if (err) cg_plan_free(&g.plan);
  }
  if (err) {
    cg_legalized_free(&out->legal);
    return err;
  }
  g.k = out->k = kir_module_new();
  g.global_of = hlo_xcalloc((size_t)(m->next_id ? m->next_id : 1), sizeof *g.global_of);
  emit_entry(&g, &out->sig);
  for (int64_t i = 0; i < m->next_id; i++) free((char *)g.global_of[i]);
  free(g.global_of);
  cg_plan_free(&g.plan);
  if (g.err) {
    cg_signature_free(&out->sig);
    cg_kernels_free(out);
  }
  return g.err;
}

void cg_kernels_free(CgKernels *k) {
  kir_module_free(k->k);
  k->k = NULL;
  cg_legalized_free(&k->legal);
}
