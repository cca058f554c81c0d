/*
 * reduce.c — elemental reduce and reduce-window: one output element is a
 * loop over the reduced elements carrying one accumulator per input
 * (variadic reductions carry several), combined by inlining the to_apply
 * computation on scalars; small windows are unrolled instead.
 *
 * The order of combination is the evaluator's: row-major over the reduced
 * dimensions (reduce) or over the window (reduce-window), starting from the
 * init value, acc = to_apply(acc, x), with one exception: a reduction of
 * the minor dim by add, multiply, maximum or minimum (the rows of softmax,
 * layer norm, pooling to a vector) runs as vectors of the target's
 * preferred width (four of them, L lanes in all, on rows of at least
 * eight), lane l combining the elements l, l + L, l + 2L, …, the lanes
 * then folded in halves (a vector's worth taking the whole vectors left
 * on the way), combined with the init value, then the elements past the
 * last whole vector (XLA's CPU backend reassociates these too).  Float
 * sums then differ from the evaluator's by rounding; maximum and minimum
 * do not (NaN still wins).
 * A reduction that keeps the minor dim (the columns: an SE block's or a
 * global pooling's mean over the spatial dims) runs as vectors too, in
 * the order above: a lane per output element, loading consecutive
 * elements of the input's minor dim, so the results are the scalar
 * loops' bits; the kernel's nest gives such a reduction up to four vectors
 * of columns at once (kernel.c, nest_lanes), so one pass over the input
 * serves them.  Wider columns run rows outer, columns inner, the sums in
 * a buffer sized from the target's L1 ("Columns by rows" below), in the
 * same order, so with the same bits.
 * Over long rows a row kernel's last pass over a row prefetches the next
 * ("Prefetching the next row" below; kernel.c calls it for its sweeps).
 * Window positions that fall in padding or between base-dilated elements
 * are skipped, as XLA's backends do.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The register types of x's leaves. */
static int leaf_types(const HloInstr *x, KirType *types) {
  const HloShape *leaves[256];
  int n = cg_shape_leaves(&x->shape, leaves, 256);
  for (int k = 0; k < n; k++) types[k] = cg_reg_type(leaves[k]->type);
  return n;
}

/* Combines the n accumulators with the inputs' elements at in_idx. */
static void combine(CgFn *f, const HloInstr *x, int n, const CgVal *acc,
                    const CgVal *in_idx, CgVal *out) {
  CgVal args[2 * 256];
  for (int k = 0; k < n; k++) {
    args[k] = acc[k];
    args[n + k] = cg_elem(f, x->operands[k], in_idx);
  }
  cg_apply(f, x->called[0], args, out);
}

/* The combiner's op when to_apply is add, multiply, maximum or minimum of
 * its two parameters. */
static bool simple_combiner(const HloComputation *c, HloOpcode *op) {
  const HloInstr *r = c->root;
  if (c->nparams != 2 || r->noperands != 2) return false;
  if (r->op != HLO_OP_ADD && r->op != HLO_OP_MULTIPLY && r->op != HLO_OP_MAXIMUM &&
      r->op != HLO_OP_MINIMUM)
    return false;
  const HloInstr *a = r->operands[0], *b = r->operands[1];
  if (a->op != HLO_OP_PARAMETER || b->op != HLO_OP_PARAMETER ||
      a->parameter_number == b->parameter_number)
    return false;
  *op = r->op;
  return true;
}

/* op's identity on t: what a lane starts from. */
static CgVal identity(CgFn *f, HloOpcode op, HloType t) {
  bool fl = hlo_type_is_float(t);
  switch (op) {
  case HLO_OP_ADD: return fl ? cg_const(f, t, -0.0) : cg_const(f, t, 0);
  case HLO_OP_MULTIPLY: return cg_const(f, t, 1);
  case HLO_OP_MAXIMUM:
    return fl ? cg_const(f, t, -INFINITY)
              : cg_const_bits(f, t, (uint64_t)1 << (cg_type_bits(t) - 1));
  default:
    return fl ? cg_const(f, t, INFINITY)
              : cg_const_bits(f, t, ((uint64_t)1 << (cg_type_bits(t) - 1)) - 1);
  }
}

