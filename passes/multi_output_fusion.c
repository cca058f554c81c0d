/*
 * multi_output_fusion.c — merges sibling kernels (fusions, and the lone
 * reduces and elementwise ops fusion left) that read a common operand into
 * one fusion whose root is a tuple of both results, so the shared operand
 * is read from memory once (two reductions of the same activation, or two
 * elementwise maps of it, become one pass over it).
 *
 * Siblings merge only when they can share a loop: both kLoop with results
 * of the same dims, or both kInput whose reductions read inputs of the same
 * dims and reduce the same dimensions; and only when neither depends on the
 * other (a path between them would make the merged fusion its own operand).
 * Users of a merged fusion read their part through get-tuple-element.
 *
 * Siblings that read only slices of a common operand (an unrolled loop's
 * time steps) do not merge: they share no reads, and merged their results
 * would all be live at once.
 *
 * Producer and consumer merge too, where the backend's policy says a
 * reduction kernel can write out a producer (reductions_write_producers):
 * a loop fusion (or a lone elementwise op) whose result a reduction (a
 * plain reduce or an input fusion) reduces row by row (its trailing dims),
 * but which other kernels also read, is computed inside the reduction's
 * kernel, which writes it out as a second result as its loop computes
 * each element, so one pass over the data replaces two.
 *
 * Whether a kernel reads all of an operand is hlo/'s indexing analysis
 * (hlo_fused_partial_params), one walk per kernel.
 *
 * The decisions are those of merging the first mergeable pair in list
 * order and looking again from the top, but the work is near linear: a
 * kernel gathers all its siblings before one merged fusion is built (one
 * copy of each body); candidates are only the readers of what the group
 * reads whole; a kernel that found no sibling is not looked at again
 * (merges only add paths); and whether one kernel reaches another is a
 * search through users that stops at instructions as deep as the target
 * (depths along every edge grow, kept so across merges).  What is left
 * is the readers of a widely read operand, offered to each group reading
 * it.
 *
 * requires: a verified module after pass_fusion.
 * keeps:    values.
 * breaks:   nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const HloInstr *first_reduce(const HloComputation *fc) {
  for (const HloInstr *in = fc->first; in; in = in->next)
    if (in->op == HLO_OP_REDUCE) return in;
  return NULL;
}

/* Dims of the loop a fusion runs: the root's (first element's) dims. */
static const HloShape *loop_shape(const HloInstr *f) {
  const HloShape *s = &f->shape;
  return s->type == HLO_TUPLE ? &s->tuple[0] : s;
}

/* The kind of kernel x runs as, or -1 for what is never merged: fusions,
 * and the reduces and elementwise ops fusion left alone, which are kernels
 * all the same. */
static int kernel_kind(const HloInstr *x) {
  if (x->op == HLO_OP_FUSION) return (int)x->fusion_kind;
  if (!hlo_type_is_array(x->shape.type)) return -1;
  if (x->op == HLO_OP_REDUCE && x->noperands == 2) return HLO_FUSION_INPUT;
  return hlo_opcode_is_elementwise(x->op) ? HLO_FUSION_LOOP : -1;
}

/* The reduce a reduction kernel (plain reduce or input fusion) runs. */
static const HloInstr *reduction_of(const HloInstr *r) {
  if (r->op == HLO_OP_REDUCE && r->noperands == 2 && hlo_type_is_array(r->shape.type)) return r;
  if (r->op != HLO_OP_FUSION || r->fusion_kind != HLO_FUSION_INPUT) return NULL;
  return first_reduce(r->called[0]);
}

/* What the pass knows of a kernel, from one walk of its body. */
typedef struct {
  bool done;                 /* filled in */
  uint8_t *whole;            /* by operand: every element is read */
  const HloInstr *reduce;    /* a reduction kernel's reduce (list order) */
  const HloInstr *reduce_po; /* the first in post order: a copy's first */
  int64_t nbody;             /* instructions of its body (1: a lone op) */
} KernelInfo;

/* The pass's state for one computation; the arrays are by instruction id,
 * grown as merges make instructions. */
