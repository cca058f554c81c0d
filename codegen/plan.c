/*
 * plan.c — where every value lives, as the rest of codegen/ reads it (a
 * CgPlan), and the order in which each computation's instructions run.
 *
 * Two planners fill the same CgPlan:
 *
 *   assigned (the default)  passes/' buffer assignment: every computation
 *       runs in the order of its schedule (pass_plan_schedule), and every
 *       intermediate sits at the arena offset pass_assign_buffers gave it,
 *       so values whose lifetimes do not overlap share bytes, an
 *       elementwise kernel may write over the operand it is the last reader
 *       of, and the arena is the packed size;
 *   slots  every value gets a slot of its own, in post order — nothing is
 *       shared, so nothing needs liveness: the plan for modules compiled
 *       without the pass pipeline, and a reference when debugging a plan.
 *
 * In both, entry parameters live in the caller's argument buffers,
 * constants in read-only globals, and the values that the entry's root
 * returns are computed straight into the caller's result buffers when they
 * are computed in the entry computation (the first time a value appears in
 * the result tuple); tuples and get-tuple-element own nothing: their leaves
 * are their operands' buffers.  Scratch offsets are aligned to 64 bytes (a
 * cache line and the widest vector).  A computation reached from several
 * call sites has one set of buffers: HLO has no recursion, so two
 * activations never overlap.
 *
 * A kernel that needs working memory besides its outputs (a sort's merge
 * buffers: the backend's policy says how much, kernel_temp_bytes) gets it
 * as one more scratch buffer, a u8 array: the offset buffer assignment
 * packed it at, or a slot of its own.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "passes.h"

int cg_shape_leaves(const HloShape *s, const HloShape **out, int max) {
  if (!hlo_shape_is_tuple(s)) {
    if (max > 0) out[0] = s;
    return 1;
  }
  /* out is NULL when only counting: no pointer arithmetic on it. */
  int n = 0;
  for (int i = 0; i < s->ntuple; i++)
    n += cg_shape_leaves(&s->tuple[i], out ? out + n : NULL, max - n > 0 ? max - n : 0);
  return n;
}

int cg_shape_nleaves(const HloShape *s) {
  return cg_shape_leaves(s, NULL, 0);
}

bool cg_buf_same(const CgBuf *a, const CgBuf *b) {
  if (a->kind != b->kind) return false;
  switch (a->kind) {
  case CG_BUF_ARG:
  case CG_BUF_RESULT: return a->index == b->index;
  /* Values may share scratch bytes: the same offset is the same memory. */
  case CG_BUF_SCRATCH: return a->offset == b->offset;
  case CG_BUF_CONST: return a->constant == b->constant;
  case CG_BUF_NONE: return true;
  }
  return false;
}

const CgBuf *cg_plan_temp(const CgPlan *p, const HloInstr *x) {
  if (x->id >= p->ninstrs || p->temp[x->id] < 0) return NULL;
  return &p->leaves[p->temp[x->id]];
}

const CgBuf *cg_plan_leaves(const CgPlan *p, const HloInstr *x, int *n) {
  if (x->id >= p->ninstrs || p->first[x->id] < 0) return NULL;
  *n = p->count[x->id];
  return p->leaves + p->first[x->id];
}

/* Leaf `leaf` of x traced through tuple and get-tuple-element to the
 * instruction that defines it; *def_leaf is the leaf index there. */
static const HloInstr *defining(const HloInstr *x, int leaf, int *def_leaf) {
  for (;;) {
    if (x->op == HLO_OP_TUPLE) {
      int i = 0, n;
      while (leaf >= (n = cg_shape_nleaves(&x->operands[i]->shape))) {
        leaf -= n;
        i++;
      }
      x = x->operands[i];
    } else if (x->op == HLO_OP_GET_TUPLE_ELEMENT) {
      const HloShape *t = &x->operands[0]->shape;
      for (int i = 0; i < x->tuple_index; i++)
        leaf += cg_shape_nleaves(&t->tuple[i]);
      x = x->operands[0];
    } else {
      *def_leaf = leaf;
      return x;
    }
  }
}

