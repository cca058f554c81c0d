/*
 * conv.c — elemental convolution with XLA's full semantics: dim_labels
 * (any dimension order, any number of spatial dims), window stride,
 * padding (negative too), lhs (base) and rhs (window) dilation, window
 * reversal, feature_group_count and batch_group_count.
 *
 * One output element (b, o, spatial…) is a loop over the kernel's spatial
 * taps; a tap whose input position falls in padding or in a base-dilation
 * hole is skipped; a tap inside loops over the group's input features.
 * Groups, as StableHLO defines them and the evaluator implements: the
 * output features form G = feature_group_count × batch_group_count equal
 * groups; output feature o is in group g = o / (Co / G).  With feature
 * groups, group g reads input features [g·Ci, (g+1)·Ci) (Ci is the
 * kernel's input-feature size); with batch groups, it reads input batch
 * g·N + b (N the output batch).
 *
 * Operands convert to the result type, accumulate in cg_accum_type (see
 * dot.c).  A naive loop nest: f32 NHWC convolutions without groups or
 * base dilation are register-tiled kernels (gemm.c); of the others, float
 * convolutions with the features minor in output and kernel take the row
 * path (conv_row, and dot.c).
 */
#include "internal.h"

static CgVal conv_operand(CgFn *f, const HloInstr *x, const HloInstr *op,
                          const CgVal *i) {
  HloType rt = x->shape.type;
  return cg_to_float(f, cg_convert(f, cg_elem(f, op, i), op->shape.type, rt),
                     rt);
}

/* Output positions along the last spatial dim filled at once by the row
 * path: the kernel's values loaded for one tap and input feature serve
 * every position of the block (register tiling along W).  Only when that
 * dim is the output's next-to-last (the row's neighbour), its size is a
 * multiple, there is no base dilation (transposed convolutions: taps fall
 * in holes per position), and an outer dim of size > 1 exists, so a
 * parallel split never starts inside a block (kernel.c splits the
 * outermost dim of size > 1).  Measured on the bench models (AVX2, exe
 * --bench, min of 3 medians): blocks of 4 take resnet_blocks from 0.71 to
 * 0.52 ms and unet_small from 0.54 to 0.35, blocks of 3 (W = 6 and 3: the
 * 1x1 convolution to 1280 features reads its weights a third as often)
 * mobilenet_v2 from 0.63 to 0.56; blocks of 2 (W = 14) made small_cnn 15%
 * slower, blocks of 8 gained nothing over 4. */
static int conv_block(const HloInstr *x) {
  const HloConvDims *cd = &x->conv;
  int r = x->shape.rank, ns = cd->nspatial;
  if (ns < 1 || cd->out_spatial[ns - 1] != r - 2 || x->window[ns - 1].lhs_dilate != 1)
    return 1;
  bool outer = false;
  for (int d = 0; d < r - 2; d++) outer |= x->shape.dims[d] > 1;
  int64_t w = x->shape.dims[r - 2];
  if (!outer) return 1;
  return w % 4 == 0 ? 4 : w % 3 == 0 ? 3 : 1;
}

/* The row path of a float convolution whose output features are the last
 * output dim and the kernel's last dim (NHWC/HWIO and the like): a row is
 * one output position, all Co features, filled taps outermost, then input
 * features, output features innermost (contiguous in kernel and row):
 *   row[o] = fma(in[pos, group(o)·Ci + c], k[tap, c, o], row[o]).
 * Rows come in blocks of P consecutive positions along the last spatial
 * dim (conv_block): each kernel value feeds P rows.  A tap that falls in
 * padding along that dim for some positions of the block reads a clamped
 * position and contributes 0 there.  Each feature sums in the naive loop's
 * order.  Batch groups stay naive. */
