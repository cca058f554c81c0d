/*
 * gemm.c — the register-tiled contraction kernel (DESIGN.md decision 5):
 * a dot in the canonical form of passes/dot_canonicalize.c,
 * [B,]M,K × [B,]K,N → [B,]M,N, or a convolution in NHWC/HWIO form (one
 * or two spatial dims, any stride, padding and window dilation, no
 * groups, no base dilation) as the implicit matrix multiply of its output
 * pixels (M = batch × output positions) by its output features (N), K
 * running over the taps and input features, or a depthwise convolution
 * (a group per feature) the same way, K the taps only and the input read
 * as vectors of features instead of broadcast; f32 throughout, alone or with
 * an elementwise epilogue fused after it (bias, activation, residual add,
 * clamp, convert: an output fusion), computed a register tile at a time.
 *
 * The micro-kernel keeps an MR × NR tile of C in vector registers (NR = nv
 * vectors of the target's widest width) across the whole K loop: each step
 * loads nv vectors of a B row and, per row of the tile, broadcasts one A
 * element and does nv fused multiply-adds.  The tile shape comes from the
 * target: the most FMAs per load that fit MR·nv accumulators, nv B
 * vectors and one broadcast in its vector registers (6 × 64 with AVX-512's
 * 32 registers of 16 lanes; 4 × 24 with AVX2's 16 of 8).  The epilogue
 * runs on the tile before it is stored: the fused root is computed in the
 * elemental emitter's vector mode with the contraction bound to the
 * accumulator (cg_bind_value), so a bias is one vector load and a GELU one
 * vector polynomial per 16 outputs.
 *
 * A convolution's A element for tile row r (an output pixel) and K step
 * (tap, input feature) is the input at the pixel's window position plus
 * the tap, or zero where that falls in padding: the K loop is three loops
 * (kernel rows, kernel columns, input features; a loop of one trip is
 * left out), and a tile whose pixels' windows all lie inside the input
 * runs without checks, a border tile with a clamped load and its FMAs
 * selected away where the tap falls in padding (the evaluator skips such
 * taps: 0 × inf would be NaN).
 *
 * Loops: batches, then panels of NR columns, then tiles of MR rows, K
 * innermost: the B panel (K × NR) is reused from L2 across the M tiles.
 * (Rows outermost instead would stream all of B through L2 per tile row.)
 * A long K is blocked so that a block of the panel stays in L1 across a
 * group of tiles, and where the panel comes from L3 the next block is
 * prefetched while a block runs (block_k).
 * A parallel task takes a contiguous range of the (batch, panel, tile)
 * units, so a range runs whole panels but for its ends, and any shape
 * splits evenly, N = 64 with many rows as well as M = 1 with many panels.
 * Edges have no scalar fallback: the last rows are a tile of M mod MR
 * rows, the last panel has the vectors it needs, its last vector stored
 * (and, for a B in memory, loaded) under a mask.
 *
 * A depthwise convolution reads each input vector once per tap that uses
 * it, so a tile of consecutive pixels in flat order, which reloads per tap
 * what the neighbouring pixel's window already loaded (mr + 1 loads per mr
 * FMAs), waits on loads.  Where it can, it runs by rows instead (as
 * oneDNN's kernels do): a tile is mr consecutive pixels of one output row
 * and one vector of features; per kernel row, it loads the kw weight
 * vectors and then each input vector of the row segment that its windows
 * cover once, multiplying it into every pixel whose window holds it (mr +
 * 2 loads and 3 weights per 3·mr FMAs for a 3-wide window at stride 1,
 * 2·mr + 1 at stride 2).  mr is what the registers hold besides the
 * weights and one input vector (16 with AVX-512, 12 with AVX2), evened
 * over the row.  A kernel row in padding is no trip of the kernel-row
 * loop (its bounds computed per output row); along the row, the first and
 * the last tile are placed at compile time and leave out the taps in
 * padding, the tiles between read inside the input without checks (else,
 * for wide padding, the flat tiles above run).  Each pixel still sums its
 * taps in K order from 0, so the results are the same bits.
 *
 * Constant B (weights; a convolution's HWIO kernel is its K × N matrix) is
 * packed at compile time into panels, K × NR contiguous each, zero-padded
 * to whole vectors, and stored that way in the object's read-only data:
 * the compiled model never repacks weights.  A B computed at run time is
 * read in place (rows of N are contiguous).
 *
 * Every output element is summed in K order from 0 with one rounding per
 * step (fma), like the row path it replaces; results are bit-identical
 * for any number of threads (each element is computed by one task).
 *
 * A 3×3 stride-1 convolution with a constant kernel is planned here and
 * run by Winograd's F(2×2, 3×3) instead where the target's vector width,
 * tile and L2 say it pays (winograd.c: on the same register tile).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------------ */
/* Planning                                                                  */
/* ------------------------------------------------------------------------ */

/* The dot's dims when it is in canonical form and f32 throughout. */
static bool dot_form(const HloInstr *d, CgGemm *g) {
  const HloDotDims *dd = &d->dot;
  const HloShape *l = &d->operands[0]->shape, *r = &d->operands[1]->shape;
  int nb = dd->lhs_batch.n;
  if (nb > 1 || l->rank != nb + 2 || r->rank != nb + 2 || dd->lhs_contracting.n != 1 ||
      dd->lhs_contracting.v[0] != nb + 1 || dd->rhs_contracting.v[0] != nb)
    return false;
  if (nb && (dd->lhs_batch.v[0] != 0 || dd->rhs_batch.v[0] != 0)) return false;
  g->B = nb ? l->dims[0] : 1;
  g->M = l->dims[nb];
  g->K = l->dims[nb + 1];
  g->N = r->dims[nb + 1];
  return true;
}

/* A convolution's geometry when it is NHWC × HWIO → NHWC (the batch
 * first, the features last; one or two spatial dims), without groups (but
 * depthwise, one output feature per input feature), base dilation or
 * window reversal.  One spatial dim is taken as two with the first of
 * size 1. */
static bool conv_form(const HloInstr *x, CgGemm *g) {
  const HloConvDims *cd = &x->conv;
  int ns = cd->nspatial;
  const HloShape *in = &x->operands[0]->shape, *k = &x->operands[1]->shape;
  /* Depthwise: a group per input feature, one output feature each. */
  g->depthwise = x->feature_group_count > 1 && x->feature_group_count == in->dims[ns + 1] &&
                 k->dims[ns + 1] == in->dims[ns + 1];
  if (ns < 1 || ns > 2 || (x->feature_group_count != 1 && !g->depthwise) ||
      x->batch_group_count != 1 ||
      cd->in_batch != 0 || cd->in_feature != ns + 1 || cd->k_in_feature != ns ||
      cd->k_out_feature != ns + 1 || cd->out_batch != 0 || cd->out_feature != ns + 1)
    return false;
  g->ns = ns;
  int64_t taps = 1;
  for (int i = 0; i < 2; i++) {
    int d = i - (2 - ns); /* the spatial dim, or -1: the added one */
    if (d < 0) {
      g->in_sp[i] = g->out_sp[i] = g->k_sp[i] = g->stride[i] = g->dilate[i] = 1;
      g->pad_lo[i] = 0;
      continue;
    }
    const HloWindowDim *w = &x->window[d];
    if (cd->in_spatial[d] != d + 1 || cd->k_spatial[d] != d || cd->out_spatial[d] != d + 1 ||
        w->lhs_dilate != 1 || w->reversal)
      return false;
    g->in_sp[i] = in->dims[d + 1];
    g->out_sp[i] = x->shape.dims[d + 1];
    g->k_sp[i] = w->size;
    g->stride[i] = w->stride;
    g->dilate[i] = w->rhs_dilate;
    g->pad_lo[i] = w->pad_lo;
    g->guarded |= w->pad_lo > 0 || w->pad_hi > 0;
    taps *= w->size;
  }
  g->IC = g->depthwise ? 1 : in->dims[ns + 1]; /* the kernel's input features */
  g->B = 1;
  g->M = x->shape.dims[0] * g->out_sp[0] * g->out_sp[1];
  g->K = taps * g->IC;
  g->N = k->dims[ns + 1];
  return true;
}

