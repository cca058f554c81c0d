/*
 * buffer_assign.c — gives every array value a place: the caller's argument
 * or result buffers, read-only constants, or an offset in one scratch arena
 * shared by all temporaries.
 *
 * Per computation (callees first), over its schedule (schedule.c):
 *   1. values: each array leaf an instruction defines; tuple and
 *      get-tuple-element define none, they forward their operands' leaves;
 *      and the working memory a kernel asks for (the backend's policy:
 *      kernel_temp_bytes; a sort's merge buffers), live at its step only;
 *   2. liveness: a value lives from the step that defines it to the last
 *      step that reads it (through any alias); the root's values of a
 *      non-entry computation, and its parameters, live throughout (the
 *      caller reads and writes them);
 *   3. in place, where the backend's policy allows it
 *      (reuse_operand_buffers): an instruction whose operand dies at that very step
 *      writes into the operand's buffer when it reads each element of it
 *      only for the output element at the same index and that element
 *      occupies the same bytes (overwrites_operand) — each output element
 *      is written after the same input element was read;
 *   4. packing: best-fit decreasing — the largest value first, into the
 *      smallest gap that fits among the values overlapping it in time,
 *      else on top; offsets aligned to PASS_BUF_ALIGN.
 * A computation run by while/conditional/call packs into a frame, which its
 * caller packs as one value live during the calling instruction (the
 * entry's whole run when several computations call it).  The entry's frame
 * is the arena.
 *
 * requires: a verified module (after fusion: fused computations get no
 *           buffers; their values never leave the kernel).
 * keeps:    the module untouched (an analysis).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct Val {
  int64_t size;        /* aligned bytes */
  int start, end;      /* schedule steps, inclusive */
  int rep;             /* union-find: values sharing one buffer */
  int comp;            /* index of the computation that packs it */
  int64_t offset;      /* within that computation's frame */
  int64_t result;      /* entry result leaf, or -1 */
  int callee;          /* a frame: the computation it holds, else -1 */
} Val;

typedef struct Ctx {
  const HloModule *m;
  PassBufferPlan *p;
  int cap;              /* of p->bufs */
  int *valof;           /* by buf index: Val index, -1 */
  Val *vals;
  int nvals, vcap;
  int ncomps;
  const HloComputation **comps;
  int *parent;          /* by comp: index of the computation packing its frame */
  int64_t *frame;       /* by comp: frame bytes */
  int64_t *base;        /* by comp: absolute offset of the frame */
  bool in_place;         /* the backend lets kernels write over operands */
  int64_t (*temp_bytes)(const HloInstr *); /* the backend's, or NULL */
  int *temp_val;        /* by instruction id: its working memory's Val, -1 */
} Ctx;

static int64_t align(int64_t n) { return (n + PASS_BUF_ALIGN - 1) / PASS_BUF_ALIGN * PASS_BUF_ALIGN; }

static int nleaves(const HloShape *s) {
  if (s->type != HLO_TUPLE) return 1;
  int n = 0;
  for (int i = 0; i < s->ntuple; i++) n += nleaves(&s->tuple[i]);
  return n;
}

static int leaves_of(const HloShape *s, const HloShape **out) {
  if (s->type != HLO_TUPLE) {
    out[0] = s;
    return 1;
  }
  int n = 0;
  for (int i = 0; i < s->ntuple; i++) n += leaves_of(&s->tuple[i], out + n);
  return n;
}

static int find(Ctx *x, int v) {
  while (x->vals[v].rep != v) v = x->vals[v].rep = x->vals[x->vals[v].rep].rep;
  return v;
}

static int new_val(Ctx *x, int64_t size, int start, int end, int comp) {
  if (x->nvals == x->vcap) {
    x->vcap = x->vcap ? x->vcap * 2 : 256;
    x->vals = hlo_xrealloc(x->vals, sizeof(Val) * (size_t)x->vcap);
  }
  x->vals[x->nvals] = (Val){align(size), start, end, x->nvals, comp, 0, -1, -1};
  return x->nvals++;
}

/* Appends a leaf entry; returns its index in p->bufs. */
static int new_buf(Ctx *x, PassBuf b, int val) {
  PassBufferPlan *p = x->p;
  if (p->nbufs == x->cap) {
    x->cap = x->cap ? x->cap * 2 : 256;
    p->bufs = hlo_xrealloc(p->bufs, sizeof(PassBuf) * (size_t)x->cap);
    x->valof = hlo_xrealloc(x->valof, sizeof(int) * (size_t)x->cap);
  }
  p->bufs[p->nbufs] = b;
  x->valof[p->nbufs] = val;
  return p->nbufs++;
}

