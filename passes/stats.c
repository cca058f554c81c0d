/*
 * stats.c — what a compiled module will cost, in the units the pipeline
 * tries to reduce: kernels launched, bytes moved between kernels, arena
 * bytes; plus the model's weight bytes and dot/convolution FLOPs.
 *
 * A kernel is a fusion or an instruction outside fusions that does work;
 * parameters, constants, tuples, get-tuple-element and bitcasts are free,
 * and while/conditional/call are counted through their bodies.  Bytes
 * moved: for each kernel, its operands read and its result written (a
 * lower bound for what codegen will move).
 *
 * Those count the code, each computation once.  A run executes a while
 * loop's body once per iteration, so "per run" counts again from the
 * entry, a body times its loop's trip count where that is static (the
 * counted loop frontends and XLA emit: an integer induction variable
 * starting at a constant, stepped by a constant, compared with a constant
 * or a loop-invariant element that starts constant), once where it is not
 * (and says so), and a conditional as its costliest branch.
 *
 * requires: a verified module.
 * keeps:    the module untouched.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

bool pass_is_kernel(const HloInstr *in) {
  switch (in->op) {
  case HLO_OP_PARAMETER: case HLO_OP_CONSTANT: case HLO_OP_TUPLE:
  case HLO_OP_GET_TUPLE_ELEMENT: case HLO_OP_BITCAST: case HLO_OP_WHILE:
  case HLO_OP_CONDITIONAL: case HLO_OP_CALL:
    return false;
  default:
    return true;
  }
}

static int64_t product(const HloShape *s, const HloDims *d) {
  int64_t p = 1;
  for (int i = 0; i < d->n; i++) p *= s->dims[d->v[i]];
  return p;
}

/* 2 × multiply-adds of a dot or convolution. */
static int64_t flops_of(const HloInstr *in) {
  if (in->op == HLO_OP_DOT)
    return 2 * hlo_shape_elements(&in->shape) *
           product(&in->operands[0]->shape, &in->dot.lhs_contracting);
  if (in->op == HLO_OP_CONVOLUTION) {
    const HloShape *k = &in->operands[1]->shape;
    int64_t per_out = k->dims[in->conv.k_in_feature];
    for (int i = 0; i < in->conv.nspatial; i++) per_out *= k->dims[in->conv.k_spatial[i]];
    return 2 * hlo_shape_elements(&in->shape) * per_out / in->batch_group_count;
  }
  return 0;
}

/* A kernel's FLOPs (a fusion's: its members') and the bytes it moves (its
 * operands read, its result written). */
static void kernel_cost(const HloInstr *in, int64_t *flops, int64_t *bytes) {
  *flops = flops_of(in);
  if (in->op == HLO_OP_FUSION)
    for (const HloInstr *f = in->called[0]->first; f; f = f->next) *flops += flops_of(f);
  *bytes = px_shape_bytes(&in->shape);
  for (int k = 0; k < in->noperands; k++) *bytes += px_shape_bytes(&in->operands[k]->shape);
}

/* Where the loop analysis looks: a while condition's or body's value,
 * seen through at most one fusion (after the passes a condition is
 * usually one kLoop fusion of the comparison): a parameter of the fused
 * computation stands for the fusion's operand. */
typedef struct Scope {
  const HloInstr *fusion; /* NULL: not inside one */
} Scope;

static const HloInstr *outer(const Scope *sc, const HloInstr *x) {
  while ((x->op == HLO_OP_CONVERT || x->op == HLO_OP_COPY) && x->noperands == 1)
    x = x->operands[0];
  if (sc->fusion && x->op == HLO_OP_PARAMETER && x->parent == sc->fusion->called[0] &&
      x->parameter_number < sc->fusion->noperands)
    x = sc->fusion->operands[x->parameter_number];
  while ((x->op == HLO_OP_CONVERT || x->op == HLO_OP_COPY) && x->noperands == 1)
    x = x->operands[0];
  return x;
}

/* The scalar integer value of a constant. */
static bool int_constant(const Scope *sc, const HloInstr *x, int64_t *v) {
  x = outer(sc, x);
  if (x->op != HLO_OP_CONSTANT || x->shape.rank != 0 || !hlo_type_is_integer(x->shape.type))
    return false;
  *v = hlo_literal_get_s64(x->literal, 0);
  return true;
}

/* Element i of the loop state, when x reads it from the parameter of the
 * condition or body; -1 otherwise. */
static int64_t state_element(const Scope *sc, const HloInstr *x) {
  x = outer(sc, x);
  if (x->op != HLO_OP_GET_TUPLE_ELEMENT || x->operands[0]->op != HLO_OP_PARAMETER) return -1;
  return x->tuple_index;
}

/* The initial value of state element i, when the loop's operand makes it
 * a constant. */
static bool initial_constant(const HloInstr *w, int64_t i, int64_t *v) {
  const HloInstr *init = w->operands[0];
  static const Scope none;
  if (init->op != HLO_OP_TUPLE || i >= init->noperands) return false;
  return int_constant(&none, init->operands[i], v);
}

