/*
 * tree_reduce.c — "tree-reduce": a reduction of long rows into few
 * results becomes two reductions, where the backend asks for it
 * (PassPolicy.tree_reduce_min_row): the first reduces chunks of each row
 * into partials, the second each row's partials, as XLA's tree reduction
 * rewriter does for GPUs.  A GPU runs a row reduction a row per block
 * (codegen/gpu/parallel.c), so f32[16777216] -> f32[] would keep one
 * block of 256 threads busy on a GPU that holds hundreds; split into
 * chunks of 4096, its first kernel runs 4096 blocks, writing 4096
 * partials (an intermediate: buffer assignment puts it in the scratch
 * arena), and its second reduces them on one block.  The order of the
 * combination is fixed by the shapes, so results are deterministic.
 *
 *   reduce(x: T[A…, R…], init), dims = the trailing R…
 *     → reduce(reduce(reshape(pad(reshape(x, [A…, n]), init), [A…, c, k]),
 *                     init, {last}), init, {last})
 *
 * with n the product of R…, k the power of two nearest above √n (the
 * chunk), c = ⌈n / k⌉ chunks, the row padded to c·k with the init value.
 * Rows are split when they hold at least tree_reduce_min_row elements and
 * there are fewer than tree_reduce_max_rows of them (more rows already
 * give the GPU blocks enough).
 *
 * Exact where the init value may be applied once per chunk and pad a row:
 * a reduce of one input whose computation is one op of its two
 * parameters, either maximum, minimum, and, or (idempotent: any init), or
 * add with a zero init or multiply with a one, in f32, f64 or integers
 * (a partial of a narrower float would round once more).  Float sums and
 * products are reassociated, as a block reduction already does.
 *
 * requires: a verified module; runs before fusion, which then fuses each
 *           reduce's producers into its kernel (the reshapes and pad into
 *           the first).
 * keeps:    integer, max/min and logical results bit for bit.
 * breaks:   nothing.
 */
#include <math.h>

#include "internal.h"

/* Whether the init value `v` of a reduce by `op` over type t may be
 * applied several times (see above). */
static bool init_repeats(HloOpcode op, HloType t, const HloInstr *init) {
  double v;
  if (!px_splat(init, &v)) return false;
  bool wide = t == HLO_F32 || t == HLO_F64 || hlo_type_is_integer(t);
  switch (op) {
  case HLO_OP_MAXIMUM:
  case HLO_OP_MINIMUM:
  case HLO_OP_AND:
  case HLO_OP_OR: return true;
  case HLO_OP_ADD: return wide && v == 0;
  case HLO_OP_MULTIPLY: return wide && v == 1;
  default: return false;
  }
}

/* The op of a scalar computation (x, y) -> op(x, y), or HLO_OP_PARAMETER
 * (no op) when it is anything else. */
static HloOpcode binary_op(const HloComputation *c) {
  const HloInstr *r = c->root;
  if (c->nparams != 2 || r->noperands != 2 || r->operands[0]->op != HLO_OP_PARAMETER ||
      r->operands[1]->op != HLO_OP_PARAMETER || r->operands[0] == r->operands[1])
    return HLO_OP_PARAMETER;
  return r->op;
}

static HloInstr *rewrite(HloInstr *in, const void *policy) {
  const PassPolicy *p = policy;
  if (in->op != HLO_OP_REDUCE || in->noperands != 2 || !hlo_type_is_array(in->shape.type))
    return NULL;
  HloInstr *x = in->operands[0], *init = in->operands[1];
  int rank = x->shape.rank, kept = rank - in->dimensions.n;
  if (kept < 0 || in->dimensions.n == 0 || kept + 2 > HLO_MAX_RANK) return NULL;
  /* The reduced dims are the trailing ones (dimensions are sorted). */
  int64_t n = 1, rows = 1;
  for (int i = 0; i < in->dimensions.n; i++) {
    if (in->dimensions.v[i] != kept + i) return NULL;
    n *= x->shape.dims[kept + i];
  }
  for (int i = 0; i < kept; i++) rows *= x->shape.dims[i];
  if (n < p->tree_reduce_min_row || rows >= p->tree_reduce_max_rows) return NULL;
  HloComputation *f = in->called[0];
  if (!init_repeats(binary_op(f), in->shape.type, init)) return NULL;
  int64_t k = 1;
  while (k * k < n) k *= 2;
  int64_t c = (n + k - 1) / k;
  PxAt at = {in->parent, in};
  int64_t dims[HLO_MAX_RANK + 1];
  for (int i = 0; i < kept; i++) dims[i] = x->shape.dims[i];
  dims[kept] = n;
  HloInstr *row = px_reshape(at, x, kept + 1, dims);
  if (c * k > n) {
    HloPadDim pad[HLO_MAX_RANK] = {{0}};
    pad[kept].hi = c * k - n;
    HloError *e = NULL;
    row = px_built(hlo_build_pad(in->parent, row, init, pad, &e), e, in);
  }
  dims[kept] = c;
  dims[kept + 1] = k;
  HloInstr *chunks = px_reshape(at, row, kept + 2, dims);
  int64_t last = kept + 1;
  HloError *e = NULL;
  HloInstr *partial =
      px_built(hlo_build_reduce(in->parent, &chunks, &init, 1, &last, 1, f, &e), e, in);
  last = kept;
  HloInstr *total =
      px_built(hlo_build_reduce(in->parent, &partial, &init, 1, &last, 1, f, &e), e, in);
  HloInstr *made[] = {row, chunks, partial, total};
  for (size_t i = 0; i < sizeof made / sizeof *made; i++) made[i]->metadata = in->metadata;
  return px_with_layout(total, &in->shape, in);
}

bool pass_tree_reduce(HloModule *m, const PassPolicy *p) {
  if (!p || !p->tree_reduce_min_row) return false;
  return px_rewrite_each_with(m, false, rewrite, p);
}
