/*
 * graph.c — the TfGraph view: what a GraphDef plus a tfcompile config
 * compute, ready to be lowered node by node.
 *
 * Building a view goes in five steps, each reporting errors that name the
 * node, feed or fetch at fault:
 *
 *  1. Nodes.  Every NodeDef becomes a TfNode, entered in a hash table by
 *     name (names must be non-empty and unique).  Its output count is
 *     computed where the op or its attributes tell (count_outputs).
 *  2. Edges.  Input strings are resolved: "a" and "a:K" are output K of node
 *     a, "^a" a control edge.  In function bodies an input is an argument
 *     name, or "node:out_arg:K" — the K-th tensor of the node's output
 *     argument out_arg — which is resolved to a flat output index from the
 *     callee's signature (library functions) or a table of the ops whose
 *     outputs have several names (FusedBatchNormV3's y, batch_mean, …).
 *     Indices beyond a known output count are errors.
 *  3. Feeds and fetches, from the config (or a function's signature).  A
 *     feed names a tensor (node, output); every edge reading that tensor
 *     reads the feed instead.  The feed's type is the config's or the
 *     node's dtype attr; its shape must be static.  A name the config
 *     gives to two feeds, or to two fetches, is an error (as in tfcompile);
 *     an entry without a name takes its node's.  A config variable is a
 *     feed of its variable node (a VarHandleOp's handle, a VariableV2's
 *     reference), after the feeds: every read of the handle or reference
 *     reads the variable's value instead.
 *  4. Pruning and order: a depth-first walk from the fetches along data
 *     edges, not crossing fed edges, marks the live nodes and lists them in
 *     post-order (producers first).  Control edges do not make a node live:
 *     hloc compiles the values the fetches need, and in frozen graphs control
 *     edges only order side effects (NoOp, Assert) that have none here.
 *     Config variables are the exception: their reads and assigns are side
 *     effects that control edges order, so in a graph with variables the
 *     walk also follows control edges to them (and to the NoOps grouping
 *     them), which both makes them live and puts them in that order.  A
 *     node met again while still on the walk's stack closes a cycle: the
 *     error lists it.
 *  5. Checks on the result: every feed must be used (tfcompile rejects
 *     unused feeds), and no live node may be an unfed Placeholder.
 *
 * The view never copies the GraphDef: names, attrs and tensors are read in
 * place, so the view keeps the protobuf messages alive (it owns them).
 */
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

/* A name in the table: a node (id >= 0) or a function argument (-1 - k). */
typedef struct NameSlot {
  const char *name;
  int id;
} NameSlot;

struct TfGraphPriv {
  Tensorflow__GraphDef *gd;        /* owned by main graphs */
  Tensorflow__Tf2xla__Config *cfg; /* owned by main graphs */
  size_t mask;                     /* table size - 1 (a power of 2 - 1) */
  NameSlot *slots;                 /* name == NULL: empty */
  bool *fed;                       /* per node: some output of it is fed */
  int nvariables;                  /* config variables among the feeds; in
                                    * a function body, its resource
                                    * arguments (a caller may pass it a
                                    * config variable to assign) */
};

/* ------------------------------------------------------------------------ */
/* Names                                                                     */
/* ------------------------------------------------------------------------ */

static uint64_t hash_name(const char *s, size_t n) {
  uint64_t h = 0xcbf29ce484222325u;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3u;
  return h;
}

/* The slot for the first n bytes of name: its entry, or the empty slot
 * where it would go. */
static NameSlot *find_slot(const TfGraph *g, const char *name, size_t n) {
  const struct TfGraphPriv *p = g->priv;
  for (size_t i = hash_name(name, n) & p->mask;; i = (i + 1) & p->mask) {
    NameSlot *s = &p->slots[i];
    if (!s->name || (strlen(s->name) == n && !memcmp(s->name, name, n)))
      return s;
  }
}

/* The id of a name (n bytes), or INT32_MIN when unknown. */
static int lookup(const TfGraph *g, const char *name, size_t n) {
  const NameSlot *s = find_slot(g, name, n);
  return s->name ? s->id : INT32_MIN;
}

TfNode *tf_graph_node(const TfGraph *g, const char *name) {
  int id = lookup(g, name, strlen(name));
  return id >= 0 ? &g->nodes[id] : NULL;
}

const Tensorflow__FunctionDef *tf_graph_find_function(const TfGraph *g,
                                                      const char *name) {
  const Tensorflow__FunctionDefLibrary *lib = g->def->library;
  for (size_t i = 0; lib && i < lib->n_function; i++) {
    const Tensorflow__OpDef *sig = lib->function[i]->signature;
    if (sig && !strcmp(sig->name, name)) return lib->function[i];
  }
  return NULL;
}

HloError *tf_node_error(const TfNode *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  HloError *e = hlo_verror(fmt, ap);
  va_end(ap);
  e = hlo_error_wrap(e, "node '%s' (%s)", n->name, n->op);
  if (n->graph->function)
    e = hlo_error_wrap(e, "function '%s'", n->graph->function->signature->name);
  return e;
}

/* ------------------------------------------------------------------------ */
/* Outputs                                                                   */
/* ------------------------------------------------------------------------ */

