/*
 * gemm.c — the register-tiled matrix-multiply kernel (DESIGN.md decision
 * 5): a dot in the canonical form of passes/dot_canonicalize.c,
 * [B,]M,K × [B,]K,N → [B,]M,N in f32, alone or with an elementwise
 * epilogue fused after it (bias, activation, residual add, clamp, convert:
 * an output fusion), computed a register tile at a time.
 *
 * The micro-kernel keeps an MR × NR tile of C in vector registers (NR = nv
 * vectors of the target's widest width) across the whole K loop: each step
 * loads nv vectors of a B row and, per row of the tile, broadcasts one A
 * element and does nv fused multiply-adds.  The tile shape comes from the
 * target: the most FMAs per load that fit MR·nv accumulators, nv B
 * vectors and one broadcast in its vector registers (6 × 64 with AVX-512's
 * 32 registers of 16 lanes; 4 × 24 with AVX2's 16 of 8).  The epilogue
 * runs on the tile before it is stored: the fused root is computed in the
 * elemental emitter's vector mode with the dot bound to the accumulator
 * (cg_bind_value), so a bias is one vector load and a GELU one vector
 * polynomial per 16 outputs.
 *
 * Loops: batches, then panels of NR columns, then tiles of MR rows, K
 * innermost: the B panel (K × NR) is reused from L2 across the M tiles.
 * (Rows outermost instead would stream all of B through L2 per tile row.)
 * A parallel task takes a contiguous range of the (batch, panel, tile)
 * units, so a range runs whole panels but for its ends, and any shape
 * splits evenly, N = 64 with many rows as well as M = 1 with many panels.
 * Edges have no scalar fallback: the last rows are a tile of M mod MR
 * rows, the last panel has the vectors it needs, its last vector stored
 * (and, for a B in memory, loaded) under a mask.
 *
 * Constant B (weights) is packed at compile time into panels, K × NR
 * contiguous each, zero-padded to whole vectors, and stored that way in
 * the object's read-only data: the compiled model never repacks weights.
 * A B computed at run time is read in place (rows of N are contiguous).
 *
 * Every output element is summed in k order from 0 with one rounding per
 * step (fma), like the row path it replaces; results are bit-identical
 * for any number of threads (each element is computed by one task).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------------ */
/* Planning                                                                  */
/* ------------------------------------------------------------------------ */

/* The dot's dims when it is in canonical form and f32 throughout. */
static bool canonical(const HloInstr *d, int64_t *B, int64_t *M, int64_t *K, int64_t *N) {
  const HloDotDims *dd = &d->dot;
  const HloShape *l = &d->operands[0]->shape, *r = &d->operands[1]->shape;
  if (d->shape.type != HLO_F32 || l->type != HLO_F32 || r->type != HLO_F32) return false;
  int nb = dd->lhs_batch.n;
  if (nb > 1 || l->rank != nb + 2 || r->rank != nb + 2 || dd->lhs_contracting.n != 1 ||
      dd->lhs_contracting.v[0] != nb + 1 || dd->rhs_contracting.v[0] != nb)
    return false;
  if (nb && (dd->lhs_batch.v[0] != 0 || dd->rhs_batch.v[0] != 0)) return false;
  if (!hlo_shape_has_default_layout(l) || !hlo_shape_has_default_layout(r) ||
      !hlo_shape_has_default_layout(&d->shape))
    return false;
  *B = nb ? l->dims[0] : 1;
  *M = l->dims[nb];
  *K = l->dims[nb + 1];
  *N = r->dims[nb + 1];
  return true;
}

/* What the epilogue computes from the dot is vectors in the elemental
 * emitter's vector mode: every member between the root and the dot
 * (which it reads at its own index) or the fusion's parameters. */
static bool epilogue_ok(const HloInstr *x, const HloInstr *dot, uint8_t *seen) {
  if (x == dot || x->op == HLO_OP_PARAMETER) return true;
  if (seen[x->id]) return seen[x->id] == 1;
  bool ok = cg_vec_direct(x) && x->op != HLO_OP_DOT;
  for (int i = 0; i < x->noperands && ok; i++) ok = epilogue_ok(x->operands[i], dot, seen);
  seen[x->id] = ok ? 1 : 2;
  return ok;
}

/* The register tile: nv vectors of `lanes` by mr rows, the fewest loads
 * per FMA (mr broadcasts and nv vector loads feed mr·nv FMAs) among the
 * tiles whose mr·nv accumulators, nv B vectors and one broadcast fit the
 * registers; no wider than N needs, no taller than M. */
static void choose_tile(const CgTargetInfo *t, int64_t M, int64_t N, int lanes, int *mr,
                        int *nv) {
  int64_t need = (N + lanes - 1) / lanes;
  double best = 1e30;
  *mr = 1;
  *nv = 1;
  for (int v = 1; v <= 4 && v <= need; v++) {
    int m = (t->vector_regs - v - 1) / v;
    if (m > 16) m = 16;
    if (m > M) m = (int)M;
    if (m < 1) continue;
    double loads_per_fma = (double)(m + v) / (m * v);
    if (loads_per_fma < best) {
      best = loads_per_fma;
      *mr = m;
      *nv = v;
    }
  }
}

