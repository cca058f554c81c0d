/*
 * dot.c — elemental dot (XLA's dot_general): one output element is a loop
 * over the contracting dimensions accumulating lhs × rhs.
 *
 * Output dims are (batch…, lhs free…, rhs free…) in that order.  Operands
 * are converted to the result type first (XLA's rule: s8 × s8 → s32
 * multiplies in s32), then accumulated in cg_accum_type of the result: f32
 * for every float type but f64, the result type itself for integers
 * (wrapping, which equals the evaluator's 64-bit sum truncated).  The
 * evaluator accumulates floats in double, so float dots differ from it by
 * rounding only; the tests bound that.
 *
 * This is the correct-first naive loop.  f32 dots in canonical form and
 * NHWC convolutions without groups are register-tiled kernels of their
 * own (gemm.c); of the rest, float dots whose last output dim is the rhs's
 * minor dim take the row path below (whole output rows, vectorizable,
 * FMA), convolutions too (grouped, depthwise, transposed, other types).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

HloType cg_accum_type(HloType t) {
  if (hlo_type_is_float(t)) return t == HLO_F64 ? HLO_F64 : HLO_F32;
  return t;
}

/* The accumulated sum s as a value of the result type rt: floats rounded
 * from the accumulator; s2/s4/u2/u4 sums, accumulated wrapping in their
 * byte, wrapped once more to their width (the evaluator's sum truncated
 * to the type); the other integers are already the result. */
CgVal cg_from_accum(CgFn *f, CgVal s, HloType rt) {
  if (hlo_type_is_float(rt)) return cg_from_float(f, s, rt);
  if (hlo_type_size(rt) == 1 && hlo_type_bits(rt) < 8)
    return cg_convert(f, s, hlo_type_is_signed(rt) ? HLO_S8 : HLO_U8, rt);
  return s;
}

/* An operand element as an accumulator value: converted to the result type
 * rt, then widened to the accumulator. */
static CgVal to_accum(CgFn *f, CgVal v, HloType from, HloType rt) {
  v = cg_convert(f, v, from, rt);
  return hlo_type_is_float(rt) ? cg_to_float(f, v, rt) : v;
}

/* ---- Row-at-a-time float kernels (DESIGN.md decision 5, first step) ----
 *
 * The kernel's loop nest (kernel.c) asks for one output element at a
 * time, innermost loop over the last output dim.  Reducing each element
 * on its own is a scalar loop with one loop-carried accumulator and, for
 * the rhs (dot) or the kernel (convolution), a stride of a whole row: no
 * vectors, no FMA.  Instead, when the last output dim is contiguous in the
 * rhs/kernel, the first element of a row computes the whole row into a
 * buffer on the stack, k outermost and that dim innermost:
 *   row[:] = 0;  for k: row[n] = fma(a[k], b[k, n], row[n])  (n = 0..N)
 * which LLVM vectorizes (unit stride, no loop-carried scalar), and every
 * element of the row is then a load.  The fill is moved before the loop
 * over the row when it can be (row_hoist); else it stays in place under a
 * tag holding the row's linear index (-1 at function entry), which says
 * which row the buffer holds, so any read order is correct.  Where the
 * kernel is split across threads along the row (CgFn.split_row), the
 * hoisted fill covers the range of its loop only (CgRow.lo, hi): the
 * task's columns.
 * cg_row_order_ok keeps this to kernels that sweep rows in order (else a
 * row would be recomputed per element).  Each
 * element still sums its products in the same k order from 0, so it
 * differs from the naive loop only by the FMA's single rounding. */

/* The dot or convolution x is read in its kernel's row order: it is the
 * kernel or it sits at the fused kernel's own loop index (hlo/'s
 * indexing analysis). */
bool cg_row_order_ok(CgFn *f, const HloInstr *x) {
  if (!f->fn->internal || x->shape.rank < 1) return false;
  const HloComputation *c = x->parent;
  if (!c || !c->is_fusion) return true; /* its own kernel, over its shape */
  bool *at = hlo_fused_at_nest_index(c);
  bool ok = at[x->id];
  free(at);
  return ok;
}

