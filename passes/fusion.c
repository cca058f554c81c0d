/*
 * fusion.c — groups instructions into `fusion` instructions, each of which
 * codegen emits as one kernel (one loop nest over its root), so that
 * intermediate values stay in registers instead of round-tripping through
 * memory.
 *
 * The decision is made per producer, consumers first (reverse post order),
 * so that when an instruction is decided every user of it already is: it
 * is either materialized — it roots a kernel of its own and its result gets
 * a buffer — or inlined into the kernels of its users, where it is computed
 * as they read it.  An instruction inlined into several kernels is
 * computed in each (duplicated); its operands then see all those kernels
 * as users, so the decision propagates correctly down the graph: nothing is
 * ever both inlined somewhere and needed in memory but for the free ops
 * below, and no kernel reads a value that another kernel was meant to
 * compute inside itself.
 *
 * What a kernel costs depends on how it reads each member: hlo/'s
 * indexing analysis (hlo_operand_map) says how, the backend's policy
 * (PassPolicy) what the backend makes of it:
 *   - at the root's own index through identity maps ("ident"): once per
 *     element;
 *   - at an index made of the leading indices of the root's loop nest (a
 *     row vector broadcast along a row): where the backend hoists such
 *     values (hoist_prefix_values), once per row, before the inner loops,
 *     so a row reduction, an rsqrt of a variance, an exp of a max are
 *     computed once per row and swept along it — softmax and layer norm
 *     are one kernel;
 *   - below any other broadcast that expands, an overlapping window or a
 *     gather ("expanded"): possibly many times per element.
 * Rules, for a producer p:
 *   - p is materialized when it is the computation's root, when a user
 *     cannot compute it (a dot or convolution reads its operands from
 *     memory; tuples, control flow, sort and scatter are not fused), or
 *     when inlining would cost recomputation: an expensive op (exp, log,
 *     divide, …) or a loop of its own (reduce, dot, convolution,
 *     reduce-window) may be neither expanded nor duplicated into several
 *     kernels; cheap elementwise and data-movement ops may be both, but
 *     are duplicated only when what the copies would compute below them is
 *     cheap too (or in memory anyway);
 *   - free ops (broadcast, iota, scalar constants) are inlined into every
 *     kernel that reads them, and materialized too when some user needs
 *     them in memory: reading a broadcast's operand beats reading the
 *     broadcast;
 *   - a dot or convolution joins a kernel only at its root's index through
 *     elementwise ops (its epilogue: bias, activation, residual add), one
 *     per kernel, never with a reduce: kOutput.  An epilogue whose
 *     consumer cannot take the contraction stays with the contraction (it
 *     is materialized as that kernel's root), so conv+bias+relu is one
 *     kernel even when a pooling or a reduction reads it.  Where the
 *     backend computes a contraction's outputs one at a time
 *     (scalar_contraction_epilogues), a contraction does not join a kernel
 *     computing transcendentals either: an erf or tanh in its epilogue
 *     would run one element at a time, where a loop kernel of its own
 *     vectorizes it (GELU after a dense layer);
 *   - reduces may join with other reduces (kInput): the root of such a
 *     kernel is either the reduce's result with an elementwise epilogue
 *     (global average pooling) or, through row broadcasts, the reduce's
 *     input shape (softmax, layer norm);
 *   - a reshape rooting a kernel is a view of its operand's bytes where
 *     the backend runs the kernel's nest over the operand's shape
 *     (root_views), so what it reshapes sits at the nest's own index (a
 *     softmax over heads feeding a batched dot is still one row kernel);
 *   - non-scalar constants (weights) are never fused: they stay operands,
 *     read from read-only data.
 *
 * requires: a verified module; runs last but for multi-output fusion (no
 *           pass after it understands fusions except DCE and the
 *           analyses).
 * keeps:    values: every fusion's body is the original instructions, and
 *           the evaluator runs a fusion by running its body.
 * breaks:   nothing; fused computations are marked is_fusion.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool is_expensive(HloOpcode op) {
  HloCost c = hlo_opcode_cost(op);
  return c == HLO_COST_EXPENSIVE || c == HLO_COST_TRANSCENDENTAL;
}

/* Computed by a long polynomial (codegen/math.c), which pays to vectorize;
 * divide and square roots are single instructions. */