static int comp_index(const Ctx *x, const HloComputation *c) {
  for (int i = 0; i < x->ncomps; i++)
    if (x->comps[i] == c) return i;
  return -1;
}

/* May in's result overwrite operand k's buffer?  Only when in reads each
 * element of the operand just to compute the output element at the same
 * index — so the kernel loads it before it stores over it — and elements
 * sit at the same bytes (same dims, same element size): elementwise ops,
 * and loop and output fusions whose parameter k is read only at the
 * root's index.  Input fusions never: a row kernel sweeps its row after
 * reducing it, and may park values in its output meanwhile. */
static bool overwrites_operand(const HloInstr *in, int k) {
  const HloInstr *o = in->operands[k];
  if (in->shape.type == HLO_TUPLE ||
      hlo_shape_elements(&in->shape) != hlo_shape_elements(&o->shape) ||
      hlo_type_size(in->shape.type) != hlo_type_size(o->shape.type))
    return false;
  if (hlo_opcode_is_elementwise(in->op)) return hlo_shape_same_dims(&in->shape, &o->shape);
  if (in->op != HLO_OP_FUSION || in->fusion_kind == HLO_FUSION_INPUT) return false;
  const HloComputation *fc = in->called[0];
  bool *at = hlo_fused_at_nest_index(fc);
  bool ok = at[fc->params[k]->id];
  free(at);
  return ok;
}

/* Best-fit decreasing over the values of computation ci; sets offsets and
 * the frame size; returns the peak of live bytes. */
static int64_t pack(Ctx *x, int ci, int nsteps) {
  int *list = hlo_xmalloc(sizeof(int) * (size_t)(x->nvals ? x->nvals : 1));
  int n = 0;
  for (int v = 0; v < x->nvals; v++)
    if (x->vals[v].comp == ci && find(x, v) == v && x->vals[v].result < 0) list[n++] = v;
  /* Sort: size descending, then start ascending (insertion sort is plenty
   * for the few thousand values of a model). */
  for (int i = 1; i < n; i++) {
    int v = list[i], j = i;
    while (j > 0 && (x->vals[list[j - 1]].size < x->vals[v].size ||
                     (x->vals[list[j - 1]].size == x->vals[v].size &&
                      x->vals[list[j - 1]].start > x->vals[v].start))) {
      list[j] = list[j - 1];
      j--;
    }
    list[j] = v;
  }
  int *near = hlo_xmalloc(sizeof(int) * (size_t)(n ? n : 1));
  int64_t top = 0;
  for (int i = 0; i < n; i++) {
    Val *v = &x->vals[list[i]];
    int nn = 0;
    for (int j = 0; j < i; j++) {
      const Val *w = &x->vals[list[j]];
      if (w->start <= v->end && v->start <= w->end) near[nn++] = list[j];
    }
    for (int a = 1; a < nn; a++) {
      int t = near[a], b = a;
      while (b > 0 && x->vals[near[b - 1]].offset > x->vals[t].offset) {
        near[b] = near[b - 1];
        b--;
      }
      near[b] = t;
    }
    int64_t cursor = 0, best = -1, best_gap = 0;
    for (int a = 0; a < nn; a++) {
      const Val *w = &x->vals[near[a]];
      int64_t gap = w->offset - cursor;
      if (gap >= v->size && (best < 0 || gap < best_gap)) {
        best = cursor;
        best_gap = gap;
      }
      if (w->offset + w->size > cursor) cursor = w->offset + w->size;
    }
    v->offset = best >= 0 ? best : cursor;
    if (v->offset + v->size > top) top = v->offset + v->size;
  }
  x->frame[ci] = top;
  int64_t peak = 0;
  for (int s = 0; s < nsteps; s++) {
    int64_t live = 0;
    for (int i = 0; i < n; i++)
      if (x->vals[list[i]].start <= s && s <= x->vals[list[i]].end) live += x->vals[list[i]].size;
    if (live > peak) peak = live;
  }
  free(near);
  free(list);
  return peak;
}

/* Extends (or creates) the frame of callee cc in computation ci to step. */
static void frame_live(Ctx *x, int ci, int cc, int step) {
  for (int v = 0; v < x->nvals; v++) {
    Val *fv = &x->vals[v];
    if (fv->callee != cc) continue;
    if (step < fv->start) fv->start = step;
    if (step > fv->end) fv->end = step;
    return;
  }
  int v = new_val(x, x->frame[cc], step, step, ci);
  x->vals[v].callee = cc;
}

