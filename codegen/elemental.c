/*
 * elemental.c — the elemental emitter: for an instruction and an output
 * multi-index (kernel-IR index values), the kernel-IR value of that
 * element.
 *
 * Every op that can be written as "output element = function of operand
 * elements" is emitted here or by a helper it dispatches to (scalar.c for
 * elementwise semantics, reduce.c, dot.c, conv.c, gather.c for the ops with
 * inner loops).  Operands are obtained through the same entry point, so the
 * emitter composes: in a kernel for an unfused instruction the operands are
 * loads from their buffers (CG_SRC_MEMREF); in a fusion the fused
 * computation's instructions are computed in place (CG_SRC_COMPUTE) and only
 * its parameters are loaded; in a reduce the to_apply computation is inlined
 * on bound scalars (CG_SRC_SCALARS).  A fusion pass therefore only groups
 * instructions: it never needs a new emitter.
 *
 * Values are memoized by (instruction, index values) so that a value used
 * twice at the same index is computed once.  The memo is a stack whose
 * scopes follow the IR's regions (cg_for, cg_if): a value defined inside a
 * region is forgotten when the region closes, so dominance always holds.
 * Code can also be emitted at an outer point (cg_detour: before a loop
 * that is still open, to compute a row once before the loop over it);
 * the memo then serves only what was computed before that loop opened.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct CgMemo {
  const HloInstr *x;
  int rank;
  int lanes;   /* vector mode's, 0 for an element */
  CgVal idx[HLO_MAX_RANK];
  int n;
  CgVal *vals; /* n values, malloc'd */
};

void cg_fn_init(CgFn *f, CgGen *g, KirFunc *fn) {
  memset(f, 0, sizeof *f);
  f->g = g;
  f->fn = fn;
  kir_at_end(&f->b, fn->body);
  f->src = hlo_xcalloc((size_t)g->m->next_id, sizeof *f->src);
}

static void memo_truncate(CgFn *f, int mark) {
  while (f->nmemo > mark) free(f->memo[--f->nmemo].vals);
}

void cg_fn_free(CgFn *f) {
  memo_truncate(f, 0);
  free(f->memo);
  free(f->scopes);
  for (int64_t i = 0; i < f->g->m->next_id; i++) free(f->src[i].vals);
  free(f->src);
}

static void set_src(CgFn *f, const HloInstr *x, CgSrcKind kind, int n,
                    const CgVal *vals, const HloInstr *alias) {
  CgSrc *s = &f->src[x->id];
  free(s->vals);
  s->kind = kind;
  s->n = n;
  s->vals = NULL;
  if (n) {
    s->vals = hlo_xmalloc((size_t)n * sizeof *vals);
    memcpy(s->vals, vals, (size_t)n * sizeof *vals);
  }
  s->alias = alias;
}

void cg_bind_memrefs(CgFn *f, const HloInstr *x, int n, const CgVal *m) {
  set_src(f, x, CG_SRC_MEMREF, n, m, NULL);
}

void cg_bind_alias(CgFn *f, const HloInstr *x, const HloInstr *alias) {
  set_src(f, x, CG_SRC_ALIAS, 0, NULL, alias);
}

void cg_bind_compute(CgFn *f, const HloInstr *x) {
  set_src(f, x, CG_SRC_COMPUTE, 0, NULL, NULL);
}

void cg_bind_value(CgFn *f, const HloInstr *x, CgVal v) {
  set_src(f, x, CG_SRC_SCALARS, 1, &v, NULL);
}

/* ------------------------------------------------------------------------ */
/* Memory, regions, index arithmetic                                         */
/* ------------------------------------------------------------------------ */

/* In vector mode, a load or store of a rank >= 1 array moves vlanes
 * elements along its last dim; a scalar is loaded and broadcast. */
CgVal cg_load(CgFn *f, CgVal memref, const HloShape *s, const CgVal *idx) {
  int lanes = f->vlanes;
  CgVal v;
  if (lanes && s->rank > 0) v = cg_vload(f, memref, idx, lanes, f->vmask);
  else v = kir_load(&f->b, memref, idx);
  if (s->type == HLO_PRED) {
    /* Any non-zero byte is true, as the evaluator reads it. */
    CgVal zero = kir_const_int(&f->b, cg_type(f, v), 0);
    v = kir_cmpi(&f->b, KIR_NE, v, zero);
  }
  if (lanes && s->rank == 0) v = kir_broadcast(&f->b, v, lanes);
  return v;
}

void cg_store(CgFn *f, CgVal v, CgVal memref, const HloShape *s,
              const CgVal *idx) {
  int lanes = f->vlanes;
  if (s->type == HLO_PRED) v = kir_cast(&f->b, KIR_EXTUI, v, kir_vector(KIR_I8, lanes));
  if (lanes && s->rank > 0 && !f->vmask)
    for (int k = 0; k < f->nnt; k++)
      if (f->nt_mem[k] == memref) {
        kir_vstore_nontemporal(&f->b, v, memref, idx, f->nt_align[k]);
        return;
      }
  if (lanes && s->rank > 0) cg_vstore(f, v, memref, idx, f->vmask);
  else kir_store(&f->b, v, memref, idx);
}

static void push_scope(CgFn *f, KirOp *op) {
  if (f->nscopes == f->scope_cap) {
    f->scope_cap = f->scope_cap ? 2 * f->scope_cap : 16;
    f->scopes = hlo_xrealloc(f->scopes, (size_t)f->scope_cap * sizeof *f->scopes);
  }
  f->scopes[f->nscopes++] = (CgScope){op, f->nmemo};
}

/* Leaves the innermost region: what it computed is out of scope. */
static void pop_scope(CgFn *f, KirOp *op) {
  HLO_CHECK(f->nscopes > 0 && f->scopes[f->nscopes - 1].op == op);
  memo_truncate(f, f->scopes[--f->nscopes].mark);
}