/* Prefetching the next row.  A row kernel walks each row once per
 * reduction, then once more to store (layer norm: the sum, the squared
 * deviations, the output): only the first walk misses, and while the
 * later ones run from L1 and L2 nothing asks the memory for the next row,
 * whose first walk then waits on each line.  The hardware's prefetchers
 * follow a stream within a page and start over at each page, so even a
 * single walk (a row sum) leaves the memory idle part of the time.  So,
 * over rows of at least an eighth of the target's L1 (l1d_bytes / 8:
 * 4 KiB, a page, on a 32 KiB L1), the last walk over a row asks, for
 * each cache line (line_bytes) it reads of a memref, for the line one row
 * further on in that memref (at most a quarter of the L2 ahead, for rows
 * longer than that), into L2 (ROW_PREFETCH_LOCALITY, as gemm.c's).  The
 * last walk is kernel.c's sweep over the row, which also prefetches its
 * outputs' next row where earlier walks came before it (their stores
 * would wait on the lines); a parked value's walk (kernel.c, "Parking",
 * the last to read what the value is computed from); or a vectorized
 * reduction of the minor dim that no sweep follows (a row sum;
 * CgFn.early_pass marks those that one follows: their prefetches, while
 * the row's own lines are still coming, measured slower).  The memrefs
 * are those the row's elements are loaded from: the value's own, or
 * those of the operands of the elementwise ops computing it, read at the
 * same index.  A prefetch changes no value, so the bits are the same; the
 * last row prefetches itself (the index stays inside the memref). */
enum { ROW_PREFETCH_LOCALITY = 2 };

/* Collects into p the memrefs x's elements (of the dims of `in`) come
 * from; false when there are too many.  Each instruction is walked once
 * (visited, by id): a fused DAG has exponentially many paths (XLA's
 * large_loop_slow_compile_time did not compile in 300 s without it). */
static bool prefetch_sources(CgFn *f, const HloInstr *x, const HloShape *in, CgRowPrefetch *p,
                             uint8_t *visited) {
  if (visited[x->id]) return true;
  visited[x->id] = 1;
  const CgSrc *src = &f->src[x->id];
  while (src->kind == CG_SRC_ALIAS) src = &f->src[src->alias->id];
  if (src->kind == CG_SRC_MEMREF) {
    if (src->n != 1 || !hlo_shape_has_default_layout(&x->shape)) return true;
    if (p->n == CG_ROW_PREFETCH_MAX) return false;
    HloShape flat = {.type = x->shape.type, .rank = 1};
    flat.dims[0] = hlo_shape_elements(&x->shape);
    p->mem[p->n] = src->vals[0];
    p->flat[p->n++] = kir_reshape(&f->b, src->vals[0], cg_memref_type(f->g, &flat));
    return true;
  }
  if (src->kind != CG_SRC_COMPUTE || x->op == HLO_OP_PARAMETER || x->op == HLO_OP_REDUCE)
    return true;
  for (int i = 0; i < x->noperands; i++) {
    const HloInstr *o = x->operands[i];
    if (!hlo_type_is_array(o->shape.type) || !hlo_shape_same_dims(&o->shape, in) ||
        !hlo_operand_map(x, i).identity)
      continue;
    if (!prefetch_sources(f, o, in, p, visited)) return false;
  }
  return true;
}

