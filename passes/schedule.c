/*
 * schedule.c — orders a computation's instructions to keep the bytes live
 * at once low, since the scratch arena has to hold the peak.
 *
 * Three schedulers, as XLA has them:
 *   post order  hlo_post_order: operands in operand order, depth first;
 *   DFS         the same walk, but the operand with the heavier cone first,
 *               so big subgraphs finish (and free) before small ones start;
 *   list        greedy over ready instructions: the one that frees the most
 *               bytes net of what it allocates, ties broken by post order.
 * PASS_SCHED_BEST runs all three and keeps the lowest simulated peak.
 *
 * The simulation: an instruction allocates its result bytes when it runs;
 * a buffer is freed once every instruction that reads it — directly or
 * through a tuple or get-tuple-element, which alias their operands — has
 * run; parameters and constants cost nothing (they live outside the
 * arena); the root's buffers are never freed.
 *
 * requires: a verified computation.
 * keeps:    the module untouched (an analysis).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool aliases(const HloInstr *in) {
  return in->op == HLO_OP_TUPLE || in->op == HLO_OP_GET_TUPLE_ELEMENT;
}

static int64_t own_bytes(const HloInstr *in) {
  if (aliases(in) || in->op == HLO_OP_PARAMETER || in->op == HLO_OP_CONSTANT) return 0;
  return px_shape_bytes(&in->shape);
}

/* Per-computation facts shared by the schedulers and the simulation. */
typedef struct Graph {
  const HloComputation *c;
  int n;
  HloInstr **post;    /* reachable instructions in post order */
  int64_t nids;
  int *idx;           /* by id: index in post, -1 when unreachable */
  /* readers[i]: instructions whose running releases a hold on post[i]'s
   * buffer (users, seen through aliases), as indices into post. */
  int *nreaders, **readers;
  /* rel[r]: the inverse — buffers whose hold running post[r] releases. */
  int *nrel, **rel;
} Graph;

static void push(int **v, int *n, int x) {
  *v = hlo_xrealloc(*v, sizeof(int) * (size_t)(*n + 1));
  (*v)[(*n)++] = x;
}

static void add_reader(Graph *g, int d, int r) {
  for (int i = 0; i < g->nreaders[d]; i++)
    if (g->readers[d][i] == r) return;
  push(&g->readers[d], &g->nreaders[d], r);
  push(&g->rel[r], &g->nrel[r], d);
}

/* Users of x, looking through tuple and get-tuple-element users. */
static void collect_readers(Graph *g, int d, const HloInstr *x) {
  for (int i = 0; i < x->nusers; i++) {
    const HloInstr *u = x->users[i];
    if (u->id >= g->nids || g->idx[u->id] < 0) continue;
    add_reader(g, d, g->idx[u->id]);
    if (aliases(u)) collect_readers(g, d, u);
  }
}

static void graph_init(Graph *g, const HloComputation *c) {
  memset(g, 0, sizeof *g);
  g->c = c;
  int n;
  HloInstr **all = hlo_post_order(c, &n);
  g->nids = c->module->next_id;
  g->idx = hlo_xmalloc(sizeof(int) * (size_t)g->nids);
  for (int64_t i = 0; i < g->nids; i++) g->idx[i] = -1;
  /* Unreachable instructions come first in hlo_post_order: skip them. */
  uint8_t *reach = hlo_xcalloc((size_t)g->nids, 1);
  reach[c->root->id] = 1;
  for (int i = n - 1; i >= 0; i--)
    if (reach[all[i]->id])
      for (int k = 0; k < all[i]->noperands; k++) reach[all[i]->operands[k]->id] = 1;
  g->post = hlo_xmalloc(sizeof(HloInstr *) * (size_t)(n ? n : 1));
  for (int i = 0; i < n; i++)
    if (reach[all[i]->id]) {
      g->idx[all[i]->id] = g->n;
      g->post[g->n++] = all[i];
    }
  free(reach);
  free(all);
  g->nreaders = hlo_xcalloc((size_t)(g->n ? g->n : 1), sizeof(int));
  g->readers = hlo_xcalloc((size_t)(g->n ? g->n : 1), sizeof(int *));
  g->nrel = hlo_xcalloc((size_t)(g->n ? g->n : 1), sizeof(int));
  g->rel = hlo_xcalloc((size_t)(g->n ? g->n : 1), sizeof(int *));
  for (int i = 0; i < g->n; i++) collect_readers(g, i, g->post[i]);
}

static void graph_free(Graph *g) {
  for (int i = 0; i < g->n; i++) {
    free(g->readers[i]);
    free(g->rel[i]);
  }
  free(g->rel);
  free(g->nrel);
  free(g->readers);
  free(g->nreaders);
  free(g->post);
  free(g->idx);
}

