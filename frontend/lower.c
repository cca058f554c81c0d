/*
 * lower.c — TensorFlow graph to HLO: the driver of the lowering, the
 * helpers every op lowering uses (lower.h), and the core ops (Const,
 * Placeholder, Identity and its kin).
 *
 * The walk: the graph view (graph.c) already pruned the GraphDef to what
 * the fetches need and ordered it producers-first, so lowering is one loop
 * over g->order.  Each node's outputs are HLO values kept per node id.
 * Before the loop, every op that has no lowering is collected and reported
 * in one error, so a user sees the whole list at once.  After each node,
 * the instructions it created receive its name and op as metadata.
 *
 * Inputs that steer shapes (Reshape's shape, reduction axes, …) must be
 * known at import time.  tf_input_literal folds them: a constant is read
 * directly; any other value whose HLO cone reaches no parameter is copied
 * into a scratch module and evaluated with the reference evaluator.
 */
#include "lower.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Op tables                                                                */
/* ------------------------------------------------------------------------ */

static const TfOpLowering *const tables[] = {tf_lower_core, tf_lower_math, tf_lower_array,
                                             tf_lower_nn, tf_lower_scatter, tf_lower_random,
                                             tf_lower_quant, tf_lower_control};

const TfOpLowering *tf_find_lowering(const char *op) {
  for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
    for (const TfOpLowering *l = tables[t]; l->op; l++)
      if (!strcmp(l->op, op)) return l;
  return NULL;
}

static int compare_info(const void *a, const void *b) {
  return strcmp(((const TfOpInfo *)a)->op, ((const TfOpInfo *)b)->op);
}

const TfOpInfo *tf_supported_ops(int *n) {
  static TfOpInfo *info;
  static int count;
  if (!info) {
    int total = 0;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
      for (const TfOpLowering *l = tables[t]; l->op; l++) total++;
    TfOpInfo *v = hlo_xcalloc((size_t)total, sizeof *v);
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
      for (const TfOpLowering *l = tables[t]; l->op; l++)
        v[count++] = (TfOpInfo){l->op, l->attrs ? l->attrs : "", l->notes ? l->notes : ""};
    qsort(v, (size_t)count, sizeof *v, compare_info);
    info = v;
  }
  *n = count;
  return info;
}

/* ------------------------------------------------------------------------ */
/* Inputs and outputs                                                       */
/* ------------------------------------------------------------------------ */

HloError *tf_expect_inputs(const TfNode *n, int min, int max) {
  if (n->ninputs < min || (max >= 0 && n->ninputs > max)) {
    if (min == max) return hlo_error("expects %d input(s), has %d", min, n->ninputs);
    if (max < 0) return hlo_error("expects at least %d input(s), has %d", min, n->ninputs);
    return hlo_error("expects %d to %d inputs, has %d", min, max, n->ninputs);
  }
  return NULL;
}

HloError *tf_expect_n(const TfNode *n, int count) {
  if (!tf_attr_find(n, "N")) return NULL;
  int64_t v;
  HloError *e = tf_attr_int(n, "N", &v);
  if (!e && v != count)
    e = hlo_error("attribute N is %lld, but the node has %d such input(s)", (long long)v, count);
  return e;
}

HloError *tf_input(TfLower *L, const TfNode *n, int i, HloInstr **out) {
  if (i >= n->ninputs) return hlo_error("expects at least %d input(s), has %d", i + 1, n->ninputs);
  const TfInput *in = &n->inputs[i];
  if (in->feed >= 0) {
    *out = L->feeds[in->feed];
    return NULL;
  }
  HLO_CHECK(in->node != NULL);
  int id = in->node->id;
  if (in->index >= L->nvalues[id] || !L->values[id][in->index])
    return hlo_error("input %d reads output %d of node '%s' (%s), which it does not produce", i,
                     in->index, in->node->name, in->node->op);
  *out = L->values[id][in->index];
  return NULL;
}