/* The body's new value of element i (a root tuple operand), seen through
 * a fusion that computes it: *sc is set to look inside. */
static const HloInstr *next_value(const HloInstr *w, int64_t i, Scope *sc) {
  const HloInstr *root = w->called[1]->root;
  sc->fusion = NULL;
  if (root->op != HLO_OP_TUPLE || i >= root->noperands) return NULL;
  const HloInstr *x = root->operands[i];
  if (x->op == HLO_OP_FUSION && x->called[0]->root->op != HLO_OP_TUPLE) {
    sc->fusion = x;
    return x->called[0]->root;
  }
  return x;
}

/* A value the loop compares its induction variable with: a constant, or a
 * state element the body passes on unchanged that starts constant. */
static bool loop_bound(const HloInstr *w, const Scope *sc, const HloInstr *x, int64_t *v) {
  if (int_constant(sc, x, v)) return true;
  int64_t j = state_element(sc, x);
  Scope nsc;
  const HloInstr *nx = j >= 0 ? next_value(w, j, &nsc) : NULL;
  return nx && state_element(&nsc, nx) == j && initial_constant(w, j, v);
}

/* The iterations a comparison of the induction variable with a bound
 * allows, else -1. */
static int64_t compare_trips(const HloInstr *w, const Scope *sc, const HloInstr *c) {
  HloCompareDir dir = c->direction;
  const HloInstr *iv = c->operands[0], *bound = c->operands[1];
  int64_t i = state_element(sc, iv), n, start, step;
  if (i < 0 || !loop_bound(w, sc, bound, &n)) { /* bound OP iv: mirror it */
    iv = c->operands[1];
    bound = c->operands[0];
    i = state_element(sc, iv);
    if (i < 0 || !loop_bound(w, sc, bound, &n)) return -1;
    static const HloCompareDir mirror[] = {
        [HLO_CMP_EQ] = HLO_CMP_EQ, [HLO_CMP_NE] = HLO_CMP_NE, [HLO_CMP_LT] = HLO_CMP_GT,
        [HLO_CMP_LE] = HLO_CMP_GE, [HLO_CMP_GT] = HLO_CMP_LT, [HLO_CMP_GE] = HLO_CMP_LE};
    dir = mirror[dir];
  }
  if (!hlo_type_is_integer(iv->shape.type) || !initial_constant(w, i, &start)) return -1;
  Scope nsc;
  const HloInstr *nx = next_value(w, i, &nsc);
  if (!nx || (nx->op != HLO_OP_ADD && nx->op != HLO_OP_SUBTRACT)) return -1;
  int k = state_element(&nsc, nx->operands[0]) == i ? 1 : 0;
  if (state_element(&nsc, nx->operands[1 - k]) != i || !int_constant(&nsc, nx->operands[k], &step))
    return -1;
  if (nx->op == HLO_OP_SUBTRACT) {
    if (k == 0) return -1; /* c - i does not step */
    step = -step;
  }
  /* Small enough that no arithmetic below overflows. */
  const int64_t big = INT64_C(1) << 40;
  if (step == 0 || step < -big || step > big || start < -big || start > big || n < -big ||
      n > big)
    return -1;
  switch (dir) {
  case HLO_CMP_LE: n += 1; /* fall through */
  case HLO_CMP_LT: return step > 0 ? (start < n ? (n - start + step - 1) / step : 0) : -1;
  case HLO_CMP_GE: n -= 1; /* fall through */
  case HLO_CMP_GT: return step < 0 ? (start > n ? (start - n - step - 1) / -step : 0) : -1;
  case HLO_CMP_NE:
    return (n - start) % step == 0 && (n - start) / step >= 0 ? (n - start) / step : -1;
  default: return -1;
  }
}

/* The iterations predicate p allows: a comparison, or the conjunction of
 * two (Keras' loops test a step counter and the iteration limit), which
 * stops at the first to fail. */
static int64_t pred_trips(const HloInstr *w, const Scope *sc, const HloInstr *p, int depth) {
  if (p->op == HLO_OP_COMPARE) return compare_trips(w, sc, p);
  if (p->op == HLO_OP_AND && p->shape.type == HLO_PRED && depth < 8) {
    int64_t a = pred_trips(w, sc, p->operands[0], depth + 1);
    int64_t b = pred_trips(w, sc, p->operands[1], depth + 1);
    return a < 0 || b < 0 ? -1 : a < b ? a : b;
  }
  return -1;
}

int64_t px_while_trip_count(const HloInstr *w) {
  const HloInstr *root = w->called[0]->root;
  Scope sc = {NULL};
  if (root->op == HLO_OP_FUSION) {
    sc.fusion = root;
    root = root->called[0]->root;
  }
  return pred_trips(w, &sc, root, 0);
}

typedef struct RunCount {
  int64_t kernels, flops, bytes;
} RunCount;