CgLoop cg_for(CgFn *f, int64_t n, int niter, const CgVal *init) {
  return cg_for_range(f, cg_index(f, 0), cg_index(f, n), niter, init);
}

static CgLoop for_step(CgFn *f, CgVal lo, CgVal hi, CgVal step, int niter, const CgVal *init) {
  CgLoop l = {.niter = niter, .after = f->b};
  l.op = kir_for(&f->b, lo, hi, step, niter, init);
  l.iv = kir_for_iv(l.op);
  l.iters = kir_for_iter(l.op, 0);
  l.results = l.op->res;
  push_scope(f, l.op);
  kir_at_end(&f->b, kir_region(l.op, 0));
  return l;
}

CgLoop cg_for_values(CgFn *f, CgVal lo, CgVal hi, CgVal step, int niter, const CgVal *init) {
  return for_step(f, lo, hi, step, niter, init);
}

CgLoop cg_for_range(CgFn *f, CgVal lo, CgVal hi, int niter, const CgVal *init) {
  return for_step(f, lo, hi, cg_index(f, 1), niter, init);
}

CgLoop cg_for_step(CgFn *f, int64_t lo, int64_t hi, int64_t step, int niter, const CgVal *init) {
  return for_step(f, cg_index(f, lo), cg_index(f, hi), cg_index(f, step), niter, init);
}

void cg_for_end(CgFn *f, CgLoop *l, const CgVal *yields) {
  kir_yield(&f->b, l->niter, yields);
  pop_scope(f, l->op);
  f->b = l->after;
}

CgIf cg_if(CgFn *f, CgVal cond, int nres, const KirType *types) {
  CgIf c = {.nres = nres, .after = f->b};
  c.op = kir_if(&f->b, cond, nres, types);
  c.results = c.op->res;
  push_scope(f, c.op);
  kir_at_end(&f->b, kir_region(c.op, 0));
  return c;
}

void cg_else(CgFn *f, CgIf *c, const CgVal *yields) {
  kir_yield(&f->b, c->nres, yields);
  memo_truncate(f, f->scopes[f->nscopes - 1].mark);
  kir_at_end(&f->b, kir_region(c->op, 1));
}

void cg_endif(CgFn *f, CgIf *c, const CgVal *yields) {
  KirBlock *other = kir_region(c->op, 1);
  kir_yield(&f->b, c->nres, yields);
  /* An if without an else-branch yields nothing there. */
  if (!other->last) {
    kir_at_end(&f->b, other);
    kir_yield(&f->b, 0, NULL);
  }
  pop_scope(f, c->op);
  f->b = c->after;
}

bool cg_sweep_next(CgFn *f, CgSweep *s) {
  int64_t nfull = s->n / s->lanes, full = nfull * s->lanes;
  s->mask = 0;
  s->now = s->lanes;
  if (s->phase == 0 && nfull > CG_SWEEP_UNROLL) {
    s->phase = 1;
    s->loop = cg_for_step(f, 0, full, s->lanes, 0, NULL);
    s->j = s->loop.iv;
    return true;
  }
  if (s->phase == 1) {
    cg_for_end(f, &s->loop, NULL);
    s->phase = 2 + (int)nfull;
  }
  if (s->phase == 0) s->phase = 2;
  int64_t k = s->phase++ - 2; /* the step to emit now */
  if (k < nfull) {
    s->j = cg_index(f, k * s->lanes);
    return true;
  }
  int64_t rest = s->n - full, t = k - nfull;
  if (s->scalar_tail) {
    if (t >= rest) return false;
    s->j = cg_index(f, full + t);
    s->now = 0;
    return true;
  }
  if (t > 0 || rest == 0) return false;
  s->j = cg_index(f, full);
  s->mask = kir_cmpi(&f->b, KIR_SLT, kir_iota(&f->b, KIR_I32, s->lanes),
                     kir_const_int(&f->b, kir_vector(KIR_I32, s->lanes), rest));
  return true;
}

CgVal cg_vload(CgFn *f, CgVal m, const CgVal *idx, int lanes, CgVal mask) {
  if (!lanes) return kir_load(&f->b, m, idx);
  if (!mask) return kir_vload(&f->b, m, idx, lanes);
  KirElem e = (KirElem)kir_memref_of(f->g->k, cg_type(f, m))->elem;
  KirType t = kir_vector(e, lanes);
  CgVal zero = kir_elem_is_float(e) ? kir_const_float(&f->b, t, 0.0) : kir_const_int(&f->b, t, 0);
  return kir_mload(&f->b, m, idx, mask, zero);
}

void cg_vstore(CgFn *f, CgVal v, CgVal m, const CgVal *idx, CgVal mask) {
  if (mask) kir_mstore(&f->b, v, m, idx, mask);
  else if (cg_type(f, v).lanes) kir_vstore(&f->b, v, m, idx);
  else kir_store(&f->b, v, m, idx);
}

CgDetour cg_detour(CgFn *f, KirOp *op) {
  CgDetour d = {.saved = f->b, .mark = f->nmemo, .depth = f->nscopes};
  if (op) {
    while (d.depth > 0 && f->scopes[d.depth - 1].op != op) d.depth--;
    HLO_CHECK(d.depth > 0);
    d.depth--;
    d.mark = f->scopes[d.depth].mark;
    kir_before(&f->b, op);
  }
  /* What the memo gained since op opened is not available before it, and
   * the regions from op inwards are not open there. */
  d.nmemo = f->nmemo - d.mark;
  d.memo = hlo_xmalloc((size_t)(d.nmemo + 1) * sizeof *d.memo);
  d.nscopes = f->nscopes - d.depth;
  d.scopes = hlo_xmalloc((size_t)(d.nscopes + 1) * sizeof *d.scopes);
  if (d.nmemo) memcpy(d.memo, f->memo + d.mark, (size_t)d.nmemo * sizeof *d.memo);
  if (d.nscopes) memcpy(d.scopes, f->scopes + d.depth, (size_t)d.nscopes * sizeof *d.scopes);
  f->nmemo = d.mark;
  f->nscopes = d.depth;
  return d;
}