typedef struct {
  HloComputation *c;
  int64_t cap;               /* entries of each by-id array */
  KernelInfo *info;
  int32_t *depth;            /* an edge x → u has depth[x] < depth[u] */
  uint32_t *stamp, epoch;    /* a search's visited marks */
  uint32_t group;            /* the group being built, numbered from 1 */
  uint32_t *member;          /* == group: in it */
  uint32_t *rejected;        /* == group: can never join it */
  uint32_t *offered;         /* == group: was a candidate */
  uint32_t *gseen;           /* == group: gread says how the group reads it */
  uint8_t *gread;            /* bit 0: some read is whole; bit 1: some partial */
  int32_t gdepth;            /* the deepest member's depth */
  HloInstr **g;              /* the members, leader first */
  int ng, g_cap;
  HloInstr **heap;           /* the candidates, by place */
  int nheap, heap_cap;
  HloInstr **retry;          /* candidates to offer again */
  int retry_cap;
  HloInstr **stack;          /* searches' and fix_depth's */
  int sp, stack_cap;
  int64_t *pos;              /* a kernel's place in the list (-1: none) */
  HloInstr **slot;           /* by place: the kernel there */
  int64_t nslots;
  HloInstr **arg;            /* merge: an operand's parameter */
  int64_t merges;            /* merges made */
  int64_t work;              /* instructions looked at: for the tests */
} Mof;

#define VEC_PUSH(v, n, cap, x)                                                 \
  do {                                                                         \
    if ((n) == (cap)) {                                                        \
      (cap) = (cap) ? 2 * (cap) : 16;                                          \
      (v) = hlo_xrealloc((v), sizeof *(v) * (size_t)(cap));                    \
    }                                                                          \
    (v)[(n)++] = (x);                                                          \
  } while (0)

/* Copies f (a fusion's body, or f itself) into fc, its operands being the
 * parameters s->arg maps them to, or `inner` where it is `produced`;
 * appends its results to roots. */
static void copy_body(Mof *s, HloComputation *fc, const HloInstr *f, const HloInstr *produced,
                      HloInstr *inner, HloInstr **roots, int *nroots) {
  HloInstr *args[f->noperands ? f->noperands : 1];
  for (int i = 0; i < f->noperands; i++)
    args[i] = f->operands[i] == produced ? inner : s->arg[f->operands[i]->id];
  HloInstr *r = f->op == HLO_OP_FUSION ? px_clone_computation(fc, f->called[0], args, NULL)
                                       : hlo_instr_clone(fc, f, args, f->noperands);
  if (r->op != HLO_OP_TUPLE) {
    roots[(*nroots)++] = r;
    return;
  }
  for (int i = 0; i < r->noperands; i++) roots[(*nroots)++] = r->operands[i];
  hlo_instr_remove(r);
}

/* Replaces fusion f (results [first, first+k) of merged) by its part. */
static void reroute(HloInstr *f, HloInstr *merged, int first) {
  HloComputation *c = f->parent;
  HloInstr *after = merged->next; /* parts are listed right after merged */
  HloError *e = NULL;
  if (f->shape.type != HLO_TUPLE) {
    px_replace(f, px_built(hlo_build_get_tuple_element(c, merged, first, &e), e, after));
    return;
  }
  HloInstr *parts[f->shape.ntuple];
  for (int i = 0; i < f->shape.ntuple; i++)
    parts[i] = px_built(hlo_build_get_tuple_element(c, merged, first + i, &e), e, after);
  HloInstr *t = px_built(hlo_build_tuple(c, parts, f->shape.ntuple, &e), e, after);
  hlo_replace_all_uses(f, t);
  px_remove_if_dead(f);
  /* Users that took one element of f now take the part directly. */
  while (t->nusers) {
    HloInstr *u = NULL;
    for (int i = 0; i < t->nusers && !u; i++)
      if (t->users[i]->op == HLO_OP_GET_TUPLE_ELEMENT) u = t->users[i];
    if (!u) break;
    hlo_replace_all_uses(u, parts[u->tuple_index]);
    hlo_instr_remove(u);
  }
  px_remove_if_dead(t);
}