static bool is_contraction(const HloInstr *x) {
  return x->op == HLO_OP_DOT || x->op == HLO_OP_CONVOLUTION;
}

/* What the epilogue computes from the contraction is vectors in the
 * elemental emitter's vector mode: every member between the root and the
 * contraction (which it reads at its own index) or the fusion's
 * parameters. */
static bool epilogue_ok(const HloInstr *x, const HloInstr *op, uint8_t *seen) {
  if (x == op || x->op == HLO_OP_PARAMETER) return true;
  if (seen[x->id]) return seen[x->id] == 1;
  bool ok = cg_vec_direct(x) && !is_contraction(x);
  for (int i = 0; i < x->noperands && ok; i++) ok = epilogue_ok(x->operands[i], op, seen);
  seen[x->id] = ok ? 1 : 2;
  return ok;
}

/* The register tile: nv vectors of `lanes` by mr rows, the fewest loads
 * per FMA (mr broadcasts and nv vector loads feed mr·nv FMAs) among the
 * tiles whose mr·nv accumulators, nv B vectors and one broadcast fit the
 * registers; no wider than N needs, no taller than M (nor than a nearby
 * height dividing M). */
void cg_gemm_tile(const CgTargetInfo *t, int64_t M, int64_t N, int lanes, int *mr, int *nv) {
  int64_t need = (N + lanes - 1) / lanes;
  double best = 1e30;
  *mr = 1;
  *nv = 1;
  for (int v = 1; v <= CG_GEMM_MAX_NV && v <= need; v++) {
    int m = (t->vector_regs - v - 1) / v;
    if (m > CG_GEMM_MAX_MR) m = CG_GEMM_MAX_MR;
    if (m > M) m = (int)M;
    if (m < 1) continue;
    double loads_per_fma = (double)(m + v) / (m * v);
    if (loads_per_fma < best) {
      best = loads_per_fma;
      *mr = m;
      *nv = v;
    }
  }
  /* A height that divides M saves the partial tile's code when it costs
   * little: down to 3/4 of the best. */
  for (int m = *mr; 4 * m >= 3 * *mr && M % *mr; m--)
    if (M % m == 0) *mr = m;
}

/* Whether some tile of a padded convolution has every pixel's window
 * inside the input (else only the checked border code is emitted: small
 * images, whose tiles of consecutive pixels span rows, have none). */
static bool any_tile_inside(const CgGemm *g) {
  int64_t plane = g->out_sp[0] * g->out_sp[1];
  for (int64_t t = 0; t < g->ntiles; t++) {
    bool inside = true;
    for (int64_t q = t * g->mr; q < (t + 1) * g->mr && q < g->M && inside; q++) {
      int64_t pos[2] = {q % plane / g->out_sp[1], q % g->out_sp[1]};
      for (int d = 0; d < 2; d++) {
        int64_t at = pos[d] * g->stride[d] - g->pad_lo[d];
        inside &= at >= 0 && at + (g->k_sp[d] - 1) * g->dilate[d] < g->in_sp[d];
      }
    }
    if (inside) return true;
  }
  return false;
}

/* K blocking for a contraction whose panel slice K × nr does not fit half
 * the L1 (the other half for A's rows and the sums): blocks of kc steps
 * that do (a convolution's within one tap's input features), over groups
 * of tiles whose sums (group × mr × nr floats) take about a quarter of it,
 * the panel's tiles split evenly into as few groups ("passes" over the
 * panel) as that allows with groups of at most one tile more: a second
 * pass reads the panel again (49 rows: 9 tiles of 6 in one pass rather
 * than 5 and 4, B read in place 12% faster than both the split and the
 * lone partial tile of before).  Each sum still adds its products in k
 * order, so results are the same bits as one pass.
 *
 * A packed B is also prefetched (see "Prefetching B" below) where its
 * blocks come from beyond L2 for a good share of the passes: the first
 * of at most PREFETCH_MAX_PASSES, or every one when the panel does not
 * fit half the L2.  Elsewhere B is in L2 for nearly every pass and the
 * prefetches' instructions cost more than they save (measured: 2-6%
 * slower at 512³ to 2048³, 85 to 342 passes; 5-18% faster at
 * 128×3072×768, 3 passes, and 49×2048×512, 2). */
enum { PREFETCH_MAX_PASSES = 4 };

static void block_k(const CgTargetInfo *t, CgGemm *g) {
  int64_t nr = (int64_t)g->nv * g->lanes, half = t->l1d_bytes / 2, panel = g->K * nr * 4;
  /* Convolutions with several taps gained nothing measurable where their
   * panel stays in L2 (their border tiles cost more than B's L2 traffic);
   * 1x1 ones gain a little.  Where it does not (ResNet-50's 7x7x512 3x3:
   * K = 4608, 1.2 MB per panel of 64 columns), the tiles of a pass each
   * streamed the whole panel from L3: blocked and prefetched, 0.66-0.70x
   * oneDNN became 0.86-0.96x. */
  bool taps = g->op->op == HLO_OP_CONVOLUTION && g->k_sp[0] * g->k_sp[1] > 1 &&
              panel <= t->l2_bytes / 2;
  if (g->depthwise || taps || panel <= half || g->ntiles < 2) return;
  g->kc = half / (nr * 4) & ~(int64_t)1; /* even: k_levels pairs the steps */
  if (g->op->op == HLO_OP_CONVOLUTION && g->kc > g->IC) g->kc = g->IC;
  if (g->kc < 16) {
    g->kc = 0;
    return;
  }
  int64_t group = t->l1d_bytes / 4 / ((int64_t)g->mr * nr * 4);
  group = group < 1 ? 1 : group > 16 ? 16 : group;
  int64_t passes = g->ntiles > group ? (g->ntiles - 1 + group - 1) / group : 1;
  g->group = (int)((g->ntiles + passes - 1) / passes);
  g->prefetch = g->packed && (passes <= PREFETCH_MAX_PASSES || panel > t->l2_bytes / 2);
}

/* A depthwise convolution's tile by rows: one vector of features (the
 * loads per FMA, (span + kw) / (mr · kw) with span the input vectors a
 * kernel row of the tile reads, do not depend on how many vectors, so the
 * widest row wins) and mr pixels, as many as fit the registers with the
 * kw weights of a kernel row and one input vector, split evenly over the
 * output row.  Only when the tiles between the first and the last read
 * inside the input along the row: those two are placed at compile time
 * and skip the taps in padding, the others have no checks. */
enum { DW_MAX_KW = 32 }; /* more taps along a row than registers anyway */

static bool dw_rows_plan(const CgTargetInfo *t, CgGemm *g) {
  int64_t ow = g->out_sp[1], kw = g->k_sp[1], mr = t->vector_regs - kw - 1;
  if (mr > CG_GEMM_MAX_MR) mr = CG_GEMM_MAX_MR;
  if (mr < 1 || kw > DW_MAX_KW) return false;
  int64_t tiles = (ow + mr - 1) / mr;
  mr = (ow + tiles - 1) / tiles;
  tiles = (ow + mr - 1) / mr;
  if (tiles > 2) {
    int64_t lo = mr * g->stride[1] - g->pad_lo[1];
    int64_t hi = ((tiles - 1) * mr - 1) * g->stride[1] - g->pad_lo[1] + (kw - 1) * g->dilate[1];
    if (lo < 0 || hi >= g->in_sp[1]) return false;
  }
  g->dw_rows = true;
  g->mr = (int)mr;
  g->nv = 1;
  g->dw_tiles = tiles;
  g->npanels = (g->N + g->lanes - 1) / g->lanes;
  g->nunits = g->M / ow * tiles;
  return true;
}