void cg_row_prefetch_plan(CgFn *f, const HloInstr *const *xs, int nx, const CgVal *outs,
                          const HloShape *const *out_shapes, int nouts, const HloShape *rows,
                          const CgVal *idx, CgRowPrefetch *p) {
  const CgTargetInfo *t = &f->g->target->info;
  int r = rows->rank;
  int64_t n = rows->dims[r - 1];
  int bytes = 0;
  for (int k = 0; k < nx; k++)
    if (cg_type_bits(xs[k]->shape.type) / 8 > bytes) bytes = cg_type_bits(xs[k]->shape.type) / 8;
  *p = (CgRowPrefetch){0};
  if (f->early_pass || t->cheap_threads || !t->line_bytes || !bytes ||
      n * bytes < t->l1d_bytes / 8 || hlo_shape_elements(rows) <= n)
    return;
  uint8_t *visited = hlo_xcalloc((size_t)f->g->m->next_id, 1);
  bool ok = true;
  for (int k = 0; k < nx && ok; k++) ok = prefetch_sources(f, xs[k], rows, p, visited);
  free(visited);
  if (!ok) {
    p->n = 0;
    return;
  }
  for (int k = 0; k < nouts && p->n < CG_ROW_PREFETCH_MAX; k++) {
    bool again = false; /* a parked value's buffer is its output's */
    for (int j = 0; j < p->n; j++) again = again || p->mem[j] == outs[k];
    if (again) continue;
    p->mem[p->n] = outs[k];
    HloShape flat = {.type = out_shapes[k]->type, .rank = 1};
    flat.dims[0] = hlo_shape_elements(out_shapes[k]);
    p->flat[p->n++] = kir_reshape(&f->b, outs[k], cg_memref_type(f->g, &flat));
  }
  if (!p->n) return;
  int64_t ahead = n * bytes <= t->l2_bytes / 4 ? n : t->l2_bytes / 4 / bytes;
  p->line = t->line_bytes / bytes > 0 ? t->line_bytes / bytes : 1;
  /* The row's start, ahead elements on, no further than the last row's
   * start: every prefetch then falls inside the memref (the last row
   * prefetches itself). */
  CgVal at = cg_index(f, 0);
  for (int d = 0; d < r - 1; d++)
    at = cg_iop(f, KIR_ADDI, cg_imul_c(f, at, rows->dims[d]), idx[d]);
  at = cg_imul_c(f, at, n);
  p->base = cg_iop(f, KIR_MINSI, cg_iadd_c(f, at, ahead),
                   cg_index(f, hlo_shape_elements(rows) - n));
}

void cg_row_prefetch(CgFn *f, const CgRowPrefetch *p, CgVal j, int count) {
  if (!p->n) return;
  CgVal at = cg_iop(f, KIR_ADDI, p->base, j);
  for (int k = 0; k < p->n; k++)
    for (int o = 0; o < count; o += p->line) {
      CgVal i = o ? cg_iadd_c(f, at, o) : at;
      kir_prefetch(&f->b, p->flat[k], &i, ROW_PREFETCH_LOCALITY);
    }
}

/* A reduction of the minor dim as vectors (see the top of this file);
 * false when x is not one. */
static bool reduce_row_vec(CgFn *f, const HloInstr *x, const CgVal *idx, CgVal *out) {
  HloOpcode op;
  if (f->vlanes || x->noperands != 2 || !simple_combiner(x->called[0], &op)) return false;
  const HloInstr *in = x->operands[0];
  const HloShape *s = &in->shape;
  HloType t = x->shape.type;
  if (x->dimensions.n != 1 || x->dimensions.v[0] != s->rank - 1 ||
      (t != HLO_F32 && t != HLO_F64 && t != HLO_S32 && t != HLO_S64))
    return false;
  int64_t n = s->dims[s->rank - 1];
  int lanes = f->g->target->info.preferred_bits / cg_type_bits(t);
  if (lanes < 2 || n < 2 * lanes) return false;
  CgVal in_idx[HLO_MAX_RANK];
  memcpy(in_idx, idx, (size_t)(s->rank - 1) * sizeof *in_idx);
  /* Long rows carry four vectors (one wide vector of 4 × lanes, which LLVM
   * splits into four registers): four independent chains of adds instead
   * of one, each waiting on the last's latency. */
  int wide = n >= 8 * lanes ? 4 * lanes : lanes;
  int64_t nw = n - n % wide, nv = n - n % lanes;
  CgRowPrefetch pf;
  cg_row_prefetch_plan(f, &in, 1, NULL, NULL, 0, s, in_idx, &pf);
  CgVal acc = kir_broadcast(&f->b, identity(f, op, t), wide);
  CgLoop l = cg_for_step(f, 0, nw, wide, 1, &acc);
  in_idx[s->rank - 1] = l.iv;
  cg_row_prefetch(f, &pf, l.iv, wide);
  CgVal v = cg_elem_vec(f, in, in_idx, wide, 0);
  CgVal next = cg_binary(f, op, t, kir_for_iter(l.op, 0), v);
  cg_for_end(f, &l, &next);
  acc = kir_result(l.op, 0);
  /* The lanes folded in halves (lane i with lane i + w/2) down to one
   * vector, which takes the whole vectors left; then folded to one lane,
   * combined with the init value, then the rest, by the combiner. */
  for (int w = wide; w > 1; w /= 2) {
    if (w == lanes) {
      for (int64_t j = nw; j < nv; j += lanes) {
        in_idx[s->rank - 1] = cg_index(f, j);
        acc = cg_binary(f, op, t, acc, cg_elem_vec(f, in, in_idx, lanes, 0));
      }
    }
    int32_t hi[64];
    for (int i = 0; i < w / 2; i++) hi[i] = w / 2 + i;
    int32_t lo[64];
    for (int i = 0; i < w / 2; i++) lo[i] = i;
    CgVal a = kir_shuffle(&f->b, acc, acc, w / 2, lo);
    CgVal b = kir_shuffle(&f->b, acc, acc, w / 2, hi);
    acc = cg_binary(f, op, t, a, b);
  }
  CgVal r = cg_binary(f, op, t, cg_elem(f, x->operands[1], NULL), kir_extract(&f->b, acc, 0));
  for (int64_t j = nv; j < n; j++) {
    in_idx[s->rank - 1] = cg_index(f, j);
    r = cg_binary(f, op, t, r, cg_elem(f, in, in_idx));
  }
  out[0] = r;
  return true;
}