HloError *tf_inputs(TfLower *L, const TfNode *n, int count, HloInstr **out) {
  HloError *e = tf_expect_inputs(n, count, count);
  for (int i = 0; i < count && !e; i++) e = tf_input(L, n, i, &out[i]);
  return e;
}

void tf_set_output(TfLower *L, const TfNode *n, int k, HloInstr *v) {
  int id = n->id;
  if (k >= L->cap[id]) {
    int cap = L->cap[id] ? L->cap[id] : 4;
    while (cap <= k) cap *= 2;
    HloInstr **vals = hlo_xcalloc((size_t)cap, sizeof *vals);
    if (L->nvalues[id]) memcpy(vals, L->values[id], sizeof *vals * (size_t)L->nvalues[id]);
    free(L->values[id]);
    L->values[id] = vals;
    L->cap[id] = cap;
  }
  L->values[id][k] = v;
  if (k >= L->nvalues[id]) L->nvalues[id] = k + 1;
}

/* Copies the parameter-free cone of v into a scratch module and evaluates
 * it there. */
static HloError *fold(TfLower *L, HloInstr *v, HloLiteral **out) {
  int n;
  HloComputation *c = v->parent;
  HloInstr *saved_root = c->root;
  c->root = v; /* post order of v's cone */
  HloInstr **order = hlo_post_order(c, &n);
  c->root = saved_root;
  /* post order lists unreachable instructions first; keep v's cone only */
  int start = n;
  {
    /* mark the cone */
    int64_t max_id = 0;
    for (int i = 0; i < n; i++)
      if (order[i]->id > max_id) max_id = order[i]->id;
    char *in_cone = hlo_xcalloc((size_t)max_id + 1, 1);
    in_cone[v->id] = 1;
    for (int i = n - 1; i >= 0; i--) {
      if (!in_cone[order[i]->id]) continue;
      start = i;
      for (int k = 0; k < order[i]->noperands; k++) in_cone[order[i]->operands[k]->id] = 1;
      if (order[i]->op == HLO_OP_PARAMETER) {
        HloError *e = hlo_error("it depends on parameter '%s'", order[i]->name);
        free(in_cone);
        free(order);
        return e;
      }
    }
    int w = 0;
    for (int i = start; i < n; i++)
      if (in_cone[order[i]->id]) order[w++] = order[i];
    n = w;
    free(in_cone);
  }
  HloModule *t = hlo_module_new("fold");
  HloComputation *tc = hlo_computation_new(t, "fold");
  hlo_module_set_entry(t, tc);
  /* map original -> copy by position in `order` */
  HloInstr **copy = hlo_xcalloc((size_t)n + 1, sizeof *copy);
  for (int i = 0; i < n; i++) {
    HloInstr *in = order[i];
    HloInstr *ops[64];
    HloInstr **opv = in->noperands <= 64 ? ops : calloc((size_t)in->noperands, sizeof *opv);
    for (int k = 0; k < in->noperands; k++)
      for (int j = 0; j < i; j++)
        if (order[j] == in->operands[k]) opv[k] = copy[j];
    copy[i] = hlo_instr_clone(tc, in, opv, in->noperands);
    if (opv != ops) free(opv);
  }
  hlo_set_root(tc, copy[n - 1]);
  HloLiteral *lit = NULL;
  HloError *e = hlo_evaluate_computation(tc, NULL, 0, &lit);
  free(copy);
  free(order);
  hlo_module_free(t);
  if (e) return e;
  *out = hlo_literal_clone_in(L->m->arena, lit);
  hlo_literal_free(lit);
  return NULL;
}

HloError *tf_input_literal(TfLower *L, const TfNode *n, int i, HloLiteral **out) {
  HloInstr *v;
  HloError *e = tf_input(L, n, i, &v);
  if (e) return e;
  if (v->op == HLO_OP_CONSTANT) {
    *out = v->literal;
    return NULL;
  }
  if ((e = fold(L, v, out)))
    return hlo_error_wrap(e, "input %d must be a constant known at compile time (it determines "
                          "a shape or an attribute), but it cannot be folded",
                          i);
  return NULL;
}