bool cg_gemm_plan(const CgGen *g, const HloInstr *x, CgGemm *out) {
  memset(out, 0, sizeof *out);
  const HloInstr *dot = x, *root = x;
  if (x->op == HLO_OP_FUSION) {
    const HloComputation *fc = x->called[0];
    if (fc->root->op == HLO_OP_TUPLE) return false;
    dot = NULL;
    for (const HloInstr *i = fc->first; i; i = i->next) {
      if (i->op == HLO_OP_DOT) {
        if (dot) return false;
        dot = i;
      } else if (hlo_opcode_cost(i->op) == HLO_COST_LOOP) {
        return false;
      }
    }
    if (!dot) return false;
    root = hlo_fused_nest_root(fc);
    if (!hlo_shape_same_dims(&root->shape, &dot->shape)) return false;
    bool *at = hlo_fused_at_nest_index(fc);
    bool ok = at[dot->id];
    free(at);
    uint8_t *seen = calloc((size_t)g->m->next_id, 1);
    HLO_CHECK(seen);
    ok = ok && epilogue_ok(root, dot, seen);
    free(seen);
    /* The dot reads its operands from the kernel's parameters. */
    ok = ok && dot->operands[0]->op == HLO_OP_PARAMETER &&
         dot->operands[1]->op == HLO_OP_PARAMETER;
    if (!ok) return false;
  } else if (x->op != HLO_OP_DOT) {
    return false;
  }
  int64_t B, M, K, N;
  if (!canonical(dot, &B, &M, &K, &N) || N < 4 || K < 1) return false;
  const CgTargetInfo *t = &g->target->info;
  int lanes = t->vector_bits / 32;
  if (lanes < 4) return false;
  *out = (CgGemm){.dot = dot, .root = root, .B = B, .M = M, .N = N, .K = K, .lanes = lanes};
  choose_tile(t, M, N, lanes, &out->mr, &out->nv);
  int64_t nr = (int64_t)out->nv * lanes;
  out->npanels = (N + nr - 1) / nr;
  out->ntiles = (M + out->mr - 1) / out->mr;
  out->nunits = B * out->npanels * out->ntiles;
  /* The operand the kernel reads B from: a constant is packed. */
  const HloInstr *rhs = dot->operands[1];
  if (x->op == HLO_OP_FUSION) rhs = x->operands[rhs->parameter_number];
  out->packed = rhs->op == HLO_OP_CONSTANT ? rhs : NULL;
  return true;
}

/* ------------------------------------------------------------------------ */
/* Packing                                                                   */
/* ------------------------------------------------------------------------ */

/* The global holding constant rhs [B,]K,N as panels: for each batch and
 * panel p, K rows of nr floats (columns p·nr …), zero past N. */
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
  float *data = hlo_arena_alloc(g->k->arena, bytes); /* zeroed */
  const float *src = c->literal->data;
  for (int64_t b = 0; b < gm->B; b++)
    for (int64_t p = 0; p < gm->npanels; p++)
      for (int64_t k = 0; k < gm->K; k++) {
        float *row = data + ((b * gm->npanels + p) * gm->K + k) * nr;
        int64_t n0 = p * nr, w = gm->N - n0 < nr ? gm->N - n0 : nr;
        memcpy(row, src + (b * gm->K + k) * gm->N + n0, (size_t)w * sizeof(float));
      }
  kir_global_new(g->k, full.buf, t, data, bytes);
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
  bool packed;
  bool batched;
  int rank;             /* of the output */
} Ctx;

/* idx[] for output element (b, m, n). */
static void out_index(const Ctx *c, CgVal b, CgVal m, CgVal n, CgVal *idx) {
  int o = 0;
  if (c->batched) idx[o++] = b;
  idx[o++] = m;
  idx[o] = n;
}

/* One micro-kernel: rows [m0, m0+mr) × columns of panel p (nv vectors,
 * the last of `last_lanes` lanes when partial: 0 means full). */