bool cg_conv_by_winograd(const CgTargetInfo *t, const HloInstr *x) {
  CgGemm g = {0};
  const HloShape *l = &x->operands[0]->shape, *r = &x->operands[1]->shape;
  if (x->op != HLO_OP_CONVOLUTION || x->shape.type != HLO_F32 || l->type != HLO_F32 ||
      r->type != HLO_F32 || x->operands[1]->op != HLO_OP_CONSTANT || !conv_form(x, &g))
    return false;
  g.op = g.root = x;
  g.packed = x->operands[1];
  g.lanes = t->vector_bits / 32;
  if (g.lanes < 4 || g.N < 4) return false;
  cg_gemm_tile(t, g.M, g.N, g.lanes, &g.mr, &g.nv);
  g.npanels = (g.N + (int64_t)g.nv * g.lanes - 1) / ((int64_t)g.nv * g.lanes);
  g.ntiles = (g.M + g.mr - 1) / g.mr;
  return cg_winograd_plan(t, &g);
}

bool cg_gemm_plan(const CgGen *g, const HloInstr *x, CgGemm *out) {
  memset(out, 0, sizeof *out);
  const HloInstr *op = x, *root = x;
  if (x->op == HLO_OP_FUSION) {
    const HloComputation *fc = x->called[0];
    if (fc->root->op == HLO_OP_TUPLE) return false;
    op = NULL;
    for (const HloInstr *i = fc->first; i; i = i->next) {
      if (is_contraction(i)) {
        if (op) return false;
        op = i;
      } else if (hlo_opcode_cost(i->op) == HLO_COST_LOOP) {
        return false;
      }
    }
    if (!op) return false;
    root = hlo_fused_nest_root(fc);
    if (!hlo_shape_same_dims(&root->shape, &op->shape)) return false;
    bool *at = hlo_fused_at_nest_index(fc);
    bool ok = at[op->id];
    free(at);
    uint8_t *seen = hlo_xcalloc((size_t)g->m->next_id, 1);
    ok = ok && epilogue_ok(root, op, seen);
    free(seen);
    /* The contraction reads its operands from the kernel's parameters. */
    ok = ok && op->operands[0]->op == HLO_OP_PARAMETER &&
         op->operands[1]->op == HLO_OP_PARAMETER;
    if (!ok) return false;
  } else if (!is_contraction(x)) {
    return false;
  }
  const HloShape *l = &op->operands[0]->shape, *r = &op->operands[1]->shape;
  if (!hlo_shape_has_default_layout(l) || !hlo_shape_has_default_layout(r) ||
      !hlo_shape_has_default_layout(&op->shape))
    return false;
  /* f16 and bf16 operands (f16, bf16 or f32 results) only where the
   * backend tiles contractions (a GPU's tensor cores): they skip the
   * register tiles planned below. */
  bool half = (l->type == HLO_F16 || l->type == HLO_BF16) && r->type == l->type &&
              (op->shape.type == l->type || op->shape.type == HLO_F32);
  if (half && g->target->backend->tiles) {
    if (!(op->op == HLO_OP_DOT ? dot_form(op, out) : conv_form(op, out)) || out->depthwise ||
        out->K < 1 || out->M < 1 || out->N < 1)
      return false;
    out->op = op;
    out->root = root;
    return true;
  }
  if (op->shape.type != HLO_F32 || l->type != HLO_F32 || r->type != HLO_F32) return false;
  if (!(op->op == HLO_OP_DOT ? dot_form(op, out) : conv_form(op, out))) return false;
  if (out->N < 4 || out->K < 1 || out->M < 1) return false;
  const CgTargetInfo *t = &g->target->info;
  int lanes = t->vector_bits / 32;
  if (lanes < 4) return false;
  out->op = op;
  out->root = root;
  out->lanes = lanes;
  cg_gemm_tile(t, out->M, out->N, lanes, &out->mr, &out->nv);
  int64_t nr = (int64_t)out->nv * lanes;
  out->npanels = (out->N + nr - 1) / nr;
  out->ntiles = (out->M + out->mr - 1) / out->mr;
  out->nunits = out->B * out->npanels * out->ntiles;
  /* The operand the kernel reads B from: a constant is packed. */
  const HloInstr *rhs = op->operands[1];
  if (x->op == HLO_OP_FUSION) rhs = x->operands[rhs->parameter_number];
  out->packed = rhs->op == HLO_OP_CONSTANT ? rhs : NULL;
  if (out->depthwise && dw_rows_plan(t, out)) {
    out->ntiles = 0;
  } else if (!cg_winograd_plan(t, out)) {
    if (out->guarded && !any_tile_inside(out)) out->all_border = true;
    block_k(t, out);
  }
  return true;
}

/* ------------------------------------------------------------------------ */
/* Packing                                                                   */
/* ------------------------------------------------------------------------ */

/* How B ([B,]K,N) is laid out as panels: for each batch and panel p, K
 * rows of nr floats (columns p·nr …), zero past N. */
typedef struct PanelLayout {
  int64_t B, npanels, K, N, nr;
} PanelLayout;

static void fill_panels(void *dst, const void *src, const void *how) {
  const PanelLayout *pl = how;
  float *data = dst;
  const float *b = src;
  for (int64_t i = 0; i < pl->B; i++)
    for (int64_t p = 0; p < pl->npanels; p++)
      for (int64_t k = 0; k < pl->K; k++) {
        float *row = data + ((i * pl->npanels + p) * pl->K + k) * pl->nr;
        int64_t n0 = p * pl->nr, w = pl->N - n0 < pl->nr ? pl->N - n0 : pl->nr;
        memcpy(row, b + (i * pl->K + k) * pl->N + n0, (size_t)w * sizeof(float));
      }
}

/* The global holding constant B ([B,]K,N, or a kernel HWIO: K = H·W·I
 * rows of N) as panels (PanelLayout).  Its bytes are made when the
 * program takes them (codegen.c), so a model's packed weights exist once
 * and need not coexist with every unpacked one. */
static CgVal packed_global(CgFn *f, const CgGemm *gm) {
  CgGen *g = f->g;
  const HloInstr *c = gm->packed;
  int64_t nr = (int64_t)gm->nv * gm->lanes;
  int64_t dims[4] = {gm->B, gm->npanels, gm->K, nr};
  char name[64];
  snprintf(name, sizeof name, "_const%d_packed", g->nglobals++);
  HloStr full = {0};
  hlo_str_printf(&full, "%s%s", g->prefix, name);
  KirType t = kir_memref(g->k, KIR_F32, 4, dims);
  size_t bytes = (size_t)(gm->B * gm->npanels * gm->K * nr) * sizeof(float);
  PanelLayout pl = {gm->B, gm->npanels, gm->K, gm->N, nr};
  kir_global_derived(g->k, full.buf, t, c->literal->data, bytes, fill_panels, &pl, sizeof pl);
  CgVal m = kir_get_global(&f->b, full.buf, t);
  free(full.buf);
  return m;
}

/* ------------------------------------------------------------------------ */
/* Emission                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct Ctx {
  CgFn *f;
  const CgGemm *gm;
  CgVal a, bmem, out;   /* memrefs: lhs, rhs (packed or not), the output */
  CgVal bflat;          /* gm->prefetch: the packed rhs as one dim */
  bool packed;
  bool batched;         /* a dot with a batch dim */
  bool conv;
} Ctx;

/* One tile being emitted: its place, its rows, and the K loops' indices. */
typedef struct Tile {
  CgVal b, p, n0;       /* batch, panel, its first column */
  int mr, nv, last_lanes;
  CgVal mask;           /* of the last vector's lanes when partial */
  bool guard;           /* a border tile: taps may fall in padding */
  CgVal row[CG_GEMM_MAX_MR];            /* a dot's rows */
  CgVal img[CG_GEMM_MAX_MR], pos[2][CG_GEMM_MAX_MR];  /* a conv's pixels */
  CgVal at[2][CG_GEMM_MAX_MR];          /* …their window's first position */
  CgVal tap[2];         /* conv: the kernel row and column */
  CgVal in_pos[2][CG_GEMM_MAX_MR];      /* conv: the rows' input position
                                         * at the tap (clamped when guarded) */
  CgVal valid[CG_GEMM_MAX_MR];          /* guarded: the position is inside */
  CgVal k_lo, k_hi;     /* a dot's K block (0: all of K) */
  CgVal slot;           /* K blocked: the tile's place in its group */
  CgVal pf0;            /* prefetching: bflat's index at K row 0 (below) */
} Tile;