HloError *tf_input_ints(TfLower *L, const TfNode *n, int i, int64_t **v, int *count) {
  HloLiteral *lit;
  HloError *e = tf_input_literal(L, n, i, &lit);
  if (e) return e;
  if (!hlo_type_is_integer(lit->shape.type) || lit->shape.rank > 1)
    return hlo_error("input %d must be an integer scalar or vector, is %s%s", i,
                     hlo_type_name(lit->shape.type), lit->shape.rank > 1 ? " of rank > 1" : "");
  int64_t k = hlo_shape_elements(&lit->shape);
  *v = hlo_arena_alloc(L->m->arena, sizeof(int64_t) * (size_t)(k ? k : 1));
  for (int64_t j = 0; j < k; j++) (*v)[j] = hlo_literal_get_s64(lit, j);
  *count = (int)k;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Building helpers                                                         */
/* ------------------------------------------------------------------------ */

/* HLO names allow letters, digits, '_', '.', '-'; TF names also use '/'
 * and ':'. */
static char *hlo_name(HloArena *a, const char *s) {
  char *r = hlo_arena_strdup(a, s);
  for (char *p = r; *p; p++)
    if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
          *p == '_' || *p == '.' || *p == '-'))
      *p = '_';
  return r;
}

HloInstr *tf_scalar(TfLower *L, HloType t, double v) {
  return hlo_build_constant_scalar(L->c, t, v);
}

HloInstr *tf_unary(TfLower *L, HloOpcode op, HloInstr *x, HloError **e) {
  return *e ? NULL : hlo_build_unary(L->c, op, x, e);
}

HloInstr *tf_binary(TfLower *L, HloOpcode op, HloInstr *a, HloInstr *b, HloError **e) {
  return *e ? NULL : hlo_build_binary(L->c, op, a, b, e);
}

HloInstr *tf_compare(TfLower *L, HloCompareDir dir, HloInstr *a, HloInstr *b, HloError **e) {
  return *e ? NULL : hlo_build_compare(L->c, dir, a, b, e);
}

HloInstr *tf_select(TfLower *L, HloInstr *p, HloInstr *a, HloInstr *b, HloError **e) {
  return *e ? NULL : hlo_build_ternary(L->c, HLO_OP_SELECT, p, a, b, e);
}

HloInstr *tf_converted(TfLower *L, HloInstr *x, HloType t, HloError **e) {
  if (!*e) *e = tf_convert(L, x, t, &x);
  return *e ? NULL : x;
}

HloInstr *tf_full(TfLower *L, HloInstr *like, double v, HloError **e) {
  if (*e) return NULL;
  HloInstr *s = tf_scalar(L, like->shape.type, v);
  if (like->shape.rank == 0) return s;
  return hlo_build_broadcast(L->c, s, &like->shape, NULL, 0, e);
}

HloError *tf_finish(TfLower *L, const TfNode *n, HloInstr *y, HloError **e) {
  if (!*e) tf_set_output(L, n, 0, y);
  return *e;
}

HloError *tf_broadcast_to(TfLower *L, HloInstr *x, int rank, const int64_t *dims,
                          HloInstr **out) {
  const HloShape *s = &x->shape;
  if (s->rank > rank)
    return hlo_error("cannot broadcast a rank-%d value to rank %d", s->rank, rank);
  bool same = s->rank == rank;
  for (int i = 0; same && i < rank; i++) same = s->dims[i] == dims[i];
  if (same) {
    *out = x;
    return NULL;
  }
  /* Drop the operand's size-1 dims that expand, then broadcast the rest
   * into the trailing positions (numpy aligns shapes at the right). */
  int off = rank - s->rank;
  int64_t keep_dims[HLO_MAX_RANK], map[HLO_MAX_RANK];
  int nkeep = 0;
  for (int i = 0; i < s->rank; i++) {
    int64_t want = dims[off + i];
    if (s->dims[i] == want) {
      keep_dims[nkeep] = want;
      map[nkeep++] = off + i;
    } else if (s->dims[i] != 1) {
      char *xs = hlo_shape_to_string(s);
      HloError *e = hlo_error("cannot broadcast %s: dimension %d has size %lld, target %lld", xs,
                              i, (long long)s->dims[i], (long long)want);
      free(xs);
      return e;
    }
  }
  HloError *e = NULL;
  if (nkeep != s->rank) {
    x = hlo_build_reshape(L->c, x, nkeep, keep_dims, &e);
    if (!x) return e;
  }
  HloShape target = hlo_shape_array(s->type, rank, dims);
  *out = hlo_build_broadcast(L->c, x, &target, map, nkeep, &e);
  return *out ? NULL : e;
}