static bool is_transcendental(HloOpcode op) {
  return hlo_opcode_cost(op) == HLO_COST_TRANSCENDENTAL;
}

static bool is_scalar_constant(const HloInstr *in) {
  return in->op == HLO_OP_CONSTANT && in->shape.rank == 0 && hlo_type_is_array(in->shape.type);
}

/* Recomputing it in every reader costs less than reading it from memory. */
static bool is_free(const HloInstr *in) {
  return in->op == HLO_OP_BROADCAST || in->op == HLO_OP_IOTA || is_scalar_constant(in);
}

static bool is_contraction(const HloInstr *in) {
  return in->op == HLO_OP_DOT || in->op == HLO_OP_CONVOLUTION;
}

static bool is_reduce(const HloInstr *in) {
  return in->op == HLO_OP_REDUCE && in->noperands == 2;
}

/* Elementwise or data movement computable per output element. */
static bool is_loop_op(const HloInstr *in) {
  if (!hlo_type_is_array(in->shape.type)) return false;
  if (hlo_opcode_is_elementwise(in->op)) return true;
  switch (hlo_opcode_cost(in->op)) {
  case HLO_COST_FREE:
  case HLO_COST_MOVE:
    /* Data movement; parameters, constants and tuples only name values. */
    return hlo_opcode_kind(in->op) != HLO_KIND_TUPLE && in->op != HLO_OP_PARAMETER &&
           in->op != HLO_OP_CONSTANT;
  case HLO_COST_LOOP:
    return in->op == HLO_OP_REDUCE_WINDOW && in->noperands == 2; /* one input, one init */
  default:
    return false;
  }
}

/* Only renames the row-major elements of its operand. */
static bool is_view(const HloInstr *in) {
  return hlo_instr_is_reshape(in) && hlo_shape_has_default_layout(&in->shape) &&
         hlo_shape_has_default_layout(&in->operands[0]->shape);
}

static bool is_fusible(const HloInstr *in) {
  if (!hlo_type_is_array(in->shape.type)) return false;
  return is_loop_op(in) || is_reduce(in) || is_contraction(in) || is_scalar_constant(in);
}

/* Runs loops of its own per element it produces. */
static bool has_loops(const HloInstr *in) {
  return is_reduce(in) || is_contraction(in) || in->op == HLO_OP_REDUCE_WINDOW;
}

/* Can the kernel computing u compute its operand i inside it? */
static bool takes_operand(const HloInstr *u) {
  return is_loop_op(u) || is_reduce(u);
}

/* How a kernel evaluates one of its members (see the top of the file). */
typedef struct Use {
  int k;          /* the kernel */
  bool expanded;  /* elements may be computed any number of times */
  bool ident;     /* at the root's own index, through elementwise ops */
  int pfx;        /* its index starts with this many of the root's loop
                   * indices (its rank: evaluated once per such prefix) */
} Use;

typedef struct Kernel {
  HloInstr *root;
  bool contraction;  /* holds a dot or convolution */
  bool reduce;       /* holds a reduce */
  bool transcendental; /* holds a transcendental op */
  int nmembers, cap;
  HloInstr **members; /* inlined instructions, in post order */
} Kernel;

typedef struct Fuser {
  HloComputation *c;
  int n;
  HloInstr **order;  /* post order */
  uint8_t *dup;      /* by id: dupable(), 0 not known yet, 1 yes, 2 no */
  int *own;          /* by id: the kernel it roots, -1 */
  int *nuses;        /* by id: kernels it is inlined into … */
  Use **uses;        /* … and how each reads it */
  bool *epi;         /* by id: the elementwise epilogue of a lone dot or
                      * convolution (that contraction's only reader, or
                      * the only reader of such an epilogue) */
  Kernel *kernels;
  int nkernels;
  PassPolicy policy;  /* the backend's */
} Fuser;