/* Peak of live bytes when running post[order[0]], post[order[1]], … */
static int64_t simulate(const Graph *g, const int *order) {
  int *left = hlo_xmalloc(sizeof(int) * (size_t)(g->n ? g->n : 1));
  for (int i = 0; i < g->n; i++) left[i] = g->nreaders[i];
  int64_t live = 0, peak = 0;
  int root = g->idx[g->c->root->id];
  for (int s = 0; s < g->n; s++) {
    int x = order[s];
    live += own_bytes(g->post[x]);
    if (live > peak) peak = live;
    if (left[x] == 0 && x != root) live -= own_bytes(g->post[x]);
    for (int k = 0; k < g->nrel[x]; k++) {
      int d = g->rel[x][k];
      if (--left[d] == 0 && d != root) live -= own_bytes(g->post[d]);
    }
  }
  free(left);
  return peak;
}

static void sched_post(const Graph *g, int *order) {
  for (int i = 0; i < g->n; i++) order[i] = i;
}

static void sched_dfs(const Graph *g, int *order) {
  int64_t *cone = hlo_xcalloc((size_t)(g->n ? g->n : 1), sizeof(int64_t));
  for (int i = 0; i < g->n; i++) {
    const HloInstr *x = g->post[i];
    cone[i] = own_bytes(x);
    for (int k = 0; k < x->noperands; k++) cone[i] += cone[g->idx[x->operands[k]->id]];
  }
  uint8_t *done = hlo_xcalloc((size_t)(g->n ? g->n : 1), 1);
  int *stack = hlo_xmalloc(sizeof(int) * (size_t)(g->n ? g->n : 1) * 2);
  int sp = 0, no = 0;
  stack[sp++] = g->idx[g->c->root->id];
  while (sp) {
    int x = stack[sp - 1];
    if (done[x]) {
      sp--;
      continue;
    }
    /* The heaviest operand not yet scheduled goes first. */
    const HloInstr *in = g->post[x];
    int best = -1;
    for (int k = 0; k < in->noperands; k++) {
      int o = g->idx[in->operands[k]->id];
      if (!done[o] && (best < 0 || cone[o] > cone[best])) best = o;
    }
    if (best >= 0) {
      stack[sp++] = best;
      continue;
    }
    done[x] = 1;
    order[no++] = x;
    sp--;
  }
  free(stack);
  free(done);
  free(cone);
}

static void sched_list(const Graph *g, int *order) {
  int *waiting = hlo_xcalloc((size_t)(g->n ? g->n : 1), sizeof(int)); /* unscheduled operands */
  int *left = hlo_xmalloc(sizeof(int) * (size_t)(g->n ? g->n : 1));
  uint8_t *done = hlo_xcalloc((size_t)(g->n ? g->n : 1), 1);
  for (int i = 0; i < g->n; i++) {
    left[i] = g->nreaders[i];
    const HloInstr *x = g->post[i];
    for (int k = 0; k < x->noperands; k++) {
      bool seen = false;
      for (int j = 0; j < k; j++) seen |= x->operands[j] == x->operands[k];
      if (!seen) waiting[i]++;
    }
  }
  for (int s = 0; s < g->n; s++) {
    int best = -1;
    int64_t best_gain = 0;
    for (int i = 0; i < g->n; i++) {
      if (done[i] || waiting[i]) continue;
      int64_t gain = -own_bytes(g->post[i]);
      for (int k = 0; k < g->nrel[i]; k++)
        if (left[g->rel[i][k]] == 1) gain += own_bytes(g->post[g->rel[i][k]]);
      if (best < 0 || gain > best_gain) {
        best = i;
        best_gain = gain;
      }
    }
    order[s] = best;
    done[best] = 1;
    for (int k = 0; k < g->nrel[best]; k++) left[g->rel[best][k]]--;
    const HloInstr *x = g->post[best];
    for (int u = 0; u < x->nusers; u++) {
      int ui = x->users[u]->id < g->nids ? g->idx[x->users[u]->id] : -1;
      if (ui >= 0) waiting[ui]--;
    }
  }
  free(done);
  free(left);
  free(waiting);
}

void pass_schedule(const HloComputation *c, PassScheduler which, PassSchedule *out) {
  Graph g;
  graph_init(&g, c);
  int *order = hlo_xmalloc(sizeof(int) * (size_t)(g.n ? g.n : 1));
  int *best = hlo_xmalloc(sizeof(int) * (size_t)(g.n ? g.n : 1));
  int64_t best_peak = -1;
  PassScheduler chosen = PASS_SCHED_POST_ORDER;
  static void (*const run[])(const Graph *, int *) = {sched_post, sched_dfs, sched_list};
  for (int k = 0; k < 3; k++) {
    if (which != PASS_SCHED_BEST && which != (PassScheduler)k) continue;
    run[k](&g, order);
    int64_t peak = simulate(&g, order);
    if (best_peak < 0 || peak < best_peak) {
      best_peak = peak;
      chosen = (PassScheduler)k;
      memcpy(best, order, sizeof(int) * (size_t)g.n);
    }
  }
  out->n = g.n;
  out->order = hlo_xmalloc(sizeof(HloInstr *) * (size_t)(g.n ? g.n : 1));
  for (int i = 0; i < g.n; i++) out->order[i] = g.post[best[i]];
  out->peak_bytes = best_peak;
  out->chosen = chosen;
  free(best);
  free(order);
  graph_free(&g);
}

void pass_schedule_free(PassSchedule *s) {
  free(s->order);
  s->order = NULL;
  s->n = 0;
}