bool cg_reduce_vec_direct(const HloInstr *x) {
  HloOpcode op;
  HloType t = x->shape.type;
  return x->op == HLO_OP_REDUCE && x->noperands == 2 && x->shape.rank >= 1 &&
         cg_reduces_columns(x) && simple_combiner(x->called[0], &op) &&
         (t == HLO_F32 || t == HLO_F64 || t == HLO_S32 || t == HLO_S64);
}

/* to_apply(acc, v) for column reduction x combining by op, its parameters
 * in the order it names them. */
static CgVal cols_step(CgFn *f, const HloInstr *x, HloOpcode op, CgVal acc, CgVal v) {
  bool swapped = x->called[0]->root->operands[0]->parameter_number == 1;
  return cg_binary(f, op, x->shape.type, swapped ? v : acc, swapped ? acc : v);
}

/* A reduction keeping the minor dim, in vector mode (cg_reduce_vec_direct):
 * each lane is one output element, combined from the init value over the
 * reduced elements in row-major order as the scalar loops below do, so
 * the results are the same bits; the lanes read consecutive elements of
 * the input's minor dim (SE blocks' and global average pooling's means
 * over the spatial dims). */
static bool reduce_cols_vec(CgFn *f, const HloInstr *x, const CgVal *idx, CgVal *out) {
  HloOpcode op = HLO_OP_ADD;
  if (!f->vlanes || !cg_reduce_vec_direct(x)) return false;
  simple_combiner(x->called[0], &op);
  const HloInstr *in = x->operands[0];
  const HloShape *s = &in->shape;
  CgVal acc = cg_elem(f, x->operands[1], NULL); /* a scalar: broadcast */
  bool reduced[HLO_MAX_RANK] = {false};
  for (int i = 0; i < x->dimensions.n; i++) reduced[x->dimensions.v[i]] = true;
  CgLoop loops[HLO_MAX_RANK];
  CgVal in_idx[HLO_MAX_RANK];
  int nloops = 0;
  for (int d = 0, kept = 0; d < s->rank; d++) {
    if (!reduced[d]) {
      in_idx[d] = idx[kept++];
      continue;
    }
    loops[nloops] = cg_for(f, s->dims[d], 1, &acc);
    in_idx[d] = loops[nloops].iv;
    acc = kir_for_iter(loops[nloops].op, 0);
    nloops++;
  }
  CgVal next = cols_step(f, x, op, acc, cg_elem(f, in, in_idx));
  for (int l = nloops - 1; l >= 0; l--) {
    cg_for_end(f, &loops[l], &next);
    next = kir_result(loops[l].op, 0);
  }
  out[0] = next;
  return true;
}