typedef struct Planner {
  CgPlan *p;
  const HloModule *m;
  int64_t (*temp_bytes)(const HloInstr *); /* the policy's, or NULL */
  int cap;                 /* leaves allocated */
  size_t offset;           /* slots: next free scratch byte */
  bool *planned;           /* by computation: visited (index in post order) */
  HloComputation **comps;
  int ncomps;
  /* Entry-root claims (slots): by (instruction id, leaf) the result it is
   * computed into, as a list (results are few). */
  const HloInstr **claim_instr;
  int *claim_leaf;
  /* Scratch slots: one memref view each in N_run, so one per distinct
   * (offset, leaf) pair; slot_leaf indexes p->leaves. */
  int *slot_leaf;
  int slot_cap;
} Planner;

static int push_leaf(Planner *pl, const CgBuf *b) {
  CgPlan *p = pl->p;
  if (p->nleaves == pl->cap) {
    pl->cap = pl->cap ? 2 * pl->cap : 64;
    p->leaves = hlo_xrealloc(p->leaves, (size_t)pl->cap * sizeof *p->leaves);
  }
  p->leaves[p->nleaves] = *b;
  return p->nleaves++;
}

static int claimed_result(const Planner *pl, const HloInstr *x, int leaf) {
  for (int i = 0; i < pl->p->nresults; i++)
    if (pl->claim_instr[i] == x && pl->claim_leaf[i] == leaf) return i;
  return -1;
}

/* The slot number of a scratch buffer about to be pushed: views of the
 * same bytes with the same shape are shared. */
static int slot_of(Planner *pl, const CgBuf *b) {
  CgPlan *p = pl->p;
  for (int s = 0; s < p->nslots; s++) {
    const CgBuf *o = &p->leaves[pl->slot_leaf[s]];
    if (o->offset == b->offset && o->shape.type == b->shape.type &&
        hlo_shape_same_dims(&o->shape, &b->shape))
      return s;
  }
  if (p->nslots == pl->slot_cap) {
    pl->slot_cap = pl->slot_cap ? 2 * pl->slot_cap : 64;
    pl->slot_leaf = hlo_xrealloc(pl->slot_leaf, (size_t)pl->slot_cap * sizeof *pl->slot_leaf);
  }
  pl->slot_leaf[p->nslots] = p->nleaves;
  return p->nslots++;
}

/* Leaf i of x (neither tuple, get-tuple-element, entry parameter nor
 * constant): its buffer under the assigned plan, or a fresh slot. */
static HloError *leaf_buffer(Planner *pl, const HloInstr *x, int i, CgBuf *b) {
  /* A token orders side effects, which one device runs in program order
   * anyway: it has no bytes (buffer assignment gives it none either). */
  if (b->shape.type == HLO_TOKEN) {
    b->kind = CG_BUF_NONE;
    return NULL;
  }
  if (pl->p->assigned) {
    const PassBuf *pb = pass_buffer_of(pl->p->assigned, x, i);
    if (pb && pb->kind == PASS_BUF_RESULT) {
      b->kind = CG_BUF_RESULT;
      b->index = (int)pb->index;
      return NULL;
    }
    if (!pb || pb->kind != PASS_BUF_SCRATCH)
      return hlo_error("codegen: internal error: buffer assignment gave %s "
                       "leaf %d no storage", x->name, i);
    b->kind = CG_BUF_SCRATCH;
    b->offset = (size_t)pb->offset;
  } else {
    int r = x->parent->is_entry ? claimed_result(pl, x, i) : -1;
    if (r >= 0) {
      b->kind = CG_BUF_RESULT;
      b->index = r;
      return NULL;
    }
    b->kind = CG_BUF_SCRATCH;
    b->offset = pl->offset;
    size_t bytes = hlo_shape_byte_size(&b->shape);
    pl->offset += (bytes + PASS_BUF_ALIGN - 1) / PASS_BUF_ALIGN * PASS_BUF_ALIGN;
  }
  b->index = slot_of(pl, b);
  return NULL;
}