static const KernelInfo *info(Mof *s, const HloInstr *x);

/* Merges the kernels g[0..n) into one multi-output fusion of the given
 * kind whose results are theirs in that order, its operands theirs in
 * first-use order; it takes g[0]'s place in the list, or g[1]'s when
 * `produced` (n == 2, g[0] a producer g[1] reads: those reads read the
 * copy).  One copy of each body, so a group of n costs what its bodies
 * do. */
static HloInstr *merge(Mof *s, HloInstr *const *g, int n, bool produced, HloFusionKind kind) {
  HloComputation *c = g[0]->parent;
  HloModule *m = c->module;
  int cap = 0, nres = 0;
  for (int k = 0; k < n; k++) {
    cap += g[k]->noperands;
    nres += g[k]->shape.type == HLO_TUPLE ? g[k]->shape.ntuple : 1;
  }
  HloInstr **ops = hlo_xmalloc(sizeof *ops * (size_t)(cap ? cap : 1));
  HloInstr **params = hlo_xmalloc(sizeof *params * (size_t)(cap ? cap : 1));
  HloInstr **roots = hlo_xmalloc(sizeof *roots * (size_t)nres);
  int nops = 0;
  s->epoch++;
  for (int k = 0; k < n; k++)
    for (int i = 0; i < g[k]->noperands; i++) {
      HloInstr *o = g[k]->operands[i];
      if ((produced && o == g[0]) || s->stamp[o->id] == s->epoch) continue;
      s->stamp[o->id] = s->epoch;
      ops[nops++] = o;
    }
  HloComputation *fc = hlo_computation_new(m, "fused_computation");
  fc->is_fusion = true;
  /* Callees first: the new body goes right before the first body (a lone
   * kernel has none: then before the computation holding it). */
  hlo_computation_remove(fc);
  HloComputation *before = g[0]->op == HLO_OP_FUSION ? g[0]->called[0] : c;
  fc->next = before;
  fc->prev = before->prev;
  if (before->prev) before->prev->next = fc;
  else m->first = fc;
  before->prev = fc;
  for (int j = 0; j < nops; j++) {
    char name[32];
    snprintf(name, sizeof name, "param_%d", j);
    params[j] = hlo_parameter_new(fc, j, &ops[j]->shape, name);
    s->arg[ops[j]->id] = params[j];
  }
  int nroots = 0;
  for (int k = 0; k < n; k++) {
    s->work += info(s, g[k])->nbody;
    copy_body(s, fc, g[k], produced && k ? g[0] : NULL, produced && k ? roots[0] : NULL,
              roots, &nroots);
  }
  for (int j = 0; j < nops; j++) s->arg[ops[j]->id] = NULL;
  HloError *e = NULL;
  hlo_set_root(fc, px_built(hlo_build_tuple(fc, roots, nroots, &e), e, NULL));
  HloInstr *merged = hlo_instr_new(c, HLO_OP_FUSION, &fc->root->shape, ops, nops, "fusion");
  merged->fusion_kind = kind;
  merged->metadata = g[n - 1]->metadata;
  hlo_instr_set_called(merged, &fc, 1);
  hlo_instr_move_before(merged, produced ? g[1] : g[0]);
  /* Last first: each inserts its parts right after merged, so the parts
   * end up in result order. */
  int first = nres;
  for (int k = n - 1; k >= 0; k--) {
    first -= g[k]->shape.type == HLO_TUPLE ? g[k]->shape.ntuple : 1;
    reroute(g[k], merged, first);
  }
  free(ops);
  free(params);
  free(roots);
  return merged;
}

/* red reduces the trailing dims of its input into the leading ones. */
static bool reduces_rows(const HloInstr *red) {
  int rank = red->operands[0]->shape.rank, nd = red->dimensions.n;
  for (int i = 0; i < nd; i++)
    if (red->dimensions.v[i] < rank - nd) return false;
  return true;
}