static void tile(const Ctx *c, CgVal b, CgVal m0, CgVal p, int mr, int nv, int last_lanes) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  int L = gm->lanes;
  int64_t nr = (int64_t)gm->nv * L;
  KirType vt = kir_vector(KIR_F32, L);
  int nacc = mr * nv;
  CgVal init[16 * 4];
  CgVal zero = kir_const_float(&f->b, vt, 0.0);
  for (int i = 0; i < nacc; i++) init[i] = zero;
  CgVal mask = 0;
  if (last_lanes)
    mask = kir_cmpi(&f->b, KIR_SLT, kir_iota(&f->b, KIR_I32, L),
                    kir_const_int(&f->b, kir_vector(KIR_I32, L), last_lanes));
  CgVal n0 = cg_imul_c(f, p, nr);
  CgVal rows[16];
  for (int r = 0; r < mr; r++) rows[r] = cg_iadd_c(f, m0, r);
  CgLoop k = cg_for(f, gm->K, nacc, init);
  CgVal bv[4], next[16 * 4];
  for (int v = 0; v < nv; v++) {
    CgVal bi[4];
    int o = 0;
    if (c->packed) {
      bi[o++] = b;
      bi[o++] = p;
      bi[o++] = k.iv;
      bi[o] = cg_index(f, v * L);
    } else {
      if (c->batched) bi[o++] = b;
      bi[o++] = k.iv;
      bi[o] = cg_iadd_c(f, n0, v * L);
    }
    bool partial = !c->packed && last_lanes && v == nv - 1;
    bv[v] = cg_vload(f, c->bmem, bi, L, partial ? mask : 0);
  }
  for (int r = 0; r < mr; r++) {
    CgVal ai[3];
    int o = 0;
    if (c->batched) ai[o++] = b;
    ai[o++] = rows[r];
    ai[o] = k.iv;
    CgVal av = kir_broadcast(&f->b, kir_load(&f->b, c->a, ai), L);
    for (int v = 0; v < nv; v++)
      next[r * nv + v] = kir_fma(&f->b, av, bv[v], kir_for_iter(k.op, r * nv + v));
  }
  cg_for_end(f, &k, next);

  /* The epilogue on the tile, then the store: the root in vector mode with
   * the dot bound to each accumulator. */
  for (int r = 0; r < mr; r++)
    for (int v = 0; v < nv; v++) {
      CgVal acc = kir_result(k.op, r * nv + v), idx[3];
      CgVal vmask = last_lanes && v == nv - 1 ? mask : 0;
      out_index(c, b, rows[r], cg_iadd_c(f, n0, v * L), idx);
      CgDetour scope = cg_detour(f, NULL);
      CgVal val = acc;
      if (gm->root != gm->dot) {
        cg_bind_value(f, gm->dot, acc);
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

/* The tiles [lo, hi) of one panel (full, or the partial last one): the
 * full tiles in a loop, then the partial last one (M mod mr rows) when the
 * range holds it. */
static void panel_tiles(const Ctx *c, CgVal b, CgVal p, bool p_partial, CgVal lo, CgVal hi) {
  CgFn *f = c->f;
  const CgGemm *gm = c->gm;
  int64_t nr = (int64_t)gm->nv * gm->lanes, rem = gm->N % nr;
  int nv = p_partial ? (int)((rem + gm->lanes - 1) / gm->lanes) : gm->nv;
  int last_lanes = p_partial ? (int)(rem % gm->lanes) : 0;
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

void cg_gemm_emit(CgFn *f, const CgGemm *gm, CgVal out) {
  Ctx c = {.f = f, .gm = gm, .out = out, .batched = gm->dot->shape.rank == 3,
           .rank = gm->dot->shape.rank};
  c.a = cg_memref_source(f, gm->dot->operands[0]);
  c.packed = gm->packed != NULL;
  c.bmem = c.packed ? packed_global(f, gm) : cg_memref_source(f, gm->dot->operands[1]);
  HLO_CHECK(c.a && c.bmem);
  int64_t nr = (int64_t)gm->nv * gm->lanes;
  /* The units [lo, hi): all of them, or a parallel task's range.  Unit u
   * is tile u mod ntiles of panel o = u / ntiles, o counting the panels of
   * every batch in turn; a range runs its panels in order, each over the
   * tiles of the range it holds. */
  CgVal lo = f->par ? f->par_lo : cg_index(f, 0);
  CgVal hi = f->par ? f->par_hi : cg_index(f, gm->nunits);
  f->par = false;
  int64_t nt = gm->ntiles;
  CgVal o_lo = cg_iop(f, KIR_DIVSI, lo, cg_index(f, nt));
  CgVal o_hi = cg_iop(f, KIR_DIVSI, cg_iadd_c(f, hi, nt - 1), cg_index(f, nt));
  CgLoop ol = cg_for_range(f, o_lo, o_hi, 0, NULL);
  CgVal first = cg_imul_c(f, ol.iv, nt);
  CgVal t_lo = cg_iop(f, KIR_MAXSI, cg_iop(f, KIR_SUBI, lo, first), cg_index(f, 0));
  CgVal t_hi = cg_iop(f, KIR_MINSI, cg_iop(f, KIR_SUBI, hi, first), cg_index(f, nt));
  CgVal b = cg_iop(f, KIR_DIVSI, ol.iv, cg_index(f, gm->npanels));
  CgVal p = cg_iop(f, KIR_REMSI, ol.iv, cg_index(f, gm->npanels));
  if (gm->N % nr) {
    /* The last panel has fewer vectors, its last one partial. */
    CgIf full = cg_if(f, cg_icmp(f, KIR_SLT, p, cg_index(f, gm->N / nr)), 0, NULL);
    panel_tiles(&c, b, p, false, t_lo, t_hi);
    cg_else(f, &full, NULL);
    panel_tiles(&c, b, p, true, t_lo, t_hi);
    cg_endif(f, &full, NULL);
  } else {
    panel_tiles(&c, b, p, false, t_lo, t_hi);
  }
  cg_for_end(f, &ol, NULL);
}