/* The output index of tile row r, column n. */
static void out_index(const Ctx *c, const Tile *t, int r, CgVal n, CgVal *idx) {
  int o = 0;
  if (c->conv) {
    idx[o++] = t->img[r];
    if (c->gm->ns == 2) idx[o++] = t->pos[0][r];
    idx[o++] = t->pos[1][r];
  } else {
    if (c->batched) idx[o++] = t->b;
    idx[o++] = t->row[r];
  }
  idx[o] = n;
}

/* Where the tile's rows start: a dot's row indices, or a conv's pixels
 * (image, output position) and their windows' first input position. */
static void tile_rows(const Ctx *c, Tile *t, CgVal m0) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  for (int r = 0; r < t->mr; r++) {
    CgVal q = cg_iadd_c(f, m0, r);
    if (!c->conv) {
      t->row[r] = q;
      continue;
    }
    int64_t plane = gm->out_sp[0] * gm->out_sp[1];
    t->img[r] = cg_iop(f, KIR_DIVSI, q, cg_index(f, plane));
    CgVal in = cg_iop(f, KIR_REMSI, q, cg_index(f, plane));
    t->pos[0][r] = cg_iop(f, KIR_DIVSI, in, cg_index(f, gm->out_sp[1]));
    t->pos[1][r] = cg_iop(f, KIR_REMSI, in, cg_index(f, gm->out_sp[1]));
    for (int d = 0; d < 2; d++)
      t->at[d][r] = cg_iadd_c(f, cg_imul_c(f, t->pos[d][r], gm->stride[d]), -gm->pad_lo[d]);
  }
}

/* Whether every window of the tile's pixels lies inside the input. */
static CgVal tile_inside(const Ctx *c, const Tile *t) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  CgVal all = kir_bool(&f->b, true);
  for (int r = 0; r < t->mr; r++)
    for (int d = 0; d < 2; d++) {
      int64_t reach = (gm->k_sp[d] - 1) * gm->dilate[d];
      all = cg_and(f, all, cg_icmp(f, KIR_SGE, t->at[d][r], cg_index(f, 0)));
      all = cg_and(f, all, cg_icmp(f, KIR_SLT, cg_iadd_c(f, t->at[d][r], reach),
                                   cg_index(f, gm->in_sp[d])));
    }
  return all;
}

/* Entering K level `level` at index iv: a conv's kernel row (0) and column
 * (1) fix the rows' input positions along that dim; at the column, a
 * border tile also decides which rows read inside the input. */
static void enter_level(const Ctx *c, Tile *t, int level, CgVal iv) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  if (!c->conv || level > 1) return;
  t->tap[level] = iv;
  for (int r = 0; r < t->mr; r++)
    t->in_pos[level][r] = cg_iop(f, KIR_ADDI, t->at[level][r], cg_imul_c(f, iv, gm->dilate[level]));
  if (level != 1 || !t->guard) return;
  for (int r = 0; r < t->mr; r++) {
    CgVal ok = kir_bool(&f->b, true);
    for (int d = 0; d < 2; d++) {
      CgVal x = t->in_pos[d][r];
      ok = cg_and(f, ok, cg_icmp(f, KIR_SGE, x, cg_index(f, 0)));
      ok = cg_and(f, ok, cg_icmp(f, KIR_SLT, x, cg_index(f, gm->in_sp[d])));
    }
    t->valid[r] = ok;
    for (int d = 0; d < 2; d++) t->in_pos[d][r] = cg_select(f, ok, t->in_pos[d][r], cg_index(f, 0));
  }
}

/* Prefetching B (gm->prefetch): where a panel's slice of B comes from
 * beyond L2 (its first pass, or every pass when the panel does not fit
 * L2), the tile that first reads a K block would wait on each of its
 * lines; so while a group of tiles runs K block kb, its tiles fetch the
 * next block into L2, spread over their steps: in each step each tile
 * asks for q chunks of PREFETCH_CHUNK floats (a cache line), enough
 * between the group's tiles for one row of the panel (the rows after the
 * current block are the next block's, a convolution's next tap's too). */
enum { PREFETCH_CHUNK = 16, PREFETCH_LOCALITY = 2 };

static int64_t prefetch_lines(const CgGemm *gm) {
  int64_t nr = (int64_t)gm->nv * gm->lanes, chunks = (nr + PREFETCH_CHUNK - 1) / PREFETCH_CHUNK;
  return (chunks + gm->group - 1) / gm->group;
}

/* One K step at index k of the innermost level: nv B vectors, one
 * broadcast A element per row (depthwise: nv A vectors, the input's
 * features at the tile's columns), mr·nv FMAs from acc into next. */
static void k_step(const Ctx *c, const Tile *t, CgVal k, const CgVal *acc, CgVal *next) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  int L = gm->lanes, nv = t->nv;
  CgVal flat = k; /* a conv's row of its K × N kernel matrix */
  if (c->conv) {
    CgVal tap = cg_iop(f, KIR_ADDI, cg_imul_c(f, t->tap[0], gm->k_sp[1]), t->tap[1]);
    flat = cg_iop(f, KIR_ADDI, cg_imul_c(f, tap, gm->IC), k);
  }
  CgVal bv[CG_GEMM_MAX_NV];
  for (int v = 0; v < nv; v++) {
    CgVal bi[4];
    int o = 0;
    if (c->packed) {
      bi[o++] = t->b;
      bi[o++] = t->p;
      bi[o++] = flat;
      bi[o] = cg_index(f, v * L);
    } else if (c->conv) {
      if (gm->ns == 2) bi[o++] = t->tap[0];
      bi[o++] = t->tap[1];
      bi[o++] = k;
      bi[o] = cg_iadd_c(f, t->n0, v * L);
    } else {
      if (c->batched) bi[o++] = t->b;
      bi[o++] = k;
      bi[o] = cg_iadd_c(f, t->n0, v * L);
    }
    bool partial = !c->packed && t->last_lanes && v == nv - 1;
    bv[v] = cg_vload(f, c->bmem, bi, L, partial ? t->mask : 0);
  }
  if (t->pf0) {
    int64_t q = prefetch_lines(gm), total = gm->B * gm->npanels * gm->K * gm->nv * L;
    CgVal at = cg_iop(f, KIR_ADDI, t->pf0, cg_imul_c(f, flat, gm->group * q * PREFETCH_CHUNK));
    for (int64_t j = 0; j < q; j++)
      kir_prefetch(&f->b, c->bflat,
                   (CgVal[]){cg_iop(f, KIR_MINSI, cg_iadd_c(f, at, j * PREFETCH_CHUNK),
                                    cg_index(f, total - 1))},
                   PREFETCH_LOCALITY);
  }
  for (int r = 0; r < t->mr; r++) {
    CgVal ai[4];
    int o = 0;
    if (c->conv) {
      ai[o++] = t->img[r];
      if (gm->ns == 2) ai[o++] = t->in_pos[0][r];
      ai[o++] = t->in_pos[1][r];
    } else {
      if (c->batched) ai[o++] = t->b;
      ai[o++] = t->row[r];
    }
    ai[o] = k;
    CgVal av = 0;
    if (!gm->depthwise) av = kir_broadcast(&f->b, kir_load(&f->b, c->a, ai), L);
    for (int v = 0; v < nv; v++) {
      if (gm->depthwise) { /* the input's features are the output's */
        ai[o] = cg_iadd_c(f, t->n0, v * L);
        av = cg_vload(f, c->a, ai, L, t->last_lanes && v == nv - 1 ? t->mask : 0);
      }
      CgVal sum = kir_fma(&f->b, av, bv[v], acc[r * nv + v]);
      /* A tap in padding adds nothing (not 0 × b: b may be infinite);
       * AVX-512 makes this a masked FMA. */
      if (t->guard) sum = kir_select(&f->b, t->valid[r], sum, acc[r * nv + v]);
      next[r * nv + v] = sum;
    }
  }
}

/* The K levels from `level` in: a dot's one (K), a conv's three (kernel
 * rows, kernel columns, input features), a tap level of one trip
 * without a loop; the accumulators in[] carried through, the sums into out[]. */