/* A buffer of n elements of kind e at the start of the function: the
 * kernel's loops, which elemental emission sits inside, must not
 * allocate it again and again. */
static CgVal entry_buffer(CgFn *f, KirBuilder *at, int64_t n, KirElem e) {
  kir_at_start(at, f->fn->body);
  return kir_alloca(at, kir_memref(f->g->k, e, 1, &n), 64);
}

/* Zeroes buf[0, n). */
static void zero_fill(CgFn *f, CgVal buf, int64_t n, KirElem e) {
  CgLoop z = cg_for(f, n, 0, NULL);
  kir_store(&f->b, kir_const_float(&f->b, kir_scalar(e), 0.0), buf, &z.iv);
  cg_for_end(f, &z, NULL);
}

/* Opens an if where the buffer does not hold idx's row yet, zeroes the
 * buffer there; emission continues inside (cg_row_fma, then cg_row_end). */
CgRow cg_row_begin(CgFn *f, const HloShape *s, const CgVal *idx, int64_t n,
                   KirElem aty) {
  return cg_row_begin_block(f, s, idx, n, aty, 1);
}

/* Row fills are built before the loop over the row when they can be:
 * then the loop is a plain sweep (buffer → epilogue → output) that LLVM
 * vectorizes, and no tag is checked per element.  That needs idx's last
 * value to be the induction variable of a loop still open and every other
 * index value available before that loop; the fill is then emitted there
 * (cg_detour), with the memo serving only what was computed before the
 * loop.  Else the fill stays in place under the tag check.
 *
 * Blocks of rows: the hoisted fill runs at the first row of each block
 * (idx[rank-2] % block == 0) and fills the block's rows; the others only
 * read.  The buffer holds block × n elements, row p at p·n.  Rows are
 * swept in order (cg_row_order_ok), so every block is filled before its
 * rows are read. */
CgRow cg_row_begin_block(CgFn *f, const HloShape *s, const CgVal *idx, int64_t n,
                         KirElem aty, int block) {
  CgRow r = {.n = n, .block = 1};
  KirOp *loop = cg_open_loop_of(f, idx[s->rank - 1]);
  for (int d = 0; loop && d + 1 < s->rank; d++)
    if (!kir_available(f->fn, idx[d], loop)) loop = NULL;
  KirBuilder entry;
  if (loop) {
    r.hoisted = true;
    if (block > 1 && s->rank >= 2 && s->dims[s->rank - 2] % block == 0) r.block = block;
    r.buf = entry_buffer(f, &entry, n * r.block, aty);
    if (r.block == 1 && f->split_row) {
      r.lo = loop->opnds[0];
      r.hi = loop->opnds[1];
    }
    r.detour = cg_detour(f, loop);
    CgVal fill = kir_bool(&f->b, true);
    if (r.block > 1) {
      r.in_block = cg_iop(f, KIR_REMUI, idx[s->rank - 2], cg_index(f, r.block));
      fill = cg_icmp(f, KIR_EQ, r.in_block, cg_index(f, 0));
    }
    r.c = cg_if(f, fill, 0, NULL);
    zero_fill(f, r.buf, n * r.block, aty);
    return r;
  }
  /* The tag holds the linear index of the row in the buffer (-1 at
   * function entry), so any read order is correct. */
  r.buf = entry_buffer(f, &entry, n, aty);
  r.tag = kir_alloca(&entry, kir_memref(f->g->k, KIR_INDEX, 0, NULL), 8);
  kir_store(&entry, kir_index(&entry, -1), r.tag, NULL);
  r.row = cg_index(f, 0);
  for (int d = 0; d + 1 < s->rank; d++)
    r.row = cg_iop(f, KIR_ADDI, cg_imul_c(f, r.row, s->dims[d]), idx[d]);
  CgVal held = kir_load(&f->b, r.tag, NULL);
  CgVal miss = cg_icmp(f, KIR_NE, held, r.row);
  r.c = cg_if(f, miss, 0, NULL);
  zero_fill(f, r.buf, n, aty);
  return r;
}

/* row[j] = fma(a[u-1], b[u-1], … fma(a[0], b[0], row[j])): u consecutive
 * steps of the reduction per load and store of the row. */
