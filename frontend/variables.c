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
 *
 * A partitioned variable (tf.compat.v1.get_variable with a partitioner) is
 * one VariableV2 per part, "NAME/part_K", which the graph concatenates;
 * the checkpoint holds NAME as one partitioned entry whose slices are the
 * parts, split along one axis.  So a node NAME/part_K that no key names
 * takes slice K of NAME, the slices taken in the order of their starts
 * (bundle.c sorts them), which must have the node's shape.  A variable
 * named by a partitioned entry itself gets the whole tensor, assembled.
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

/* Checks the entry against the node's dtype and shape attributes; `what`
 * names the entry in messages ("under 'KEY'", or a part of a partitioned
 * variable, whose own key is binary). */
static HloError *check_entry(const TfNode *n, const TfBundleEntry *x, const char *prefix,
                             const char *what) {
  Tensorflow__DataType t;
  HloError *e = tf_attr_type(n, "dtype", &t);
  if (e) return e;
  if (base_type(t) != base_type(x->dtype))
    return tf_node_error(n, "the variable is %s, but checkpoint '%s' holds %s %s",
                         tf_type_name(t), prefix, tf_type_name(x->dtype), what);
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
  e = tf_node_error(n, "the variable has shape [%s], but checkpoint '%s' holds [%s] %s",
                    want.buf ? want.buf : "", prefix, got.buf ? got.buf : "", what);
  free(want.buf);
  free(got.buf);
  return e;
}

/* The entry of n's value: keys[n->id], else n's name, else its
 * shared_name. */
static HloError *find_entry(const TfNode *n, TfBundle *b, const char *prefix,
                            const char *const *keys, const TfBundleEntry **out,
                            const char **what) {
  HloArena *arena = n->graph->arena;
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
    if ((*out = tf_bundle_find(b, tried[i]))) {
      HloStr w = {0};
      hlo_str_printf(&w, "under '%s'", tried[i]);
      *what = hlo_arena_strdup(arena, w.buf);
      free(w.buf);
      return NULL;
    }
  const char *part = strrchr(n->name, '/');
  char *end;
  long k = part && !strncmp(part, "/part_", 6) && part[6] >= '0' && part[6] <= '9'
               ? strtol(part + 6, &end, 10)
               : -1;
  if (k >= 0 && !*end) {
    char *whole = hlo_arena_alloc(arena, (size_t)(part - n->name) + 1);
    memcpy(whole, n->name, (size_t)(part - n->name));
    whole[part - n->name] = '\0';
    const TfBundleEntry *x = tf_bundle_find(b, whole);
    if (x && x->sliced && k < x->nslices) {
      HloError *e = tf_bundle_slice_entry(b, x, (int)k, out), *w = NULL;
      if (e) w = tf_node_error(n, "%s", hlo_error_message(e));
      hlo_error_free(e);
      HloStr t = {0};
      hlo_str_printf(&t, "as part %ld of partitioned variable '%s'", k, whole);
      *what = hlo_arena_strdup(arena, t.buf);
      free(t.buf);
      return w;
    }
    if (x && x->sliced)
      return tf_node_error(n, "checkpoint '%s' holds %d slices of partitioned variable '%s', "
                           "so no part %ld", prefix, x->nslices, whole, k);
  }
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
    const char *what = NULL;
    HloLiteral *v = NULL;
    HloError *e = find_entry(n, b, prefix, keys, &x, &what);
    if (!e) e = check_entry(n, x, prefix, what);
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