static void k_levels(const Ctx *c, Tile *t, int level, const CgVal *in, CgVal *out) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  int nacc = t->mr * t->nv, last = c->conv ? 2 : 0;
  int64_t n = !c->conv ? gm->K : level < 2 ? gm->k_sp[level] : gm->IC;
  CgVal iters[CG_GEMM_MAX_MR * CG_GEMM_MAX_NV], res[CG_GEMM_MAX_MR * CG_GEMM_MAX_NV];
  CgLoop l = {0};
  const CgVal *cur = in;
  CgVal iv;
  bool loop = n > 1 || level == last; /* the innermost always loops */
  /* The innermost loop makes two K steps a trip where every trip count is
   * even: a K block's bounds are multiples of kc (block_k keeps it even).
   * Not with prefetches: their address arithmetic pushed the pair past
   * the registers (an accumulator spilled in the loop, 7x7x2048x512 1x1
   * at 0.5-0.6x oneDNN instead of 0.7-0.8x). */
  bool pairs = level == last && n >= 4 && n % 2 == 0 && (!t->k_hi || gm->kc % 2 == 0) &&
               !gm->prefetch;
  if (pairs) {
    CgVal two = cg_index(f, 2);
    l = t->k_hi ? cg_for_range(f, cg_iop(f, KIR_DIVSI, t->k_lo, two),
                               cg_iop(f, KIR_DIVSI, t->k_hi, two), nacc, in)
                : cg_for(f, n / 2, nacc, in);
    for (int i = 0; i < nacc; i++) iters[i] = kir_for_iter(l.op, i);
    cur = iters;
    iv = cg_imul_c(f, l.iv, 2);
  } else if (loop && t->k_hi) { /* a K block */
    l = cg_for_range(f, t->k_lo, t->k_hi, nacc, in);
    for (int i = 0; i < nacc; i++) iters[i] = kir_for_iter(l.op, i);
    cur = iters;
    iv = l.iv;
  } else if (loop) {
    l = cg_for(f, n, nacc, in);
    for (int i = 0; i < nacc; i++) iters[i] = kir_for_iter(l.op, i);
    cur = iters;
    iv = l.iv;
  } else {
    iv = cg_index(f, 0);
  }
  enter_level(c, t, level, iv);
  if (pairs) {
    CgVal mid[CG_GEMM_MAX_MR * CG_GEMM_MAX_NV];
    k_step(c, t, iv, cur, mid);
    k_step(c, t, cg_iadd_c(f, iv, 1), mid, res);
  } else if (level == last) {
    k_step(c, t, iv, cur, res);
  } else {
    k_levels(c, t, level + 1, cur, res);
  }
  if (loop) {
    cg_for_end(f, &l, res);
    for (int i = 0; i < nacc; i++) out[i] = kir_result(l.op, i);
  } else {
    memcpy(out, res, (size_t)nacc * sizeof *out);
  }
}

/* The epilogue on the tile's sums and the store: the root in vector mode
 * with the contraction bound to each accumulator. */
static void tile_store(const Ctx *c, const Tile *t, const CgVal *acc) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  int L = gm->lanes;
  for (int r = 0; r < t->mr; r++)
    for (int v = 0; v < t->nv; v++) {
      CgVal idx[4];
      CgVal vmask = t->last_lanes && v == t->nv - 1 ? t->mask : 0;
      out_index(c, t, r, cg_iadd_c(f, t->n0, v * L), idx);
      CgDetour scope = cg_detour(f, NULL);
      CgVal val = acc[r * t->nv + v];
      if (gm->root != gm->op) {
        cg_bind_value(f, gm->op, val);
        val = cg_elem_vec(f, gm->root, idx, L, vmask);
      }
      f->vlanes = L;
      f->vmask = vmask;
      cg_store(f, val, c->out, &gm->root->shape, idx);
      f->vlanes = 0;
      f->vmask = 0;
      cg_resume(f, &scope);
    }
}

/* The shortest K for which a fused epilogue runs in a loop over the
 * tile's rows, its sums kept in a stack tile, rather than once per
 * accumulator: one more store and load per sum against K FMAs is noise
 * there (≤ 2/K), and the epilogue's code, most of a fused kernel's, is
 * emitted once per vector of a row instead of once per accumulator. */
enum { EPILOGUE_LOOP_MIN_K = 32 };

/* tile_store through a stack tile, in a loop over the rows from m0. */
static void tile_store_rows(const Ctx *c, const Tile *t, CgVal m0, const CgVal *acc) {
  CgFn *f = c->f;
  int L = c->gm->lanes, nv = t->nv;
  int64_t dims[2] = {t->mr, (int64_t)nv * L};
  KirBuilder at = f->b;
  kir_at_start(&at, f->fn->body);
  CgVal buf = kir_alloca(&at, kir_memref(f->g->k, KIR_F32, 2, dims), 64);
  for (int r = 0; r < t->mr; r++)
    for (int v = 0; v < nv; v++)
      cg_vstore(f, acc[r * nv + v], buf, (CgVal[]){cg_index(f, r), cg_index(f, v * L)}, 0);
  CgLoop l = cg_for(f, t->mr, 0, NULL);
  Tile row = *t;
  row.mr = 1;
  tile_rows(c, &row, cg_iop(f, KIR_ADDI, m0, l.iv));
  CgVal sums[CG_GEMM_MAX_NV];
  for (int v = 0; v < nv; v++)
    sums[v] = cg_vload(f, buf, (CgVal[]){l.iv, cg_index(f, v * L)}, L, 0);
  tile_store(c, &row, sums);
  cg_for_end(f, &l, NULL);
}

/* The tile of mr rows from m0 in panel p (nv vectors, the last of
 * last_lanes lanes when partial: 0 means full), placed. */
static Tile tile_at(const Ctx *c, CgVal b, CgVal m0, CgVal p, int mr, int nv, int last_lanes) {
  CgFn *f = c->f;
  int L = c->gm->lanes;
  Tile t = {.b = b, .p = p, .mr = mr, .nv = nv, .last_lanes = last_lanes};
  t.n0 = cg_imul_c(f, p, (int64_t)c->gm->nv * L);
  if (last_lanes)
    t.mask = kir_cmpi(&f->b, KIR_SLT, kir_iota(&f->b, KIR_I32, L),
                      kir_const_int(&f->b, kir_vector(KIR_I32, L), last_lanes));
  tile_rows(c, &t, m0);
  return t;
}

static void block_sums(const Ctx *c, Tile *t, CgVal kb, const CgVal *init, CgVal *acc);

/* The tile's sums into acc, from init: over all of K (kb 0) or over K
 * block kb.  A conv with padding sums border tiles with checks and the
 * others without; both variants yield their sums to one epilogue, which
 * is most of a fused kernel's code. */
static void sums(const Ctx *c, Tile *t, CgVal kb, const CgVal *init, CgVal *acc) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  int nacc = t->mr * t->nv;
  if (!c->conv || !gm->guarded || gm->all_border) {
    t->guard = c->conv && gm->guarded;
    if (kb) block_sums(c, t, kb, init, acc);
    else k_levels(c, t, 0, init, acc);
    return;
  }
  KirType types[CG_GEMM_MAX_MR * CG_GEMM_MAX_NV];
  for (int i = 0; i < nacc; i++) types[i] = kir_vector(KIR_F32, gm->lanes);
  CgIf inside = cg_if(f, tile_inside(c, t), nacc, types);
  for (int guard = 0; guard < 2; guard++) {
    t->guard = guard;
    if (kb) block_sums(c, t, kb, init, acc);
    else k_levels(c, t, 0, init, acc);
    if (!guard) cg_else(f, &inside, acc);
  }
  cg_endif(f, &inside, acc);
  for (int i = 0; i < nacc; i++) acc[i] = inside.results + i;
}

/* The epilogue and the store of the tile's sums: in a loop over its rows
 * when K is long (EPILOGUE_LOOP_MIN_K), else once per accumulator. */