void cg_row_fma(CgFn *f, const CgRow *r, CgVal j, int u, const CgVal *a,
                const CgVal *b) {
  cg_row_fma_at(f, r, 0, j, u, a, b);
}

void cg_row_vfma_at(CgFn *f, const CgRow *r, int p, CgVal j, int u, const CgVal *a,
                    const CgVal *b, int lanes, CgVal mask) {
  CgVal at = p ? cg_iadd_c(f, j, p * r->n) : j;
  CgVal t = cg_vload(f, r->buf, &at, lanes, mask);
  for (int i = 0; i < u; i++) t = kir_fma(&f->b, a[i], b[i], t);
  cg_vstore(f, t, r->buf, &at, mask);
}

/* Vectors of the target's preferred width: the row sweep stores and
 * reloads the row for every step of the reduction, so it is bound by
 * loads and stores, not arithmetic, and on Intel's AVX-512 parts 512-bit
 * vectors lower the clock of all the code around it (unet_small: 0.35 ms
 * with 512-bit rows, 0.29 with 256-bit; the old scalar loops 0.30).
 * Narrower where the row is not a multiple of it: the masked stores of a
 * partial vector defeat store-to-load forwarding (unet_small 4x slower). */
int cg_row_lanes(CgFn *f, const HloInstr *op, HloType t, int64_t n, CgVal *mem) {
  *mem = 0;
  if (op->shape.type != t || (t != HLO_F32 && t != HLO_F64)) return 0;
  int lanes = f->g->target->info.preferred_bits / (t == HLO_F64 ? 64 : 32);
  while (lanes > 4 && n % lanes) lanes /= 2;
  if (lanes < 2 || n < lanes) return 0;
  *mem = cg_memref_source(f, op);
  return *mem ? lanes : 0;
}

void cg_row_fma_at(CgFn *f, const CgRow *r, int p, CgVal j, int u, const CgVal *a,
                   const CgVal *b) {
  CgVal at = p ? cg_iadd_c(f, j, p * r->n) : j;
  CgVal t = kir_load(&f->b, r->buf, &at);
  for (int i = 0; i < u; i++) t = kir_fma(&f->b, a[i], b[i], t);
  kir_store(&f->b, t, r->buf, &at);
}

/* How many steps of a reduction loop of k iterations one pass over a row
 * of n takes (a divisor of k).  Measured on the bench models (AMD EPYC,
 * AVX2): chaining 4 pays on long rows, long reductions and very short
 * ones (MobileNetV2's 1x1 convolutions and its 3-feature first layer,
 * dense layers: 784), and costs 25% on resnet_blocks' 32-feature 3x3
 * convolutions (32 in, 32 out), where chaining 2 is about even. */
int cg_row_unroll(int64_t k, int64_t n) {
  if (k > 16 && k < 64 && n < 64) return k % 2 == 0 ? 2 : 1;
  return k % 4 == 0 ? 4 : k % 3 == 0 ? 3 : k % 2 == 0 ? 2 : 1;
}

/* Closes the fill, records the row, loads element j of it. */
CgVal cg_row_end(CgFn *f, CgRow *r, CgVal j) {
  if (r->hoisted) {
    cg_endif(f, &r->c, NULL);
    cg_resume(f, &r->detour);
    /* in_block was computed before the loop: available here. */
    CgVal at = r->block > 1 ? cg_iop(f, KIR_ADDI, cg_imul_c(f, r->in_block, r->n), j) : j;
    return kir_load(&f->b, r->buf, &at);
  }
  kir_store(&f->b, r->row, r->tag, NULL);
  cg_endif(f, &r->c, NULL);
  return kir_load(&f->b, r->buf, &j);
}

/* One step of a row fill at j: `now` lanes (0: one element) of u steps of
 * the reduction, rhs[k, j…) loaded, a[k] (broadcast where now > 0). */
typedef struct RowStep {
  const CgRow *row;
  CgVal rm, *ri;
  int64_t nd, rk;
  int nc, u;
  const CgVal *rki, *av, *a;
} RowStep;

