/*
 * fusion.c — groups instructions into `fusion` instructions, each of which
 * codegen emits as one kernel, so intermediate values stay in registers
 * instead of round-tripping through memory.
 *
 * A fusion has at most one "hero", which decides its kind:
 *   kLoop   no hero: elementwise and data-movement ops computed per output
 *           element;
 *   kInput  a reduce: its input's producers are computed as the reduction
 *           reads them, and elementwise ops on its result (same dims, no
 *           broadcast: each reduced value is read once) form an epilogue;
 *   kOutput a dot or convolution: only an epilogue (bias, activation,
 *           residual add, clamp, convert) — the operands of the contraction
 *           are packed by its emitter, not fused.
 *
 * How groups form.  Instructions are visited consumers first (reverse post
 * order).  An instruction that no group claimed starts a group as its root;
 * then the instructions below it are scanned downward, and an operand of a
 * member joins when
 *   - every user of it is already a member (it moves into the fusion), or
 *   - it is free or cheap to recompute (broadcast, reshape, iota, slice,
 *     convert, scalar constant, elementwise ops that are not expensive): it
 *     is copied into the fusion and stays for its other users;
 * and the cost model agrees: an expensive op (exp, log, tanh, divide, …)
 * is never fused below an op that reads an element many times (a
 * broadcast, a window), where it would be recomputed per reuse; a reduce,
 * dot or convolution joins only as the hero, only when all its users are
 * members, and only when the path from it to the root is elementwise on
 * its own dims.  Scanning downward in post order means that when an
 * instruction is considered, all its users that could be members already
 * are.  Non-scalar constants (weights) are never fused: they stay
 * operands, read from read-only data.
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
  switch (op) {
  case HLO_OP_DIVIDE: case HLO_OP_REMAINDER: case HLO_OP_POWER: case HLO_OP_ATAN2:
  case HLO_OP_EXP: case HLO_OP_EXPM1: case HLO_OP_LOG: case HLO_OP_LOG1P:
  case HLO_OP_LOGISTIC: case HLO_OP_SQRT: case HLO_OP_RSQRT: case HLO_OP_CBRT:
  case HLO_OP_TANH: case HLO_OP_SIN: case HLO_OP_COS: case HLO_OP_TAN: case HLO_OP_ERF:
    return true;
  default:
    return false;
  }
}

static bool is_scalar_constant(const HloInstr *in) {
  return in->op == HLO_OP_CONSTANT && in->shape.rank == 0 && hlo_type_is_array(in->shape.type);
}

/* Recomputing it costs (almost) nothing, so it may be copied into several
 * fusions. */
static bool is_free(const HloInstr *in) {
  switch (in->op) {
  case HLO_OP_BROADCAST: case HLO_OP_RESHAPE: case HLO_OP_BITCAST: case HLO_OP_IOTA:
  case HLO_OP_SLICE: case HLO_OP_CONVERT:
    return true;
  default:
    return is_scalar_constant(in);
  }
}

/* Elementwise or data movement computable per output element. */
static bool is_loop_op(const HloInstr *in) {
  if (!hlo_type_is_array(in->shape.type)) return false;
  if (hlo_opcode_is_elementwise(in->op)) return true;
  switch (in->op) {
  case HLO_OP_BROADCAST: case HLO_OP_RESHAPE: case HLO_OP_BITCAST: case HLO_OP_TRANSPOSE:
  case HLO_OP_SLICE: case HLO_OP_CONCATENATE: case HLO_OP_PAD: case HLO_OP_REVERSE:
  case HLO_OP_IOTA: case HLO_OP_DYNAMIC_SLICE: case HLO_OP_GATHER:
    return true;
  case HLO_OP_REDUCE_WINDOW:
    return in->noperands == 2; /* one input, one init */
  default:
    return false;
  }
}

static bool is_hero(const HloInstr *in) {
  if (!hlo_type_is_array(in->shape.type)) return false;
  return (in->op == HLO_OP_REDUCE && in->noperands == 2) || in->op == HLO_OP_DOT ||
         in->op == HLO_OP_CONVOLUTION;
}

/* `user` reads elements of `op` more than once per output element set. */
static bool reuses(const HloInstr *user, const HloInstr *op) {
  switch (user->op) {
  case HLO_OP_BROADCAST:
    return hlo_shape_elements(&user->shape) > hlo_shape_elements(&op->shape);
  case HLO_OP_REDUCE_WINDOW: case HLO_OP_GATHER:
    return true;
  default:
    return false;
  }
}