static void store(const Ctx *c, const Tile *t, CgVal m0, const CgVal *acc) {
  const CgGemm *gm = c->gm;
  if (gm->root != gm->op && gm->K >= EPILOGUE_LOOP_MIN_K && t->mr > 1)
    tile_store_rows(c, t, m0, acc);
  else
    tile_store(c, t, acc);
}

/* The tile of mr rows from m0 in panel p over all of K: sums from 0, then
 * the epilogue and the store. */
static void tile(const Ctx *c, CgVal b, CgVal m0, CgVal p, int mr, int nv, int last_lanes) {
  CgFn *f = c->f;
  Tile t = tile_at(c, b, m0, p, mr, nv, last_lanes);
  CgVal init[CG_GEMM_MAX_MR * CG_GEMM_MAX_NV], acc[CG_GEMM_MAX_MR * CG_GEMM_MAX_NV];
  CgVal zero = kir_const_float(&f->b, kir_vector(KIR_F32, c->gm->lanes), 0.0);
  for (int i = 0; i < mr * nv; i++) init[i] = zero;
  sums(c, &t, 0, init, acc);
  store(c, &t, m0, acc);
}

/* The K blocks of a blocked contraction: a dot's ceil(K / kc); a
 * convolution's, ceil(IC / kc) for each tap in turn. */
static int64_t k_blocks(const CgGemm *gm) {
  if (gm->op->op == HLO_OP_DOT) return (gm->K + gm->kc - 1) / gm->kc;
  return gm->k_sp[0] * gm->k_sp[1] * ((gm->IC + gm->kc - 1) / gm->kc);
}

/* Where tile t's prefetches start, its block being the rows [lo, hi) of
 * its panel: at step (row) lo + j it asks for chunk (j·group + slot)·q + i
 * (i < q) of the rows from hi: pf0 + row·group·q·CHUNK + i·CHUNK. */
static void prefetch_at(const Ctx *c, Tile *t, CgVal lo, CgVal hi) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  if (!gm->prefetch) return;
  int64_t nr = (int64_t)gm->nv * gm->lanes, step = gm->group * prefetch_lines(gm) * PREFETCH_CHUNK;
  CgVal panel = cg_iop(f, KIR_ADDI, cg_imul_c(f, t->b, gm->npanels), t->p);
  CgVal at = cg_imul_c(f, cg_iop(f, KIR_ADDI, cg_imul_c(f, panel, gm->K), hi), nr);
  at = cg_iop(f, KIR_ADDI, at, cg_imul_c(f, t->slot, prefetch_lines(gm) * PREFETCH_CHUNK));
  t->pf0 = cg_iop(f, KIR_SUBI, at, cg_imul_c(f, lo, step));
}

/* The sums of K block kb of tile t into acc, from init: a dot's steps
 * [kb·kc, …); a convolution's tap kb / (blocks per tap) and the input
 * features of block kb mod that. */
static void block_sums(const Ctx *c, Tile *t, CgVal kb, const CgVal *init, CgVal *acc) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  if (!c->conv) {
    t->k_lo = cg_imul_c(f, kb, gm->kc);
    t->k_hi = cg_iop(f, KIR_MINSI, cg_iadd_c(f, t->k_lo, gm->kc), cg_index(f, gm->K));
    prefetch_at(c, t, t->k_lo, t->k_hi);
    k_levels(c, t, 0, init, acc);
    return;
  }
  CgVal per_tap = cg_index(f, (gm->IC + gm->kc - 1) / gm->kc);
  CgVal tap = cg_iop(f, KIR_DIVSI, kb, per_tap);
  t->k_lo = cg_imul_c(f, cg_iop(f, KIR_REMSI, kb, per_tap), gm->kc);
  t->k_hi = cg_iop(f, KIR_MINSI, cg_iadd_c(f, t->k_lo, gm->kc), cg_index(f, gm->IC));
  CgVal flat0 = cg_imul_c(f, tap, gm->IC);
  prefetch_at(c, t, cg_iop(f, KIR_ADDI, flat0, t->k_lo), cg_iop(f, KIR_ADDI, flat0, t->k_hi));
  enter_level(c, t, 0, cg_iop(f, KIR_DIVSI, tap, cg_index(f, gm->k_sp[1])));
  enter_level(c, t, 1, cg_iop(f, KIR_REMSI, tap, cg_index(f, gm->k_sp[1])));
  k_levels(c, t, 2, init, acc);
}

/* One K block kb of the tile of mr rows from m0 (K blocked; mr below
 * gm->mr for the partial last tile, which takes a slot as the others): its sums
 * start at 0 in the first block and at those the previous block left in
 * slot `slot` of buf, and go back there, or through the epilogue to the
 * output after the last block.  A padded convolution's tile sums with or
 * without checks as sums() decides. */
static void tile_block(const Ctx *c, CgVal b, CgVal m0, CgVal p, int mr, int nv, int last_lanes,
                       CgVal kb, CgVal buf, CgVal slot) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  int L = gm->lanes, nacc = mr * nv;
  Tile t = tile_at(c, b, m0, p, mr, nv, last_lanes);
  t.slot = slot;
  CgVal row0 = cg_imul_c(f, slot, gm->mr);
  KirType types[CG_GEMM_MAX_MR * CG_GEMM_MAX_NV];
  CgVal init[CG_GEMM_MAX_MR * CG_GEMM_MAX_NV], acc[CG_GEMM_MAX_MR * CG_GEMM_MAX_NV];
  for (int i = 0; i < nacc; i++) types[i] = kir_vector(KIR_F32, L);
  CgIf first = cg_if(f, cg_icmp(f, KIR_EQ, kb, cg_index(f, 0)), nacc, types);
  CgVal zero = kir_const_float(&f->b, kir_vector(KIR_F32, L), 0.0);
  for (int i = 0; i < nacc; i++) init[i] = zero;
  cg_else(f, &first, init);
  for (int r = 0; r < mr; r++)
    for (int v = 0; v < nv; v++)
      init[r * nv + v] = cg_vload(f, buf, (CgVal[]){cg_iadd_c(f, row0, r), cg_index(f, v * L)},
                                  L, 0);
  cg_endif(f, &first, init);
  for (int i = 0; i < nacc; i++) init[i] = first.results + i;
  sums(c, &t, kb, init, acc);
  CgIf last = cg_if(f, cg_icmp(f, KIR_EQ, kb, cg_index(f, k_blocks(gm) - 1)), 0, NULL);
  store(c, &t, m0, acc);
  cg_else(f, &last, NULL);
  for (int r = 0; r < mr; r++)
    for (int v = 0; v < nv; v++)
      cg_vstore(f, acc[r * nv + v], buf, (CgVal[]){cg_iadd_c(f, row0, r), cg_index(f, v * L)},
                0);
  cg_endif(f, &last, NULL);
}

/* The tiles [lo, hi) of one panel, K blocked: in groups of gm->group
 * tiles, each K block over the group's tiles in turn; the partial last
 * tile (M mod mr rows) in its group like the others, so that it too
 * reads B's block while it is near. */
static void panel_tiles_blocked(const Ctx *c, CgVal b, CgVal p, int nv, int last_lanes,
                                CgVal lo, CgVal hi) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  int64_t G = gm->group, nr = (int64_t)gm->nv * gm->lanes;
  int64_t dims[2] = {G * gm->mr, nr};
  KirBuilder at = f->b;
  kir_at_start(&at, f->fn->body);
  CgVal buf = kir_alloca(&at, kir_memref(f->g->k, KIR_F32, 2, dims), 64);
  CgVal n = cg_iop(f, KIR_SUBI, hi, lo);
  CgVal ngroups = cg_iop(f, KIR_DIVSI, cg_iadd_c(f, n, G - 1), cg_index(f, G));
  CgLoop gl = cg_for_range(f, cg_index(f, 0), ngroups, 0, NULL);
  CgVal g0 = cg_iop(f, KIR_ADDI, lo, cg_imul_c(f, gl.iv, G));
  CgVal g1 = cg_iop(f, KIR_MINSI, cg_iadd_c(f, g0, G), hi);
  CgLoop kl = cg_for(f, k_blocks(gm), 0, NULL);
  CgLoop tl = cg_for_range(f, g0, g1, 0, NULL);
  CgVal m0 = cg_imul_c(f, tl.iv, gm->mr), slot = cg_iop(f, KIR_SUBI, tl.iv, g0);
  int64_t nfull = gm->M / gm->mr;
  if (gm->M % gm->mr) {
    CgIf full = cg_if(f, cg_icmp(f, KIR_SLT, tl.iv, cg_index(f, nfull)), 0, NULL);
    tile_block(c, b, m0, p, gm->mr, nv, last_lanes, kl.iv, buf, slot);
    cg_else(f, &full, NULL);
    tile_block(c, b, m0, p, (int)(gm->M % gm->mr), nv, last_lanes, kl.iv, buf, slot);
    cg_endif(f, &full, NULL);
  } else {
    tile_block(c, b, m0, p, gm->mr, nv, last_lanes, kl.iv, buf, slot);
  }
  cg_for_end(f, &tl, NULL);
  cg_for_end(f, &kl, NULL);
  cg_for_end(f, &gl, NULL);
}