HloError *tf_broadcast_pair(TfLower *L, HloInstr **a, HloInstr **b) {
  const HloShape *sa = &(*a)->shape, *sb = &(*b)->shape;
  int rank = sa->rank > sb->rank ? sa->rank : sb->rank;
  int64_t dims[HLO_MAX_RANK];
  for (int i = 0; i < rank; i++) {
    int ia = i - (rank - sa->rank), ib = i - (rank - sb->rank);
    int64_t da = ia >= 0 ? sa->dims[ia] : 1, db = ib >= 0 ? sb->dims[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      char *x = hlo_shape_to_string(sa), *y = hlo_shape_to_string(sb);
      HloError *e = hlo_error("operands %s and %s are not broadcast-compatible", x, y);
      free(x);
      free(y);
      return e;
    }
    dims[i] = da == 1 ? db : da;
  }
  HloError *e = tf_broadcast_to(L, *a, rank, dims, a);
  if (!e) e = tf_broadcast_to(L, *b, rank, dims, b);
  return e;
}

HloError *tf_convert(TfLower *L, HloInstr *x, HloType t, HloInstr **out) {
  if (x->shape.type == t) {
    *out = x;
    return NULL;
  }
  HloError *e = NULL;
  *out = hlo_build_convert(L->c, x, t, &e);
  return *out ? NULL : e;
}

HloError *tf_axis(int64_t axis, int rank, const char *what, int64_t *out) {
  if (axis < -rank || axis >= rank)
    return hlo_error("%s %lld is out of range for rank %d", what, (long long)axis, rank);
  *out = axis < 0 ? axis + rank : axis;
  return NULL;
}

HloError *tf_attr_hlo_type(const TfNode *n, const char *name, HloType *out) {
  Tensorflow__DataType dt;
  HloError *e = tf_attr_type(n, name, &dt);
  if (!e) e = tf_type_to_hlo(dt, out);
  return e;
}

HloError *tf_attr_int_or(const TfNode *n, const char *name, int64_t def, int64_t *out) {
  *out = def;
  return tf_attr_find(n, name) ? tf_attr_int(n, name, out) : NULL;
}

HloError *tf_attr_bool_or(const TfNode *n, const char *name, bool def, bool *out) {
  *out = def;
  return tf_attr_find(n, name) ? tf_attr_bool(n, name, out) : NULL;
}

HloError *tf_attr_hlo_type_or(const TfNode *n, const char *name, HloType def, HloType *out) {
  *out = def;
  return tf_attr_find(n, name) ? tf_attr_hlo_type(n, name, out) : NULL;
}

HloComputation *tf_computation_new(TfLower *L, const char *name) {
  HloModule *m = L->m;
  HloComputation *c = hlo_computation_new(m, hlo_name(m->arena, name)), *before = L->c;
  /* hlo_computation_new appended c (after L->c): unlink it from the end */
  m->last = c->prev;
  m->last->next = NULL;
  c->prev = before->prev;
  c->next = before;
  if (before->prev) before->prev->next = c;
  else m->first = c;
  before->prev = c;
  return c;
}

/* ------------------------------------------------------------------------ */
/* Core ops                                                                 */
/* ------------------------------------------------------------------------ */

/* A Const of at least this many elements that its TensorProto gives by
 * TensorFlow's repeat-the-last-value rule is built from the values given
 * rather than decoded: a few bytes of GraphDef must not become gigabytes
 * of constant data (for the compiler or in the object). */
