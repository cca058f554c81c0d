/*
 * fuzz_util.c — helpers of the libFuzzer harnesses (fuzz_util.h).  The
 * permissive config was fuzz_graphdef.c's; the cost model only has to be
 * a safe upper bound of the evaluator's loops, so it rounds up and
 * computes in double to stay clear of overflow on any verified module.
 */
#include "fuzz_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes.h"

void fz_drop(HloError *e) {
  static int verbose = -1;
  if (verbose < 0) verbose = getenv("FUZZ_VERBOSE") != NULL;
  if (e && verbose) fprintf(stderr, "fuzz: %s\n", hlo_error_message(e));
  hlo_error_free(e);
}

Tensorflow__GraphDef *fz_parse_graphdef(const uint8_t *data, size_t size) {
  ProtobufCMessage *m;
  HloError *e = tf_proto_parse_binary(&tensorflow__graph_def__descriptor, data, size,
                                      "fuzz.pb", &m);
  if (e) {
    fz_drop(e);
    return NULL;
  }
  return (Tensorflow__GraphDef *)m;
}

/* Built on the stack, packed, and read back as an owned message. */
Tensorflow__Tf2xla__Config *fz_permissive_config(const Tensorflow__GraphDef *gd) {
  size_t n = gd->n_node;
  Tensorflow__Tf2xla__TensorId *ids = calloc(n + 1, sizeof *ids);
  Tensorflow__Tf2xla__Feed *feeds = calloc(n + 1, sizeof *feeds);
  Tensorflow__Tf2xla__Feed **fp = calloc(n + 1, sizeof *fp);
  Tensorflow__Tf2xla__Fetch *fetches = calloc(n + 1, sizeof *fetches);
  Tensorflow__Tf2xla__Fetch **tp = calloc(n + 1, sizeof *tp);
  Tensorflow__Tf2xla__Config cfg = TENSORFLOW__TF2XLA__CONFIG__INIT;
  cfg.feed = fp;
  cfg.fetch = tp;
  for (size_t i = 0; i < n; i++) {
    const Tensorflow__NodeDef *nd = gd->node[i];
    tensorflow__tf2xla__tensor_id__init(&ids[i]);
    ids[i].node_name = nd->name;
    if (strcmp(nd->op, "Placeholder")) {
      Tensorflow__Tf2xla__Fetch *f = &fetches[cfg.n_fetch];
      tensorflow__tf2xla__fetch__init(f);
      f->id = &ids[i];
      tp[cfg.n_fetch++] = f;
      continue;
    }
    Tensorflow__Tf2xla__Feed *f = &feeds[cfg.n_feed];
    tensorflow__tf2xla__feed__init(f);
    f->id = &ids[i];
    f->type = TENSORFLOW__DATA_TYPE__DT_FLOAT;
    for (size_t j = 0; j < nd->n_attr; j++) {
      const Tensorflow__AttrValue *v = nd->attr[j]->value;
      if (!v) continue;
      if (!strcmp(nd->attr[j]->key, "dtype") &&
          v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE)
        f->type = v->type;
      if (!strcmp(nd->attr[j]->key, "shape") &&
          v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_SHAPE) {
        bool known = !v->shape->unknown_rank;
        for (size_t k = 0; k < v->shape->n_dim; k++)
          known &= v->shape->dim[k]->size >= 0;
        if (known) f->shape = v->shape;
      }
    }
    fp[cfg.n_feed++] = f;
  }
  size_t len = tensorflow__tf2xla__config__get_packed_size(&cfg);
  uint8_t *buf = malloc(len + 1);
  tensorflow__tf2xla__config__pack(&cfg, buf);
  ProtobufCMessage *m;
  HloError *e = tf_proto_parse_binary(&tensorflow__tf2xla__config__descriptor, buf, len,
                                      "config.pb", &m);
  if (e) abort(); /* what protobuf-c packs must read back */
  free(buf);
  free(ids);
  free(feeds);
  free(fp);
  free(fetches);
  free(tp);
  return (Tensorflow__Tf2xla__Config *)m;
}

static void die(const char *what, HloError *e, const HloModule *m) {
  char *text = hlo_module_to_string(m);
  fprintf(stderr, "%s: %s\n%s", what, hlo_error_message(e), text);
  free(text);
  abort();
}

void fz_optimize(HloModule *m) {
  PassPolicy policy = {
      .hoist_prefix_values = true,
      .root_views = true,
      .scalar_contraction_epilogues = true,
      .reductions_write_producers = true,
      .reuse_operand_buffers = true,
      .explicit_conv_padding = true,
  };
  PassOptions o = {.policy = &policy};
  HloError *e = pass_run_pipeline(m, &o);
  if (e) die("pass pipeline", e, m);
  PassBufferPlan plan;
  if ((e = pass_assign_buffers(m, &policy, &plan))) die("buffer assignment", e, m);
  pass_buffer_plan_free(&plan);
  PassStats stats;
  if ((e = pass_stats(m, &policy, &stats))) die("statistics", e, m);
}