/* The tiles [lo, hi) of one panel (full, or the partial last one): K
 * blocked, or the full tiles in a loop, then the partial last one (M mod
 * mr rows) when the range holds it. */
static void panel_tiles(const Ctx *c, CgVal b, CgVal p, bool p_partial, CgVal lo, CgVal hi) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  int64_t nr = (int64_t)gm->nv * gm->lanes, rem = gm->N % nr;
  int nv = p_partial ? (int)((rem + gm->lanes - 1) / gm->lanes) : gm->nv;
  int last_lanes = p_partial ? (int)(rem % gm->lanes) : 0;
  if (gm->kc) {
    panel_tiles_blocked(c, b, p, nv, last_lanes, lo, hi);
    return;
  }
  int64_t nfull = gm->M / gm->mr;
  bool rest = gm->M % gm->mr != 0;
  CgVal full_hi = rest ? cg_iop(f, KIR_MINSI, hi, cg_index(f, nfull)) : hi;
  CgLoop l = cg_for_range(f, lo, full_hi, 0, NULL);
  tile(c, b, cg_imul_c(f, l.iv, gm->mr), p, gm->mr, nv, last_lanes);
  cg_for_end(f, &l, NULL);
  if (!rest) return;
  CgIf in = cg_if(f, cg_icmp(f, KIR_SGT, hi, cg_index(f, nfull)), 0, NULL);
  tile(c, b, cg_index(f, nfull * gm->mr), p, (int)(gm->M % gm->mr), nv, last_lanes);
  cg_endif(f, &in, NULL);
}

/* ------------------------------------------------------------------------ */
/* Depthwise by rows                                                         */
/* ------------------------------------------------------------------------ */

/* The output row a depthwise tile lies in: its image and row, the flat
 * index of its first pixel, the input row of kernel row 0, and the kernel
 * rows [kh_lo, kh_hi) that read inside the input. */
typedef struct DwRow {
  CgVal img, oh, m0, ih0, kh_lo, kh_hi;
} DwRow;

static DwRow dw_row(const Ctx *c, CgVal row) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  int64_t oh = gm->out_sp[0], kh = gm->k_sp[0], d = gm->dilate[0], h = gm->in_sp[0];
  DwRow r;
  r.img = cg_iop(f, KIR_DIVSI, row, cg_index(f, oh));
  r.oh = cg_iop(f, KIR_REMSI, row, cg_index(f, oh));
  r.m0 = cg_imul_c(f, row, gm->out_sp[1]);
  r.ih0 = cg_iadd_c(f, cg_imul_c(f, r.oh, gm->stride[0]), -gm->pad_lo[0]);
  bool inside = gm->pad_lo[0] <= 0 &&
                (oh - 1) * gm->stride[0] - gm->pad_lo[0] + (kh - 1) * d < h;
  if (inside) {
    r.kh_lo = cg_index(f, 0);
    r.kh_hi = cg_index(f, kh);
    return r;
  }
  /* From ceil(-ih0 / d) to ceil((h - ih0) / d); where a numerator is not
   * positive, truncation gives a bound <= 0 too, which the clamps make
   * an empty or a whole range as it should be. */
  CgVal lo = cg_iop(f, KIR_DIVSI, cg_iop(f, KIR_SUBI, cg_index(f, d - 1), r.ih0), cg_index(f, d));
  CgVal hi = cg_iop(f, KIR_DIVSI, cg_iop(f, KIR_SUBI, cg_index(f, h + d - 1), r.ih0),
                    cg_index(f, d));
  r.kh_lo = cg_iop(f, KIR_MAXSI, lo, cg_index(f, 0));
  r.kh_hi = cg_iop(f, KIR_MINSI, hi, cg_index(f, kh));
  return r;
}

/* Whether input vector q of a depthwise tile row (of `width` pixels)
 * feeds pixel i at tap j (i·stride + j·dilate = q): then *i. */
static bool dw_feeds(const CgGemm *gm, int width, int64_t q, int64_t j, int *i) {
  int64_t e = q - j * gm->dilate[1];
  if (e < 0 || e % gm->stride[1] || e / gm->stride[1] >= width) return false;
  *i = (int)(e / gm->stride[1]);
  return true;
}

/* One depthwise tile: `width` pixels of the row from output column ow0
 * (known at compile time when col >= 0, and then the taps that fall in
 * padding are left out; else every tap reads inside the input) over panel
 * p of nv vectors, the last of last_lanes lanes when partial.  For each
 * kernel row, the kw weight vectors, then the input vectors that the
 * tile's windows cover in that row, in order, each loaded once and
 * multiplied into every pixel whose window holds it (pixel i's tap j reads
 * vector i·stride + j·dilate: a tile of mr pixels, stride 1 and 3 taps
 * reads mr + 2 vectors, not 3·mr).  Each pixel still adds its taps in K
 * order (kernel rows, then columns), from 0, as the other tiles do. */
static void dw_tile(const Ctx *c, const DwRow *row, CgVal ow0, int64_t col, int width, CgVal p,
                    int nv, int last_lanes) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  int L = gm->lanes, nacc = width * nv;
  int64_t kw = gm->k_sp[1], s = gm->stride[1], pad = gm->pad_lo[1];
  int64_t span = (width - 1) * s + (kw - 1) * gm->dilate[1] + 1;
  Tile t = {.b = cg_index(f, 0), .p = p, .mr = width, .nv = nv, .last_lanes = last_lanes};
  t.n0 = cg_imul_c(f, p, (int64_t)gm->nv * L);
  if (last_lanes)
    t.mask = kir_cmpi(&f->b, KIR_SLT, kir_iota(&f->b, KIR_I32, L),
                      kir_const_int(&f->b, kir_vector(KIR_I32, L), last_lanes));
  for (int i = 0; i < width; i++) {
    t.img[i] = row->img;
    t.pos[0][i] = row->oh;
    t.pos[1][i] = cg_iadd_c(f, ow0, i);
  }
  CgVal init[CG_GEMM_MAX_MR * CG_GEMM_MAX_NV], acc[CG_GEMM_MAX_MR * CG_GEMM_MAX_NV];
  CgVal zero = kir_const_float(&f->b, kir_vector(KIR_F32, L), 0.0);
  for (int i = 0; i < nacc; i++) init[i] = zero;
  CgLoop l = cg_for_range(f, row->kh_lo, row->kh_hi, nacc, init);
  for (int i = 0; i < nacc; i++) acc[i] = kir_for_iter(l.op, i);
  CgVal ih = cg_iop(f, KIR_ADDI, row->ih0, cg_imul_c(f, l.iv, gm->dilate[0]));
  CgVal wv[DW_MAX_KW][CG_GEMM_MAX_NV];
  for (int64_t j = 0; j < kw; j++)
    for (int v = 0; v < nv; v++) {
      CgVal bi[4];
      int o = 0;
      if (c->packed) {
        bi[o++] = t.b;
        bi[o++] = p;
        bi[o++] = cg_iadd_c(f, cg_imul_c(f, l.iv, kw), j);
        bi[o] = cg_index(f, v * L);
      } else {
        if (gm->ns == 2) bi[o++] = l.iv;
        bi[o++] = cg_index(f, j);
        bi[o++] = cg_index(f, 0);
        bi[o] = cg_iadd_c(f, t.n0, v * L);
      }
      bool partial = !c->packed && last_lanes && v == nv - 1;
      wv[j][v] = cg_vload(f, c->bmem, bi, L, partial ? t.mask : 0);
    }
  CgVal iw0 = cg_iadd_c(f, cg_imul_c(f, ow0, s), -pad);
  for (int64_t q = 0; q < span; q++) {
    int i;
    bool used = false;
    for (int64_t j = 0; j < kw && !used; j++) used = dw_feeds(gm, width, q, j, &i);
    if (!used || (col >= 0 && (col * s - pad + q < 0 || col * s - pad + q >= gm->in_sp[1])))
      continue;
    for (int v = 0; v < nv; v++) {
      CgVal ai[4];
      int o = 0;
      ai[o++] = row->img;
      if (gm->ns == 2) ai[o++] = ih;
      ai[o++] = cg_iadd_c(f, iw0, q);
      ai[o] = cg_iadd_c(f, t.n0, v * L);
      CgVal in = cg_vload(f, c->a, ai, L, last_lanes && v == nv - 1 ? t.mask : 0);
      for (int64_t j = 0; j < kw; j++)
        if (dw_feeds(gm, width, q, j, &i))
          acc[i * nv + v] = kir_fma(&f->b, in, wv[j][v], acc[i * nv + v]);
    }
  }
  cg_for_end(f, &l, acc);
  for (int i = 0; i < nacc; i++) acc[i] = kir_result(l.op, i);
  store(c, &t, cg_iop(f, KIR_ADDI, row->m0, ow0), acc);
}