void cg_resume(CgFn *f, CgDetour *d) {
  HLO_CHECK(f->nscopes == d->depth);
  memo_truncate(f, d->mark);
  if (d->mark + d->nmemo > f->memo_cap) {
    f->memo_cap = d->mark + d->nmemo;
    f->memo = hlo_xrealloc(f->memo, (size_t)f->memo_cap * sizeof *f->memo);
  }
  if (d->nmemo) memcpy(f->memo + d->mark, d->memo, (size_t)d->nmemo * sizeof *d->memo);
  f->nmemo = d->mark + d->nmemo;
  if (d->depth + d->nscopes > f->scope_cap) {
    f->scope_cap = d->depth + d->nscopes;
    f->scopes = hlo_xrealloc(f->scopes, (size_t)f->scope_cap * sizeof *f->scopes);
  }
  if (d->nscopes) memcpy(f->scopes + d->depth, d->scopes, (size_t)d->nscopes * sizeof *d->scopes);
  f->nscopes = d->depth + d->nscopes;
  free(d->memo);
  free(d->scopes);
  f->b = d->saved;
}

KirOp *cg_open_loop_of(const CgFn *f, CgVal v) {
  KirOp *owner = kir_arg_owner(f->fn, v);
  if (!owner || owner->code != KIR_FOR || kir_for_iv(owner) != v) return NULL;
  for (int i = 0; i < f->nscopes; i++)
    if (f->scopes[i].op == owner) return owner;
  return NULL;
}

CgVal cg_index(CgFn *f, int64_t v) { return kir_index(&f->b, v); }

CgVal cg_iop(CgFn *f, KirOpcode op, CgVal a, CgVal b) { return kir_binop(&f->b, op, a, b); }

CgVal cg_iadd_c(CgFn *f, CgVal a, int64_t c) {
  return c ? cg_iop(f, KIR_ADDI, a, cg_index(f, c)) : a;
}

CgVal cg_imul_c(CgFn *f, CgVal a, int64_t c) {
  if (c == 1) return a;
  return c ? cg_iop(f, KIR_MULI, a, cg_index(f, c)) : cg_index(f, 0);
}

CgVal cg_to_index(CgFn *f, CgVal v, HloType t) {
  return kir_cast(&f->b, hlo_type_is_unsigned(t) ? KIR_INDEX_CASTUI : KIR_INDEX_CAST, v,
                  kir_scalar(KIR_INDEX));
}

CgVal cg_from_index(CgFn *f, CgVal v, HloType t) {
  return kir_cast(&f->b, KIR_INDEX_CAST, v, cg_reg_type(t));
}

CgVal cg_iclamp(CgFn *f, CgVal v, int64_t lo, int64_t hi) {
  v = cg_iop(f, KIR_MAXSI, v, cg_index(f, lo));
  return cg_iop(f, KIR_MINSI, v, cg_index(f, hi));
}

CgVal cg_icmp(CgFn *f, KirIPred pred, CgVal a, CgVal b) { return kir_cmpi(&f->b, pred, a, b); }

CgVal cg_and(CgFn *f, CgVal a, CgVal b) { return kir_binop(&f->b, KIR_ANDI, a, b); }

CgVal cg_select(CgFn *f, CgVal c, CgVal a, CgVal b) { return kir_select(&f->b, c, a, b); }

bool cg_dims_contain(const HloDims *d, int64_t v) {
  for (int i = 0; i < d->n; i++)
    if (d->v[i] == v) return true;
  return false;
}

/* ------------------------------------------------------------------------ */
/* Memo                                                                      */
/* ------------------------------------------------------------------------ */

static int index_rank(const HloInstr *x) {
  const HloShape *leaf;
  cg_shape_leaves(&x->shape, &leaf, 1);
  return leaf->rank;
}

static const CgMemo *memo_find(const CgFn *f, const HloInstr *x,
                               const CgVal *idx) {
  int rank = index_rank(x);
  for (int i = f->nmemo - 1; i >= 0; i--) {
    const CgMemo *m = &f->memo[i];
    if (m->x == x && m->rank == rank && m->lanes == f->vlanes &&
        (rank == 0 || !memcmp(m->idx, idx, (size_t)rank * sizeof *idx)))
      return m;
  }
  return NULL;
}

static void memo_add(CgFn *f, const HloInstr *x, const CgVal *idx, int n,
                     const CgVal *vals) {
  if (f->nmemo == f->memo_cap) {
    f->memo_cap = f->memo_cap ? 2 * f->memo_cap : 64;
    f->memo = hlo_xrealloc(f->memo, (size_t)f->memo_cap * sizeof *f->memo);
  }
  CgMemo *m = &f->memo[f->nmemo++];
  m->x = x;
  m->rank = index_rank(x);
  m->lanes = f->vlanes;
  if (m->rank) memcpy(m->idx, idx, (size_t)m->rank * sizeof *idx);
  m->n = n;
  m->vals = hlo_xmalloc((size_t)(n ? n : 1) * sizeof *vals);
  memcpy(m->vals, vals, (size_t)n * sizeof *vals);
}

/* ------------------------------------------------------------------------ */
/* Data movement: output index → operand index                               */
/* ------------------------------------------------------------------------ */