typedef struct Fuser {
  HloComputation *c;
  int n;
  HloInstr **order;
  int *pos;          /* by id: index in order */
  int *owner;        /* by id: group it moved into, -1 */
  int *mark;         /* by id: stamp of the latest group it is a member of */
  int *cand;         /* by id: stamp of the latest group it is an operand of */
  bool *reuse;       /* by id: some member above reads it repeatedly */
  bool *ew;          /* by id: elementwise on the root's dims down from root */
  int *absorbed;     /* by id: uses of it that copies inside fusions serve */
  int ngroups;       /* groups kept */
  int stamp;         /* groups tried (kept or not): the marks' generation */
} Fuser;

/* Moving p into group g (stamp s) is safe only when every user of p moves
 * too: a user merely copied into g stays outside and still needs p. */
static bool all_users_move(const Fuser *f, const HloInstr *p, int g, int s) {
  for (int i = 0; i < p->nusers; i++) {
    const HloInstr *u = p->users[i];
    if (f->mark[u->id] != s || f->owner[u->id] != g) return false;
  }
  return p != f->c->root;
}

/* The decision for producer p of group g (hero: the group's hero so far). */
typedef enum { JOIN_NO, JOIN_MOVE, JOIN_COPY, JOIN_HERO } Join;

static Join decide(const Fuser *f, const HloInstr *p, int g, int s, const HloInstr *hero) {
  bool all_in = all_users_move(f, p, g, s);
  bool reused = false, ew_users = true;
  for (int i = 0; i < p->nusers; i++) {
    const HloInstr *u = p->users[i];
    if (f->mark[u->id] != s) continue;
    reused |= f->reuse[u->id] || reuses(u, p);
    ew_users &= f->ew[u->id] && hlo_shape_same_dims(&u->shape, &p->shape);
  }
  if (is_scalar_constant(p)) return JOIN_COPY;
  if (is_hero(p)) return !hero && all_in && ew_users ? JOIN_HERO : JOIN_NO;
  if (!is_loop_op(p)) return JOIN_NO;
  if (is_expensive(p->op) && reused) return JOIN_NO;
  if (all_in) return JOIN_MOVE;
  /* Cheap elementwise ops are copied too: re-reading their operands in
   * each consumer beats writing and re-reading their result — except the
   * epilogue of a dot or convolution, which belongs in its output fusion. */
  if (is_free(p)) return JOIN_COPY;
  if (!hlo_opcode_is_elementwise(p->op) || is_expensive(p->op)) return JOIN_NO;
  for (int i = 0; i < p->noperands; i++)
    if (p->operands[i]->op == HLO_OP_DOT || p->operands[i]->op == HLO_OP_CONVOLUTION)
      return JOIN_NO;
  return JOIN_COPY;
}

typedef struct Group {
  HloInstr *root, *hero;
  int nmembers;
  HloInstr **members; /* in post order */
} Group;

static void add_member(Fuser *f, HloInstr *in, int s, bool reused) {
  f->mark[in->id] = s;
  f->reuse[in->id] = reused;
  /* A hero's operands are not fused: only a reduce's are computed in it. */
  if (in->op == HLO_OP_DOT || in->op == HLO_OP_CONVOLUTION) return;
  for (int i = 0; i < in->noperands; i++) f->cand[in->operands[i]->id] = s;
}