/* Ops whose outputs are several differently named arguments, each one
 * tensor: function bodies name their outputs "node:arg:K". */
typedef struct OutputArgs {
  const char *op;
  const char *args[6];
} OutputArgs;

static const OutputArgs multi_output_ops[] = {
    {"FusedBatchNorm", {"y", "batch_mean", "batch_variance",
                        "reserve_space_1", "reserve_space_2"}},
    {"FusedBatchNormV2", {"y", "batch_mean", "batch_variance",
                          "reserve_space_1", "reserve_space_2"}},
    {"FusedBatchNormV3", {"y", "batch_mean", "batch_variance",
                          "reserve_space_1", "reserve_space_2",
                          "reserve_space_3"}},
    {"FusedBatchNormGrad", {"x_backprop", "scale_backprop", "offset_backprop",
                            "reserve_space_3", "reserve_space_4"}},
    {"FusedBatchNormGradV2", {"x_backprop", "scale_backprop",
                              "offset_backprop", "reserve_space_3",
                              "reserve_space_4"}},
    {"FusedBatchNormGradV3", {"x_backprop", "scale_backprop",
                              "offset_backprop", "reserve_space_4",
                              "reserve_space_5"}},
    {"TopK", {"values", "indices"}},
    {"TopKV2", {"values", "indices"}},
    {"ApproxTopK", {"values", "indices"}},
    {"Unique", {"y", "idx"}},
    {"UniqueV2", {"y", "idx"}},
    {"UniqueWithCounts", {"y", "idx", "count"}},
    {"UniqueWithCountsV2", {"y", "idx", "count"}},
    {"ListDiff", {"out", "idx"}},
    {"Switch", {"output_false", "output_true"}},
    {"Merge", {"output", "value_index"}},
    {"Qr", {"q", "r"}},
    {"Svd", {"s", "u", "v"}},
    {"SelfAdjointEigV2", {"e", "v"}},
    {"Lu", {"lu", "p"}},
    {"MaxPoolWithArgmax", {"output", "argmax"}},
    {"SoftmaxCrossEntropyWithLogits", {"loss", "backprop"}},
    {"SparseSoftmaxCrossEntropyWithLogits", {"loss", "backprop"}},
    {"BroadcastGradientArgs", {"r0", "r1"}},
    {"TensorListPopBack", {"output_handle", "tensor"}},
};

static const OutputArgs *find_multi_output(const char *op) {
  for (size_t i = 0; i < sizeof multi_output_ops / sizeof *multi_output_ops;
       i++)
    if (!strcmp(multi_output_ops[i].op, op)) return &multi_output_ops[i];
  return NULL;
}

static int num_args(const OutputArgs *o) {
  int n = 0;
  while (n < 6 && o->args[n]) n++;
  return n;
}

/* The length of a list-valued attr of n, or -1. */
static int attr_list_len(const TfNode *n, const char *name) {
  const Tensorflow__AttrValue *v = tf_attr_find(n, name);
  if (!v || v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_LIST) return -1;
  const Tensorflow__AttrValue__ListValue *l = v->list;
  return (int)(l->n_type + l->n_shape + l->n_i + l->n_f + l->n_s + l->n_b +
               l->n_tensor + l->n_func);
}

/* An int attr of n as a count, or -1. */
static int attr_count(const TfNode *n, const char *name) {
  const Tensorflow__AttrValue *v = tf_attr_find(n, name);
  if (!v || v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_I || v->i < 0 ||
      v->i > INT32_MAX)
    return -1;
  return (int)v->i;
}

/* How many tensors the output argument a of a call node n produces, or -1. */
static int arg_size(const TfNode *n, const Tensorflow__OpDef__ArgDef *a) {
  if (*a->number_attr) return attr_count(n, a->number_attr);
  if (*a->type_list_attr) return attr_list_len(n, a->type_list_attr);
  return 1;
}

static int count_outputs(const TfNode *n) {
  static const char *const one[] = {
      "Placeholder", "PlaceholderWithDefault", "Const", "Identity",
      "Snapshot", "StopGradient", "PreventGradient", "EnsureShape",
      "CheckNumerics"};
  static const struct { const char *op, *attr; bool list; } sized[] = {
      {"IdentityN", "T", true}, {"ShapeN", "N", false},
      {"Split", "num_split", false}, {"SplitV", "num_split", false},
      {"Unpack", "num", false}, {"While", "T", true},
      {"StatelessWhile", "T", true}, {"If", "Tout", true},
      {"StatelessIf", "Tout", true}, {"Case", "Tout", true},
      {"StatelessCase", "Tout", true}, {"PartitionedCall", "Tout", true},
      {"StatefulPartitionedCall", "Tout", true}};
  if (!strcmp(n->op, "NoOp")) return 0;
  for (size_t i = 0; i < sizeof one / sizeof *one; i++)
    if (!strcmp(n->op, one[i])) return 1;
  for (size_t i = 0; i < sizeof sized / sizeof *sized; i++)
    if (!strcmp(n->op, sized[i].op))
      return sized[i].list ? attr_list_len(n, sized[i].attr)
                           : attr_count(n, sized[i].attr);
  const OutputArgs *m = find_multi_output(n->op);
  if (m) return num_args(m);
  const Tensorflow__FunctionDef *f = tf_graph_find_function(n->graph, n->op);
  if (f) {
    int total = 0;
    for (size_t i = 0; i < f->signature->n_output_arg; i++) {
      int k = arg_size(n, f->signature->output_arg[i]);
      if (k < 0) return -1;
      total += k;
    }
    return total;
  }
  return attr_list_len(n, "_output_shapes");
}

