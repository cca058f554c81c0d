/*
 * variables.c — variables bound to their values in a checkpoint.
 *
 * hloc compiles for inference: a variable is read, never assigned, so its
 * value is a constant of the compiled code, taken from a checkpoint (a
 * TensorBundle, read by bundle.c) when the graph is loaded.  Each live
 * variable node (VarHandleOp for resource variables, VariableV2 and its
 * older names for reference variables) gets its value in TfNode.value;
 * the lowering turns it into a constant and the reads (ReadVariableOp,
 * ResourceGather, a reference variable's plain uses) into uses of it.
 *
 * The checkpoint key of a variable is, in order: the key its caller found
 * (a SavedModel's object graph, savedmodel.c), the node's name (what
 * TensorFlow 1's Saver writes), its shared_name.  The value must have the
 * node's dtype and, where the node's shape attribute knows them, its
 * dimensions.
 */
#include "frontend.h"

#include <stdlib.h>
#include <string.h>

bool tf_is_variable_op(const char *op) {
  return !strcmp(op, "VarHandleOp") || !strcmp(op, "VariableV2") ||
         !strcmp(op, "VariableV1") || !strcmp(op, "Variable");
}

static Tensorflow__DataType base_type(Tensorflow__DataType t) {
  return t > 100 ? (Tensorflow__DataType)(t - 100) : t; /* DT_*_REF = DT_* + 100 */
}

/* Checks the entry against the node's dtype and shape attributes. */
static HloError *check_entry(const TfNode *n, const TfBundleEntry *x, const char *prefix) {
  Tensorflow__DataType t;
  HloError *e = tf_attr_type(n, "dtype", &t);
  if (e) return e;
  if (base_type(t) != base_type(x->dtype))
    return tf_node_error(n, "the variable is %s, but checkpoint '%s' holds %s under '%s'",
                         tf_type_name(t), prefix, tf_type_name(x->dtype), x->key);
  const Tensorflow__AttrValue *a = tf_attr_find(n, "shape");
  if (!a || a->value_case != TENSORFLOW__ATTR_VALUE__VALUE_SHAPE || !a->shape ||
      a->shape->unknown_rank || x->rank < 0)
    return NULL;
  bool fits = a->shape->n_dim == (size_t)x->rank;
  for (int d = 0; fits && d < x->rank; d++)
    fits = a->shape->dim[d]->size < 0 || a->shape->dim[d]->size == x->dims[d];
  if (fits) return NULL;
  HloStr want = {0}, got = {0};
  for (size_t d = 0; d < a->shape->n_dim; d++)
    hlo_str_printf(&want, "%s%lld", d ? "," : "", (long long)a->shape->dim[d]->size);
  for (int d = 0; d < x->rank; d++)
    hlo_str_printf(&got, "%s%lld", d ? "," : "", (long long)x->dims[d]);
  e = tf_node_error(n, "the variable has shape [%s], but checkpoint '%s' holds [%s] under '%s'",
                    want.buf ? want.buf : "", prefix, got.buf ? got.buf : "", x->key);
  free(want.buf);
  free(got.buf);
  return e;
}

/* The entry of n's value: keys[n->id], else n's name, else its
 * shared_name. */
static HloError *find_entry(const TfNode *n, TfBundle *b, const char *prefix,
                            const char *const *keys, const TfBundleEntry **out) {
  const char *tried[3];
  int ntried = 0;
  if (keys && keys[n->id]) {
    tried[ntried++] = keys[n->id];
  } else {
    tried[ntried++] = n->name;
    const Tensorflow__AttrValue *a = tf_attr_find(n, "shared_name");
    if (a && a->value_case == TENSORFLOW__ATTR_VALUE__VALUE_S && a->s.len &&
        !memchr(a->s.data, 0, a->s.len)) {
      char *s = hlo_arena_alloc(n->graph->arena, a->s.len + 1);
      memcpy(s, a->s.data, a->s.len);
      s[a->s.len] = '\0';
      if (strcmp(s, n->name)) tried[ntried++] = s;
    }
  }
  for (int i = 0; i < ntried; i++)
    if ((*out = tf_bundle_find(b, tried[i]))) return NULL;
  HloStr s = {0};
  for (int i = 0; i < ntried; i++) hlo_str_printf(&s, "%s'%s'", i ? " or " : "", tried[i]);
  HloError *e = tf_node_error(n, "checkpoint '%s' holds no value for the variable (no key %s)",
                              prefix, s.buf);
  free(s.buf);
  return e;
}

HloError *tf_graph_bind_bundle(TfGraph *g, TfBundle *b, const char *prefix,
                               const char *const *keys) {
  for (int i = 0; i < g->norder; i++) {
    TfNode *n = g->order[i];
    if (!tf_is_variable_op(n->op)) continue;
    const TfBundleEntry *x;
    HloLiteral *v = NULL;
    HloError *e = find_entry(n, b, prefix, keys, &x);
    if (!e) e = check_entry(n, x, prefix);
    if (!e) {
      e = tf_bundle_read(b, x, g->arena, &v);
      if (e) e = hlo_error_wrap(e, "node '%s' (%s)", n->name, n->op);
    }
    if (e) return e;
    n->value = v;
  }
  return NULL;
}

HloError *tf_graph_bind_checkpoint(TfGraph *g, const char *prefix, const char *const *keys) {
  TfBundle *b;
  HloError *e = tf_bundle_open(prefix, &b);
  if (e) return e;
  e = tf_graph_bind_bundle(g, b, prefix, keys);
  tf_bundle_free(b);
  return e;
}
