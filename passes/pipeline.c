/*
 * pipeline.c — the default pass pipeline and its options.
 *
 * The pipeline is a table: single passes and fixed-point groups.  A group
 * runs its passes in order, again and again, until a whole round changes
 * nothing or the round cap is reached (rewrites that enable each other —
 * algsimp exposing constants, folding exposing duplicates — converge in a
 * few rounds; the cap only guards against two rules undoing each other).
 *
 * The verifier runs on the input and after every pass that reports a
 * change, so a broken invariant is blamed on the pass that broke it.
 * After such a pass the payloads of the literals no constant holds any
 * more are freed (hlo_module_release_dead_literals): a fold that rewrote
 * a weight (a transpose of a dot's, a scaled one) would otherwise keep
 * both forms of every weight until the pipeline ends.
 *
 * Before the steps, and not among the passes one may disable, collectives
 * and async pairs are lowered to plain HLO (single_device.c): codegen has
 * no kernels for them.  The same step makes XLA's other forms standard
 * (canonical_forms.c: pred[] selects, rank-1 start indices, tuple
 * all-to-all, xla_builder calls, scaled-dot) and turns maps it cannot
 * inline into loops (map_loop.c).  Then bounded dynamic dims (<=N) are made static
 * with their padding masked (dynamic_pad.c); a module that keeps one stops
 * there: the passes take every shape as static (a reduce of a broadcast
 * is not a multiply by the bound when the size is smaller), and codegen
 * refuses such a module anyway, so it stays as written for the
 * interpreter.
 *
 * Why this order: calls are inlined first so nothing hides behind a call;
 * batch-norm-inference is expanded into arithmetic that the simplify group
 * then folds into the weights of the producing convolution or dot; in that
 * group while-invariant follows tuple-simplify (which leaves loops' init
 * tuples as `tuple` instructions it needs) and precedes the folds, CSE and
 * DCE that clean up what it sinks into loop bodies and strands; dots are
 * canonicalized once the graph is simple (and algsimp, which would fold the
 * new transposes back into the dot, does not run after that), and
 * convolutions' padding made a pad where the backend asks (algsimp would
 * fold that back too); fusion comes
 * last, on the final arithmetic, and multi-output fusion merges the
 * resulting siblings.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* A pass: run, or run_with when it reads the backend's policy. */
typedef struct PassDef {
  const char *name;
  bool (*run)(HloModule *);
  bool (*run_with)(HloModule *, const PassPolicy *);
} PassDef;

static const PassDef pass_table[] = {
    {"inline", pass_inline_calls, NULL},
    {"tuple-simplify", pass_tuple_simplify, NULL},
    {"while-invariant", pass_while_invariant, NULL},
    {"while-input-dot", pass_while_input_dot, NULL},
    {"algsimp", pass_algsimp, NULL},
    {"constant-fold", pass_constant_fold, NULL},
    {"cse", pass_cse, NULL},
    {"dce", pass_dce, NULL},
    {"batchnorm-expand", pass_batchnorm_expand, NULL},
    {"scale-fold", pass_scale_fold, NULL},
    {"dot-canonicalize", pass_dot_canonicalize, NULL},
    {"conv-pad", NULL, pass_conv_pad},
    {"tree-reduce", NULL, pass_tree_reduce},
    {"fusion", NULL, pass_fusion},
    {"multi-output-fusion", NULL, pass_multi_output_fusion},
};
enum { NPASSES = sizeof pass_table / sizeof pass_table[0] };

/* A step is one pass (max_rounds 1) or a fixed-point group of passes. */
typedef struct Step {
  int max_rounds;
  const char *passes[10];     /* NULL-terminated */
} Step;

static const Step pipeline[] = {
    {1, {"inline"}},
    {1, {"batchnorm-expand"}},
    {16,
     {"tuple-simplify", "while-invariant", "while-input-dot", "algsimp", "scale-fold",
      "constant-fold", "cse", "dce"}},
    {1, {"dot-canonicalize"}},
    {1, {"conv-pad"}},
    {1, {"tree-reduce"}},
    {4, {"constant-fold", "cse", "dce"}},
    {1, {"fusion"}},
    {1, {"multi-output-fusion"}},
    {1, {"dce"}},
};
enum { NSTEPS = sizeof pipeline / sizeof pipeline[0] };

const char *const *pass_names(void) {
  static const char *names[NPASSES + 1];
  for (int i = 0; i < NPASSES; i++) names[i] = pass_table[i].name;
  names[NPASSES] = NULL;
  return names;
}