/* Columns by rows.  reduce_cols_vec walks one strip of columns (a vector,
 * or the few kernel.c's nest_lanes gives it) down every reduced row
 * before the next strip: each row's few bytes, then a jump of the row's
 * stride.  Where the kept columns are wider than that strip, kernel.c
 * runs the reductions this way instead, reading the input once, row after
 * row: the columns in blocks whose accumulators fill half the target's L1
 * (the other half for the input's lines passing through), and per block
 * the accumulators set to the init value; for each reduced element in
 * row-major order (the rows, outer), for each vector of the block's
 * columns (inner), acc = to_apply(acc, x); then the kernel's body per
 * vector of columns, the reductions bound to their accumulators.
 * Reductions over the same elements (same input dims and reduced dims: a
 * sum and a sum of squares) share the rows' loops.  Each column is still
 * combined from the init value in row-major order, as reduce_cols_vec and
 * the scalar loops do, so the bits are theirs; the columns past the last
 * whole vector run the body as scalars (the scalar loops). */

int64_t cg_column_block(const CgTargetInfo *t, const HloInstr *const *xs, int n, int lanes) {
  int64_t bytes = 0;
  for (int k = 0; k < n; k++) bytes += cg_type_bits(xs[k]->shape.type) / 8;
  return bytes ? t->l1d_bytes / 2 / bytes / lanes * lanes : 0;
}

/* Whether x and y reduce the same dims of inputs of the same dims. */
static bool same_rows(const HloInstr *x, const HloInstr *y) {
  if (!hlo_shape_same_dims(&x->operands[0]->shape, &y->operands[0]->shape) ||
      x->dimensions.n != y->dimensions.n)
    return false;
  for (int i = 0; i < x->dimensions.n; i++)
    if (!cg_dims_contain(&y->dimensions, x->dimensions.v[i])) return false;
  return true;
}

/* The sums' load and store serve this many rows of the input, so that
 * their traffic in L1 is an eighth of the input's and the loop is bound
 * by the input's reads (a code shape, as CG_SWEEP_UNROLL; on Zen 4, 4
 * rows reached 0.85 of STREAM's bandwidth, 8 rows 0.95). */
enum { COLUMN_ROWS = 8 };

/* The block's columns [first, end), as vectors of `lanes`, combined with
 * `nrows` consecutive rows from in_idx[d] by the reductions xs[which[..m)]
 * (whose accumulators are acc[]), row after row. */
static void cols_rows(CgFn *f, const HloInstr *const *xs, const int *which, int m,
                      const HloOpcode *ops, const CgVal *acc, CgVal *in_idx, int d, int nrows,
                      CgVal first, CgVal end, int lanes) {
  CgVal row = in_idx[d];
  int last = xs[which[0]]->operands[0]->shape.rank - 1;
  CgLoop c = cg_for_values(f, first, end, cg_index(f, lanes), 0, NULL);
  in_idx[last] = c.iv;
  CgVal at = cg_iop(f, KIR_SUBI, c.iv, first);
  CgVal a[CG_COLUMN_BY_ROWS_MAX];
  for (int i = 0; i < m; i++) a[i] = cg_vload(f, acc[which[i]], &at, lanes, 0);
  for (int u = 0; u < nrows; u++) {
    in_idx[d] = u ? cg_iadd_c(f, row, u) : row;
    for (int i = 0; i < m; i++) {
      const HloInstr *x = xs[which[i]];
      a[i] = cols_step(f, x, ops[which[i]], a[i], cg_elem(f, x->operands[0], in_idx));
    }
  }
  for (int i = 0; i < m; i++) cg_vstore(f, a[i], acc[which[i]], &at, 0);
  cg_for_end(f, &c, NULL);
  in_idx[d] = row;
}

