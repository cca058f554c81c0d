/*
 * reduce.c — a row's reduction by the threads of a GPU block
 * (CgBackend.group_reduce): kernel.c runs a kernel that reduces rows as a
 * row per block (parallel.c, gpu_groups) and, where every thread of the
 * block runs the same ops, hands each reduction of the row's trailing
 * dims here.  For a block of B threads (a multiple of the warp, at most
 * GPU_BLOCK) and a row of m elements:
 *
 *   1. Thread t combines the elements t, t + B, t + 2B, … (consecutive
 *      threads read consecutive elements: coalesced) into its partial,
 *      in that order, starting from element t itself; a thread with no
 *      element (t >= m) has none: its `has` flag is false (a row at least
 *      as long as the block needs no flags: every thread has elements).
 *   2. The warp combines its 32 partials by shuffles: for d = 16, 8, 4,
 *      2, 1, each lane combines its partial with lane (its lane xor d)'s,
 *      a partial that is missing on one side being the other's.  Every
 *      lane of the warp runs every shuffle (the full mask), and ends with
 *      the warp's total.
 *   3. With several warps: a barrier (earlier readers of the shared
 *      buffers are done), lane 0 of warp w writes the warp's total and
 *      flag into slot w of shared memory, a barrier, and then every
 *      thread combines the slots 0, 1, … in order — all threads read the
 *      same values, so all get the same total, with no third barrier.
 *   4. The row's value: the init value combined with the total
 *      (to_apply(init, total)), or the init value alone for an empty row.
 *
 * A column kernel's reduction (one keeping the input's minor dim) runs
 * differently: its threads hold different columns, so it is the warps
 * that split the reduced elements, and shared memory, not shuffles,
 * brings a column's partials together (column_reduce).
 *
 * Each accumulator of a variadic reduce (argmax's value and index) is
 * shuffled and stored apart; values narrower than 32 bits (pred, s8,
 * f16 and bf16 as their bits) travel as i32.  The barriers and shuffles
 * are reached by every thread of the block because kernel.c calls this
 * only where all of them run the same ops (CgFn.uniform), and the row
 * loop around the task is the same for the whole block.
 *
 * Assumes what XLA assumes of a reduce's computation: it is associative
 * and commutative, so the order of the combination may change.  Float
 * sums are therefore reassociated (they differ from the evaluator's
 * row-major order by rounding, as the CPU's vectorized rows do);
 * maximum, minimum and integer reductions give the same values.
 */
#include <stdlib.h>
#include <string.h>

#include "gpu.h"

/* x widened to what a shuffle or a shared slot carries (i32 for narrower
 * integers), and back. */
static KirType wide_type(KirType t) {
  return kir_elem_is_int((KirElem)t.elem) && kir_elem_bits((KirElem)t.elem) < 32
             ? kir_scalar(KIR_I32)
             : t;
}

static CgVal widen(CgFn *f, CgVal x) {
  KirType t = cg_type(f, x);
  if (kir_type_eq(wide_type(t), t)) return x;
  return kir_cast(&f->b, KIR_EXTUI, x, wide_type(t));
}

static CgVal narrow(CgFn *f, CgVal x, KirType t) {
  if (kir_type_eq(cg_type(f, x), t)) return x;
  return kir_cast(&f->b, KIR_TRUNCI, x, t);
}

/* Partials acc[0..n) (present when has) combined with other[0..n) (present
 * when ohas), in place: the combination where both are present, else the
 * one that is (every: both always are). */
static void merge(CgFn *f, const HloInstr *x, int n, CgVal *acc, CgVal *has,
                  const CgVal *other, CgVal ohas, bool every) {
  CgVal args[2 * 256] = {0}, both[256];
  for (int k = 0; k < n; k++) {
    args[k] = acc[k];
    args[n + k] = other[k];
  }
  cg_apply(f, x->called[0], args, both);
  if (every) {
    memcpy(acc, both, (size_t)n * sizeof *acc);
    return;
  }
  CgVal all = cg_and(f, *has, ohas);
  for (int k = 0; k < n; k++)
    acc[k] = cg_select(f, all, both[k], cg_select(f, *has, acc[k], other[k]));
  *has = kir_binop(&f->b, KIR_ORI, *has, ohas);
}

/* The elements of x's inputs at row idx, flat position j of the reduced
 * (trailing) dims. */