#define REPEATED_CONST_MIN_ELEMENTS 4096

/* The given values, then the last one broadcast over the remaining
 * elements, reshaped to `shape`. */
static HloInstr *repeated_const(TfLower *L, HloLiteral *values, const HloShape *shape,
                                HloError **e) {
  int64_t nv = values->shape.dims[0], total = hlo_shape_elements(shape);
  HloInstr *given = hlo_constant_new(L->c, values, NULL);
  HloSliceDim head = {0, nv - 1, 1}, last = {nv - 1, nv, 1};
  HloInstr *tail = hlo_build_slice(L->c, given, &last, e);
  if (tail) tail = hlo_build_reshape(L->c, tail, 0, NULL, e);
  int64_t rest = total - nv + 1;
  HloShape rest_shape = hlo_shape_array(shape->type, 1, &rest);
  if (tail) tail = hlo_build_broadcast(L->c, tail, &rest_shape, NULL, 0, e);
  HloInstr *flat = tail;
  if (tail && nv > 1) {
    HloInstr *parts[2] = {hlo_build_slice(L->c, given, &head, e), tail};
    flat = parts[0] ? hlo_build_concatenate(L->c, parts, 2, 0, e) : NULL;
  }
  return flat ? hlo_build_reshape(L->c, flat, shape->rank, shape->dims, e) : NULL;
}

static HloError *lower_const(TfLower *L, const TfNode *n) {
  const Tensorflow__TensorProto *t;
  HloShape shape;
  HloLiteral *values = NULL;
  HloError *e = tf_node_tensor(n, &t);
  /* A bad value is reported by tf_node_const below, naming the attr. */
  HloError *bad = e ? NULL : tf_tensor_shape(t, &shape);
  if (!e && !bad && hlo_shape_elements(&shape) >= REPEATED_CONST_MIN_ELEMENTS)
    bad = tf_tensor_repeated(t, L->m->arena, &values);
  hlo_error_free(bad);
  if (!e && values) {
    HloInstr *r = repeated_const(L, values, &shape, &e);
    if (r) tf_set_output(L, n, 0, r);
    return e;
  }
  HloLiteral *lit;
  if (!e) e = tf_node_const(n, L->m->arena, &lit);
  if (e) return e;
  tf_set_output(L, n, 0, hlo_constant_new(L->c, lit, NULL));
  if (L->free_consts && t->tensor_content.len) {
    /* The graph is its caller's to consume (tf_import_consuming) and this
     * node is lowered once: its bytes need not be held beside the
     * literal's until the whole graph is. */
    Tensorflow__TensorProto *owned = (Tensorflow__TensorProto *)t;
    free(owned->tensor_content.data);
    owned->tensor_content = (ProtobufCBinaryData){0};
  }
  return NULL;
}

static HloError *lower_placeholder(TfLower *L, const TfNode *n) {
  return hlo_error("placeholder is needed by a fetch but not fed: add it to the config's feeds");
}

static HloError *lower_placeholder_with_default(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_input(L, n, 0, &x);
  if (!e) tf_set_output(L, n, 0, x);
  return e;
}

/* Identity and the ops that behave like it once the graph is frozen and
 * shapes are static: their checks (EnsureShape's shape, CheckNumerics'
 * finiteness) hold or fail at run time in TensorFlow; hloc passes values
 * through unchanged. */
static HloError *lower_identity(TfLower *L, const TfNode *n) {
  HloError *e = tf_expect_inputs(n, 1, 1);
  HloInstr *x;
  if (!e) e = tf_input(L, n, 0, &x);
  if (!e) tf_set_output(L, n, 0, x);
  return e;
}

static HloError *lower_identity_n(TfLower *L, const TfNode *n) {
  for (int i = 0; i < n->ninputs; i++) {
    HloInstr *x;
    HloError *e = tf_input(L, n, i, &x);
    if (e) return e;
    tf_set_output(L, n, i, x);
  }
  return NULL;
}