void cg_reduce_columns_by_rows(CgFn *f, const HloInstr *const *xs, int n, int64_t block,
                               CgVal lo, CgVal hi, int64_t ncols, CgVal *idx, int r, int lanes,
                               void (*body)(CgFn *, const CgVal *, void *), void *ctx) {
  HLO_CHECK(n <= CG_COLUMN_BY_ROWS_MAX);
  CgVal acc[CG_COLUMN_BY_ROWS_MAX];
  HloOpcode ops[CG_COLUMN_BY_ROWS_MAX];
  /* At the function's start: the nest's loops must not allocate it again
   * and again. */
  KirBuilder entry = f->b;
  kir_at_start(&entry, f->fn->body);
  for (int k = 0; k < n; k++) {
    acc[k] = kir_alloca(&entry, kir_memref(f->g->k, cg_mem_elem(xs[k]->shape.type), 1, &block), 64);
    HLO_CHECK(simple_combiner(xs[k]->called[0], &ops[k]));
  }
  /* Whether a column is a vector's lane or computed alone must not depend
   * on the task's range: LLVM may commute a vector's operands (which of
   * two NaNs an x86 add returns), so a column is computed the same way in
   * every run.  The range [lo, hi) is moved to multiples of the lanes (or
   * ncols): the ranges of a split still cover each column once; the
   * columns below the last multiple are lanes of vectors from 0, the rest
   * alone. */
  CgVal L = cg_index(f, lanes), N = cg_index(f, ncols);
  CgVal up_lo = cg_iop(f, KIR_MULI, cg_iop(f, KIR_DIVUI, cg_iadd_c(f, lo, lanes - 1), L), L);
  CgVal up_hi = cg_iop(f, KIR_MULI, cg_iop(f, KIR_DIVUI, cg_iadd_c(f, hi, lanes - 1), L), L);
  lo = cg_iop(f, KIR_MINSI, up_lo, N);
  hi = cg_iop(f, KIR_MINSI, up_hi, N);
  CgVal whole = cg_index(f, ncols / lanes * lanes);
  CgVal mid = cg_iop(f, KIR_MINSI, hi, whole);
  CgLoop blk = cg_for_values(f, lo, mid, cg_index(f, block), 0, NULL);
  CgVal first = blk.iv;
  CgVal end = cg_iop(f, KIR_MINSI, cg_iadd_c(f, first, block), mid);
  f->vlanes = lanes;

  CgLoop c = cg_for_values(f, first, end, L, 0, NULL);
  CgVal at = cg_iop(f, KIR_SUBI, c.iv, first);
  for (int k = 0; k < n; k++) cg_vstore(f, cg_elem(f, xs[k]->operands[1], NULL), acc[k], &at, 0);
  cg_for_end(f, &c, NULL);

  bool done[CG_COLUMN_BY_ROWS_MAX] = {false};
  for (int k = 0; k < n; k++) {
    if (done[k]) continue;
    int which[CG_COLUMN_BY_ROWS_MAX], m = 0;
    for (int j = k; j < n; j++)
      if (!done[j] && same_rows(xs[k], xs[j])) {
        done[j] = true;
        which[m++] = j;
      }
    const HloShape *s = &xs[k]->operands[0]->shape;
    bool reduced[HLO_MAX_RANK] = {false};
    for (int i = 0; i < xs[k]->dimensions.n; i++) reduced[xs[k]->dimensions.v[i]] = true;
    CgLoop rows[HLO_MAX_RANK];
    CgVal in_idx[HLO_MAX_RANK];
    int nrows = 0, inner = -1;
    for (int d = 0, kept = 0; d < s->rank - 1; d++)
      if (!reduced[d]) in_idx[d] = idx[kept++];
      else inner = d;
    for (int d = 0; d < inner; d++) {
      if (!reduced[d]) continue;
      rows[nrows] = cg_for(f, s->dims[d], 0, NULL);
      in_idx[d] = rows[nrows++].iv;
    }
    /* The innermost reduced dim by COLUMN_ROWS rows, then the rest. */
    int64_t len = s->dims[inner], most = len / COLUMN_ROWS * COLUMN_ROWS;
    if (most) {
      CgLoop l = cg_for_step(f, 0, most, COLUMN_ROWS, 0, NULL);
      in_idx[inner] = l.iv;
      cols_rows(f, xs, which, m, ops, acc, in_idx, inner, COLUMN_ROWS, first, end, lanes);
      cg_for_end(f, &l, NULL);
    }
    if (most < len) {
      CgLoop l = cg_for_step(f, most, len, 1, 0, NULL);
      in_idx[inner] = l.iv;
      cols_rows(f, xs, which, m, ops, acc, in_idx, inner, 1, first, end, lanes);
      cg_for_end(f, &l, NULL);
    }
    while (nrows > 0) cg_for_end(f, &rows[--nrows], NULL);
  }

  c = cg_for_values(f, first, end, L, 0, NULL);
  idx[r - 1] = c.iv;
  at = cg_iop(f, KIR_SUBI, c.iv, first);
  for (int k = 0; k < n; k++) cg_bind_value(f, xs[k], cg_vload(f, acc[k], &at, lanes, 0));
  body(f, idx, ctx);
  for (int k = 0; k < n; k++) cg_bind_compute(f, xs[k]);
  cg_for_end(f, &c, NULL);
  f->vlanes = 0;
  cg_for_end(f, &blk, NULL);

  CgLoop t = cg_for_range(f, cg_iop(f, KIR_MAXSI, lo, whole), hi, 0, NULL);
  idx[r - 1] = t.iv;
  body(f, idx, ctx);
  cg_for_end(f, &t, NULL);
}