/* Whether a's dims are the leading dims of b's. */
static bool leading_dims(const HloShape *a, const HloShape *b) {
  if (a->rank > b->rank) return false;
  for (int d = 0; d < a->rank; d++)
    if (a->dims[d] != b->dims[d]) return false;
  return true;
}

/* Grows the by-id arrays to the module's ids. */
static void grow(Mof *s) {
  int64_t need = s->c->module->next_id;
  if (need <= s->cap) return;
  int64_t cap = s->cap ? s->cap : 64;
  while (cap < need) cap *= 2;
#define PX_GROW(a, fill)                                                        \
  do {                                                                        \
    s->a = hlo_xrealloc(s->a, sizeof *s->a * (size_t)cap);                    \
    for (int64_t i = s->cap; i < cap; i++) s->a[i] = fill;                    \
  } while (0)
  PX_GROW(info, (KernelInfo){0});
  PX_GROW(depth, -1);
  PX_GROW(stamp, 0);
  PX_GROW(member, 0);
  PX_GROW(rejected, 0);
  PX_GROW(offered, 0);
  PX_GROW(gseen, 0);
  PX_GROW(gread, 0);
  PX_GROW(pos, -1);
  PX_GROW(arg, NULL);
#undef PX_GROW
  s->cap = cap;
}

static void push(Mof *s, HloInstr *x) { VEC_PUSH(s->stack, s->sp, s->stack_cap, x); }

/* What a kernel reads and reduces, from one walk of its body. */
static const KernelInfo *info(Mof *s, const HloInstr *x) {
  KernelInfo *k = &s->info[x->id];
  if (k->done) return k;
  k->done = true;
  k->whole = hlo_xmalloc((size_t)(x->noperands ? x->noperands : 1));
  memset(k->whole, 1, (size_t)(x->noperands ? x->noperands : 1));
  k->reduce = k->reduce_po = reduction_of(x);
  k->nbody = 1;
  s->work++;
  if (x->op != HLO_OP_FUSION) return k;
  const HloComputation *fc = x->called[0];
  bool *partial = hlo_fused_partial_params(fc);
  for (int i = 0; i < x->noperands; i++) k->whole[i] = !partial[i];
  free(partial);
  int nreduce = 0;
  k->nbody = 0;
  for (const HloInstr *in = fc->first; in; in = in->next) {
    k->nbody++;
    nreduce += in->op == HLO_OP_REDUCE;
  }
  s->work += k->nbody;
  /* A copy of the body lists it in post order: the first reduce there is
   * what a merged kernel's reduction is. */
  if (k->reduce && nreduce > 1) {
    int n;
    HloInstr **order = hlo_post_order(fc, &n);
    for (int i = 0; i < n; i++)
      if (order[i]->op == HLO_OP_REDUCE) {
        k->reduce_po = order[i];
        break;
      }
    free(order);
  }
  return k;
}

static bool same_reduction(const HloInstr *ra, const HloInstr *rb) {
  return hlo_shape_same_dims(&ra->operands[0]->shape, &rb->operands[0]->shape) &&
         px_dims_equal(&ra->dimensions, &rb->dimensions);
}

/* Siblings can share a loop: both loop kernels with results of the same
 * dims, or both reductions of inputs of the same dims over the same
 * dimensions.  ra is a's reduction (a may stand for a group). */
static bool compatible(Mof *s, const HloInstr *a, const HloInstr *ra, const HloInstr *b) {
  int ka = kernel_kind(a);
  if (ka < 0 || ka != kernel_kind(b)) return false;
  if (ka == HLO_FUSION_LOOP) return hlo_shape_same_dims(loop_shape(a), loop_shape(b));
  if (ka != HLO_FUSION_INPUT) return false;
  const HloInstr *rb = info(s, b)->reduce;
  return ra && rb && same_reduction(ra, rb) && hlo_shape_same_dims(loop_shape(a), loop_shape(b));
}

/* Depths from the operands: an edge x → u has depth[x] < depth[u], so a
 * path never leads to an instruction no deeper than where it is.  Steps
 * of two leave room for the get-tuple-element a merge puts between a
 * kernel and its users: merging siblings of one depth moves nothing. */