static HloError *lower_ensure_shape(TfLower *L, const TfNode *n) {
  HloInstr *x;
  HloError *e = tf_input(L, n, 0, &x);
  if (e) return e;
  /* Without the attribute there is nothing to check; one that is not a
   * shape is an error (it was dropped, and its message leaked). */
  const Tensorflow__TensorShapeProto *s = NULL;
  if (tf_attr_find(n, "shape") && (e = tf_attr_shape(n, "shape", &s))) return e;
  if (s && !s->unknown_rank) {
    bool ok = (int)s->n_dim == x->shape.rank;
    for (size_t i = 0; ok && i < s->n_dim; i++)
      ok = s->dim[i]->size < 0 || s->dim[i]->size == x->shape.dims[i];
    if (!ok) {
      char *xs = hlo_shape_to_string(&x->shape);
      e = hlo_error("input has shape %s, which the 'shape' attribute rules out", xs);
      free(xs);
      return e;
    }
  }
  tf_set_output(L, n, 0, x);
  return NULL;
}

static HloError *lower_noop(TfLower *L, const TfNode *n) { return NULL; }

const TfOpLowering tf_lower_core[] = {
    {"Const", lower_const, "value, dtype", "every TensorProto encoding"},
    {"Placeholder", lower_placeholder, "dtype, shape", "must be fed (config feed)"},
    {"PlaceholderWithDefault", lower_placeholder_with_default, "dtype, shape",
     "the default input when not fed"},
    {"Identity", lower_identity, "T", ""},
    {"IdentityN", lower_identity_n, "T", ""},
    {"StopGradient", lower_identity, "T", "identity at inference"},
    {"Snapshot", lower_identity, "T", ""},
    {"PreventGradient", lower_identity, "T", "identity at inference"},
    {"CheckNumerics", lower_identity, "T, message", "no run-time check"},
    {"EnsureShape", lower_ensure_shape, "shape", "checked at compile time"},
    {"NoOp", lower_noop, "", "control dependencies only"},
    {NULL, NULL, NULL, NULL},
};

/* ------------------------------------------------------------------------ */
/* The walk                                                                 */
/* ------------------------------------------------------------------------ */

/* The supported op nearest to op: one or two edits away, and no more than a
 * third of op's letters changed, so that short unrelated names ("Foo" and
 * "Pow") are not offered.  Ties go to the name of op's length (Relu7:
 * Relu6 rather than Relu), then to the first in sorted order. */
static const char *nearest_op(const char *op) {
  int n, best_d = 3;
  const TfOpInfo *ops = tf_supported_ops(&n);
  const char *best = NULL;
  size_t len = strlen(op);
  bool best_same_len = false;
  for (int i = 0; i < n; i++) {
    int d = hlo_edit_distance(op, len, ops[i].op, strlen(ops[i].op));
    if (d > 2 || d > best_d || 3 * (size_t)d > len) continue;
    bool same_len = strlen(ops[i].op) == len;
    if (d < best_d || (same_len && !best_same_len)) {
      best_d = d, best = ops[i].op, best_same_len = same_len;
    }
  }
  return best;
}

/* One error listing every unsupported op of g's live nodes, each with the
 * nearest supported name when one is close (a misspelt op in a hand-made
 * graph). */
static HloError *check_supported(const TfGraph *g) {
  HloStr s = {0};
  int nbad = 0, ntypes = 0;
  const char **seen = hlo_xcalloc((size_t)g->norder + 1, sizeof *seen);
  for (int i = 0; i < g->norder; i++) {
    const char *op = g->order[i]->op;
    if (tf_find_lowering(op) || tf_graph_find_function(g, op)) continue;
    nbad++;
    bool dup = false;
    for (int k = 0; k < ntypes; k++) dup |= !strcmp(seen[k], op);
    if (dup) continue;
    seen[ntypes++] = op;
    int count = 0;
    HloStr names = {0};
    for (int j = 0; j < g->norder; j++) {
      if (strcmp(g->order[j]->op, op)) continue;
      if (count < 5) hlo_str_printf(&names, "%s'%s'", count ? ", " : "", g->order[j]->name);
      count++;
    }
    hlo_str_printf(&s, "\n  %s: %d node%s (%s%s)", op, count, count == 1 ? "" : "s", names.buf,
                   count > 5 ? ", ..." : "");
    const char *near = nearest_op(op);
    if (near) hlo_str_printf(&s, ", did you mean '%s'?", near);
    free(names.buf);
  }
  free(seen);
  if (!nbad) return NULL;
  HloError *e = hlo_error("%d node%s use%s TensorFlow ops hloc does not support (%d op "
                          "type%s; 'hloc ops' lists the supported ones):%s",
                          nbad, nbad == 1 ? "" : "s", nbad == 1 ? "s" : "", ntypes,
                          ntypes == 1 ? "" : "s", s.buf);
  free(s.buf);
  return e;
}