/* How kernel s.k evaluates operand i of u, given how it evaluates u
 * (hlo/'s indexing analysis).  Where the backend computes a value read at
 * a prefix of the loop nest's indices once per prefix, a member read that
 * way is not expanded however many elements read it. */
static Use through(const Fuser *f, const HloInstr *u, int i, Use s) {
  const HloInstr *p = u->operands[i];
  Use r = {.k = s.k, .expanded = s.expanded, .ident = false, .pfx = 0};
  if (p->shape.rank == 0) {
    /* Read at the empty index: codegen computes it once, before any loop. */
    r.expanded = false;
    r.ident = s.ident && u->shape.rank == 0;
    return r;
  }
  HloOperandMap m = hlo_operand_map(u, i);
  if (m.identity) return s;
  r.pfx = hlo_operand_prefix(&m, s.pfx);
  if (f->policy.hoist_prefix_values && r.pfx == p->shape.rank) {
    if (r.pfx == u->shape.rank) return s;
    r.expanded = false;
    return r;
  }
  r.expanded |= m.expands;
  return r;
}

/* Some user of x reads it from memory whatever is decided for x. */
static bool read_from_memory(const Fuser *f, const HloInstr *x) {
  if (x == f->c->root) return true;
  for (int j = 0; j < x->nusers; j++)
    if (!takes_operand(x->users[j])) return true;
  return false;
}

/* Copying x into several kernels costs only cheap work: x and everything
 * those copies would compute below it are cheap, or in memory anyway.
 * Otherwise copying a cheap op would force the expensive ops it reads out
 * into kernels of their own (each LSTM gate a kernel, because the cell
 * state that reads them is read by two kernels). */
static bool dupable(Fuser *f, const HloInstr *x) {
  if (f->dup[x->id]) return f->dup[x->id] == 1;
  bool ok;
  if (!is_fusible(x) || is_scalar_constant(x) || read_from_memory(f, x)) {
    ok = true;
  } else if (is_expensive(x->op) || has_loops(x)) {
    ok = false;
  } else {
    ok = true;
    for (int i = 0; i < x->noperands && ok; i++) ok = dupable(f, x->operands[i]);
  }
  f->dup[x->id] = ok ? 1 : 2;
  return ok;
}

static void add_use(Use **v, int *n, Use u) {
  for (int i = 0; i < *n; i++) {
    Use *w = &(*v)[i];
    if (w->k != u.k) continue;
    w->expanded |= u.expanded;
    w->ident &= u.ident;
    if (u.pfx < w->pfx) w->pfx = u.pfx;
    return;
  }
  *v = hlo_xrealloc(*v, sizeof(Use) * (size_t)(*n + 1));
  (*v)[(*n)++] = u;
}

/* p is the first level of a tree reduction (tree-reduce): a reduce that
 * a reduce reduces again.  Where the backend splits such reductions, each
 * level is a kernel, the partials in memory between them: fused, the
 * second level's rows would compute the first's on its few blocks. */
static bool tree_level(const Fuser *f, const HloInstr *p) {
  if (!f->policy.tree_reduce_min_row) return false;
  for (int j = 0; j < p->nusers; j++)
    if (is_reduce(p->users[j]) && p->users[j]->operands[0] == p) return true;
  return false;
}

static int new_kernel(Fuser *f, HloInstr *root) {
  f->kernels = hlo_xrealloc(f->kernels, sizeof(Kernel) * (size_t)(f->nkernels + 1));
  f->kernels[f->nkernels] = (Kernel){.root = root,
                                     .contraction = is_contraction(root),
                                     .reduce = is_reduce(root),
                                     .transcendental = is_transcendental(root->op)};
  f->own[root->id] = f->nkernels;
  return f->nkernels++;
}