/* The flat index of the first tensor of output argument `arg` (n bytes) of
 * node p, for "node:arg:K" inputs of function bodies. */
static HloError *output_arg_base(const TfNode *p, const char *arg, size_t n,
                                 int *base) {
  const Tensorflow__FunctionDef *f = tf_graph_find_function(p->graph, p->op);
  if (f) {
    int acc = 0;
    for (size_t i = 0; i < f->signature->n_output_arg; i++) {
      const Tensorflow__OpDef__ArgDef *a = f->signature->output_arg[i];
      if (strlen(a->name) == n && !memcmp(a->name, arg, n)) {
        *base = acc;
        return NULL;
      }
      int k = arg_size(p, a);
      if (k < 0)
        return hlo_error("cannot size output argument '%s' of function '%s' "
                         "called by node '%s'", a->name, p->op, p->name);
      acc += k;
    }
    return hlo_error("function '%s' has no output argument '%.*s'", p->op,
                     (int)n, arg);
  }
  const OutputArgs *m = find_multi_output(p->op);
  if (!m) {
    *base = 0; /* one output argument, whatever its name */
    return NULL;
  }
  for (int i = 0; i < num_args(m); i++)
    if (strlen(m->args[i]) == n && !memcmp(m->args[i], arg, n)) {
      *base = i;
      return NULL;
    }
  return hlo_error("op %s has no output argument '%.*s'", p->op, (int)n,
                   arg);
}

/* ------------------------------------------------------------------------ */
/* Building                                                                  */
/* ------------------------------------------------------------------------ */

static TfGraph *graph_alloc(const Tensorflow__GraphDef *def) {
  TfGraph *g = hlo_xcalloc(1, sizeof *g);
  g->arena = hlo_arena_new();
  g->priv = hlo_arena_alloc(g->arena, sizeof *g->priv);
  g->def = def;
  return g;
}

void tf_graph_free(TfGraph *g) {
  if (!g) return;
  if (g->priv->gd) tensorflow__graph_def__free_unpacked(g->priv->gd, NULL);
  if (g->priv->cfg)
    tensorflow__tf2xla__config__free_unpacked(g->priv->cfg, NULL);
  hlo_arena_free(g->arena);
  free(g);
}

/* Step 1: nodes and the name table; nargs argument names are entered too
 * (function bodies). */
static HloError *add_nodes(TfGraph *g, Tensorflow__NodeDef *const *defs,
                           size_t n, const Tensorflow__OpDef *sig) {
  size_t nargs = sig ? sig->n_input_arg : 0;
  size_t size = 16;
  while (size < 2 * (n + nargs)) size *= 2;
  g->priv->mask = size - 1;
  g->priv->slots = hlo_arena_alloc(g->arena, size * sizeof(NameSlot));
  g->priv->fed = hlo_arena_alloc(g->arena, (n + 1) * sizeof(bool));
  g->nnodes = (int)n;
  g->nodes = hlo_arena_alloc(g->arena, (n + 1) * sizeof(TfNode));
  for (size_t i = 0; i < nargs; i++) {
    const char *name = sig->input_arg[i]->name;
    NameSlot *s = find_slot(g, name, strlen(name));
    if (s->name) return hlo_error("argument '%s' is declared twice", name);
    *s = (NameSlot){name, -1 - (int)i};
  }
  for (size_t i = 0; i < n; i++) {
    TfNode *nd = &g->nodes[i];
    nd->def = defs[i];
    nd->name = defs[i]->name;
    nd->op = defs[i]->op;
    nd->graph = g;
    nd->id = (int)i;
    if (!*nd->name) return hlo_error("node #%zu has no name", i);
    if (!*nd->op) return hlo_error("node '%s' has no op", nd->name);
    NameSlot *s = find_slot(g, nd->name, strlen(nd->name));
    if (s->name && s->id < 0)
      return hlo_error("node '%s' has the name of a function argument",
                       nd->name);
    if (s->name)
      return hlo_error("node name '%s' is used twice (nodes #%d and #%zu)",
                       nd->name, s->id, i);
    *s = (NameSlot){nd->name, (int)i};
  }
  for (size_t i = 0; i < n; i++)
    g->nodes[i].noutputs = count_outputs(&g->nodes[i]);
  return NULL;
}