/* What one execution of c does, its loops' bodies times their trip counts
 * (mult: how often c runs); loops are listed in s as they are found. */
static void count_run(const HloComputation *c, int64_t mult, PassStats *s, RunCount *r) {
  for (const HloInstr *in = c->first; in; in = in->next) {
    if (in->op == HLO_OP_WHILE) {
      int64_t t = px_while_trip_count(in);
      if (s->nwhile < PASS_STATS_MAX_LOOPS) {
        s->while_name[s->nwhile] = in->name;
        s->while_trips[s->nwhile] = t;
      }
      s->nwhile++;
      if (t < 0) s->while_unknown++;
      int64_t times = t < 0 ? 1 : t;
      count_run(in->called[1], mult * times, s, r);
      count_run(in->called[0], mult * (times + 1), s, r);
      continue;
    }
    if (in->op == HLO_OP_CONDITIONAL) {
      RunCount best = {0};
      for (int b = 0; b < in->ncalled; b++) {
        RunCount one = {0};
        count_run(in->called[b], mult, s, &one);
        if (one.flops > best.flops || (one.flops == best.flops && one.bytes > best.bytes))
          best = one;
      }
      r->kernels += best.kernels;
      r->flops += best.flops;
      r->bytes += best.bytes;
      continue;
    }
    if (in->op == HLO_OP_CALL) {
      count_run(in->called[0], mult, s, r);
      continue;
    }
    if (!pass_is_kernel(in)) continue;
    r->kernels += mult;
    int64_t flops, bytes;
    kernel_cost(in, &flops, &bytes);
    r->flops += mult * flops;
    r->bytes += mult * bytes;
  }
}

HloError *pass_stats(const HloModule *m, const PassPolicy *policy, PassStats *s) {
  memset(s, 0, sizeof *s);
  int nc;
  HloComputation **comps = px_graph_computations(m, false, &nc);
  for (int i = 0; i < nc; i++) {
    for (const HloInstr *in = comps[i]->first; in; in = in->next) {
      s->instructions++;
      if (in->op == HLO_OP_CONSTANT) s->weight_bytes += px_shape_bytes(&in->shape);
      if (!pass_is_kernel(in)) continue;
      s->kernels++;
      if (in->op == HLO_OP_FUSION) s->fusions[in->fusion_kind]++;
      int64_t flops, bytes;
      kernel_cost(in, &flops, &bytes);
      s->flops += flops;
      s->bytes_moved += bytes;
    }
  }
  free(comps);
  RunCount r = {0};
  count_run(m->entry, 1, s, &r);
  s->run_kernels = r.kernels;
  s->run_flops = r.flops;
  s->run_bytes_moved = r.bytes;
  PassBufferPlan plan;
  HloError *e = pass_assign_buffers(m, policy, &plan);
  if (e) return e;
  s->arena_bytes = plan.arena_bytes;
  s->naive_arena_bytes = plan.naive_bytes;
  s->peak_live_bytes = plan.peak_live_bytes;
  pass_buffer_plan_free(&plan);
  return NULL;
}

void pass_stats_print(FILE *f, const PassStats *s) {
  fprintf(f, "instructions      %" PRId64 "\n", s->instructions);
  fprintf(f, "kernels           %" PRId64 " (fusions: %" PRId64 " loop, %" PRId64 " input, %" PRId64
             " output, %" PRId64 " custom)\n",
          s->kernels, s->fusions[HLO_FUSION_LOOP], s->fusions[HLO_FUSION_INPUT],
          s->fusions[HLO_FUSION_OUTPUT], s->fusions[HLO_FUSION_CUSTOM]);
  fprintf(f, "weight bytes      %" PRId64 "\n", s->weight_bytes);
  fprintf(f, "flops             %" PRId64 "\n", s->flops);
  fprintf(f, "bytes moved       %" PRId64 "\n", s->bytes_moved);
  fprintf(f, "arena bytes       %" PRId64 " (one slot per value: %" PRId64 ", peak live: %" PRId64
             ")\n",
          s->arena_bytes, s->naive_arena_bytes, s->peak_live_bytes);
  if (!s->nwhile) return;
  fprintf(f, "while loops       %" PRId64 " (trip counts:", s->nwhile);
  for (int64_t i = 0; i < s->nwhile && i < PASS_STATS_MAX_LOOPS; i++) {
    if (s->while_trips[i] >= 0)
      fprintf(f, " %%%s %" PRId64, s->while_name[i], s->while_trips[i]);
    else
      fprintf(f, " %%%s unknown", s->while_name[i]);
    if (i + 1 < s->nwhile) fputc(',', f);
  }
  if (s->nwhile > PASS_STATS_MAX_LOOPS) fprintf(f, " …");
  fprintf(f, ")\n");
  fprintf(f, "per run           kernels %" PRId64 ", flops %" PRId64 ", bytes moved %" PRId64 "%s\n",
          s->run_kernels, s->run_flops, s->run_bytes_moved,
          s->while_unknown ? " (loops of unknown trip count counted once)" : "");
}