/* Decides p (all its users are decided). */
static void decide(Fuser *f, HloInstr *p) {
  bool need = p == f->c->root; /* some reader needs p in memory */
  Use *cand = NULL;
  int nc = 0;
  for (int j = 0; j < p->nusers; j++) {
    const HloInstr *u = p->users[j];
    bool takes = takes_operand(u);
    if (f->own[u->id] < 0 && f->nuses[u->id] == 0) need = true; /* not fused */
    for (int i = 0; i < u->noperands; i++) {
      if (u->operands[i] != p) continue;
      if (f->own[u->id] >= 0) {
        Use root = {.k = f->own[u->id], .ident = true, .pfx = u->shape.rank};
        /* A reshape rooting a kernel is a view, where the backend runs the
         * nest over its operand. */
        Use view = {.k = root.k, .ident = true, .pfx = p->shape.rank};
        bool as_view = f->policy.root_views && is_view(u);
        if (takes) add_use(&cand, &nc, as_view ? view : through(f, u, i, root));
        else need = true;
      }
      for (int k = 0; k < f->nuses[u->id]; k++) {
        if (takes) add_use(&cand, &nc, through(f, u, i, f->uses[u->id][k]));
        else need = true;
      }
    }
  }
  bool inline_it = is_fusible(p) && nc > 0;
  if (inline_it && !is_free(p)) {
    inline_it = !need;
    bool costly = is_expensive(p->op) || has_loops(p);
    for (int i = 0; i < nc; i++) inline_it &= !(costly && cand[i].expanded);
    if (nc > 1) inline_it &= !costly && dupable(f, p);
    const Kernel *k = &f->kernels[cand[0].k];
    if (is_contraction(p) || f->epi[p->id])
      inline_it &= nc == 1 && cand[0].ident && !k->contraction && !k->reduce &&
                   !(f->policy.scalar_contraction_epilogues && k->transcendental);
    if (is_reduce(p)) inline_it &= nc == 1 && !k->contraction && !tree_level(f, p);
  }
  if (inline_it) {
    f->uses[p->id] = cand;
    f->nuses[p->id] = nc;
    for (int i = 0; i < nc; i++) {
      Kernel *k = &f->kernels[cand[i].k];
      k->contraction |= is_contraction(p);
      k->reduce |= is_reduce(p);
      k->transcendental |= is_transcendental(p->op);
    }
  } else {
    free(cand);
  }
  if (is_fusible(p) && !is_scalar_constant(p) && (!inline_it || need)) new_kernel(f, p);
}

static void add_member(Kernel *k, HloInstr *in) {
  if (k->nmembers == k->cap) {
    k->cap = k->cap ? 2 * k->cap : 8;
    k->members = hlo_xrealloc(k->members, sizeof(HloInstr *) * (size_t)k->cap);
  }
  k->members[k->nmembers++] = in;
}

/* Inserts computation x right before y in the module's list (callees come
 * before their callers). */
static void place_before(HloModule *m, HloComputation *x, HloComputation *y) {
  if (x->prev) x->prev->next = x->next;
  else m->first = x->next;
  if (x->next) x->next->prev = x->prev;
  else m->last = x->prev;
  x->next = y;
  x->prev = y->prev;
  if (y->prev) y->prev->next = x;
  else m->first = x;
  y->prev = x;
}

/* Copies a kernel's members and root into a new fused computation and
 * creates the fusion instruction (not yet used by anyone).  Every kernel's
 * body is copied before any root is replaced, because replacing a root
 * unlinks what only it used, which another kernel may have inlined. */