/* Parses a decimal output index of n bytes (1 to 9 digits). */
static bool parse_index(const char *s, size_t n, int *out) {
  if (n == 0 || n > 9) return false;
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

/* Which feed reads output `index` of node p, or -1. */
static int feed_of(const TfGraph *g, const TfNode *p, int index) {
  if (!p || !g->priv->fed[p->id]) return -1;
  for (int i = 0; i < g->nfeeds; i++)
    if (g->feeds[i].node == p && g->feeds[i].index == index) return i;
  return -1;
}

/* Resolves a data input of a graph: "a" or "a:K" (node names have no
 * ':'); `what` names it for errors.  Sets *id and *k. */
static HloError *resolve_graph_input(const TfGraph *g, const char *s,
                                     const char *what, int *id, int *k) {
  const char *colon = strrchr(s, ':');
  size_t nlen = colon ? (size_t)(colon - s) : strlen(s);
  *k = 0;
  if (colon && !parse_index(colon + 1, strlen(colon + 1), k))
    return hlo_error("%s '%s' is malformed: expected 'node' or 'node:K'",
                     what, s);
  *id = lookup(g, s, nlen);
  if (*id < 0)
    return hlo_error("%s '%s' names no node '%.*s'", what, s, (int)nlen, s);
  return NULL;
}

/* Resolves a data input of a function body: "arg" or "arg:0" (a function
 * argument: *id = -1 - its position), "node", "node:K", "node:out_arg" or
 * "node:out_arg:K" (the K-th tensor of that output argument). */
static HloError *resolve_body_input(const TfGraph *g, const char *s,
                                    const char *what, int *id, int *k) {
  const char *c1 = strchr(s, ':');
  const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  size_t nlen = c1 ? (size_t)(c1 - s) : strlen(s);
  *k = 0;
  *id = lookup(g, s, nlen);
  if (*id == INT32_MIN)
    return hlo_error("%s '%s' names no node '%.*s'", what, s, (int)nlen, s);
  if (!c1) return NULL;
  const char *arg = c1 + 1;
  size_t alen = c2 ? (size_t)(c2 - arg) : strlen(arg);
  if (*id < 0) {
    if (c2 || !parse_index(arg, alen, k) || *k != 0)
      return hlo_error("%s '%s': argument '%.*s' is a single tensor", what, s,
                       (int)nlen, s);
    return NULL;
  }
  if (!c2 && parse_index(arg, alen, k)) return NULL;
  if (c2 && !parse_index(c2 + 1, strlen(c2 + 1), k))
    return hlo_error("%s '%s' is malformed: expected 'node:out_arg:K'", what,
                     s);
  int base = 0;
  HloError *e = output_arg_base(&g->nodes[*id], arg, alen, &base);
  if (e) return hlo_error_wrap(e, "%s '%s'", what, s);
  *k += base;
  return NULL;
}

/* Resolves one data input `s` to *in, checking the output index where the
 * producer's output count is known; `what` names it for errors. */
static HloError *resolve_input(TfGraph *g, const char *s, TfInput *in,
                               const char *what) {
  int id = 0, k = 0;
  HloError *e = g->function ? resolve_body_input(g, s, what, &id, &k)
                            : resolve_graph_input(g, s, what, &id, &k);
  if (e) return e;
  if (id < 0) {
    *in = (TfInput){NULL, 0, -1 - id};
    return NULL;
  }
  TfNode *p = &g->nodes[id];
  if (p->noutputs >= 0 && k >= p->noutputs)
    return hlo_error("%s '%s' reads output %d, but node '%s' (%s) has %d "
                     "output%s", what, s, k, p->name, p->op, p->noutputs,
                     p->noutputs == 1 ? "" : "s");
  *in = (TfInput){p, k, -1};
  return NULL;
}

/* Step 2: every node's inputs. */
static HloError *add_edges(TfGraph *g) {
  char what[64];
  for (int i = 0; i < g->nnodes; i++) {
    TfNode *n = &g->nodes[i];
    const Tensorflow__NodeDef *d = n->def;
    for (size_t j = 0; j < d->n_input; j++) {
      if (d->input[j][0] == '^')
        n->ncontrol++;
      else
        n->ninputs++;
    }
    n->inputs = hlo_arena_alloc(g->arena, sizeof(TfInput) * (size_t)n->ninputs);
    n->control =
        hlo_arena_alloc(g->arena, sizeof(TfNode *) * (size_t)n->ncontrol);
    int ni = 0, nc = 0;
    for (size_t j = 0; j < d->n_input; j++) {
      const char *s = d->input[j];
      if (s[0] == '^') {
        int id = lookup(g, s + 1, strlen(s + 1));
        if (id < 0)
          return tf_node_error(n, "control input '%s' names no node", s);
        n->control[nc++] = &g->nodes[id];
        continue;
      }
      snprintf(what, sizeof what, "input %d", ni);
      HloError *e = resolve_input(g, s, &n->inputs[ni++], what);
      if (e) {
        HloError *w = tf_node_error(n, "%s", hlo_error_message(e));
        hlo_error_free(e);
        return w;
      }
    }
  }
  return NULL;
}

/* "[2,?,3]" for messages. */
static void print_dims(HloStr *s, const Tensorflow__TensorShapeProto *p) {
  hlo_str_append(s, "[", 1);
  for (size_t i = 0; p && i < p->n_dim; i++) {
    if (i) hlo_str_append(s, ",", 1);
    if (p->dim[i]->size < 0)
      hlo_str_append(s, "?", 1);
    else
      hlo_str_printf(s, "%lld", (long long)p->dim[i]->size);
  }
  hlo_str_append(s, "]", 1);
}

/* The feed's shape (the config gave `given`) must agree with the node's
 * "shape" attr, where it has one. */
static HloError *check_shape_attr(const TfNode *n, const TfFeed *f,
                                  const Tensorflow__TensorShapeProto *given) {
  const Tensorflow__AttrValue *s = tf_attr_find(n, "shape");
  if (!s || s->value_case != TENSORFLOW__ATTR_VALUE__VALUE_SHAPE ||
      s->shape->unknown_rank)
    return NULL;
  const Tensorflow__TensorShapeProto *ps = s->shape;
  bool ok = (int)ps->n_dim == f->shape.rank;
  for (int i = 0; ok && i < f->shape.rank; i++)
    ok = ps->dim[i]->size < 0 || ps->dim[i]->size == f->shape.dims[i];
  if (ok) return NULL;
  HloStr a = {0}, b = {0};
  print_dims(&a, given);
  print_dims(&b, ps);
  HloError *e = hlo_error("shape %s does not match the %s's shape %s", a.buf,
                          n->op, b.buf);
  free(a.buf);
  free(b.buf);
  return e;
}

/* A feed of a Placeholder must agree with the Placeholder's attrs. */
static HloError *check_placeholder(const TfNode *n, const TfFeed *f,
                                   const Tensorflow__Tf2xla__Feed *cf) {
  const Tensorflow__AttrValue *t = tf_attr_find(n, "dtype");
  if (cf->type && t && t->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE &&
      t->type != cf->type)
    return hlo_error("type %s differs from the %s's dtype %s",
                     tf_type_name(cf->type), n->op, tf_type_name(t->type));
  return check_shape_attr(n, f, cf->shape);
}

/* The feed's type when the config gives none: the node's dtype (or T). */
static HloError *feed_dtype(const TfNode *n, Tensorflow__DataType *out) {
  static const char *const attrs[] = {"dtype", "T"};
  for (int i = 0; i < 2; i++) {
    const Tensorflow__AttrValue *v = tf_attr_find(n, attrs[i]);
    if (v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE) {
      *out = v->type;
      return NULL;
    }
  }
  return hlo_error("the config gives no type and node '%s' (%s) has no dtype "
                   "attr: set the feed's type", n->name, n->op);
}

/* "node" or "node:K", for messages. */
static const char *tensor_id(TfGraph *g, const char *node, int64_t index) {
  if (!index) return node;
  HloStr s = {0};
  hlo_str_printf(&s, "%s:%lld", node, (long long)index);
  const char *r = hlo_arena_strdup(g->arena, s.buf);
  free(s.buf);
  return r;
}

/* Finds the node and checks the output index of a config tensor id. */
static HloError *config_tensor(TfGraph *g, const char *kind, int i,
                               const Tensorflow__Tf2xla__TensorId *id,
                               TfNode **node, const char **idstr) {
  const char *name = id ? id->node_name : "";
  int64_t index = id ? id->output_index : 0;
  if (!*name) return hlo_error("%s #%d has no id.node_name", kind, i);
  *idstr = tensor_id(g, name, index);
  *node = tf_graph_node(g, name);
  if (!*node)
    return hlo_error("%s '%s': no node '%s' in the graph", kind, *idstr, name);
  int nout = (*node)->noutputs;
  if (index < 0 || index > INT32_MAX)
    return hlo_error("%s '%s': output index %lld is out of range", kind,
                     *idstr, (long long)index);
  if (nout >= 0 && index >= nout)
    return hlo_error("%s '%s': node '%s' (%s) has %d output%s", kind, *idstr,
                     name, (*node)->op, nout, nout == 1 ? "" : "s");
  return NULL;
}

/* A name the config gives to two feeds (or two fetches) is an error, as in
 * tfcompile: the names name the compiled function's arguments (results),
 * and renaming one would hide the mistake.  `first` is the earlier
 * entry's tensor, `id` the later one's. */
static HloError *name_given_twice(TfGraph *g, const char *kind, const char *name,
                                  const Tensorflow__Tf2xla__TensorId *first, const char *id) {
  return hlo_error("%s name '%s' is given twice (%s '%s' and '%s')", kind, name,
                   !strcmp(kind, "feed") ? "feeds" : "fetches",
                   tensor_id(g, first->node_name, first->output_index), id);
}

/* A config variable: a feed of its variable node's output (a VarHandleOp's
 * handle, or a VariableV2's reference) whose value is the variable's, typed
 * and shaped as the config says and the node agrees. */
static HloError *add_variable(TfGraph *g, int i, const Tensorflow__Tf2xla__Variable *cv) {
  if (!*cv->node_name) return hlo_error("config variable #%d has no node_name", i);
  const char *name = cv->node_name;
  TfNode *n = tf_graph_node(g, name);
  if (!n) return hlo_error("config variable '%s': no node '%s' in the graph", name, name);
  if (!tf_is_variable_op(n->op))
    return hlo_error("config variable '%s': node '%s' is a %s, not a variable (VarHandleOp "
                     "or VariableV2)", name, name, n->op);
  if (feed_of(g, n, 0) >= 0) return hlo_error("config variable '%s' is given twice", name);
  TfFeed *f = &g->feeds[g->nfeeds];
  *f = (TfFeed){.name = *cv->name ? cv->name : n->name, .node = n, .dtype = cv->type,
                .variable = true, .readonly = cv->readonly};
  HloError *e = NULL;
  const Tensorflow__AttrValue *dt = tf_attr_find(n, "dtype");
  Tensorflow__DataType node_type =
      dt && dt->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE ? dt->type : 0;
  if (!f->dtype) f->dtype = node_type;
  if (!f->dtype)
    e = hlo_error("the config gives no type and the node has no dtype attr");
  else if (node_type && node_type != f->dtype)
    e = hlo_error("type %s differs from the %s's dtype %s", tf_type_name(f->dtype), n->op,
                  tf_type_name(node_type));
  HloType t;
  if (!e) e = tf_type_to_hlo(f->dtype, &t);
  if (!e) {
    e = tf_shape_to_hlo(cv->shape, t, &f->shape);
    if (e) e = hlo_error_wrap(e, "variables need static shapes");
  }
  if (!e) e = check_shape_attr(n, f, cv->shape);
  if (e) return hlo_error_wrap(e, "config variable '%s'", name);
  f->has_shape = true;
  g->priv->fed[n->id] = true;
  g->priv->nvariables++;
  g->nfeeds++;
  return NULL;
}

/* Step 3 for a main graph: the config's feeds, variables and fetches. */
static HloError *add_config(TfGraph *g, const Tensorflow__Tf2xla__Config *cfg) {
  if (!cfg->n_fetch) return hlo_error("the config has no fetch");
  g->feeds =
      hlo_arena_alloc(g->arena, sizeof(TfFeed) * (cfg->n_feed + cfg->n_variable + 1));
  for (size_t i = 0; i < cfg->n_feed; i++) {
    const Tensorflow__Tf2xla__Feed *cf = cfg->feed[i];
    TfNode *n;
    const char *id;
    HloError *e = config_tensor(g, "feed", (int)i, cf->id, &n, &id);
    if (e) return e;
    TfFeed *f = &g->feeds[g->nfeeds];
    f->node = n;
    f->index = (int)cf->id->output_index;
    if (feed_of(g, n, f->index) >= 0)
      return hlo_error("feed '%s' is given twice", id);
    for (size_t k = 0; k < i && *cf->name; k++)
      if (!strcmp(cfg->feed[k]->name, cf->name))
        return name_given_twice(g, "feed", cf->name, cfg->feed[k]->id, id);
    f->name = *cf->name ? cf->name : n->name;
    f->dtype = cf->type;
    if (!f->dtype) e = feed_dtype(n, &f->dtype);
    HloType t;
    if (!e) e = tf_type_to_hlo(f->dtype, &t);
    if (!e) {
      e = tf_shape_to_hlo(cf->shape, t, &f->shape);
      if (e) e = hlo_error_wrap(e, "feeds need static shapes");
    }
    if (!e && (!strcmp(n->op, "Placeholder") ||
               !strcmp(n->op, "PlaceholderWithDefault")))
      e = check_placeholder(n, f, cf);
    if (e) return hlo_error_wrap(e, "feed '%s'", id);
    f->has_shape = true;
    g->priv->fed[n->id] = true;
    g->nfeeds++;
  }
  for (size_t i = 0; i < cfg->n_variable; i++) {
    HloError *e = add_variable(g, (int)i, cfg->variable[i]);
    if (e) return e;
  }
  g->fetches = hlo_arena_alloc(g->arena, sizeof(TfFetch) * cfg->n_fetch);
  for (size_t i = 0; i < cfg->n_fetch; i++) {
    const Tensorflow__Tf2xla__Fetch *cf = cfg->fetch[i];
    TfNode *n;
    const char *id;
    HloError *e = config_tensor(g, "fetch", (int)i, cf->id, &n, &id);
    if (e) return e;
    for (size_t k = 0; k < i && *cf->name; k++)
      if (!strcmp(cfg->fetch[k]->name, cf->name))
        return name_given_twice(g, "fetch", cf->name, cfg->fetch[k]->id, id);
    TfFetch *f = &g->fetches[g->nfetches++];
    f->name = *cf->name ? cf->name : n->name;
    int k = (int)cf->id->output_index;
    f->value = (TfInput){n, k, feed_of(g, n, k)};
  }
  return NULL;
}

/* The static shape of function argument k from its "_output_shapes" arg
 * attribute, when there is one. */
static void arg_shape(const Tensorflow__FunctionDef *fd, size_t k,
                      TfFeed *f) {
  HloType t;
  HloError *e = tf_type_to_hlo(f->dtype, &t);
  if (e) {
    hlo_error_free(e);
    return;
  }
  for (size_t i = 0; i < fd->n_arg_attr; i++) {
    const Tensorflow__FunctionDef__ArgAttrEntry *a = fd->arg_attr[i];
    if (a->key != k || !a->value) continue;
    for (size_t j = 0; j < a->value->n_attr; j++) {
      const Tensorflow__FunctionDef__ArgAttrs__AttrEntry *x =
          a->value->attr[j];
      if (strcmp(x->key, "_output_shapes") || !x->value ||
          x->value->value_case != TENSORFLOW__ATTR_VALUE__VALUE_LIST ||
          x->value->list->n_shape != 1)
        continue;
      e = tf_shape_to_hlo(x->value->list->shape[0], t, &f->shape);
      f->has_shape = !e;
      hlo_error_free(e);
    }
  }
}

/* Step 3 for a function body: arguments and results. */
static HloError *add_signature(TfGraph *g) {
  const Tensorflow__FunctionDef *fd = g->function;
  const Tensorflow__OpDef *sig = fd->signature;
  g->feeds = hlo_arena_alloc(g->arena, sizeof(TfFeed) * (sig->n_input_arg + 1));
  for (size_t i = 0; i < sig->n_input_arg; i++) {
    const Tensorflow__OpDef__ArgDef *a = sig->input_arg[i];
    if (*a->number_attr || *a->type_list_attr)
      return hlo_error("argument '%s' is a list of tensors, which is not "
                       "supported", a->name);
    TfFeed *f = &g->feeds[g->nfeeds++];
    f->name = a->name;
    f->index = (int)i;
    f->dtype = a->type;
    if (a->type == TENSORFLOW__DATA_TYPE__DT_RESOURCE) g->priv->nvariables++;
    arg_shape(fd, i, f);
  }
  g->fetches =
      hlo_arena_alloc(g->arena, sizeof(TfFetch) * (sig->n_output_arg + 1));
  for (size_t i = 0; i < sig->n_output_arg; i++) {
    const char *name = sig->output_arg[i]->name;
    const char *value = NULL;
    for (size_t j = 0; j < fd->n_ret; j++)
      if (!strcmp(fd->ret[j]->key, name)) value = fd->ret[j]->value;
    if (!value) return hlo_error("result '%s' has no entry in ret", name);
    TfFetch *f = &g->fetches[g->nfetches++];
    f->name = name;
    char what[160];
    snprintf(what, sizeof what, "result '%s' from", name);
    HloError *e = resolve_input(g, value, &f->value, what);
    if (e) return e;
  }
  return NULL;
}

/* Applies the feeds to every edge. */
static void cut_fed_edges(TfGraph *g) {
  for (int i = 0; i < g->nnodes; i++) {
    TfNode *n = &g->nodes[i];
    for (int j = 0; j < n->ninputs; j++) {
      TfInput *in = &n->inputs[j];
      if (in->node) in->feed = feed_of(g, in->node, in->index);
    }
  }
}

/* The error for a cycle: stack[from..top] are the nodes on it, each an
 * input of the one before; data flows from stack[from] to stack[top] and
 * down the stack back to stack[from]. */
static HloError *cycle_error(TfNode **stack, int from, int top) {
  HloStr s = {0};
  bool v1 = false;
  hlo_str_printf(&s, "'%s'", stack[from]->name);
  for (int i = top; i >= from; i--) {
    if (i == from || top - i < 10)
      hlo_str_printf(&s, " -> '%s'", stack[i]->name);
    else if (top - i == 10)
      hlo_str_printf(&s, " -> …");
    v1 |= !strcmp(stack[i]->op, "NextIteration") ||
          !strcmp(stack[i]->op, "Merge") || !strcmp(stack[i]->op, "Enter");
  }
  HloError *e = hlo_error("the graph has a cycle: %s%s", s.buf,
                          v1 ? " (TensorFlow 1 control flow is not supported:"
                               " export with functional While/If)"
                             : "");
  free(s.buf);
  return e;
}

/* Whether the walk follows control edge `to`: in a graph with config
 * variables (or a function body taking resources, which a call may pass
 * config variables), the reads and assigns of variables and the NoOps
 * grouping them are side effects a fetch may depend on through control
 * edges alone (a read ordered after an assign), so they must run, in that
 * order.  A read is a ReadVariableOp, or any node reading a config
 * variable's reference (a VariableV2's "read" Identity) or handle (a call
 * that assigns it). */
static bool follows_control(const TfGraph *g, const TfNode *to) {
  static const char *const ops[] = {"AssignVariableOp", "AssignAddVariableOp",
                                    "AssignSubVariableOp", "ReadVariableOp", "Assign",
                                    "AssignAdd", "AssignSub", "NoOp"};
  if (!g->priv->nvariables) return false;
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    if (!strcmp(to->op, ops[i])) return true;
  for (int i = 0; i < to->ninputs; i++)
    if (to->inputs[i].feed >= 0 && g->feeds[to->inputs[i].feed].variable) return true;
  return false;
}

/* Step 4: marks the live nodes and lists them producers first; used[i] is
 * set for each feed that is read. */
static HloError *prune_and_order(TfGraph *g, bool *used) {
  int n = g->nnodes;
  g->order = hlo_arena_alloc(g->arena, sizeof(TfNode *) * (size_t)(n + 1));
  uint8_t *state = hlo_xcalloc((size_t)n + 1, 1); /* 0 new, 1 on stack, 2 done */
  TfNode **stack = hlo_xmalloc(sizeof(TfNode *) * ((size_t)n + 1));
  int *next = hlo_xmalloc(sizeof(int) * ((size_t)n + 1));
  HloError *e = NULL;
  for (int f = 0; f < g->nfetches && !e; f++) {
    const TfInput *root = &g->fetches[f].value;
    if (root->feed >= 0) used[root->feed] = true;
    if (root->feed >= 0 || !root->node || state[root->node->id]) continue;
    int top = 0;
    stack[0] = root->node;
    next[0] = 0;
    state[root->node->id] = 1;
    while (top >= 0 && !e) {
      TfNode *cur = stack[top];
      if (next[top] == cur->ninputs + cur->ncontrol) {
        state[cur->id] = 2;
        cur->live = true;
        g->order[g->norder++] = cur;
        top--;
        continue;
      }
      /* Data inputs, then the control inputs the walk follows. */
      int k = next[top]++;
      TfNode *p;
      if (k < cur->ninputs) {
        const TfInput *in = &cur->inputs[k];
        if (in->feed >= 0) used[in->feed] = true;
        if (in->feed >= 0) continue;
        p = in->node;
      } else {
        p = cur->control[k - cur->ninputs];
        if (!follows_control(g, p)) continue;
      }
      if (!p || state[p->id] == 2) continue;
      if (state[p->id] == 1) {
        int from = top;
        while (stack[from] != p) from--;
        e = cycle_error(stack, from, top);
        break;
      }
      state[p->id] = 1;
      stack[++top] = p;
      next[top] = 0;
    }
  }
  free(state);
  free(stack);
  free(next);
  return e;
}

/* Steps 4 and 5, shared by graphs and function bodies. */
static HloError *finish(TfGraph *g) {
  cut_fed_edges(g);
  bool *used = hlo_xcalloc((size_t)g->nfeeds + 1, sizeof *used);
  HloError *e = prune_and_order(g, used);
  for (int i = 0; !e && !g->function && i < g->nfeeds; i++)
    if (!used[i] && !g->feeds[i].variable)
      e = hlo_error("feed '%s' is not used by any fetch",
                    tensor_id(g, g->feeds[i].node->name, g->feeds[i].index));
  free(used);
  for (int i = 0; !e && i < g->norder; i++)
    if (!strcmp(g->order[i]->op, "Placeholder"))
      e = tf_node_error(g->order[i], "the fetches need this Placeholder, but "
                        "no feed gives it");
  return e;
}

/* Every function of the library is named by its signature (an OpDef);
 * one without a signature cannot be called and is a malformed graph. */
static HloError *check_library(const Tensorflow__GraphDef *gd) {
  const Tensorflow__FunctionDefLibrary *lib = gd->library;
  for (size_t i = 0; lib && i < lib->n_function; i++)
    if (!lib->function[i]->signature)
      return hlo_error("function library: function %zu of %zu has no signature (OpDef)",
                       i + 1, lib->n_function);
  return NULL;
}

HloError *tf_graph_new(Tensorflow__GraphDef *gd,
                       Tensorflow__Tf2xla__Config *cfg, TfGraph **out) {
  TfGraph *g = graph_alloc(gd);
  g->priv->gd = gd;
  g->priv->cfg = cfg;
  HloError *e = check_library(gd);
  if (!e && tf_has_v1_control_flow(gd)) e = tf_functionalize(gd);
  if (!e) e = add_nodes(g, gd->node, gd->n_node, NULL);
  if (!e) e = add_edges(g);
  if (!e && cfg) e = add_config(g, cfg);
  if (!e) e = finish(g);
  if (e) {
    tf_graph_free(g);
    g = NULL;
  }
  *out = g;
  return e;
}

HloError *tf_graph_load(const char *graph_path, const char *config_path,
                        TfGraph **out) {
  *out = NULL;
  Tensorflow__GraphDef *gd;
  Tensorflow__Tf2xla__Config *cfg = NULL;
  HloError *e = tf_graphdef_read(graph_path, &gd);
  if (e) return e;
  if (config_path && (e = tf_config_read(config_path, &cfg))) {
    tensorflow__graph_def__free_unpacked(gd, NULL);
    return e;
  }
  return tf_graph_new(gd, cfg, out);
}

HloError *tf_graph_function(const TfGraph *parent, const char *name,
                            TfGraph **out) {
  *out = NULL;
  const Tensorflow__FunctionDef *fd = tf_graph_find_function(parent, name);
  if (!fd) return hlo_error("no function '%s' in the graph's library", name);
  TfGraph *g = graph_alloc(parent->def);
  g->function = fd;
  HloError *e = add_nodes(g, fd->node_def, fd->n_node_def, fd->signature);
  if (!e) e = add_signature(g);
  if (!e) e = add_edges(g);
  if (!e) e = finish(g);
  if (e) {
    /* Errors from tf_node_error already name the function. */
    HloStr prefix = {0};
    hlo_str_printf(&prefix, "function '%s': ", name);
    if (strncmp(hlo_error_message(e), prefix.buf, prefix.len))
      e = hlo_error_wrap(e, "function '%s'", name);
    free(prefix.buf);
    tf_graph_free(g);
    return e;
  }
  *out = g;
  return NULL;
}