static const PassDef *find_pass(const char *name) {
  for (int i = 0; i < NPASSES; i++)
    if (!strcmp(pass_table[i].name, name)) return &pass_table[i];
  return NULL;
}

bool pass_name_is_known(const char *name) { return find_pass(name) != NULL; }

typedef struct Run {
  const PassOptions *opts;
  int dump_seq;
  double seconds[NPASSES];
  int runs[NPASSES], changes[NPASSES];
} Run;

static bool is_disabled(const PassOptions *o, const char *name) {
  for (int i = 0; o && i < o->ndisabled; i++)
    if (!strcmp(o->disabled[i], name)) return true;
  return false;
}

/* Writes NNN-<label>.hlo to a temporary name first, so a failed write
 * leaves no half-written dump. */
static HloError *dump(Run *r, const HloModule *m, const char *label) {
  const PassOptions *o = r->opts;
  if (!o || !o->dump_after || !o->dump_dir) return NULL;
  if (strcmp(o->dump_after, "all") && strcmp(o->dump_after, label) && strcmp(label, "input"))
    return NULL;
  char path[4096], tmp[4200];
  snprintf(path, sizeof path, "%s/%03d-%s.hlo", o->dump_dir, r->dump_seq++, label);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  char *text = hlo_module_to_string(m);
  FILE *f = fopen(tmp, "w");
  bool ok = f && fputs(text, f) >= 0;
  if (f) ok &= fclose(f) == 0;
  free(text);
  if (!ok || rename(tmp, path) != 0) {
    remove(tmp);
    return hlo_error("cannot write pass dump %s", path);
  }
  return NULL;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs one pass; *changed tells whether it changed the module. */
static HloError *run_pass(Run *r, HloModule *m, const char *name, bool *changed) {
  *changed = false;
  if (is_disabled(r->opts, name)) return NULL;
  const PassDef *p = find_pass(name);
  int idx = (int)(p - pass_table);
  double t0 = now();
  *changed = p->run ? p->run(m) : p->run_with(m, r->opts ? r->opts->policy : NULL);
  r->seconds[idx] += now() - t0;
  r->runs[idx]++;
  if (*changed) {
    r->changes[idx]++;
    HloError *e = hlo_verify(m);
    if (e) return hlo_error_wrap(e, "after pass '%s'", name);
    hlo_module_release_dead_literals(m);
  }
  return dump(r, m, name);
}

static void print_timing(FILE *f, const Run *r) {
  double total = 0;
  for (int i = 0; i < NPASSES; i++) total += r->seconds[i];
  fprintf(f, "%-22s %10s %6s %8s\n", "pass", "ms", "runs", "changed");
  for (int i = 0; i < NPASSES; i++) {
    if (!r->runs[i]) continue;
    fprintf(f, "%-22s %10.3f %6d %8d\n", pass_table[i].name, r->seconds[i] * 1e3, r->runs[i],
            r->changes[i]);
  }
  fprintf(f, "%-22s %10.3f\n", "total", total * 1e3);
}

HloError *pass_run_pipeline(HloModule *m, const PassOptions *opts) {
  for (int i = 0; opts && i < opts->ndisabled; i++)
    if (!find_pass(opts->disabled[i]))
      return hlo_error("unknown pass '%s' (see pass_names)", opts->disabled[i]);
  HloError *e = hlo_verify(m);
  if (e) return hlo_error_wrap(e, "pipeline input");
  Run r = {.opts = opts};
  if ((e = dump(&r, m, "input"))) return e;
  if (pass_single_device(m) && (e = hlo_verify(m)))
    return hlo_error_wrap(e, "after lowering to one device");
  bool dynamic = false;
  for (const HloComputation *c = m->first; c && !dynamic; c = c->next)
    for (const HloInstr *x = c->first; x && !dynamic; x = x->next)
      dynamic = hlo_shape_is_dynamic(&x->shape) || x->op == HLO_OP_DYNAMIC_RESHAPE;
  if (dynamic && pass_dynamic_pad(m)) {
    if ((e = hlo_verify(m))) return hlo_error_wrap(e, "after making dynamic dims static");
    if ((e = dump(&r, m, "dynamic-pad"))) return e;
    dynamic = false;
  }
  for (int s = 0; s < NSTEPS && !e && !dynamic; s++) {
    const Step *st = &pipeline[s];
    for (int round = 0; round < st->max_rounds && !e; round++) {
      bool any = false;
      for (int k = 0; st->passes[k] && !e; k++) {
        bool changed;
        e = run_pass(&r, m, st->passes[k], &changed);
        any |= changed;
      }
      if (!any) break;
    }
  }
  if (opts && opts->timing) print_timing(opts->timing, &r);
  return e;
}