static void row_elems(CgFn *f, const HloInstr *x, int n, const CgVal *idx, CgVal j,
                      CgVal *out) {
  const HloShape *in = &x->operands[0]->shape;
  int q = in->rank - x->dimensions.n;
  CgVal at[HLO_MAX_RANK];
  if (q) memcpy(at, idx, (size_t)q * sizeof *at); /* idx may be NULL for a scalar */
  for (int d = in->rank - 1; d >= q; d--) {
    CgVal dim = cg_index(f, in->dims[d]);
    at[d] = d > q ? cg_iop(f, KIR_REMUI, j, dim) : j;
    if (d > q) j = cg_iop(f, KIR_DIVUI, j, dim);
  }
  for (int k = 0; k < n; k++) out[k] = cg_elem(f, x->operands[k], at);
}

/* The elements of x's inputs at output index idx, flat position j of the
 * reduced dims (row-major over them), for a reduce of any dims. */
static void column_elems(CgFn *f, const HloInstr *x, int n, const CgVal *idx, CgVal j,
                         CgVal *out) {
  const HloShape *in = &x->operands[0]->shape;
  int outer = 0; /* the outermost reduced dim takes what is left of j */
  while (!cg_dims_contain(&x->dimensions, outer)) outer++;
  CgVal at[HLO_MAX_RANK];
  for (int d = in->rank - 1, kept = in->rank - x->dimensions.n - 1; d >= 0; d--) {
    if (!cg_dims_contain(&x->dimensions, d)) {
      at[d] = idx[kept--];
    } else if (d == outer) {
      at[d] = j;
    } else {
      CgVal dim = cg_index(f, in->dims[d]);
      at[d] = cg_iop(f, KIR_REMUI, j, dim);
      j = cg_iop(f, KIR_DIVUI, j, dim);
    }
  }
  for (int k = 0; k < n; k++) out[k] = cg_elem(f, x->operands[k], at);
}

/* The row's value from the group's total: to_apply(init, total), or init
 * for an empty row. */
static int finish(CgFn *f, const HloInstr *x, int n, const CgVal *acc, CgVal has, CgVal *out) {
  CgVal init[256], row[256], args[2 * 256] = {0};
  for (int k = 0; k < n; k++) {
    init[k] = cg_elem(f, x->operands[n + k], NULL);
    args[k] = init[k];
    args[n + k] = acc[k];
  }
  cg_apply(f, x->called[0], args, row);
  for (int k = 0; k < n; k++) out[k] = cg_select(f, has, row[k], init[k]);
  return n;
}

/* A column kernel's reduction (kernel.c): x keeps its input's minor dim
 * and idx's last index is this thread's column, the one of lane t mod 32
 * of the block's tile.  The block's nw warps split the reduced elements:
 * warp w combines the elements w, w + nw, … of its column (the 32 lanes
 * of a warp read 32 consecutive columns: coalesced), then, when there are
 * several warps, each thread puts its partial at [w][t mod 32] of shared
 * memory between two barriers, and every thread combines the partials of
 * its column in the order of the warps.  No shuffle: the warps' lanes hold
 * different columns. */