/* Grows the group rooted at order[r]; returns false when it stays alone. */
static bool grow(Fuser *f, int r, Group *grp) {
  int g = f->ngroups, s = ++f->stamp;
  HloInstr *root = f->order[r];
  HloInstr **members = px_xmalloc(sizeof(HloInstr *) * (size_t)(r + 1));
  int nm = 0, nontrivial = 0;
  members[nm++] = root;
  HloInstr *hero = is_hero(root) ? root : NULL;
  f->ew[root->id] = hlo_opcode_is_elementwise(root->op);
  f->owner[root->id] = g;
  add_member(f, root, s, false);
  for (int j = r - 1; j >= 0; j--) {
    HloInstr *p = f->order[j];
    if (f->cand[p->id] != s || f->owner[p->id] >= 0) continue;
    Join how = decide(f, p, g, s, hero);
    if (how == JOIN_NO) continue;
    bool reused = false, ew = hlo_opcode_is_elementwise(p->op);
    for (int i = 0; i < p->nusers; i++) {
      const HloInstr *u = p->users[i];
      if (f->mark[u->id] != s) continue;
      reused |= f->reuse[u->id] || reuses(u, p);
      ew &= f->ew[u->id] && hlo_shape_same_dims(&u->shape, &p->shape);
    }
    f->ew[p->id] = ew;
    if (how == JOIN_HERO) hero = p;
    if (how != JOIN_COPY) f->owner[p->id] = g;
    if (!is_scalar_constant(p)) nontrivial++;
    add_member(f, p, s, reused);
    members[nm++] = p;
  }
  if (nontrivial == 0) {
    for (int i = 0; i < nm; i++)
      if (f->owner[members[i]->id] == g) f->owner[members[i]->id] = -1;
    free(members);
    return false;
  }
  /* Members were found top-down; the fused body wants operands first. */
  for (int i = 0; i < nm / 2; i++) {
    HloInstr *t = members[i];
    members[i] = members[nm - 1 - i];
    members[nm - 1 - i] = t;
  }
  for (int i = 0; i < nm; i++) {
    HloInstr *d = members[i];
    if (f->owner[d->id] == g) continue;
    for (int k = 0; k < d->nusers; k++) f->absorbed[d->id] += f->owner[d->users[k]->id] == g;
  }
  grp->root = root;
  grp->hero = hero;
  grp->nmembers = nm;
  grp->members = members;
  f->ngroups++;
  return true;
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

static HloFusionKind kind_of(const HloInstr *hero) {
  if (!hero) return HLO_FUSION_LOOP;
  return hero->op == HLO_OP_REDUCE ? HLO_FUSION_INPUT : HLO_FUSION_OUTPUT;
}

/* Copies a group's members into a new fused computation and creates the
 * fusion instruction (not yet used by anyone).  Every group's body is
 * copied before any root is replaced, because an instruction copied into
 * one group may be the root of another, and replacing it unlinks it. */
static HloInstr *build(Fuser *f, const Group *grp) {
  HloComputation *c = f->c;
  HloModule *m = c->module;
  HloComputation *fc = hlo_computation_new(m, "fused_computation");
  fc->is_fusion = true;
  place_before(m, fc, c);
  int64_t nids = m->next_id;
  HloInstr **map = px_xcalloc((size_t)nids, sizeof(HloInstr *));
  bool *member = px_xcalloc((size_t)nids, sizeof(bool));
  for (int i = 0; i < grp->nmembers; i++) member[grp->members[i]->id] = true;
  HloInstr **args = px_xmalloc(sizeof(HloInstr *) * (size_t)nids);
  int nargs = 0;
  for (int i = 0; i < grp->nmembers; i++) {
    HloInstr *in = grp->members[i];
    HloInstr *ops[in->noperands ? in->noperands : 1];
    for (int k = 0; k < in->noperands; k++) {
      HloInstr *o = in->operands[k];
      if (!member[o->id] && !map[o->id]) {
        char name[32];
        snprintf(name, sizeof name, "param_%d", nargs);
        map[o->id] = hlo_parameter_new(fc, nargs, &o->shape, name);
        args[nargs++] = o;
      }
      ops[k] = map[o->id];
    }
    map[in->id] = hlo_instr_clone(fc, in, ops, in->noperands);
  }
  hlo_set_root(fc, map[grp->root->id]);
  HloInstr *fusion = hlo_instr_new(c, HLO_OP_FUSION, &grp->root->shape, args, nargs, "fusion");
  fusion->fusion_kind = kind_of(grp->hero);
  fusion->metadata = (grp->hero ? grp->hero : grp->root)->metadata;
  hlo_instr_set_called(fusion, &fc, 1);
  hlo_instr_move_before(fusion, grp->root);
  free(args);
  free(member);
  free(map);
  return fusion;
}

/* Which groups the fused graph still needs.  A group's root may be needed
 * by no one once its users' groups copied it (or copied its users), so the
 * graph after fusion is traced from the computation's root: a needed group
 * needs its fusion's operands; a needed instruction outside groups needs
 * its operands; an instruction moved into a group needs nothing outside. */
static bool *needed_groups(Fuser *f, const Group *groups) {
  int64_t nids = f->c->module->next_id;
  bool *needed = px_xcalloc((size_t)nids, sizeof(bool));
  int *root_of = px_xmalloc(sizeof(int) * (size_t)nids);
  int *in_group = px_xmalloc(sizeof(int) * (size_t)nids);
  for (int64_t i = 0; i < nids; i++) root_of[i] = in_group[i] = -1;
  for (int g = 0; g < f->ngroups; g++) root_of[groups[g].root->id] = g;
  bool *live = px_xcalloc((size_t)(f->ngroups ? f->ngroups : 1), sizeof(bool));
  needed[f->c->root->id] = true;
  for (int i = f->n - 1; i >= 0; i--) {
    const HloInstr *x = f->order[i];
    if (!needed[x->id]) continue;
    int g = root_of[x->id];
    if (g >= 0) {
      live[g] = true;
      const Group *grp = &groups[g];
      for (int k = 0; k < grp->nmembers; k++) in_group[grp->members[k]->id] = g;
      for (int k = 0; k < grp->nmembers; k++) {
        const HloInstr *m = grp->members[k];
        for (int j = 0; j < m->noperands; j++)
          if (in_group[m->operands[j]->id] != g) needed[m->operands[j]->id] = true;
      }
    } else if (f->owner[x->id] < 0 || !live[f->owner[x->id]]) {
      /* Outside every fusion, or moved into a group that is not built. */
      for (int j = 0; j < x->noperands; j++) needed[x->operands[j]->id] = true;
    }
  }
  free(in_group);
  free(root_of);
  free(needed);
  return live;
}

static bool fuse_computation(HloComputation *c) {
  Fuser f = {.c = c};
  f.order = hlo_post_order(c, &f.n);
  int64_t nids = c->module->next_id;
  f.pos = px_xmalloc(sizeof(int) * (size_t)nids);
  f.owner = px_xmalloc(sizeof(int) * (size_t)nids);
  f.mark = px_xmalloc(sizeof(int) * (size_t)nids);
  f.cand = px_xmalloc(sizeof(int) * (size_t)nids);
  f.reuse = px_xcalloc((size_t)nids, sizeof(bool));
  f.ew = px_xcalloc((size_t)nids, sizeof(bool));
  f.absorbed = px_xcalloc((size_t)nids, sizeof(int));
  for (int64_t i = 0; i < nids; i++) f.owner[i] = f.mark[i] = f.cand[i] = -1;
  for (int i = 0; i < f.n; i++) f.pos[f.order[i]->id] = i;
  Group *groups = px_xmalloc(sizeof(Group) * (size_t)(f.n ? f.n : 1));
  for (int i = f.n - 1; i >= 0; i--) {
    HloInstr *in = f.order[i];
    if (f.owner[in->id] >= 0 || !(is_loop_op(in) || is_hero(in))) continue;
    /* Every use is served by copies inside fusions: it will be dead. */
    if (f.absorbed[in->id] == in->nusers && in->nusers && c->root != in) continue;
    grow(&f, i, &groups[f.ngroups]);
  }
  bool *live = needed_groups(&f, groups);
  HloInstr **fusions = px_xcalloc((size_t)(f.ngroups ? f.ngroups : 1), sizeof(HloInstr *));
  for (int g = 0; g < f.ngroups; g++)
    if (live[g]) fusions[g] = build(&f, &groups[g]);
  /* All fusions hold their operands now, so no replacement below can unlink
   * an instruction another fusion still reads. */
  bool changed = false;
  for (int g = 0; g < f.ngroups; g++) {
    if (fusions[g]) px_replace(groups[g].root, fusions[g]);
    changed |= live[g];
    free(groups[g].members);
  }
  free(fusions);
  free(live);
  free(groups);
  free(f.absorbed);
  free(f.ew);
  free(f.reuse);
  free(f.cand);
  free(f.mark);
  free(f.owner);
  free(f.pos);
  free(f.order);
  return changed;
}

bool pass_fusion(HloModule *m) {
  bool changed = false;
  int nc;
  HloComputation **comps = px_graph_computations(m, false, &nc);
  for (int i = 0; i < nc; i++) changed |= fuse_computation(comps[i]);
  free(comps);
  return changed;
}