static void init_depth(Mof *s) {
  int n;
  HloInstr **order = hlo_post_order(s->c, &n);
  for (int i = 0; i < n; i++) {
    int32_t d = 0;
    for (int j = 0; j < order[i]->noperands; j++)
      if (s->depth[order[i]->operands[j]->id] + 2 > d) d = s->depth[order[i]->operands[j]->id] + 2;
    s->depth[order[i]->id] = d;
    s->work++;
  }
  free(order);
}

/* After x replaced kernels: x's depth from its operands, then its users'
 * and theirs pushed down only as far as they were too shallow. */
static void fix_depth(Mof *s, HloInstr *x) {
  int32_t d = 0;
  for (int j = 0; j < x->noperands; j++)
    if (s->depth[x->operands[j]->id] >= d) d = s->depth[x->operands[j]->id] + 1;
  s->depth[x->id] = d;
  s->sp = 0;
  push(s, x);
  while (s->sp) {
    HloInstr *y = s->stack[--s->sp];
    for (int i = 0; i < y->nusers; i++) {
      HloInstr *u = y->users[i];
      s->work++;
      if (s->depth[u->id] > s->depth[y->id]) continue;
      s->depth[u->id] = s->depth[y->id] + 1;
      push(s, u);
    }
  }
}

/* Is there a path through users from one of from[0..n) (not through the
 * edge to `skip`) to `to`, or with to NULL to a member of the group being
 * built?  Only instructions shallower than the target are searched. */
static bool reaches(Mof *s, HloInstr *const *from, int n, const HloInstr *skip,
                    const HloInstr *to) {
  int32_t limit = to ? s->depth[to->id] : s->gdepth;
  s->epoch++;
  s->sp = 0;
  for (int k = 0; k < n; k++)
    for (int i = 0; i < from[k]->nusers; i++) {
      HloInstr *u = from[k]->users[i];
      if (u != skip && s->stamp[u->id] != s->epoch) {
        s->stamp[u->id] = s->epoch;
        push(s, u);
      }
    }
  while (s->sp) {
    HloInstr *x = s->stack[--s->sp];
    s->work++;
    if (to ? x == to : s->member[x->id] == s->group) return true;
    if (s->depth[x->id] >= limit) continue;
    for (int i = 0; i < x->nusers; i++) {
      HloInstr *u = x->users[i];
      if (s->stamp[u->id] != s->epoch) {
        s->stamp[u->id] = s->epoch;
        push(s, u);
      }
    }
  }
  return false;
}

/* The group being built (members g[0..ng), led by g[0]) reads o: how. */
static bool group_reads_whole(const Mof *s, const HloInstr *o) {
  if (s->gseen[o->id] != s->group || o->op == HLO_OP_CONSTANT) return false;
  /* One kernel reads o whole where any of its reads is whole; a merged
   * kernel reads it through one parameter, whole only if every read is. */
  return s->ng == 1 ? s->gread[o->id] & 1 : !(s->gread[o->id] & 2);
}

static bool shares_operand(Mof *s, const HloInstr *b) {
  const KernelInfo *kb = info(s, b);
  for (int j = 0; j < b->noperands; j++)
    if (kb->whole[j] && group_reads_whole(s, b->operands[j])) return true;
  return false;
}

/* The candidates: a heap by place in the list, first on top. */
static void heap_push(Mof *s, HloInstr *x) {
  VEC_PUSH(s->heap, s->nheap, s->heap_cap, x);
  for (int i = s->nheap - 1; i > 0;) {
    int p = (i - 1) / 2;
    if (s->pos[s->heap[p]->id] <= s->pos[s->heap[i]->id]) break;
    HloInstr *t = s->heap[p];
    s->heap[p] = s->heap[i];
    s->heap[i] = t;
    i = p;
  }
}