static int column_reduce(CgFn *f, const HloInstr *x, const CgVal *idx, CgVal *out) {
  int n = x->noperands / 2, nw = f->group / GPU_WARP;
  const HloShape *in = &x->operands[0]->shape;
  int64_t m = 1;
  for (int k = 0; k < x->dimensions.n; k++) m *= in->dims[x->dimensions.v[k]];
  KirType types[256];
  const HloShape *leaves[256];
  cg_shape_leaves(&x->shape, leaves, 256);
  for (int k = 0; k < n; k++) types[k] = cg_reg_type(leaves[k]->type);
  CgVal acc[256], has;
  CgVal warp = cg_iop(f, KIR_DIVUI, f->lane, cg_index(f, GPU_WARP));
  CgVal col = cg_iop(f, KIR_REMUI, f->lane, cg_index(f, GPU_WARP));
  bool every = m >= nw;
  if (every) {
    has = kir_bool(&f->b, true);
    column_elems(f, x, n, idx, warp, acc);
  } else if (m > 0) {
    has = cg_icmp(f, KIR_SLT, warp, cg_index(f, m));
    column_elems(f, x, n, idx, cg_select(f, has, warp, cg_index(f, m - 1)), acc);
  } else {
    has = kir_bool(&f->b, false);
    for (int k = 0; k < n; k++) acc[k] = cg_elem(f, x->operands[n + k], NULL);
  }
  if (m > nw) {
    CgLoop l = cg_for_values(f, cg_iadd_c(f, warp, nw), cg_index(f, m), cg_index(f, nw), n, acc);
    CgVal e[256], next[256], args[2 * 256];
    column_elems(f, x, n, idx, l.iv, e);
    for (int k = 0; k < n; k++) {
      args[k] = l.iters + k;
      args[n + k] = e[k];
    }
    cg_apply(f, x->called[0], args, next);
    cg_for_end(f, &l, next);
    for (int k = 0; k < n; k++) acc[k] = l.results + k;
  }
  if (nw > 1) {
    KirType i32 = kir_scalar(KIR_I32);
    CgVal zero32 = kir_const_int(&f->b, i32, 0);
    CgVal slots[257], at[2] = {warp, col};
    int64_t dims[2] = {nw, GPU_WARP};
    int id = f->fn->nvals; /* names the buffers of this reduction */
    for (int k = 0; k < n + !every; k++) {
      KirType t = k < n ? wide_type(types[k]) : i32;
      HloStr nm = {0};
      hlo_str_printf(&nm, "%s_smem%d_%d", f->fn->name, id, k);
      slots[k] = kir_shared(&f->b, nm.buf, kir_memref_shared(f->g->k, (KirElem)t.elem, 2, dims));
      free(nm.buf);
    }
    kir_barrier(&f->b);
    for (int k = 0; k < n; k++) kir_store(&f->b, widen(f, acc[k]), slots[k], at);
    if (!every) kir_store(&f->b, kir_cast(&f->b, KIR_EXTUI, has, i32), slots[n], at);
    kir_barrier(&f->b);
    for (int w = 0; w < nw; w++) {
      CgVal from[2] = {cg_index(f, w), col}, v[256];
      for (int k = 0; k < n; k++) v[k] = narrow(f, kir_load(&f->b, slots[k], from), types[k]);
      CgVal h = every ? has : kir_cmpi(&f->b, KIR_NE, kir_load(&f->b, slots[n], from), zero32);
      if (w == 0) {
        memcpy(acc, v, (size_t)n * sizeof *acc);
        has = h;
      } else {
        merge(f, x, n, acc, &has, v, h, every);
      }
    }
  }
  return finish(f, x, n, acc, has, out);
}

/* The bytes of the shared memory the ops of b take. */
static int64_t shared_in(const KirFunc *fn, const KirBlock *b) {
  int64_t bytes = 0;
  for (const KirOp *op = b->first; op; op = op->next) {
    for (int i = 0; i < op->nregions; i++) bytes += shared_in(fn, op->regions[i]);
    if (op->code != KIR_SHARED) continue;
    const KirMemref *r = kir_memref_of(fn->m, kir_type(fn, op->res));
    int64_t n = kir_elem_bits((KirElem)r->elem) / 8;
    for (int d = 0; d < r->rank; d++) n *= r->dims[d];
    bytes += n;
  }
  return bytes;
}