static bool conv_row(CgFn *f, const HloInstr *x, const CgVal *idx,
                     CgVal *out) {
  const HloConvDims *cd = &x->conv;
  const HloInstr *lhs = x->operands[0], *rhs = x->operands[1];
  HloType rt = x->shape.type;
  int r = x->shape.rank;
  int64_t co = rhs->shape.dims[cd->k_out_feature];
  int64_t ci = rhs->shape.dims[cd->k_in_feature];
  int64_t fg = x->feature_group_count;
  if (!hlo_type_is_float(rt) || x->batch_group_count != 1 || fg < 1 ||
      cd->out_feature != r - 1 || cd->k_out_feature != rhs->shape.rank - 1 ||
      co < 4 || co > 8192 || co % fg || !cg_row_order_ok(f, x))
    return false;
  int64_t cog = co / fg;
  KirElem aty = cg_float_elem(rt);
  int ns = cd->nspatial;
  CgVal li[HLO_MAX_RANK], ki[HLO_MAX_RANK];
  li[cd->in_batch] = idx[cd->out_batch];
  CgRow row = cg_row_begin_block(f, &x->shape, idx, co, aty,
                                 co * conv_block(x) <= 8192 ? conv_block(x) : 1);
  int P = row.block, last = ns - 1;
  CgLoop loops[HLO_MAX_RANK + 1];
  int nloops = 0;
  CgVal inside = kir_bool(&f->b, true);
  bool checked = false;
  /* Along the last spatial dim, one input position per row of the block
   * (row p is output position idx + p there). */
  CgVal lpos[8], lin[8];
  bool lchecked = false;
  for (int d = 0; d < ns; d++) {
    const HloWindowDim *w = &x->window[d];
    int64_t ksz = rhs->shape.dims[cd->k_spatial[d]];
    int64_t isz = lhs->shape.dims[cd->in_spatial[d]];
    int64_t osz = x->shape.dims[cd->out_spatial[d]];
    CgVal wi;
    if (ksz == 1) {
      wi = cg_index(f, 0);
    } else {
      loops[nloops] = cg_for(f, ksz, 0, NULL);
      wi = loops[nloops++].iv;
    }
    ki[cd->k_spatial[d]] =
        w->reversal ? cg_iop(f, KIR_SUBI, cg_index(f, ksz - 1), wi) : wi;
    CgVal o = idx[cd->out_spatial[d]];
    if (d < last || P == 1) {
      li[cd->in_spatial[d]] = cg_window_position(f, w, o, wi, osz, ksz, isz, &inside, &checked);
      continue;
    }
    for (int p = 0; p < P; p++) {
      lin[p] = kir_bool(&f->b, true);
      bool c = false;
      lpos[p] = cg_window_position(f, w, cg_iadd_c(f, o, p), wi, osz, ksz, isz, &lin[p], &c);
      if (c) {
        /* Read a real element; its product is dropped below. */
        lpos[p] = cg_iop(f, KIR_MAXSI, cg_iop(f, KIR_MINSI, lpos[p], cg_index(f, isz - 1)), cg_index(f, 0));
        lchecked = true;
      }
    }
  }
  CgIf c = {0};
  if (checked) c = cg_if(f, inside, 0, NULL);
  /* Input features u at a time (one load and store of the row). */
  int u = cg_row_unroll(ci, co);
  if (P > 1 && u > 2) u = ci % 2 == 0 ? 2 : 1;
  CgLoop cl = cg_for(f, ci / u, 0, NULL);
  CgVal c0 = cg_imul_c(f, cl.iv, u), cu[4], a[8][4], k[4];
  CgVal zero = lchecked ? kir_const_float(&f->b, kir_scalar(aty), 0.0) : 0;
  /* The lhs value of input feature `feat` for row p. */
#define LHS_AT(p, feat)                                                              \
  do {                                                                               \
    li[cd->in_feature] = (feat);                                                     \
    if (P > 1) li[cd->in_spatial[last]] = lpos[p];                                   \
    a[p][i] = conv_operand(f, x, lhs, li);                                           \
    if (P > 1 && lchecked) a[p][i] = cg_select(f, lin[p], a[p][i], zero);       \
  } while (0)
  for (int i = 0; i < u; i++) {
    cu[i] = cg_iadd_c(f, c0, i);
    if (fg == 1)
      for (int p = 0; p < P; p++) LHS_AT(p, cu[i]);
  }
  CgVal km;
  /* Vectors along the output features when every lane reads the same
   * input feature (no groups). */
  int lanes = fg == 1 ? cg_row_lanes(f, rhs, rt, co, &km) : 0;
  if (lanes) {
    CgVal av[8][4], kv[4];
    for (int p = 0; p < P; p++)
      for (int i = 0; i < u; i++) av[p][i] = kir_broadcast(&f->b, a[p][i], lanes);
    CgSweep s = cg_sweep(co, lanes, true);
    while (cg_sweep_next(f, &s)) {
      ki[cd->k_out_feature] = s.j;
      for (int i = 0; i < u; i++) {
        ki[cd->k_in_feature] = cu[i];
        kv[i] = cg_vload(f, km, ki, s.now, 0);
      }
      for (int p = 0; p < P; p++)
        cg_row_vfma_at(f, &row, p, s.j, u, s.now ? av[p] : a[p], kv, s.now, 0);
    }
  } else {
    CgLoop j = cg_for(f, co, 0, NULL);
    ki[cd->k_out_feature] = j.iv;
    CgVal g = fg == 1 ? 0 : cog > 1 ? cg_iop(f, KIR_DIVUI, j.iv, cg_index(f, cog)) : j.iv;
    for (int i = 0; i < u; i++) {
      if (fg > 1)
        for (int p = 0; p < P; p++) LHS_AT(p, cg_iop(f, KIR_ADDI, cg_imul_c(f, g, ci), cu[i]));
      ki[cd->k_in_feature] = cu[i];
      k[i] = conv_operand(f, x, rhs, ki);
    }
    for (int p = 0; p < P; p++) cg_row_fma_at(f, &row, p, j.iv, u, a[p], k);
    cg_for_end(f, &j, NULL);
  }
#undef LHS_AT
  cg_for_end(f, &cl, NULL);
  if (checked) cg_endif(f, &c, NULL);
  for (int l = nloops - 1; l >= 0; l--) cg_for_end(f, &loops[l], NULL);
  *out = cg_from_float(f, cg_row_end(f, &row, idx[r - 1]), rt);
  return true;
}