static CgVal elem_constant(CgFn *f, const HloInstr *x, const CgVal *idx) {
  if (hlo_shape_elements(&x->shape) == 1) {
    CgVal v = cg_literal_elem(f, x->literal, 0);
    return f->vlanes ? kir_broadcast(&f->b, v, f->vlanes) : v;
  }
  CgVal g = kir_get_global(&f->b, cg_constant_global(f->g, x), cg_memref_type(f->g, &x->shape));
  return cg_load(f, g, &x->shape, idx);
}

static CgVal elem_iota(CgFn *f, const HloInstr *x, const CgVal *idx) {
  CgVal i = idx[x->iota_dimension];
  HloType t = x->shape.type;
  int lanes = f->vlanes;
  CgVal w = cg_from_index(f, i, HLO_S64);
  if (lanes) {
    w = kir_broadcast(&f->b, w, lanes);
    /* Along the last dim the lanes count up. */
    if (x->iota_dimension == x->shape.rank - 1)
      w = kir_binop(&f->b, KIR_ADDI, w, kir_iota(&f->b, KIR_I64, lanes));
  }
  return cg_convert(f, w, HLO_S64, t);
}

/* In vector mode, an operand whose last dim is the output's last dim is
 * read as vectors too; any other operand element is the same for every
 * lane: read once and broadcast. */
static bool follows_last_dim(const HloInstr *x) {
  int n = x->dimensions.n;
  return n > 0 && x->dimensions.v[n - 1] == x->shape.rank - 1;
}

/* Whether some operand dimension becomes the result's last one. */
static bool reads_last_dim(const HloInstr *x) {
  for (int j = 0; j < x->dimensions.n; j++)
    if (x->dimensions.v[j] == x->shape.rank - 1) return true;
  return false;
}

static CgVal elem_broadcast(CgFn *f, const HloInstr *x, const CgVal *idx) {
  CgVal oi[HLO_MAX_RANK];
  for (int j = 0; j < x->dimensions.n; j++) oi[j] = idx[x->dimensions.v[j]];
  if (!f->vlanes || follows_last_dim(x)) return cg_elem(f, x->operands[0], oi);
  int lanes = f->vlanes;
  CgVal mask = f->vmask, v;
  f->vlanes = 0;
  f->vmask = 0;
  v = cg_elem(f, x->operands[0], oi);
  f->vlanes = lanes;
  f->vmask = mask;
  return kir_broadcast(&f->b, v, lanes);
}

/* reshape and bitcast (default layouts): the same row-major position. */
static CgVal elem_reshape(CgFn *f, const HloInstr *x, const CgVal *idx) {
  const HloShape *in = &x->operands[0]->shape, *out = &x->shape;
  if (hlo_shape_same_dims(in, out)) return cg_elem(f, x->operands[0], idx);
  int64_t so[HLO_MAX_RANK], si[HLO_MAX_RANK];
  hlo_shape_strides(out, so);
  hlo_shape_strides(in, si);
  CgVal lin = cg_index(f, 0);
  for (int k = 0; k < out->rank; k++)
    if (out->dims[k] > 1)
      lin = cg_iop(f, KIR_ADDI, lin, cg_imul_c(f, idx[k], so[k]));
  CgVal oi[HLO_MAX_RANK];
  for (int j = 0; j < in->rank; j++) {
    if (in->dims[j] == 1) {
      oi[j] = cg_index(f, 0);
      continue;
    }
    CgVal q = si[j] > 1 ? cg_iop(f, KIR_DIVUI, lin, cg_index(f, si[j])) : lin;
    oi[j] = j > 0 ? cg_iop(f, KIR_REMUI, q, cg_index(f, in->dims[j])) : q;
  }
  return cg_elem(f, x->operands[0], oi);
}

static CgVal elem_transpose(CgFn *f, const HloInstr *x, const CgVal *idx) {
  CgVal oi[HLO_MAX_RANK];
  for (int i = 0; i < x->shape.rank; i++) oi[x->dimensions.v[i]] = idx[i];
  return cg_elem(f, x->operands[0], oi);
}

static CgVal elem_slice(CgFn *f, const HloInstr *x, const CgVal *idx) {
  CgVal oi[HLO_MAX_RANK];
  for (int j = 0; j < x->shape.rank; j++)
    oi[j] = cg_iadd_c(f, cg_imul_c(f, idx[j], x->slice[j].stride),
                      x->slice[j].start);
  return cg_elem(f, x->operands[0], oi);
}

static CgVal elem_reverse(CgFn *f, const HloInstr *x, const CgVal *idx) {
  CgVal oi[HLO_MAX_RANK];
  memcpy(oi, idx, (size_t)x->shape.rank * sizeof *idx);
  for (int k = 0; k < x->dimensions.n; k++) {
    int64_t d = x->dimensions.v[k];
    oi[d] = cg_iop(f, KIR_SUBI, cg_index(f, x->shape.dims[d] - 1), idx[d]);
  }
  return cg_elem(f, x->operands[0], oi);
}

/* Operand k onwards of a concatenation, choosing the operand by comparing
 * the index along the dimension with the running offsets. */
static CgVal concat_from(CgFn *f, const HloInstr *x, const CgVal *idx, int k,
                         int64_t offset) {
  int64_t d = x->dimensions.v[0];
  const HloInstr *op = x->operands[k];
  CgVal oi[HLO_MAX_RANK];
  memcpy(oi, idx, (size_t)x->shape.rank * sizeof *idx);
  oi[d] = cg_iadd_c(f, idx[d], -offset);
  if (k == x->noperands - 1) return cg_elem(f, op, oi);
  KirType ty = cg_reg_type(x->shape.type);
  int64_t next = offset + op->shape.dims[d];
  CgVal in = cg_icmp(f, KIR_ULT, idx[d], cg_index(f, next));
  CgIf c = cg_if(f, in, 1, &ty);
  CgVal a = cg_elem(f, op, oi);
  cg_else(f, &c, &a);
  CgVal b = concat_from(f, x, idx, k + 1, next);
  cg_endif(f, &c, &b);
  return c.results;
}