static HloInstr *heap_pop(Mof *s) {
  HloInstr *top = s->heap[0];
  s->heap[0] = s->heap[--s->nheap];
  for (int i = 0;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    if (l < s->nheap && s->pos[s->heap[l]->id] < s->pos[s->heap[m]->id]) m = l;
    if (r < s->nheap && s->pos[s->heap[r]->id] < s->pos[s->heap[m]->id]) m = r;
    if (m == i) break;
    HloInstr *t = s->heap[m];
    s->heap[m] = s->heap[i];
    s->heap[i] = t;
    i = m;
  }
  return top;
}

/* Adds x to the group; its readers become candidates: those after the
 * leader, or with `before` those before it. */
static void join(Mof *s, HloInstr *x, bool before) {
  VEC_PUSH(s->g, s->ng, s->g_cap, x);
  s->member[x->id] = s->group;
  if (s->depth[x->id] > s->gdepth) s->gdepth = s->depth[x->id];
  const KernelInfo *k = info(s, x);
  int64_t lead = s->pos[s->g[0]->id];
  for (int i = 0; i < x->noperands; i++) {
    const HloInstr *o = x->operands[i];
    uint8_t how = k->whole[i] ? 1 : 2;
    uint8_t had = s->gseen[o->id] == s->group ? s->gread[o->id] : 0;
    s->gseen[o->id] = s->group;
    s->gread[o->id] = had | how;
    /* Only a whole read of what is not a constant can be shared: its
     * readers are offered at the first. */
    if (how != 1 || (had & 1) || o->op == HLO_OP_CONSTANT) continue;
    for (int u = 0; u < o->nusers; u++) {
      HloInstr *b = o->users[u];
      int64_t pb = s->pos[b->id];
      s->work++;
      if (pb < 0 || (before ? pb >= lead : pb <= lead) || s->offered[b->id] == s->group) continue;
      s->offered[b->id] = s->group;
      heap_push(s, b);
    }
  }
}

/* The first candidate (by place) that can join the group, or NULL;
 * candidates that never can are dropped, the others kept for the next
 * round. */
static HloInstr *next_member(Mof *s) {
  const HloInstr *lead = s->g[0];
  /* A merged kernel's reduction is its first member's first in post
   * order (the order a copy lists). */
  const HloInstr *ra = s->ng == 1 ? info(s, lead)->reduce : info(s, lead)->reduce_po;
  HloInstr *found = NULL;
  int nretry = 0;
  while (s->nheap && !found) {
    HloInstr *b = heap_pop(s);
    s->work++;
    if (!px_is_linked(b) || s->member[b->id] == s->group || s->rejected[b->id] == s->group)
      continue;
    if (!b->nusers) continue;
    if (!compatible(s, lead, ra, b) || !shares_operand(s, b)) {
      VEC_PUSH(s->retry, nretry, s->retry_cap, b);
      continue;
    }
    /* Neither may depend on the other: merged, a kernel would read
     * itself.  Paths only multiply as the group grows. */
    if (reaches(s, s->g, s->ng, NULL, b) || reaches(s, &b, 1, NULL, NULL)) {
      s->rejected[b->id] = s->group;
      continue;
    }
    found = b;
  }
  for (int i = 0; i < nretry; i++) heap_push(s, s->retry[i]);
  return found;
}

static void start_group(Mof *s, HloInstr *lead, bool before) {
  s->group++;
  s->ng = 0;
  s->nheap = 0;
  s->gdepth = 0;
  join(s, lead, before);
}

/* Gives merged the place of the kernel it replaces. */
static void placed(Mof *s, HloInstr *merged, const HloInstr *at) {
  grow(s);
  s->pos[merged->id] = s->pos[at->id];
  s->slot[s->pos[at->id]] = merged;
  fix_depth(s, merged);
}

/* Merges into a every sibling that can join it, one at a time in list
 * order (each then reads what the group reads); returns the kernel in
 * a's place. */
static HloInstr *gather(Mof *s, HloInstr *a) {
  if (kernel_kind(a) < 0 || !a->nusers) return a;
  start_group(s, a, false);
  for (HloInstr *b; (b = next_member(s));) join(s, b, false);
  if (s->ng == 1) return a;
  s->merges++;
  HloInstr *merged = merge(s, s->g, s->ng, false, (HloFusionKind)kernel_kind(a));
  placed(s, merged, a);
  return merged;
}