/* Gives the instructions created since `first_id` the node as metadata. */
static void set_metadata(TfLower *L, const TfNode *n, int64_t first_id) {
  const char *type = NULL, *name = NULL;
  for (HloInstr *in = L->c->last; in && in->id >= first_id; in = in->prev) {
    if (in->metadata.op_name) continue;
    if (!type) {
      type = hlo_arena_strdup(L->m->arena, n->op);
      size_t ls = strlen(L->scope), ln = strlen(n->name);
      char *full = hlo_arena_alloc(L->m->arena, ls + ln + 1);
      memcpy(full, L->scope, ls);
      memcpy(full + ls, n->name, ln + 1);
      name = full;
    }
    in->metadata.op_type = type;
    in->metadata.op_name = name;
  }
}

/* Prefixes e with the node, unless it names it already: the attribute
 * accessors (attr.c) report through tf_node_error. */
static HloError *name_node(const TfLower *L, const TfNode *n, HloError *e) {
  HloError *p = tf_node_error(n, "%s", "");
  const char *prefix = hlo_error_message(p);
  bool named = !strncmp(hlo_error_message(e), prefix, strlen(prefix));
  hlo_error_free(p);
  return named ? e : hlo_error_wrap(e, "%snode '%s' (%s)", L->scope, n->name, n->op);
}

HloError *tf_lower_graph(HloModule *m, HloComputation *c, const TfGraph *body,
                         HloInstr *const *feeds, TfLower *parent, const char *function,
                         const char *scope, HloInstr ***results, HloInstr **final_feeds,
                         const TfFeed *const *vars, bool free_consts) {
  HloError *e = check_supported(body);
  if (e) return e;
  TfLower L = {.m = m, .c = c, .g = body, .parent = parent, .function = function,
               .scope = scope ? scope : "", .free_consts = free_consts};
  int nn = body->nnodes;
  L.feeds = hlo_xcalloc((size_t)body->nfeeds + 1, sizeof *L.feeds);
  L.vars = hlo_xcalloc((size_t)body->nfeeds + 1, sizeof *L.vars);
  for (int i = 0; i < body->nfeeds; i++)
    L.vars[i] = vars ? vars[i] : body->feeds[i].variable ? &body->feeds[i] : NULL;
  L.values = hlo_xcalloc((size_t)nn + 1, sizeof *L.values);
  L.nvalues = hlo_xcalloc((size_t)nn + 1, sizeof *L.nvalues);
  L.cap = hlo_xcalloc((size_t)nn + 1, sizeof *L.cap);
  for (int i = 0; i < body->nfeeds; i++) L.feeds[i] = feeds[i];
  for (int i = 0; i < body->norder && !e; i++) {
    const TfNode *n = body->order[i];
    const TfOpLowering *l = tf_find_lowering(n->op);
    int64_t first_id = m->next_id;
    if (l) e = l->fn(&L, n);
    else e = tf_lower_function_call(&L, n, n->op); /* check_supported: a function */
    if (e) {
      e = name_node(&L, n, e);
      break;
    }
    set_metadata(&L, n, first_id);
  }
  if (!e) {
    HloInstr **res = hlo_xcalloc((size_t)body->nfetches + 1, sizeof *res);
    for (int i = 0; i < body->nfetches && !e; i++) {
      const TfInput *v = &body->fetches[i].value;
      if (v->feed >= 0) {
        res[i] = L.feeds[v->feed];
      } else if (v->index < L.nvalues[v->node->id] && L.values[v->node->id][v->index]) {
        res[i] = L.values[v->node->id][v->index];
      } else {
        e = hlo_error("%sfetch '%s' reads output %d of node '%s' (%s), which it does not "
                      "produce",
                      L.scope, body->fetches[i].name, v->index, v->node->name, v->node->op);
      }
    }
    if (e) free(res);
    else *results = res;
  }
  for (int i = 0; !e && final_feeds && i < body->nfeeds; i++) final_feeds[i] = L.feeds[i];
  for (int i = 0; i < nn; i++) free(L.values[i]);
  free(L.values);
  free(L.nvalues);
  free(L.cap);
  free(L.feeds);
  free(L.vars);
  return e;
}