/* The tile of `width` pixels from column ow0 (col: see dw_tile) over
 * every panel: the full ones in a loop, then the partial last one. */
static void dw_panels(const Ctx *c, const DwRow *row, CgVal ow0, int64_t col, int width) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  int64_t nr = (int64_t)gm->nv * gm->lanes, nfull = gm->N / nr, rem = gm->N % nr;
  if (nfull) {
    CgLoop l = cg_for(f, nfull, 0, NULL);
    dw_tile(c, row, ow0, col, width, l.iv, gm->nv, 0);
    cg_for_end(f, &l, NULL);
  }
  if (rem)
    dw_tile(c, row, ow0, col, width, cg_index(f, nfull), (int)((rem + gm->lanes - 1) / gm->lanes),
            (int)(rem % gm->lanes));
}

/* The units [lo, hi) of a depthwise convolution by rows: unit u is tile
 * u mod dw_tiles of output row u / dw_tiles (rows counting those of every
 * image in turn).  A row's first and last tiles are placed at compile time
 * (they hold the pixels whose windows reach into padding along the row),
 * those between in a loop. */
static void dw_rows_emit(const Ctx *c, CgVal lo, CgVal hi) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  int64_t nt = gm->dw_tiles, last = (nt - 1) * gm->mr;
  CgVal r_lo = cg_iop(f, KIR_DIVSI, lo, cg_index(f, nt));
  CgVal r_hi = cg_iop(f, KIR_DIVSI, cg_iadd_c(f, hi, nt - 1), cg_index(f, nt));
  CgLoop rl = cg_for_range(f, r_lo, r_hi, 0, NULL);
  CgVal first = cg_imul_c(f, rl.iv, nt);
  CgVal t_lo = cg_iop(f, KIR_MAXSI, cg_iop(f, KIR_SUBI, lo, first), cg_index(f, 0));
  CgVal t_hi = cg_iop(f, KIR_MINSI, cg_iop(f, KIR_SUBI, hi, first), cg_index(f, nt));
  DwRow row = dw_row(c, rl.iv);
  CgIf a = cg_if(f, cg_icmp(f, KIR_EQ, t_lo, cg_index(f, 0)), 0, NULL);
  dw_panels(c, &row, cg_index(f, 0), 0, nt == 1 ? (int)gm->out_sp[1] : gm->mr);
  cg_endif(f, &a, NULL);
  if (nt > 2) {
    CgLoop ml = cg_for_range(f, cg_iop(f, KIR_MAXSI, t_lo, cg_index(f, 1)),
                             cg_iop(f, KIR_MINSI, t_hi, cg_index(f, nt - 1)), 0, NULL);
    dw_panels(c, &row, cg_imul_c(f, ml.iv, gm->mr), -1, gm->mr);
    cg_for_end(f, &ml, NULL);
  }
  if (nt > 1) {
    CgIf z = cg_if(f, cg_icmp(f, KIR_EQ, t_hi, cg_index(f, nt)), 0, NULL);
    dw_panels(c, &row, cg_index(f, last), last, (int)(gm->out_sp[1] - last));
    cg_endif(f, &z, NULL);
  }
  cg_for_end(f, &rl, NULL);
}

void cg_gemm_emit(CgFn *f, const CgGemm *gm, CgVal out) {
  Ctx c = {.f = f, .gm = gm, .out = out, .conv = gm->op->op == HLO_OP_CONVOLUTION};
  c.batched = !c.conv && gm->op->shape.rank == 3;
  c.a = cg_memref_source(f, gm->op->operands[0]);
  c.packed = gm->packed != NULL;
  c.bmem = c.packed ? packed_global(f, gm) : cg_memref_source(f, gm->op->operands[1]);
  HLO_CHECK(c.a && c.bmem);
  int64_t nr = (int64_t)gm->nv * gm->lanes;
  if (gm->prefetch) {
    int64_t all = gm->B * gm->npanels * gm->K * nr;
    c.bflat = kir_reshape(&f->b, c.bmem, kir_memref(f->g->k, KIR_F32, 1, &all));
  }
  /* The units [lo, hi): all of them, or a parallel task's range.  Unit u
   * is tile u mod ntiles of panel o = u / ntiles, o counting the panels of
   * every batch in turn; a range runs its panels in order, each over the
   * tiles of the range it holds. */
  CgVal lo = f->par ? f->par_lo : cg_index(f, 0);
  CgVal hi = f->par ? f->par_hi : cg_index(f, gm->nunits);
  f->par = false;
  if (gm->dw_rows) {
    dw_rows_emit(&c, lo, hi);
    return;
  }
  if (gm->winograd) {
    cg_winograd_emit(f, gm, out, lo, hi);
    return;
  }
  int64_t nt = gm->ntiles;
  CgVal o_lo = cg_iop(f, KIR_DIVSI, lo, cg_index(f, nt));
  CgVal o_hi = cg_iop(f, KIR_DIVSI, cg_iadd_c(f, hi, nt - 1), cg_index(f, nt));
  CgLoop ol = cg_for_range(f, o_lo, o_hi, 0, NULL);
  CgVal first = cg_imul_c(f, ol.iv, nt);
  CgVal t_lo = cg_iop(f, KIR_MAXSI, cg_iop(f, KIR_SUBI, lo, first), cg_index(f, 0));
  CgVal t_hi = cg_iop(f, KIR_MINSI, cg_iop(f, KIR_SUBI, hi, first), cg_index(f, nt));
  CgVal b = cg_iop(f, KIR_DIVSI, ol.iv, cg_index(f, gm->npanels));
  CgVal p = cg_iop(f, KIR_REMSI, ol.iv, cg_index(f, gm->npanels));
  if (gm->N % nr && gm->N > nr) {
    /* The last panel has fewer vectors, its last one partial. */
    CgIf full = cg_if(f, cg_icmp(f, KIR_SLT, p, cg_index(f, gm->N / nr)), 0, NULL);
    panel_tiles(&c, b, p, false, t_lo, t_hi);
    cg_else(f, &full, NULL);
    panel_tiles(&c, b, p, true, t_lo, t_hi);
    cg_endif(f, &full, NULL);
  } else {
    panel_tiles(&c, b, p, gm->N < nr, t_lo, t_hi); /* one panel, maybe partial */
  }
  cg_for_end(f, &ol, NULL);
}