static HloInstr *build(Fuser *f, const Kernel *k) {
  HloComputation *c = f->c;
  HloModule *m = c->module;
  HloComputation *fc = hlo_computation_new(m, "fused_computation");
  fc->is_fusion = true;
  place_before(m, fc, c);
  int64_t nids = m->next_id;
  HloInstr **map = hlo_xcalloc((size_t)nids, sizeof(HloInstr *));
  bool *member = hlo_xcalloc((size_t)nids, sizeof(bool));
  for (int i = 0; i < k->nmembers; i++) member[k->members[i]->id] = true;
  member[k->root->id] = true;
  HloInstr **args = hlo_xmalloc(sizeof(HloInstr *) * (size_t)nids);
  int nargs = 0;
  for (int i = 0; i <= k->nmembers; i++) {
    HloInstr *in = i < k->nmembers ? k->members[i] : k->root;
    HloInstr *ops[in->noperands ? in->noperands : 1];
    for (int j = 0; j < in->noperands; j++) {
      HloInstr *o = in->operands[j];
      if (!member[o->id] && !map[o->id]) {
        char name[32];
        snprintf(name, sizeof name, "param_%d", nargs);
        map[o->id] = hlo_parameter_new(fc, nargs, &o->shape, name);
        args[nargs++] = o;
      }
      ops[j] = map[o->id];
    }
    map[in->id] = hlo_instr_clone(fc, in, ops, in->noperands);
  }
  hlo_set_root(fc, map[k->root->id]);
  HloInstr *fusion = hlo_instr_new(c, HLO_OP_FUSION, &k->root->shape, args, nargs, "fusion");
  fusion->fusion_kind = k->contraction ? HLO_FUSION_OUTPUT
                        : k->reduce    ? HLO_FUSION_INPUT
                                       : HLO_FUSION_LOOP;
  fusion->metadata = k->root->metadata;
  hlo_instr_set_called(fusion, &fc, 1);
  hlo_instr_move_before(fusion, k->root);
  free(args);
  free(member);
  free(map);
  return fusion;
}

static bool fuse_computation(HloComputation *c, const PassPolicy *policy) {
  Fuser f = {.c = c, .policy = *policy};
  f.order = hlo_post_order(c, &f.n);
  int64_t nids = c->module->next_id;
  f.own = hlo_xmalloc(sizeof(int) * (size_t)nids);
  f.nuses = hlo_xcalloc((size_t)nids, sizeof(int));
  f.uses = hlo_xcalloc((size_t)nids, sizeof(Use *));
  f.epi = hlo_xcalloc((size_t)nids, sizeof(bool));
  f.dup = hlo_xcalloc((size_t)nids, 1);
  for (int64_t i = 0; i < nids; i++) f.own[i] = -1;
  for (int i = 0; i < f.n; i++) {
    HloInstr *in = f.order[i];
    if (!hlo_opcode_is_elementwise(in->op)) continue;
    for (int j = 0; j < in->noperands; j++) {
      const HloInstr *o = in->operands[j];
      if (o->nusers == 1 && (is_contraction(o) || f.epi[o->id])) f.epi[in->id] = true;
    }
  }
  for (int i = f.n - 1; i >= 0; i--) decide(&f, f.order[i]);

  /* Members, in post order, so each fused body lists operands first. */
  for (int i = 0; i < f.n; i++) {
    HloInstr *in = f.order[i];
    for (int k = 0; k < f.nuses[in->id]; k++) add_member(&f.kernels[f.uses[in->id][k].k], in);
  }
  HloInstr **fusions = hlo_xcalloc((size_t)(f.nkernels ? f.nkernels : 1), sizeof(HloInstr *));
  bool changed = false;
  for (int k = 0; k < f.nkernels; k++) {
    const Kernel *kn = &f.kernels[k];
    int nontrivial = 0;
    for (int i = 0; i < kn->nmembers; i++) nontrivial += !is_scalar_constant(kn->members[i]);
    if (nontrivial) fusions[k] = build(&f, kn);
  }
  /* All fusions hold their operands now, so no replacement below can unlink
   * an instruction another fusion still reads. */
  for (int k = 0; k < f.nkernels; k++) {
    if (fusions[k]) {
      px_replace(f.kernels[k].root, fusions[k]);
      changed = true;
    }
    free(f.kernels[k].members);
  }
  free(fusions);
  free(f.kernels);
  for (int64_t i = 0; i < nids; i++) free(f.uses[i]);
  free(f.uses);
  free(f.nuses);
  free(f.epi);
  free(f.dup);
  free(f.own);
  free(f.order);
  return changed;
}

bool pass_fusion(HloModule *m, const PassPolicy *policy) {
  static const PassPolicy conservative;
  bool changed = false;
  int nc;
  HloComputation **comps = px_graph_computations(m, false, &nc);
  for (int i = 0; i < nc; i++) changed |= fuse_computation(comps[i], policy ? policy : &conservative);
  free(comps);
  return changed;
}