void fz_lower_graph(Tensorflow__GraphDef *gd, Tensorflow__Tf2xla__Config *cfg) {
  TfGraph *g;
  HloError *e = tf_graph_new(gd, cfg, &g);
  if (e) {
    fz_drop(e);
    return;
  }
  HloModule *m = NULL;
  e = tf_import(g, "fuzz", &m);
  tf_graph_free(g);
  if (e) {
    fz_drop(e);
    return;
  }
  fz_optimize(m);
  hlo_module_free(m);
}

/* ------------------------------------------------------------------------ */
/* Cost                                                                     */
/* ------------------------------------------------------------------------ */

static double elements(const HloShape *s) {
  if (s->type == HLO_TUPLE) {
    double n = 0;
    for (int i = 0; i < s->ntuple; i++) n += elements(&s->tuple[i]);
    return n;
  }
  double n = 1;
  for (int d = 0; d < s->rank; d++) n *= (double)s->dims[d];
  return n;
}

static void bytes(const HloShape *s, FzCost *c) {
  if (s->type == HLO_TUPLE) {
    for (int i = 0; i < s->ntuple; i++) bytes(&s->tuple[i], c);
    return;
  }
  double b = elements(s) * (double)hlo_type_size(s->type);
  int64_t v = b > 1e15 ? INT64_C(1000000000000000) : (int64_t)b;
  if (v > c->max_bytes) c->max_bytes = v;
  c->total_bytes = c->total_bytes > INT64_MAX - v ? INT64_MAX : c->total_bytes + v;
}

/* Work of the computations before `c` in module order (callees come
 * first), looked up by pointer. */
typedef struct Memo {
  int n;
  const HloComputation **comp;
  double *work;
} Memo;

static double called_work(const Memo *mm, const HloComputation *c) {
  for (int i = 0; i < mm->n; i++)
    if (mm->comp[i] == c) return mm->work[i];
  return 1e18; /* called before it is defined: not a verified module */
}

static double instr_work(const Memo *mm, const HloInstr *in, FzCost *c) {
  double out = elements(&in->shape), w = out;
  for (int i = 0; i < in->noperands; i++) w += elements(&in->operands[i]->shape);
  double calls = 0;
  for (int i = 0; i < in->ncalled; i++) calls += called_work(mm, in->called[i]);
  switch (in->op) {
  case HLO_OP_DOT: {
    double k = 1;
    const HloShape *l = &in->operands[0]->shape;
    for (int i = 0; i < in->dot.lhs_contracting.n; i++) {
      int64_t d = in->dot.lhs_contracting.v[i];
      if (d >= 0 && d < l->rank) k *= (double)l->dims[d];
    }
    return w + out * k;
  }
  case HLO_OP_CONVOLUTION:
    return w + out * elements(&in->operands[1]->shape);
  case HLO_OP_REDUCE_WINDOW: {
    double k = 1;
    for (int i = 0; i < in->window_rank; i++) k *= (double)in->window[i].size;
    return w + out * k * (1 + calls);
  }
  case HLO_OP_REDUCE:
  case HLO_OP_SCATTER:
    return w * (1 + calls);
  case HLO_OP_SORT:
    return w * 32 * (1 + calls);
  case HLO_OP_WHILE: {
    if (calls > (double)c->loop_work) c->loop_work = calls > 1e15 ? INT64_C(1000000000000000)
                                                                  : (int64_t)calls;
    return w + calls;
  }
  default:
    return w + calls;
  }
}

void fz_cost(const HloModule *m, FzCost *out) {
  memset(out, 0, sizeof *out);
  Memo mm = {0};
  int cap = 0;
  for (const HloComputation *c = m->first; c; c = c->next) cap++;
  mm.comp = calloc((size_t)cap + 1, sizeof *mm.comp);
  mm.work = calloc((size_t)cap + 1, sizeof *mm.work);
  double total = 0;
  for (const HloComputation *c = m->first; c; c = c->next) {
    double w = 0;
    for (const HloInstr *in = c->first; in; in = in->next) {
      out->instructions++;
      bytes(&in->shape, out);
      w += instr_work(&mm, in, out);
    }
    mm.comp[mm.n] = c;
    mm.work[mm.n++] = w;
    if (c == m->entry) total = w;
  }
  out->work = total > 1e15 ? INT64_C(1000000000000000) : (int64_t)total;
  free(mm.comp);
  free(mm.work);
}