static HloError *plan_instr(Planner *pl, const HloInstr *x) {
  CgPlan *p = pl->p;
  int first = p->nleaves;
  if (x->op == HLO_OP_TUPLE || x->op == HLO_OP_GET_TUPLE_ELEMENT) {
    /* Copy the defining leaves (defined earlier: operands come first). */
    int n = cg_shape_nleaves(&x->shape);
    for (int i = 0; i < n; i++) {
      int dl;
      const HloInstr *d = defining(x, i, &dl);
      CgBuf b = p->leaves[p->first[d->id] + dl];
      push_leaf(pl, &b);
    }
  } else if (x->op == HLO_OP_PARAMETER && x->parent->is_entry) {
    HLO_CHECK(!hlo_shape_is_tuple(&x->shape)); /* legalize.c flattened it */
    CgBuf b = {.kind = CG_BUF_ARG, .index = (int)x->parameter_number,
               .shape = x->shape};
    push_leaf(pl, &b);
  } else if (x->op == HLO_OP_CONSTANT) {
    HLO_CHECK(!hlo_shape_is_tuple(&x->shape)); /* legalize.c split it */
    CgBuf b = {.kind = CG_BUF_CONST, .constant = x, .shape = x->shape};
    push_leaf(pl, &b);
  } else {
    const HloShape *leaves[256];
    int n = cg_shape_leaves(&x->shape, leaves, 256);
    if (n > 256)
      return hlo_error("codegen: %s has %d tuple leaves (at most 256)",
                       x->name, n);
    for (int i = 0; i < n; i++) {
      CgBuf b = {.shape = *leaves[i]};
      HloError *e = leaf_buffer(pl, x, i, &b);
      if (e) return e;
      push_leaf(pl, &b);
    }
  }
  p->first[x->id] = first;
  p->count[x->id] = p->nleaves - first;
  int64_t temp = pl->temp_bytes && x->op != HLO_OP_PARAMETER ? pl->temp_bytes(x) : 0;
  if (temp > 0) {
    CgBuf b = {.kind = CG_BUF_SCRATCH, .shape = hlo_shape_array(HLO_U8, 1, &temp)};
    if (p->assigned) {
      int64_t at = pass_temp_offset(p->assigned, x);
      if (at < 0)
        return hlo_error("codegen: internal error: buffer assignment gave %s no "
                         "working memory", x->name);
      b.offset = (size_t)at;
    } else {
      b.offset = pl->offset;
      pl->offset += ((size_t)temp + PASS_BUF_ALIGN - 1) / PASS_BUF_ALIGN * PASS_BUF_ALIGN;
    }
    b.index = slot_of(pl, &b);
    p->temp[x->id] = push_leaf(pl, &b);
  }
  return NULL;
}

static int comp_index(const Planner *pl, const HloComputation *c) {
  for (int i = 0; i < pl->ncomps; i++)
    if (pl->comps[i] == c) return i;
  HLO_UNREACHABLE();
}

/* Plans c and, before each while/conditional/call in it, the computations
 * that instruction runs. */
static HloError *plan_computation(Planner *pl, const HloComputation *c) {
  int ci = comp_index(pl, c);
  if (pl->planned[ci]) return NULL;
  pl->planned[ci] = true;
  int n;
  HloInstr **order = cg_plan_order(pl->p, c, &n);
  HloError *err = NULL;
  for (int i = 0; i < n && !err; i++) {
    HloInstr *x = order[i];
    if (x->op == HLO_OP_WHILE || x->op == HLO_OP_CONDITIONAL ||
        x->op == HLO_OP_CALL)
      for (int k = 0; k < x->ncalled && !err; k++)
        err = plan_computation(pl, x->called[k]);
    if (!err) err = plan_instr(pl, x);
  }
  free(order);
  return err;
}