/* tf_import, freeing g's Const tensors as they are lowered with
 * free_consts. */
static HloError *import(const TfGraph *g, const char *name, bool free_consts, HloModule **out) {
  HloModule *m = hlo_module_new(name);
  m->from_tf = true;
  HloComputation *entry = hlo_computation_new(m, "main");
  hlo_module_set_entry(m, entry);
  HloInstr **params = hlo_xcalloc((size_t)g->nfeeds + 1, sizeof *params);
  HloError *e = NULL;
  for (int i = 0; i < g->nfeeds && !e; i++) {
    const TfFeed *f = &g->feeds[i];
    if (!f->has_shape) {
      e = hlo_error("feed '%s' has no static shape", f->name);
      break;
    }
    params[i] = hlo_parameter_new(entry, i, &f->shape, hlo_name(m->arena, f->name));
    params[i]->metadata.op_type =
        f->variable ? hlo_arena_strdup(m->arena, f->node->op) : "Placeholder";
    params[i]->metadata.op_name = hlo_arena_strdup(m->arena, f->node ? f->node->name : f->name);
  }
  HloInstr **results = NULL;
  HloInstr **final = hlo_xcalloc((size_t)g->nfeeds + 1, sizeof *final);
  if (!e && g->nfetches == 0) e = hlo_error("the config has no fetches");
  if (!e)
    e = tf_lower_graph(m, entry, g, params, NULL, NULL, "", &results, final, NULL, free_consts);
  if (!e) {
    /* Each read-write variable's last value is one more result, written
     * back into its parameter. */
    int nres = g->nfetches;
    for (int i = 0; i < g->nfeeds; i++)
      if (g->feeds[i].variable && !g->feeds[i].readonly) nres++;
    if (nres > g->nfetches) {
      results = hlo_xrealloc(results, sizeof *results * (size_t)nres);
      m->alias = hlo_arena_alloc(m->arena, sizeof *m->alias * (size_t)(nres - g->nfetches));
      for (int i = 0; i < g->nfeeds; i++) {
        if (!g->feeds[i].variable || g->feeds[i].readonly) continue;
        int r = g->nfetches + m->nalias;
        results[r] = final[i];
        m->alias[m->nalias++] = (HloAlias){r, i};
      }
    }
    HloInstr *root = results[0];
    if (nres != 1) {
      root = hlo_build_tuple(entry, results, nres, &e);
    } else if (root->op == HLO_OP_PARAMETER || root->op == HLO_OP_CONSTANT) {
      /* A root must be an instruction of its own for result buffers to be
       * distinct from parameters and read-only constants. */
      root = hlo_build_unary(entry, HLO_OP_COPY, root, &e);
    }
    if (root) hlo_set_root(entry, root);
  }
  free(results);
  free(final);
  free(params);
  if (!e) e = hlo_verify(m);
  if (e) {
    hlo_module_free(m);
    return e;
  }
  *out = m;
  return NULL;
}

HloError *tf_import(const TfGraph *g, const char *name, HloModule **out) {
  return import(g, name, false, out);
}

HloError *tf_import_consuming(TfGraph *g, const char *name, HloModule **out) {
  return import(g, name, true, out);
}