static void plan_computation(Ctx *x, int ci) {
  const HloComputation *c = x->comps[ci];
  PassBufferPlan *p = x->p;
  bool entry = c == x->m->entry;
  PassSchedule *s = &p->schedules[ci];
  pass_schedule(c, PASS_SCHED_BEST, s);
  int n = s->n;
  for (int i = 0; i < n; i++) {
    HloInstr *in = s->order[i];
    p->first[in->id] = p->nbufs;
    p->count[in->id] = nleaves(&in->shape);
    if (in->op == HLO_OP_TUPLE) {
      for (int k = 0; k < in->noperands; k++) {
        const HloInstr *o = in->operands[k];
        for (int j = 0; j < p->count[o->id]; j++) {
          int b = p->first[o->id] + j;
          new_buf(x, p->bufs[b], x->valof[b]);
        }
      }
      continue;
    }
    if (in->op == HLO_OP_GET_TUPLE_ELEMENT) {
      const HloInstr *o = in->operands[0];
      int skip = 0;
      for (int k = 0; k < in->tuple_index; k++) skip += nleaves(&o->shape.tuple[k]);
      for (int j = 0; j < p->count[in->id]; j++) {
        int b = p->first[o->id] + skip + j;
        new_buf(x, p->bufs[b], x->valof[b]);
      }
      continue;
    }
    /* One more than the leaves: a VLA of none (an empty tuple's) is
     * undefined (fuzz_hlo_eval, a custom-call returning ()). */
    const HloShape *lv[p->count[in->id] + 1];
    leaves_of(&in->shape, lv);
    for (int j = 0; j < p->count[in->id]; j++) {
      int64_t size = hlo_type_is_array(lv[j]->type) ? (int64_t)hlo_shape_byte_size(lv[j]) : 0;
      PassBuf b = {PASS_BUF_NONE, 0, 0, size};
      int val = -1;
      if (!hlo_type_is_array(lv[j]->type)) {
      } else if (in->op == HLO_OP_PARAMETER && entry) {
        b.kind = PASS_BUF_ARG;
        b.index = in->parameter_number;
      } else if (in->op == HLO_OP_CONSTANT) {
        b.kind = PASS_BUF_CONST;
      } else {
        b.kind = PASS_BUF_SCRATCH;
        val = in->op == HLO_OP_PARAMETER ? new_val(x, size, 0, n, ci) : new_val(x, size, i, i, ci);
      }
      new_buf(x, b, val);
    }
    int64_t temp = x->temp_bytes ? x->temp_bytes(in) : 0;
    if (temp > 0) x->temp_val[in->id] = new_val(x, temp, i, i, ci);
  }
  /* Liveness: every reader extends the values it reads. */
  for (int i = 0; i < n; i++) {
    const HloInstr *in = s->order[i];
    for (int k = 0; k < in->noperands; k++) {
      const HloInstr *o = in->operands[k];
      for (int j = 0; j < p->count[o->id]; j++) {
        int v = x->valof[p->first[o->id] + j];
        if (v >= 0 && x->vals[v].end < i) x->vals[v].end = i;
      }
    }
  }
  const HloInstr *root = c->root;
  for (int j = 0; j < p->count[root->id]; j++) {
    int v = x->valof[p->first[root->id] + j];
    if (v < 0) continue;
    if (!entry) x->vals[v].end = n;
    else if (x->vals[v].result < 0) x->vals[v].result = j;
  }
  /* In place: x's value joins its dying operand's buffer. */
  for (int i = 0; i < n; i++) {
    const HloInstr *in = s->order[i];
    if (p->count[in->id] != 1) continue;
    int vx = x->valof[p->first[in->id]];
    if (vx < 0 || x->vals[vx].result >= 0) continue;
    for (int k = 0; k < in->noperands; k++) {
      const HloInstr *o = in->operands[k];
      if (!x->in_place || p->count[o->id] != 1 || !overwrites_operand(in, k)) continue;
      int vo = x->valof[p->first[o->id]];
      if (vo < 0) continue;
      int r = find(x, vo);
      if (x->vals[r].result >= 0 || x->vals[r].end != i || x->vals[r].size != x->vals[vx].size ||
          x->vals[r].comp != ci)
        continue;
      x->vals[vx].rep = r;
      x->vals[r].end = x->vals[vx].end;
      p->inplace_reuses++;
      break;
    }
  }
  /* Frames of the computations this one runs, live across their calls;
   * the entry also holds those of callees with several callers, live
   * throughout. */
  for (int i = 0; i < n; i++) {
    const HloInstr *in = s->order[i];
    for (int k = 0; k < in->ncalled; k++) {
      int cc = comp_index(x, in->called[k]);
      if (cc >= 0 && x->parent[cc] == ci) frame_live(x, ci, cc, i);
    }
  }
  if (entry)
    for (int cc = 0; cc < x->ncomps; cc++)
      if (cc != ci && x->parent[cc] == ci) {
        frame_live(x, ci, cc, 0);
        frame_live(x, ci, cc, n);
      }
  int64_t peak = pack(x, ci, n);
  if (entry) p->peak_live_bytes = peak;
}