CgVal cg_elem_convolution(CgFn *f, const HloInstr *x, const CgVal *idx) {
  const HloConvDims *cd = &x->conv;
  const HloInstr *lhs = x->operands[0], *rhs = x->operands[1];
  HloType rt = x->shape.type, at = cg_accum_type(rt);
  HLO_CHECK(rt != HLO_PRED); /* legalize.c counts true products in s32 */
  CgVal rowv;
  if (conv_row(f, x, idx, &rowv)) return rowv;
  bool fl = hlo_type_is_float(rt);
  int ns = cd->nspatial;
  int64_t co = rhs->shape.dims[cd->k_out_feature];
  int64_t ci = rhs->shape.dims[cd->k_in_feature];
  int64_t nout = x->shape.dims[cd->out_batch];
  int64_t fg = x->feature_group_count, bg = x->batch_group_count;
  int64_t groups = fg * bg, cog = co / groups;

  CgVal b = idx[cd->out_batch], o = idx[cd->out_feature];
  CgVal g = groups > 1 ? cg_iop(f, KIR_DIVUI, o, cg_index(f, cog)) : 0;
  CgVal in_b = bg > 1 ? cg_iop(f, KIR_ADDI, cg_imul_c(f, g, nout), b) : b;
  CgVal fbase = fg > 1 ? cg_imul_c(f, g, ci) : cg_index(f, 0);

  CgVal li[HLO_MAX_RANK], ki[HLO_MAX_RANK];
  li[cd->in_batch] = in_b;
  ki[cd->k_out_feature] = o;
  CgVal acc = cg_const(f, at, 0.0);
  CgLoop loops[HLO_MAX_RANK + 1];
  int nloops = 0;
  CgVal inside = kir_bool(&f->b, true);
  bool checked = false;
  for (int d = 0; d < ns; d++) {
    const HloWindowDim *w = &x->window[d];
    int64_t ksz = rhs->shape.dims[cd->k_spatial[d]];
    int64_t isz = lhs->shape.dims[cd->in_spatial[d]];
    int64_t osz = x->shape.dims[cd->out_spatial[d]];
    CgVal wi;
    if (ksz == 1) {
      wi = cg_index(f, 0);
    } else {
      loops[nloops] = cg_for(f, ksz, 1, &acc);
      wi = loops[nloops].iv;
      acc = loops[nloops].iters;
      nloops++;
    }
    ki[cd->k_spatial[d]] =
        w->reversal ? cg_iop(f, KIR_SUBI, cg_index(f, ksz - 1), wi) : wi;
    li[cd->in_spatial[d]] = cg_window_position(f, w, idx[cd->out_spatial[d]], wi, osz, ksz, isz,
                                         &inside, &checked);
  }
  CgIf c = {0};
  KirType aty = cg_type(f, acc);
  if (checked) c = cg_if(f, inside, 1, &aty);
  CgLoop fl_loop = cg_for(f, ci, 1, &acc);
  li[cd->in_feature] = cg_iop(f, KIR_ADDI, fbase, fl_loop.iv);
  ki[cd->k_in_feature] = fl_loop.iv;
  CgVal a = cg_convert(f, cg_elem(f, lhs, li), lhs->shape.type, rt);
  CgVal k = cg_convert(f, cg_elem(f, rhs, ki), rhs->shape.type, rt);
  if (fl) {
    a = cg_to_float(f, a, rt);
    k = cg_to_float(f, k, rt);
  }
  CgVal p = kir_binop(&f->b, fl ? KIR_MULF : KIR_MULI, a, k);
  CgVal s = kir_binop(&f->b, fl ? KIR_ADDF : KIR_ADDI, fl_loop.iters, p);
  cg_for_end(f, &fl_loop, &s);
  s = fl_loop.results;
  if (checked) {
    cg_else(f, &c, &s);
    cg_endif(f, &c, &acc);
    s = c.results;
  }
  for (int l = nloops - 1; l >= 0; l--) {
    cg_for_end(f, &loops[l], &s);
    s = loops[l].results;
  }
  return cg_from_accum(f, s, rt);
}