bool cg_reduces_trailing(const HloInstr *x) {
  if (x->op != HLO_OP_REDUCE) return false;
  int rank = x->operands[0]->shape.rank, n = x->dimensions.n;
  if (n < 1) return false;
  bool reduced[HLO_MAX_RANK] = {false};
  for (int i = 0; i < n; i++) reduced[x->dimensions.v[i]] = true;
  for (int d = rank - n; d < rank; d++)
    if (!reduced[d]) return false;
  return true;
}

bool cg_reduces_columns(const HloInstr *x) {
  if (x->op != HLO_OP_REDUCE || x->dimensions.n < 1) return false;
  return !cg_dims_contain(&x->dimensions, x->operands[0]->shape.rank - 1);
}

int cg_elem_reduce(CgFn *f, const HloInstr *x, const CgVal *idx, CgVal *out) {
  /* In a group's task, where all its threads run together, the group
   * reduces the row (the backend's emission: on a GPU a block reduction,
   * gpu/reduce.c): a row of trailing dims where idx is the same in every
   * thread (in a column kernel, when it does not reach the last index,
   * the thread's column), or the columns of a column kernel. */
  int rank = x->operands[0]->shape.rank - x->dimensions.n;
  if (f->group && f->nscopes == f->uniform && !f->vlanes &&
      (f->columns ? cg_reduces_columns(x) || (cg_reduces_trailing(x) && rank < f->par_dim + 1)
                  : cg_reduces_trailing(x)))
    return f->g->target->backend->group_reduce(f, x, idx, out);
  if (reduce_row_vec(f, x, idx, out) || reduce_cols_vec(f, x, idx, out)) return 1;
  int n = x->noperands / 2;
  const HloShape *in = &x->operands[0]->shape;
  CgVal acc[256];
  for (int k = 0; k < n; k++) acc[k] = cg_elem(f, x->operands[n + k], NULL);

  /* Reduced dims ascending (outermost loop first); kept dims take the
   * output index in order. */
  bool reduced[HLO_MAX_RANK] = {false};
  for (int i = 0; i < x->dimensions.n; i++) reduced[x->dimensions.v[i]] = true;
  CgLoop loops[HLO_MAX_RANK];
  int nloops = 0;
  CgVal in_idx[HLO_MAX_RANK];
  for (int d = 0, kept = 0; d < in->rank; d++) {
    if (!reduced[d]) {
      in_idx[d] = idx[kept++];
      continue;
    }
    loops[nloops] = cg_for(f, in->dims[d], n, acc);
    in_idx[d] = loops[nloops].iv;
    for (int k = 0; k < n; k++) acc[k] = loops[nloops].iters + k;
    nloops++;
  }
  CgVal next[256];
  combine(f, x, n, acc, in_idx, next);
  for (int l = nloops - 1; l >= 0; l--) {
    cg_for_end(f, &loops[l], next);
    for (int k = 0; k < n; k++) next[k] = loops[l].results + k;
  }
  memcpy(out, next, (size_t)n * sizeof *out);
  return n;
}

/* The input index that output idx reads through window offsets wi; when
 * some offset can fall in padding or a base-dilation hole, the condition
 * that it reads a real element is and-ed into *inside and true returned. */