HloError *pass_assign_buffers(const HloModule *m, const PassPolicy *policy, PassBufferPlan *p) {
  memset(p, 0, sizeof *p);
  Ctx x = {.m = m, .p = p, .in_place = policy && policy->reuse_operand_buffers,
           .temp_bytes = policy ? policy->kernel_temp_bytes : NULL};
  x.comps = (const HloComputation **)px_graph_computations(m, false, &x.ncomps);
  p->nids = m->next_id;
  p->first = hlo_xmalloc(sizeof(int) * (size_t)p->nids);
  p->count = hlo_xcalloc((size_t)p->nids, sizeof(int));
  p->temp_offset = hlo_xmalloc(sizeof(int64_t) * (size_t)(p->nids ? p->nids : 1));
  x.temp_val = hlo_xmalloc(sizeof(int) * (size_t)(p->nids ? p->nids : 1));
  for (int64_t i = 0; i < p->nids; i++) p->first[i] = x.temp_val[i] = -1;
  p->nschedules = x.ncomps;
  p->computations = x.comps;
  p->schedules = hlo_xcalloc((size_t)x.ncomps, sizeof(PassSchedule));
  x.parent = hlo_xmalloc(sizeof(int) * (size_t)x.ncomps);
  x.frame = hlo_xcalloc((size_t)x.ncomps, sizeof(int64_t));
  x.base = hlo_xcalloc((size_t)x.ncomps, sizeof(int64_t));
  int entry = comp_index(&x, m->entry);
  for (int i = 0; i < x.ncomps; i++) x.parent[i] = -1;
  for (int i = 0; i < x.ncomps; i++)
    for (const HloInstr *in = x.comps[i]->first; in; in = in->next)
      for (int k = 0; k < in->ncalled; k++) {
        int cc = comp_index(&x, in->called[k]);
        if (cc < 0) continue;
        x.parent[cc] = x.parent[cc] < 0 || x.parent[cc] == i ? i : entry;
      }
  for (int i = 0; i < x.ncomps; i++) plan_computation(&x, i);
  for (int v = 0; v < x.nvals; v++)
    if (x.vals[v].callee < 0 && x.vals[v].result < 0) p->naive_bytes += x.vals[v].size;
  p->arena_bytes = x.frame[entry];
  /* Absolute offsets, callers first (callees come first in comps). */
  for (int i = x.ncomps - 1; i >= 0; i--) {
    if (i == entry) continue;
    for (int v = 0; v < x.nvals; v++)
      if (x.vals[v].callee == i) x.base[i] = x.base[x.vals[v].comp] + x.vals[v].offset;
  }
  for (int b = 0; b < p->nbufs; b++) {
    int v = x.valof[b];
    if (v < 0 || p->bufs[b].kind != PASS_BUF_SCRATCH) continue;
    int r = find(&x, v);
    if (x.vals[r].result >= 0) {
      p->bufs[b].kind = PASS_BUF_RESULT;
      p->bufs[b].index = x.vals[r].result;
    } else {
      p->bufs[b].offset = x.base[x.vals[r].comp] + x.vals[r].offset;
    }
  }
  for (int64_t i = 0; i < p->nids; i++) {
    int v = x.temp_val[i];
    p->temp_offset[i] = v < 0 ? -1 : x.base[x.vals[v].comp] + x.vals[v].offset;
  }
  free(x.temp_val);
  free(x.base);
  free(x.frame);
  free(x.parent);
  free(x.vals);
  free(x.valof);
  return NULL;
}

void pass_buffer_plan_free(PassBufferPlan *p) {
  for (int i = 0; i < p->nschedules; i++) pass_schedule_free(&p->schedules[i]);
  free(p->schedules);
  free((void *)p->computations);
  free(p->bufs);
  free(p->count);
  free(p->first);
  free(p->temp_offset);
  memset(p, 0, sizeof *p);
}

const PassBuf *pass_buffer_of(const PassBufferPlan *p, const HloInstr *in, int leaf) {
  if (in->id >= p->nids || p->first[in->id] < 0 || leaf >= p->count[in->id]) return NULL;
  return &p->bufs[p->first[in->id] + leaf];
}

int64_t pass_temp_offset(const PassBufferPlan *p, const HloInstr *in) {
  return in->id < p->nids ? p->temp_offset[in->id] : -1;
}

const PassSchedule *pass_plan_schedule(const PassBufferPlan *p, const HloComputation *c) {
  for (int i = 0; i < p->nschedules; i++)
    if (p->computations[i] == c) return &p->schedules[i];
  return NULL;
}