static void row_step(CgFn *f, const RowStep *s, CgVal j, int now) {
  CgVal bv[4];
  s->ri[s->nd] = j;
  for (int i = 0; i < s->u; i++) {
    if (s->nc) s->ri[s->rk] = s->rki[i];
    bv[i] = cg_vload(f, s->rm, s->ri, now, 0);
  }
  cg_row_vfma_at(f, s->row, 0, j, s->u, now ? s->av : s->a, bv, now, 0);
}

/* The row path of a float dot whose last output dim is the rhs's last
 * dim (a free dim): one row is (batch…, lhs free…) fixed, n over it.
 * Rows of 4 to 8192 elements (the buffer is on the stack: 32 KiB at
 * most per dot or convolution of a kernel). */
static bool dot_row(CgFn *f, const HloInstr *x, const CgVal *idx, CgVal *out) {
  const HloDotDims *dd = &x->dot;
  const HloInstr *lhs = x->operands[0], *rhs = x->operands[1];
  HloType rt = x->shape.type;
  int r = x->shape.rank, rr = rhs->shape.rank;
  if (!hlo_type_is_float(rt) || r < 1 || rr < 1) return false;
  int64_t nd = rr - 1, n = x->shape.dims[r - 1];
  if (cg_dims_contain(&dd->rhs_batch, nd) ||
      cg_dims_contain(&dd->rhs_contracting, nd) || n < 4 || n > 8192 ||
      !cg_row_order_ok(f, x))
    return false;
  KirElem aty = cg_float_elem(rt);
  CgVal li[HLO_MAX_RANK], ri[HLO_MAX_RANK];
  int o = 0;
  for (int i = 0; i < dd->lhs_batch.n; i++, o++) {
    li[dd->lhs_batch.v[i]] = idx[o];
    ri[dd->rhs_batch.v[i]] = idx[o];
  }
  for (int d = 0; d < lhs->shape.rank; d++)
    if (!cg_dims_contain(&dd->lhs_batch, d) && !cg_dims_contain(&dd->lhs_contracting, d))
      li[d] = idx[o++];
  for (int d = 0; d < rr; d++)
    if (!cg_dims_contain(&dd->rhs_batch, d) && !cg_dims_contain(&dd->rhs_contracting, d))
      ri[d] = idx[o++];
  CgRow row = cg_row_begin(f, &x->shape, idx, n, aty);
  CgLoop loops[HLO_MAX_RANK];
  int nc = dd->lhs_contracting.n, u = 1;
  for (int k = 0; k < nc; k++) {
    int64_t ld = dd->lhs_contracting.v[k], kd = lhs->shape.dims[ld];
    if (k == nc - 1) u = cg_row_unroll(kd, n);
    loops[k] = cg_for(f, kd / (k == nc - 1 ? u : 1), 0, NULL);
    li[ld] = ri[dd->rhs_contracting.v[k]] = loops[k].iv;
  }
  /* The innermost contracting loop steps u at a time. */
  int64_t lk = nc ? dd->lhs_contracting.v[nc - 1] : 0;
  int64_t rk = nc ? dd->rhs_contracting.v[nc - 1] : 0;
  CgVal k0 = nc ? cg_imul_c(f, loops[nc - 1].iv, u) : 0, a[4], b[4];
  for (int i = 0; i < u; i++) {
    if (nc) li[lk] = cg_iadd_c(f, k0, i);
    a[i] = to_accum(f, cg_elem(f, lhs, li), lhs->shape.type, rt);
  }
  CgVal rm;
  int lanes = cg_row_lanes(f, rhs, rt, n, &rm);
  if (lanes) {
    /* The row in vectors: a[k] broadcast, rhs[k, j…j+lanes) loaded; the
     * rest of the row element by element.  In a kernel split along the
     * row (CgFn.split_row: a GEMV's columns across threads), a hoisted
     * fill covers only the range of the loop it serves, each task its
     * own columns rather than the whole row; each element's sum is the
     * same. */
    CgVal av[4], rki[4];
    for (int i = 0; i < u; i++) {
      av[i] = kir_broadcast(&f->b, a[i], lanes);
      rki[i] = nc ? cg_iadd_c(f, k0, i) : 0;
    }
    RowStep st = {&row, rm, ri, nd, rk, nc, u, rki, av, a};
    if (row.lo) {
      CgVal L = cg_index(f, lanes);
      CgVal span = cg_iop(f, KIR_SUBI, row.hi, row.lo);
      CgVal mid = cg_iop(f, KIR_ADDI, row.lo,
                         cg_iop(f, KIR_MULI, cg_iop(f, KIR_DIVUI, span, L), L));
      CgLoop v = cg_for_values(f, row.lo, mid, L, 0, NULL);
      row_step(f, &st, v.iv, lanes);
      cg_for_end(f, &v, NULL);
      CgLoop t = cg_for_range(f, mid, row.hi, 0, NULL);
      row_step(f, &st, t.iv, 0);
      cg_for_end(f, &t, NULL);
    } else {
      CgSweep s = cg_sweep(n, lanes, true);
      while (cg_sweep_next(f, &s)) row_step(f, &st, s.j, s.now);
    }
  } else {
    CgLoop j = row.lo ? cg_for_range(f, row.lo, row.hi, 0, NULL) : cg_for(f, n, 0, NULL);
    ri[nd] = j.iv;
    for (int i = 0; i < u; i++) {
      if (nc) ri[rk] = cg_iadd_c(f, k0, i);
      b[i] = to_accum(f, cg_elem(f, rhs, ri), rhs->shape.type, rt);
    }
    cg_row_fma(f, &row, j.iv, u, a, b);
    cg_for_end(f, &j, NULL);
  }
  for (int k = nc - 1; k >= 0; k--) cg_for_end(f, &loops[k], NULL);
  *out = cg_from_float(f, cg_row_end(f, &row, idx[r - 1]), rt);
  return true;
}