/* After a producer merge: the first kernel before x that x's new reads let
 * it merge with, or NULL. */
static HloInstr *partner_before(Mof *s, HloInstr *x) {
  if (kernel_kind(x) < 0 || !x->nusers) return NULL;
  start_group(s, x, true);
  return next_member(s);
}

/* Producer into consumer: a loop kernel with several readers, one of them
 * a reduction of rows of exactly its result, which then writes it. */
static HloInstr *producer_of(Mof *s, HloInstr *r) {
  if (kernel_kind(r) < 0) return NULL;
  const HloInstr *red = info(s, r)->reduce;
  if (!red || !reduces_rows(red) || !leading_dims(loop_shape(r), &red->operands[0]->shape))
    return NULL;
  for (int i = 0; i < r->noperands; i++) {
    HloInstr *p = r->operands[i];
    s->work++;
    if (kernel_kind(p) == HLO_FUSION_LOOP && p->nusers >= 2 && p->shape.type != HLO_TUPLE &&
        hlo_shape_same_dims(&p->shape, &red->operands[0]->shape) && !reaches(s, &p, 1, r, r))
      return p;
  }
  return NULL;
}

/* The decisions are those of merging the first mergeable pair in list
 * order, then looking again from the top, until none is left: a merge
 * only adds paths and narrows what a group reads whole, so a kernel that
 * found no sibling never finds one later, except beside a kernel a
 * producer merge made; kernels keep their places (a merged one takes its
 * first member's, or its consumer's). */
static void run(Mof *s, const PassPolicy *policy) {
  int n = 0;
  for (HloInstr *in = s->c->first; in; in = in->next) n++;
  s->slot = hlo_xrealloc(s->slot, sizeof *s->slot * (size_t)(n ? n : 1));
  s->nslots = 0;
  for (HloInstr *in = s->c->first; in; in = in->next) {
    s->pos[in->id] = s->nslots;
    s->slot[s->nslots++] = in;
  }
  init_depth(s);
  for (int64_t p = 0; p < s->nslots; p++)
    if (px_is_linked(s->slot[p])) gather(s, s->slot[p]);
  if (!policy->reductions_write_producers) return;
  HloInstr *pending = NULL;
  for (int64_t p = 0; pending || p < s->nslots;) {
    HloInstr *r = pending ? pending : s->slot[p];
    pending = NULL;
    HloInstr *prod = px_is_linked(r) ? producer_of(s, r) : NULL;
    if (!prod) {
      if (r == s->slot[p]) p++;
      continue;
    }
    HloInstr *g[2] = {prod, r};
    HloInstr *merged = merge(s, g, 2, true, HLO_FUSION_INPUT);
    placed(s, merged, r);
    s->merges++;
    HloInstr *x = partner_before(s, merged);
    HloInstr *lead = gather(s, x ? x : merged);
    if (s->pos[lead->id] < p) pending = lead;
  }
}

bool pass_multi_output_fusion_counted(HloModule *m, const PassPolicy *policy, int64_t *work) {
  static const PassPolicy conservative;
  int nc;
  HloComputation **comps = px_graph_computations(m, false, &nc);
  Mof s = {0};
  for (int i = 0; i < nc; i++) {
    s.c = comps[i];
    grow(&s);
    run(&s, policy ? policy : &conservative);
  }
  if (work) *work += s.work;
  for (int64_t k = 0; k < s.cap; k++) free(s.info[k].whole);
  free(s.info);
  free(s.depth);
  free(s.stamp);
  free(s.member);
  free(s.rejected);
  free(s.offered);
  free(s.gseen);
  free(s.gread);
  free(s.pos);
  free(s.arg);
  free(s.slot);
  free(s.stack);
  free(s.heap);
  free(s.retry);
  free(s.g);
  free(comps);
  return s.merges > 0;
}

bool pass_multi_output_fusion(HloModule *m, const PassPolicy *policy) {
  return pass_multi_output_fusion_counted(m, policy, NULL);
}