static CgVal elem_pad(CgFn *f, const HloInstr *x, const CgVal *idx) {
  const HloShape *in = &x->operands[0]->shape;
  KirType ty = cg_reg_type(x->shape.type);
  if (f->vlanes) ty.lanes = (uint16_t)f->vlanes; /* cg_vec_direct: lanes agree */
  CgVal pad = cg_elem(f, x->operands[1], NULL);
  CgVal inside = kir_bool(&f->b, true);
  CgVal oi[HLO_MAX_RANK];
  for (int j = 0; j < in->rank; j++) {
    const HloPadDim *p = &x->padding[j];
    CgVal q = cg_iadd_c(f, idx[j], -p->lo); /* position in the interior-
                                            * dilated operand */
    CgVal zero = cg_index(f, 0);
    inside = cg_and(f, inside, cg_icmp(f, KIR_SGE, q, zero));
    if (p->interior > 0) {
      CgVal step = cg_index(f, p->interior + 1);
      CgVal r = cg_iop(f, KIR_REMSI, q, step);
      inside = cg_and(f, inside, cg_icmp(f, KIR_EQ, r, zero));
      q = cg_iop(f, KIR_DIVSI, q, step);
    }
    inside = cg_and(f, inside,
                    cg_icmp(f, KIR_SLT, q, cg_index(f, in->dims[j])));
    oi[j] = q;
  }
  CgIf c = cg_if(f, inside, 1, &ty);
  CgVal a = cg_elem(f, x->operands[0], oi);
  cg_else(f, &c, &a);
  cg_endif(f, &c, &pad);
  return c.results;
}

/* The clamped start index of dimension j of a dynamic slice whose start
 * operands begin at operand `first`: clamp(start, 0, dim - size). */
static CgVal dynamic_start(CgFn *f, const HloInstr *x, int first, int j,
                           int64_t dim, int64_t size) {
  const HloInstr *s = x->operands[first + j];
  CgVal v = cg_to_index(f, cg_elem(f, s, NULL), s->shape.type);
  return cg_iclamp(f, v, 0, dim - size);
}

static CgVal elem_dynamic_slice(CgFn *f, const HloInstr *x, const CgVal *idx) {
  const HloShape *in = &x->operands[0]->shape;
  CgVal oi[HLO_MAX_RANK];
  for (int j = 0; j < in->rank; j++) {
    CgVal s = dynamic_start(f, x, 1, j, in->dims[j], x->shape.dims[j]);
    oi[j] = cg_iop(f, KIR_ADDI, s, idx[j]);
  }
  return cg_elem(f, x->operands[0], oi);
}

static CgVal elem_dynamic_update_slice(CgFn *f, const HloInstr *x,
                                       const CgVal *idx) {
  const HloShape *upd = &x->operands[1]->shape;
  KirType ty = cg_reg_type(x->shape.type);
  CgVal inside = kir_bool(&f->b, true);
  CgVal ui[HLO_MAX_RANK];
  for (int j = 0; j < x->shape.rank; j++) {
    CgVal s = dynamic_start(f, x, 2, j, x->shape.dims[j], upd->dims[j]);
    ui[j] = cg_iop(f, KIR_SUBI, idx[j], s);
    inside = cg_and(f, inside, cg_icmp(f, KIR_SGE, ui[j], cg_index(f, 0)));
    inside = cg_and(f, inside, cg_icmp(f, KIR_SLT, ui[j],
                                       cg_index(f, upd->dims[j])));
  }
  CgIf c = cg_if(f, inside, 1, &ty);
  CgVal a = cg_elem(f, x->operands[1], ui);
  cg_else(f, &c, &a);
  CgVal b = cg_elem(f, x->operands[0], idx);
  cg_endif(f, &c, &b);
  return c.results;
}

/* The unsigned integer type of a byte size. */
static HloType unsigned_of_size(size_t size) {
  return size == 1 ? HLO_U8 : size == 2 ? HLO_U16 : size == 4 ? HLO_U32 : HLO_U64;
}

/* bitcast-convert: equal widths reinterpret the bits; otherwise the wider
 * side has an extra minor dim of the width ratio holding the narrower
 * elements in little-endian order (as the evaluator's memcpy). */
static CgVal elem_bitcast_convert(CgFn *f, const HloInstr *x, const CgVal *idx) {
  const HloInstr *op = x->operands[0];
  HloType from = op->shape.type, to = x->shape.type;
  size_t sf = hlo_type_size(from), st = hlo_type_size(to);
  if (from != HLO_PRED && to != HLO_PRED && hlo_type_bits(from) != hlo_type_bits(to) && sf == st) {
    cg_fail_instr(f->g, x, "packs sub-byte values (not supported)");
    return cg_const_bits(f, to, 0);
  }
  if (sf == st) return cg_bitcast(f, cg_elem(f, op, idx), from, to);
  HloType uf = unsigned_of_size(sf), ut = unsigned_of_size(st);
  if (st < sf) {
    CgVal v = cg_bitcast(f, cg_elem(f, op, idx), from, uf);
    CgVal part = cg_imul_c(f, idx[x->shape.rank - 1], (int64_t)st * 8);
    v = kir_binop(&f->b, KIR_SHRUI, v, cg_from_index(f, part, uf));
    v = kir_cast(&f->b, KIR_TRUNCI, v, cg_reg_type(ut));
    return cg_bitcast(f, v, ut, to);
  }
  CgVal oi[HLO_MAX_RANK], acc = cg_const_bits(f, ut, 0);
  memcpy(oi, idx, (size_t)x->shape.rank * sizeof *idx);
  for (size_t k = 0; k < st / sf; k++) {
    oi[x->shape.rank] = cg_index(f, (int64_t)k);
    CgVal v = cg_bitcast(f, cg_elem(f, op, oi), from, uf);
    v = kir_cast(&f->b, KIR_EXTUI, v, cg_reg_type(ut));
    v = kir_binop(&f->b, KIR_SHLI, v, cg_const_bits(f, ut, k * sf * 8));
    acc = kir_binop(&f->b, KIR_ORI, acc, v);
  }
  return cg_bitcast(f, acc, ut, to);
}