CgVal cg_elem_dot(CgFn *f, const HloInstr *x, const CgVal *idx) {
  const HloDotDims *dd = &x->dot;
  const HloInstr *lhs = x->operands[0], *rhs = x->operands[1];
  HloType rt = x->shape.type, at = cg_accum_type(rt);
  HLO_CHECK(rt != HLO_PRED); /* legalize.c counts true products in s32 */
  CgVal rowv;
  if (dot_row(f, x, idx, &rowv)) return rowv;
  CgVal li[HLO_MAX_RANK], ri[HLO_MAX_RANK];
  int o = 0;
  for (int i = 0; i < dd->lhs_batch.n; i++, o++) {
    li[dd->lhs_batch.v[i]] = idx[o];
    ri[dd->rhs_batch.v[i]] = idx[o];
  }
  for (int d = 0; d < lhs->shape.rank; d++)
    if (!cg_dims_contain(&dd->lhs_batch, d) && !cg_dims_contain(&dd->lhs_contracting, d))
      li[d] = idx[o++];
  for (int d = 0; d < rhs->shape.rank; d++)
    if (!cg_dims_contain(&dd->rhs_batch, d) && !cg_dims_contain(&dd->rhs_contracting, d))
      ri[d] = idx[o++];

  CgVal acc = cg_const(f, at, 0.0);
  CgLoop loops[HLO_MAX_RANK];
  int n = dd->lhs_contracting.n;
  for (int k = 0; k < n; k++) {
    int64_t ld = dd->lhs_contracting.v[k];
    loops[k] = cg_for(f, lhs->shape.dims[ld], 1, &acc);
    li[ld] = ri[dd->rhs_contracting.v[k]] = loops[k].iv;
    acc = loops[k].iters;
  }
  CgVal a = to_accum(f, cg_elem(f, lhs, li), lhs->shape.type, rt);
  CgVal b = to_accum(f, cg_elem(f, rhs, ri), rhs->shape.type, rt);
  bool fl = hlo_type_is_float(rt);
  CgVal p = kir_binop(&f->b, fl ? KIR_MULF : KIR_MULI, a, b);
  CgVal s = kir_binop(&f->b, fl ? KIR_ADDF : KIR_ADDI, acc, p);
  for (int k = n - 1; k >= 0; k--) {
    cg_for_end(f, &loops[k], &s);
    s = loops[k].results;
  }
  return cg_from_accum(f, s, rt);
}
