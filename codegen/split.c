/*
 * split.c — splitting a kernel-IR module into parts that are lowered,
 * optimized and emitted apart, on as many threads as the machine has
 * (codegen.c), and merged into one object at the end (object.c).
 *
 * MLIR lowering, LLVM's optimization and its code generation each take a
 * module at a time on one thread; a model of a few hundred kernels spends
 * seconds in each.  Kernels are independent functions, so they are cut
 * into parts the way a parallel link-time code generator cuts a program:
 *
 *   - a group is a function and every function it refers to (calls, a
 *     parallel-for's task), except references out of an exported
 *     (non-internal) function: those are the entry points, and their group
 *     is part 0, which also holds the constants' bytes;
 *   - the other groups go, largest first, to the part with the fewest ops
 *     (ties: the lowest part), so parts are about equal in work;
 *   - a function referenced from another part is `shared`: it keeps
 *     external linkage in MLIR and becomes hidden in LLVM, and the merge
 *     makes it local again, so the merged object exports what an unsplit
 *     one does.
 *
 * The number of parts depends only on the module (its op count), never on
 * the machine, so a model compiles to the same bytes everywhere; threads
 * only decide how many parts are in flight at once.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Ops of a block and the regions below it. */
static int64_t count_ops(const KirBlock *b) {
  int64_t n = 0;
  for (const KirOp *op = b->first; op; op = op->next) {
    n++;
    for (int i = 0; i < op->nregions; i++) n += count_ops(op->regions[i]);
  }
  return n;
}

typedef struct Split {
  KirSplit *s;
  const KirModule *m;
  int *group;       /* union-find parent, by function */
  int64_t *ops;     /* by function */
} Split;

static int func_index(const Split *sp, const char *name) {
  for (int i = 0; i < sp->s->nfuncs; i++)
    if (!strcmp(sp->s->funcs[i]->name, name)) return i;
  return -1;
}

static int find(int *g, int i) {
  while (g[i] != i) i = g[i] = g[g[i]];
  return i;
}

/* Calls fn(sp, from, to) for each reference of block b (of function
 * `from`) to a defined function `to`. */
static void each_ref(Split *sp, int from, const KirBlock *b,
                     void (*fn)(Split *, int, int)) {
  for (const KirOp *op = b->first; op; op = op->next) {
    if ((op->code == KIR_CALL || op->code == KIR_PARALLEL_FOR) && op->sym) {
      int to = func_index(sp, op->sym);
      if (to >= 0 && sp->s->part[to] != -1) fn(sp, from, to);
    }
    for (int i = 0; i < op->nregions; i++) each_ref(sp, from, op->regions[i], fn);
  }
}

static void unite(Split *sp, int from, int to) {
  if (sp->s->funcs[from]->internal) sp->group[find(sp->group, from)] = find(sp->group, to);
}

static void mark_shared(Split *sp, int from, int to) {
  if (sp->s->part[from] != sp->s->part[to]) sp->s->shared[to] = true;
}

/* Groups by op count, largest first; ties by first function. */
typedef struct Group {
  int root;
  int64_t ops;
} Group;

static int by_ops(const void *a, const void *b) {
  const Group *x = a, *y = b;
  if (x->ops != y->ops) return x->ops > y->ops ? -1 : 1;
  return x->root - y->root;
}

KirSplit *kir_split(const KirModule *m, int nparts, int64_t ops_per_part) {
  KirSplit *s = hlo_xcalloc(1, sizeof *s);
  for (const KirFunc *f = m->first; f; f = f->next) s->nfuncs++;
  s->funcs = hlo_xcalloc((size_t)s->nfuncs + 1, sizeof *s->funcs);
  s->part = hlo_xcalloc((size_t)s->nfuncs + 1, sizeof *s->part);
  s->shared = hlo_xcalloc((size_t)s->nfuncs + 1, sizeof *s->shared);
  Split sp = {.s = s, .m = m};
  sp.group = hlo_xcalloc((size_t)s->nfuncs + 1, sizeof *sp.group);
  sp.ops = hlo_xcalloc((size_t)s->nfuncs + 1, sizeof *sp.ops);
  Group *groups = hlo_xcalloc((size_t)s->nfuncs + 1, sizeof *groups);
  int64_t *load = NULL;
  int i = 0;
  for (KirFunc *f = m->first; f; f = f->next, i++) {
    s->funcs[i] = f;
    s->part[i] = f->body ? 0 : -1;
    sp.group[i] = i;
    sp.ops[i] = f->body ? count_ops(f->body) : 0;
  }
  for (i = 0; i < s->nfuncs; i++)
    if (s->part[i] != -1) each_ref(&sp, i, s->funcs[i]->body, unite);

  /* The groups: the entry points' (and whatever they reach inside their
   * group) stays in part 0; the others are placed. */
  int64_t total = 0;
  int ngroups = 0;
  for (i = 0; i < s->nfuncs; i++) {
    if (s->part[i] == -1) continue;
    total += sp.ops[i];
    int r = find(sp.group, i);
    int k = 0;
    while (k < ngroups && groups[k].root != r) k++;
    if (k == ngroups) groups[ngroups++] = (Group){r, 0};
    groups[k].ops += sp.ops[i];
  }
  if (nparts <= 0)
    nparts = (int)((total + ops_per_part - 1) / (ops_per_part > 0 ? ops_per_part : 1));
  if (nparts > KIR_MAX_PARTS) nparts = KIR_MAX_PARTS;
  if (nparts > ngroups) nparts = ngroups;
  if (nparts < 1) nparts = 1;
  s->nparts = nparts;
  load = hlo_xcalloc((size_t)nparts, sizeof *load);
  int *part_of_group = hlo_xcalloc((size_t)s->nfuncs + 1, sizeof *part_of_group);
  for (int g = 0; g < ngroups; g++) part_of_group[groups[g].root] = -1;
  for (i = 0; i < s->nfuncs; i++) /* the entry points' groups */
    if (s->part[i] != -1 && !s->funcs[i]->internal) {
      int r = find(sp.group, i);
      if (part_of_group[r] == -1) {
        part_of_group[r] = 0;
        for (int g = 0; g < ngroups; g++)
          if (groups[g].root == r) load[0] += groups[g].ops;
      }
    }
  qsort(groups, (size_t)ngroups, sizeof *groups, by_ops);
  for (int g = 0; g < ngroups; g++) {
    if (part_of_group[groups[g].root] != -1) continue;
    int best = 0;
    for (int p = 1; p < nparts; p++)
      if (load[p] < load[best]) best = p;
    part_of_group[groups[g].root] = best;
    load[best] += groups[g].ops;
  }
  for (i = 0; i < s->nfuncs; i++)
    if (s->part[i] != -1) s->part[i] = part_of_group[find(sp.group, i)];
  for (i = 0; i < s->nfuncs; i++)
    if (s->part[i] != -1) each_ref(&sp, i, s->funcs[i]->body, mark_shared);
  free(part_of_group);
  free(load);
  free(groups);
  free(sp.ops);
  free(sp.group);
  return s;
}

void kir_split_free(KirSplit *s) {
  if (!s) return;
  free(s->funcs);
  free(s->part);
  free(s->shared);
  free(s);
}