/* y = (x - mean) * (scale / sqrt(variance + epsilon)) + offset along
 * feature_index, computed in f64 and rounded once, exactly as the
 * evaluator does (so the result matches it to the bit). */
static CgVal elem_batch_norm(CgFn *f, const HloInstr *x, const CgVal *idx) {
  HloType t = x->shape.type;
  CgVal fi = idx[x->feature_index];
  CgVal v[5];
  v[0] = cg_convert(f, cg_elem(f, x->operands[0], idx), t, HLO_F64);
  for (int k = 1; k < 5; k++)
    v[k] = cg_convert(f, cg_elem(f, x->operands[k], &fi), t, HLO_F64);
  CgVal eps = cg_const(f, HLO_F64, (double)x->epsilon);
  CgVal var = kir_binop(&f->b, KIR_ADDF, v[4], eps);
  CgVal sd = cg_math_unary(f, HLO_OP_SQRT, var);
  CgVal mul = kir_binop(&f->b, KIR_DIVF, v[1], sd);
  CgVal centered = kir_binop(&f->b, KIR_SUBF, v[0], v[3]);
  CgVal scaled = kir_binop(&f->b, KIR_MULF, centered, mul);
  CgVal y = kir_binop(&f->b, KIR_ADDF, scaled, v[2]);
  return cg_convert(f, y, HLO_F64, t);
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                  */
/* ------------------------------------------------------------------------ */

static CgVal elem_elementwise(CgFn *f, const HloInstr *x, const CgVal *idx) {
  HloType in = x->noperands ? x->operands[0]->shape.type : x->shape.type;
  switch (x->op) {
  case HLO_OP_COMPARE:
    return cg_compare(f, x->direction, x->compare_type, in,
                      cg_operand(f, x, 0, idx), cg_operand(f, x, 1, idx));
  case HLO_OP_SELECT:
    return cg_select(f, cg_operand(f, x, 0, idx), cg_operand(f, x, 1, idx),
                     cg_operand(f, x, 2, idx));
  case HLO_OP_CLAMP: {
    /* clamp(lo, x, hi) = min(max(x, lo), hi) */
    HloType t = x->shape.type;
    CgVal lo = cg_operand(f, x, 0, idx), v = cg_operand(f, x, 1, idx);
    CgVal hi = cg_operand(f, x, 2, idx);
    return cg_binary(f, HLO_OP_MINIMUM, t, cg_binary(f, HLO_OP_MAXIMUM, t, v,
                                                     lo), hi);
  }
  case HLO_OP_CONVERT:
    return cg_convert(f, cg_operand(f, x, 0, idx), in, x->shape.type);
  case HLO_OP_COPY:
    return cg_operand(f, x, 0, idx);
  default:
    break;
  }
  switch (hlo_opcode_kind(x->op)) {
  case HLO_KIND_UNARY:
    return cg_unary(f, x, in, cg_operand(f, x, 0, idx));
  case HLO_KIND_BINARY:
    return cg_binary(f, x->op, in, cg_operand(f, x, 0, idx),
                     cg_operand(f, x, 1, idx));
  default:
    HLO_UNREACHABLE();
  }
}

/* ---- Vector mode ---------------------------------------------------- */

/* compute() takes x as vectors in vector mode: its elements along the last
 * dim come from consecutive elements of each operand's last dim (or from a
 * scalar, broadcast). */
bool cg_vec_direct(const HloInstr *x) {
  int r = x->shape.rank;
  if (!hlo_type_is_array(x->shape.type)) return x->op == HLO_OP_TUPLE || x->op == HLO_OP_GET_TUPLE_ELEMENT;
  if (hlo_opcode_is_elementwise(x->op)) {
    for (int i = 0; i < x->noperands; i++) {
      const HloShape *s = &x->operands[i]->shape;
      if (s->rank && !hlo_shape_same_dims(s, &x->shape)) return false;
    }
    return true;
  }
  switch (x->op) {
  case HLO_OP_CONSTANT: case HLO_OP_IOTA: case HLO_OP_TUPLE: case HLO_OP_GET_TUPLE_ELEMENT:
    return true;
  case HLO_OP_BROADCAST:
    /* The operand's last dim becomes the result's (a vector read), or
     * none does (one scalar); a broadcast that moves another dim there
     * (dimensions out of order) reads with a stride: lane by lane. */
    return follows_last_dim(x) || !reads_last_dim(x);
  case HLO_OP_RESHAPE:
  case HLO_OP_BITCAST: {
    const HloShape *in = &x->operands[0]->shape;
    /* Equal last dims: the operand's last index is the output's. */
    return hlo_instr_is_reshape(x) && in->rank > 0 && in->dims[in->rank - 1] == x->shape.dims[r - 1];
  }
  case HLO_OP_TRANSPOSE: return x->dimensions.v[r - 1] == r - 1;
  case HLO_OP_SLICE: return x->slice[r - 1].stride == 1;
  case HLO_OP_REDUCE: return cg_reduce_vec_direct(x);
  case HLO_OP_PAD: {
    /* An unpadded last dim: whether an element is padding is one test for
     * every lane (a convolution's spatial pad, conv-pad). */
    const HloPadDim *p = &x->padding[r - 1];
    return !p->lo && !p->hi && !p->interior;
  }
  default: return false;
  }
}

/* In scalar mode (vector mode set aside): x's leaves at idx. */
static int scalar_elems(CgFn *f, const HloInstr *x, const CgVal *idx, CgVal *out) {
  int lanes = f->vlanes;
  CgVal mask = f->vmask;
  f->vlanes = 0;
  f->vmask = 0;
  int n = cg_elems(f, x, idx, out);
  f->vlanes = lanes;
  f->vmask = mask;
  return n;
}

/* x's lanes computed one at a time and gathered into vectors.  Under a
 * mask, positions past the end read the last element instead (in bounds;
 * those lanes are not used). */
static int per_lane(CgFn *f, const HloInstr *x, const CgVal *idx, CgVal *out) {
  const HloShape *leaves[256];
  int n = cg_shape_leaves(&x->shape, leaves, 256), r = leaves[0]->rank;
  int lanes = f->vlanes;
  for (int k = 0; k < n; k++) {
    KirType t = cg_reg_type(leaves[k]->type);
    t.lanes = (uint16_t)lanes;
    out[k] = kir_elem_is_float((KirElem)t.elem) ? kir_const_float(&f->b, t, 0.0)
                                                : kir_const_int(&f->b, t, 0);
  }
  CgVal li[HLO_MAX_RANK], vals[256];
  memcpy(li, idx, (size_t)r * sizeof *idx);
  for (int l = 0; l < lanes; l++) {
    li[r - 1] = cg_iadd_c(f, idx[r - 1], l);
    if (f->vmask) li[r - 1] = cg_iop(f, KIR_MINSI, li[r - 1], cg_index(f, leaves[0]->dims[r - 1] - 1));
    scalar_elems(f, x, li, vals);
    for (int k = 0; k < n; k++) out[k] = kir_insert(&f->b, vals[k], out[k], l);
  }
  return n;
}

static bool native(const CgFn *f, const HloInstr *x, uint8_t *seen) {
  if (seen[x->id]) return seen[x->id] == 1;
  const CgSrc *s = &f->src[x->id];
  bool ok;
  if (s->kind == CG_SRC_ALIAS) ok = native(f, s->alias, seen);
  else if (s->kind != CG_SRC_COMPUTE || index_rank(x) == 0) ok = true;
  else if (!cg_vec_direct(x)) ok = false;
  else if (x->op == HLO_OP_BROADCAST && !follows_last_dim(x)) ok = true; /* a scalar read */
  else {
    ok = true;
    for (int i = 0; i < x->noperands && ok; i++) ok = native(f, x->operands[i], seen);
  }
  seen[x->id] = ok ? 1 : 2;
  return ok;
}

bool cg_vec_native(const CgFn *f, const HloInstr *x) {
  uint8_t *seen = hlo_xcalloc((size_t)f->g->m->next_id, 1);
  bool ok = native(f, x, seen);
  free(seen);
  return ok;
}

int cg_elems_vec(CgFn *f, const HloInstr *x, const CgVal *idx, int lanes, CgVal mask,
                 CgVal *out) {
  int saved = f->vlanes;
  CgVal saved_mask = f->vmask;
  f->vlanes = lanes;
  f->vmask = mask;
  int n = cg_elems(f, x, idx, out);
  f->vlanes = saved;
  f->vmask = saved_mask;
  return n;
}

CgVal cg_elem_vec(CgFn *f, const HloInstr *x, const CgVal *idx, int lanes, CgVal mask) {
  HLO_CHECK(!hlo_shape_is_tuple(&x->shape));
  CgVal v;
  cg_elems_vec(f, x, idx, lanes, mask, &v);
  return v;
}

/* Computes x's leaves at idx (x has source CG_SRC_COMPUTE). */
static int compute(CgFn *f, const HloInstr *x, const CgVal *idx, CgVal *out) {
  if (f->vlanes) {
    /* A scalar's one element serves every lane. */
    if (index_rank(x) == 0) {
      int n = scalar_elems(f, x, idx, out);
      for (int k = 0; k < n; k++) out[k] = kir_broadcast(&f->b, out[k], f->vlanes);
      return n;
    }
    if (!cg_vec_direct(x)) return per_lane(f, x, idx, out);
  }
  switch (x->op) {
  case HLO_OP_CONSTANT:
    out[0] = elem_constant(f, x, idx);
    return 1;
  case HLO_OP_IOTA:
    out[0] = elem_iota(f, x, idx);
    return 1;
  case HLO_OP_TUPLE: {
    int n = 0;
    for (int i = 0; i < x->noperands; i++)
      n += cg_elems(f, x->operands[i], idx, out + n);
    return n;
  }
  case HLO_OP_GET_TUPLE_ELEMENT: {
    /* Only the selected element is read at idx: the tuple's others may
     * have other shapes, for which idx means nothing. */
    const HloInstr *tuple = x->operands[0];
    while (f->src[tuple->id].kind == CG_SRC_ALIAS) tuple = f->src[tuple->id].alias;
    if (tuple->op == HLO_OP_TUPLE && f->src[tuple->id].kind == CG_SRC_COMPUTE)
      return cg_elems(f, tuple->operands[x->tuple_index], idx, out);
    const HloShape *t = &tuple->shape;
    int first = 0;
    for (int i = 0; i < x->tuple_index; i++)
      first += cg_shape_nleaves(&t->tuple[i]);
    int n = cg_shape_nleaves(&x->shape);
    const CgSrc *src = &f->src[tuple->id];
    if (src->kind == CG_SRC_MEMREF) {
      const HloShape *leaves[256];
      cg_shape_leaves(t, leaves, 256);
      for (int k = 0; k < n; k++)
        out[k] = cg_load(f, src->vals[first + k], leaves[first + k], idx);
      return n;
    }
    int nall = cg_shape_nleaves(t);
    CgVal *all = hlo_xmalloc((size_t)nall * sizeof *all);
    cg_elems(f, tuple, idx, all);
    memcpy(out, all + first, (size_t)n * sizeof *out);
    free(all);
    return n;
  }
  case HLO_OP_BROADCAST: out[0] = elem_broadcast(f, x, idx); return 1;
  case HLO_OP_RESHAPE:
  case HLO_OP_BITCAST: /* legalize.c leaves only the bitcasts that reshape */
    HLO_CHECK(hlo_instr_is_reshape(x));
    out[0] = elem_reshape(f, x, idx);
    return 1;
  case HLO_OP_TRANSPOSE: out[0] = elem_transpose(f, x, idx); return 1;
  case HLO_OP_SLICE: out[0] = elem_slice(f, x, idx); return 1;
  case HLO_OP_REVERSE: out[0] = elem_reverse(f, x, idx); return 1;
  case HLO_OP_CONCATENATE: out[0] = concat_from(f, x, idx, 0, 0); return 1;
  case HLO_OP_PAD: out[0] = elem_pad(f, x, idx); return 1;
  case HLO_OP_DYNAMIC_SLICE: out[0] = elem_dynamic_slice(f, x, idx); return 1;
  case HLO_OP_DYNAMIC_UPDATE_SLICE:
    out[0] = elem_dynamic_update_slice(f, x, idx);
    return 1;
  case HLO_OP_BATCH_NORM_INFERENCE:
    out[0] = elem_batch_norm(f, x, idx);
    return 1;
  case HLO_OP_BITCAST_CONVERT:
    out[0] = elem_bitcast_convert(f, x, idx);
    return 1;
  case HLO_OP_GATHER: out[0] = cg_elem_gather(f, x, idx); return 1;
  case HLO_OP_DOT: out[0] = cg_elem_dot(f, x, idx); return 1;
  case HLO_OP_CONVOLUTION: out[0] = cg_elem_convolution(f, x, idx); return 1;
  case HLO_OP_REDUCE: return cg_elem_reduce(f, x, idx, out);
  case HLO_OP_REDUCE_WINDOW: return cg_elem_reduce_window(f, x, idx, out);
  default:
    break;
  }
  if (hlo_opcode_is_elementwise(x->op)) {
    out[0] = elem_elementwise(f, x, idx);
    return 1;
  }
  cg_fail_instr(f->g, x, "has no elemental form");
  /* Zeros of the leaves' types stand in, so the kernel stays well formed
   * until the failure is reported. */
  const HloShape *leaves[256];
  int n = cg_shape_leaves(&x->shape, leaves, 256);
  for (int i = 0; i < n; i++) out[i] = cg_const(f, leaves[i]->type, 0);
  return n;
}

int cg_elems(CgFn *f, const HloInstr *x, const CgVal *idx, CgVal *out) {
  const CgMemo *m = memo_find(f, x, idx);
  if (m) {
    memcpy(out, m->vals, (size_t)m->n * sizeof *out);
    return m->n;
  }
  const CgSrc *s = &f->src[x->id];
  int n;
  switch (s->kind) {
  case CG_SRC_MEMREF: {
    const HloShape *leaves[256];
    n = cg_shape_leaves(&x->shape, leaves, 256);
    HLO_CHECK(n == s->n);
    for (int i = 0; i < n; i++) out[i] = cg_load(f, s->vals[i], leaves[i], idx);
    break;
  }
  case CG_SRC_SCALARS:
    n = s->n;
    memcpy(out, s->vals, (size_t)n * sizeof *out);
    break;
  case CG_SRC_ALIAS:
    n = cg_elems(f, s->alias, idx, out);
    break;
  default:
    if (x->op == HLO_OP_PARAMETER) {
      cg_fail_instr(f->g, x, "is a parameter with no bound value");
      out[0] = 0;
      return 1;
    }
    n = compute(f, x, idx, out);
    break;
  }
  memo_add(f, x, idx, n, out);
  return n;
}

CgVal cg_elem(CgFn *f, const HloInstr *x, const CgVal *idx) {
  HLO_CHECK(!hlo_shape_is_tuple(&x->shape));
  CgVal v;
  cg_elems(f, x, idx, &v);
  return v;
}

CgVal cg_memref_source(CgFn *f, const HloInstr *x) {
  for (;;) {
    const CgSrc *s = &f->src[x->id];
    if (s->kind == CG_SRC_ALIAS) {
      x = s->alias;
      continue;
    }
    if (s->kind == CG_SRC_MEMREF) return s->n == 1 ? s->vals[0] : 0;
    if (s->kind == CG_SRC_COMPUTE && x->op == HLO_OP_CONSTANT && hlo_type_is_array(x->shape.type) &&
        hlo_shape_elements(&x->shape) > 1)
      return kir_get_global(&f->b, cg_constant_global(f->g, x), cg_memref_type(f->g, &x->shape));
    return 0;
  }
}

CgVal cg_operand(CgFn *f, const HloInstr *x, int i, const CgVal *idx) {
  const HloInstr *op = x->operands[i];
  return cg_elem(f, op, op->shape.rank == 0 ? NULL : idx);
}

int cg_apply(CgFn *f, const HloComputation *c, const CgVal *args,
             CgVal *results) {
  CgSrc *saved = hlo_xmalloc((size_t)(c->nparams ? c->nparams : 1) * sizeof *saved);
  for (int i = 0; i < c->nparams; i++) {
    saved[i] = f->src[c->params[i]->id];
    f->src[c->params[i]->id] = (CgSrc){.kind = CG_SRC_SCALARS, .n = 1,
                                       .vals = (CgVal *)&args[i]};
  }
  int mark = f->nmemo;
  int n = cg_elems(f, c->root, NULL, results);
  memo_truncate(f, mark);
  for (int i = 0; i < c->nparams; i++) f->src[c->params[i]->id] = saved[i];
  free(saved);
  return n;
}