HloError *cg_plan_buffers(const HloModule *m, CgPlanKind kind, const PassPolicy *policy,
                          CgPlan *out) {
  memset(out, 0, sizeof *out);
  const HloComputation *entry = m->entry;
  if (!entry) return hlo_error("codegen: module %s has no entry computation",
                               m->name);
  out->ninstrs = m->next_id;
  out->first = hlo_xmalloc((size_t)m->next_id * sizeof *out->first);
  out->count = hlo_xcalloc((size_t)m->next_id, sizeof *out->count);
  out->temp = hlo_xmalloc((size_t)(m->next_id ? m->next_id : 1) * sizeof *out->temp);
  for (int64_t i = 0; i < m->next_id; i++) out->first[i] = out->temp[i] = -1;
  if (kind == CG_PLAN_ASSIGNED) {
    out->assigned = hlo_xmalloc(sizeof *out->assigned);
    HloError *e = pass_assign_buffers(m, policy, out->assigned);
    if (e) {
      free(out->assigned);
      out->assigned = NULL;
      cg_plan_free(out);
      return e;
    }
  }

  Planner pl = {.p = out, .m = m, .temp_bytes = policy ? policy->kernel_temp_bytes : NULL};
  pl.comps = hlo_computation_post_order(m, &pl.ncomps);
  pl.planned = hlo_xcalloc((size_t)pl.ncomps, sizeof *pl.planned);
  out->nresults = cg_shape_nleaves(&entry->root->shape);
  pl.claim_instr = hlo_xcalloc((size_t)out->nresults, sizeof *pl.claim_instr);
  pl.claim_leaf = hlo_xcalloc((size_t)out->nresults, sizeof *pl.claim_leaf);

  /* Results computed by the entry go straight to the caller's buffer (the
   * assigned plan decided that already). */
  for (int r = 0; r < out->nresults && !out->assigned; r++) {
    int dl;
    const HloInstr *d = defining(entry->root, r, &dl);
    if (d->parent != entry || d->op == HLO_OP_PARAMETER ||
        d->op == HLO_OP_CONSTANT || claimed_result(&pl, d, dl) >= 0)
      continue;
    pl.claim_instr[r] = d;
    pl.claim_leaf[r] = dl;
  }

  HloError *err = plan_computation(&pl, entry);
  if (!err) {
    int n = 0;
    const CgBuf *root = cg_plan_leaves(out, entry->root, &n);
    out->result_src = hlo_xmalloc((size_t)(n ? n : 1) * sizeof *out->result_src);
    memcpy(out->result_src, root, (size_t)n * sizeof *root);
    out->scratch_bytes = out->assigned ? (size_t)out->assigned->arena_bytes : pl.offset;
    out->scratch_align = PASS_BUF_ALIGN;
    /* Each buffer is within HLO_MAX_BUFFER_BYTES (shape inference), so the
     * sum of far fewer than 2^23 of them cannot overflow. */
    if (out->scratch_bytes > (size_t)HLO_MAX_ARENA_BYTES)
      err = hlo_error("codegen: the model needs a scratch arena of %zu bytes, more than the "
                      "limit of 2^42", out->scratch_bytes);
  }
  free(pl.comps);
  free(pl.planned);
  free(pl.claim_instr);
  free(pl.claim_leaf);
  free(pl.slot_leaf);
  if (err) cg_plan_free(out);
  return err;
}

HloInstr **cg_plan_order(const CgPlan *p, const HloComputation *c, int *n) {
  const PassSchedule *s = p->assigned ? pass_plan_schedule(p->assigned, c) : NULL;
  if (!s) return hlo_post_order(c, n);
  HloInstr **order = hlo_xmalloc((size_t)(s->n ? s->n : 1) * sizeof *order);
  memcpy(order, s->order, (size_t)s->n * sizeof *order);
  *n = s->n;
  return order;
}

void cg_plan_free(CgPlan *p) {
  if (p->assigned) {
    pass_buffer_plan_free(p->assigned);
    free(p->assigned);
  }
  free(p->first);
  free(p->count);
  free(p->temp);
  free(p->leaves);
  free(p->result_src);
  memset(p, 0, sizeof *p);
}