int gpu_group_reduce(CgFn *f, const HloInstr *x, const CgVal *idx, CgVal *out) {
  /* The shared memory this reduction would add: a slot per warp (per
   * column of a tile) for each accumulator and the flags, 8 bytes at
   * most each.  Past what a block may declare statically, the reduction
   * is each thread's own (correct, slow): every thread reduces the whole
   * row (its column) by itself. */
  int n = x->noperands / 2, block = f->group;
  int64_t need = (int64_t)(n + 1) * 8 * (block / GPU_WARP) *
                 (cg_reduces_trailing(x) ? 1 : GPU_WARP);
  if (shared_in(f->fn, f->fn->body) + need > GPU_STATIC_SHARED) {
    int uniform = f->uniform;
    f->uniform = -1;
    int r = cg_elem_reduce(f, x, idx, out);
    f->uniform = uniform;
    return r;
  }
  if (!cg_reduces_trailing(x)) return column_reduce(f, x, idx, out);
  const HloShape *in = &x->operands[0]->shape;
  int64_t m = 1;
  for (int d = in->rank - x->dimensions.n; d < in->rank; d++) m *= in->dims[d];
  KirType types[256];
  const HloShape *leaves[256];
  cg_shape_leaves(&x->shape, leaves, 256);
  for (int k = 0; k < n; k++) types[k] = cg_reg_type(leaves[k]->type);
  CgVal acc[256], has;

  /* 1. This thread's elements: its first (clamped into the row, so that
   * a thread past the row's end reads a real element it then ignores),
   * then every block-th. */
  CgVal lane = f->lane;
  /* Every thread has an element when the row is as long as the block:
   * then no flag travels. */
  bool every = m >= block;
  if (every) {
    has = kir_bool(&f->b, true);
    row_elems(f, x, n, idx, lane, acc);
  } else if (m > 0) {
    has = cg_icmp(f, KIR_SLT, lane, cg_index(f, m));
    row_elems(f, x, n, idx, cg_select(f, has, lane, cg_index(f, m - 1)), acc);
  } else {
    has = kir_bool(&f->b, false);
    for (int k = 0; k < n; k++) acc[k] = cg_elem(f, x->operands[n + k], NULL);
  }
  if (m > block) {
    CgLoop l = cg_for_values(f, cg_iadd_c(f, lane, block), cg_index(f, m), cg_index(f, block),
                             n, acc);
    CgVal e[256], next[256], args[2 * 256];
    row_elems(f, x, n, idx, l.iv, e);
    for (int k = 0; k < n; k++) {
      args[k] = l.iters + k;
      args[n + k] = e[k];
    }
    cg_apply(f, x->called[0], args, next);
    cg_for_end(f, &l, next);
    for (int k = 0; k < n; k++) acc[k] = l.results + k;
  }

  /* 2. Across the warp. */
  KirType i32 = kir_scalar(KIR_I32);
  CgVal zero32 = kir_const_int(&f->b, i32, 0);
  for (int d = GPU_WARP / 2; d >= 1; d /= 2) {
    CgVal other[256];
    for (int k = 0; k < n; k++)
      other[k] = narrow(f, kir_shfl_xor(&f->b, widen(f, acc[k]), d), types[k]);
    CgVal oh = has;
    if (!every)
      oh = kir_cmpi(&f->b, KIR_NE, kir_shfl_xor(&f->b, kir_cast(&f->b, KIR_EXTUI, has, i32), d),
                    zero32);
    merge(f, x, n, acc, &has, other, oh, every);
  }

  /* 3. Across the warps, through shared memory. */
  int nw = block / GPU_WARP;
  if (nw > 1) {
    CgVal slots[257], at;
    int64_t dims = nw;
    int id = f->fn->nvals; /* names the buffers of this reduction */
    for (int k = 0; k < n + !every; k++) {
      KirType t = k < n ? wide_type(types[k]) : i32;
      HloStr nm = {0};
      hlo_str_printf(&nm, "%s_smem%d_%d", f->fn->name, id, k);
      slots[k] = kir_shared(&f->b, nm.buf, kir_memref_shared(f->g->k, (KirElem)t.elem, 1, &dims));
      free(nm.buf);
    }
    kir_barrier(&f->b);
    CgVal warp = cg_iop(f, KIR_DIVUI, lane, cg_index(f, GPU_WARP));
    CgVal leader = cg_icmp(f, KIR_EQ, cg_iop(f, KIR_REMUI, lane, cg_index(f, GPU_WARP)),
                           cg_index(f, 0));
    CgIf w = cg_if(f, leader, 0, NULL);
    for (int k = 0; k < n; k++) kir_store(&f->b, widen(f, acc[k]), slots[k], &warp);
    if (!every) kir_store(&f->b, kir_cast(&f->b, KIR_EXTUI, has, i32), slots[n], &warp);
    cg_endif(f, &w, NULL);
    kir_barrier(&f->b);
    for (int s = 0; s < nw; s++) {
      at = cg_index(f, s);
      CgVal v[256];
      for (int k = 0; k < n; k++) v[k] = narrow(f, kir_load(&f->b, slots[k], &at), types[k]);
      CgVal h = every ? has : kir_cmpi(&f->b, KIR_NE, kir_load(&f->b, slots[n], &at), zero32);
      if (s == 0) {
        memcpy(acc, v, (size_t)n * sizeof *acc);
        has = h;
      } else {
        merge(f, x, n, acc, &has, v, h, every);
      }
    }
  }

  /* 4. The init value, and the total. */
  return finish(f, x, n, acc, has, out);
}