CgVal cg_window_position(CgFn *f, const HloWindowDim *w, CgVal o, CgVal wi, int64_t osz,
                         int64_t ksz, int64_t isz, CgVal *inside, bool *checked) {
  /* Position in the padded, base-dilated input. */
  CgVal pos = cg_iadd_c(
      f, cg_iop(f, KIR_ADDI, cg_imul_c(f, o, w->stride), cg_imul_c(f, wi, w->rhs_dilate)),
      -w->pad_lo);
  int64_t max_pos = (osz - 1) * w->stride + (ksz - 1) * w->rhs_dilate - w->pad_lo;
  if (w->lhs_dilate == 1 && w->pad_lo <= 0 && max_pos < isz && osz > 0) return pos;
  CgVal zero = cg_index(f, 0);
  *inside = cg_and(f, *inside, cg_icmp(f, KIR_SGE, pos, zero));
  if (w->lhs_dilate > 1) {
    CgVal ld = cg_index(f, w->lhs_dilate);
    *inside = cg_and(f, *inside, cg_icmp(f, KIR_EQ, cg_iop(f, KIR_REMSI, pos, ld), zero));
    pos = cg_iop(f, KIR_DIVSI, pos, ld);
  }
  *inside = cg_and(f, *inside, cg_icmp(f, KIR_SLT, pos, cg_index(f, isz)));
  *checked = true;
  return pos;
}

static bool window_position(CgFn *f, const HloInstr *x, const CgVal *idx, const CgVal *wi,
                            CgVal *in_idx, CgVal *inside) {
  const HloShape *in = &x->operands[0]->shape;
  const HloShape *leaf;
  cg_shape_leaves(&x->shape, &leaf, 1);
  bool checked = false;
  for (int d = 0; d < in->rank; d++)
    in_idx[d] = cg_window_position(f, &x->window[d], idx[d], wi[d], leaf->dims[d],
                                   x->window[d].size, in->dims[d], inside, &checked);
  return checked;
}

/* acc combined with the element at window offsets wi, when it is real. */
static void window_step(CgFn *f, const HloInstr *x, const CgVal *idx, const CgVal *wi,
                        int n, const KirType *types, CgVal *acc) {
  CgVal in_idx[HLO_MAX_RANK], next[256];
  CgVal inside = kir_bool(&f->b, true);
  if (!window_position(f, x, idx, wi, in_idx, &inside)) {
    combine(f, x, n, acc, in_idx, next);
    memcpy(acc, next, (size_t)n * sizeof *acc);
    return;
  }
  CgIf c = cg_if(f, inside, n, types);
  combine(f, x, n, acc, in_idx, next);
  cg_else(f, &c, next);
  cg_endif(f, &c, acc);
  for (int k = 0; k < n; k++) acc[k] = c.results + k;
}

/* Windows of at most this many elements are unrolled: straight-line code
 * per output element, so the loop over the output's minor dim is the
 * innermost loop and LLVM vectorizes it (max-pooling 2x2 was scalar). */
enum { UNROLL_WINDOW = 16 };

int cg_elem_reduce_window(CgFn *f, const HloInstr *x, const CgVal *idx,
                          CgVal *out) {
  int n = x->noperands / 2;
  KirType types[256];
  leaf_types(x, types);
  const HloShape *in = &x->operands[0]->shape;
  CgVal acc[256];
  for (int k = 0; k < n; k++) acc[k] = cg_elem(f, x->operands[n + k], NULL);
  CgVal wi[HLO_MAX_RANK];

  int64_t total = 1;
  for (int d = 0; d < in->rank; d++) total *= x->window[d].size;
  if (total <= UNROLL_WINDOW) {
    /* Offsets in row-major order, the loops' order. */
    for (int64_t t = 0; t < total; t++) {
      for (int64_t d = in->rank - 1, rest = t; d >= 0; d--) {
        wi[d] = cg_index(f, rest % x->window[d].size);
        rest /= x->window[d].size;
      }
      window_step(f, x, idx, wi, n, types, acc);
    }
    memcpy(out, acc, (size_t)n * sizeof *out);
    return n;
  }

  CgLoop loops[HLO_MAX_RANK];
  int nloops = 0;
  for (int d = 0; d < in->rank; d++) {
    if (x->window[d].size == 1) {
      wi[d] = cg_index(f, 0);
      continue;
    }
    loops[nloops] = cg_for(f, x->window[d].size, n, acc);
    wi[d] = loops[nloops].iv;
    for (int k = 0; k < n; k++) acc[k] = loops[nloops].iters + k;
    nloops++;
  }
  window_step(f, x, idx, wi, n, types, acc);
  for (int l = nloops - 1; l >= 0; l--) {
    cg_for_end(f, &loops[l], acc);
    for (int k = 0; k < n; k++) acc[k] = loops[l].results + k;
  }
  memcpy(out, acc, (size_t)n * sizeof *out);
  return n;
}
