/*
 * attr.c — node attributes and element types.
 *
 * A NodeDef's attributes are a map from names to AttrValues, each holding
 * one kind of value (a oneof: int, float, type, shape, list, func, …).  The
 * accessors here look an attribute up and check its kind, so that the
 * lowering can write
 *
 *     int64_t axis;
 *     if ((e = tf_attr_int(n, "axis", &axis))) return e;
 *
 * and get "node 'c' (ConcatV2): attr 'axis' holds a list, expected an int"
 * when the graph is not what it expects.  Attributes with op defaults may be
 * absent from a NodeDef; tf_attr_find tells whether one is there.
 *
 * The DataType <-> HloType mapping is here too: TensorFlow's numeric types
 * map one to one onto HLO element types; reference types (DT_FLOAT_REF =
 * DT_FLOAT + 100, from TensorFlow 1 variables) map as their base type.
 * The quantized types (qint8, quint8, qint16, quint16, qint32) map onto the
 * integer type of their width and sign: TensorFlow stores them as exactly
 * those integers and only its quantization ops (QuantizeV2, Dequantize)
 * give them a meaning, through min/max inputs that travel beside them.  So
 * a qint8 value in HLO is an s8, and its way back to DataType is DT_INT8.
 */
#include <string.h>

#include "frontend.h"

#define REF_OFFSET 100

const char *tf_type_name(Tensorflow__DataType t) {
  const ProtobufCEnumValue *v =
      protobuf_c_enum_descriptor_get_value(&tensorflow__data_type__descriptor,
                                           (int)t);
  if (v) return v->name;
  static _Thread_local char bufs[4][24];
  static _Thread_local int next;
  char *b = bufs[next++ & 3];
  snprintf(b, sizeof bufs[0], "DT_%d", (int)t);
  return b;
}

HloError *tf_type_to_hlo(Tensorflow__DataType t, HloType *out) {
  int base = (int)t > REF_OFFSET ? (int)t - REF_OFFSET : (int)t;
  switch (base) {
  case TENSORFLOW__DATA_TYPE__DT_FLOAT: *out = HLO_F32; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_DOUBLE: *out = HLO_F64; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_HALF: *out = HLO_F16; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_BFLOAT16: *out = HLO_BF16; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_INT8: *out = HLO_S8; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_INT16: *out = HLO_S16; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_INT32: *out = HLO_S32; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_INT64: *out = HLO_S64; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_UINT8: *out = HLO_U8; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_UINT16: *out = HLO_U16; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_UINT32: *out = HLO_U32; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_UINT64: *out = HLO_U64; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_BOOL: *out = HLO_PRED; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_QINT8: *out = HLO_S8; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_QUINT8: *out = HLO_U8; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_QINT16: *out = HLO_S16; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_QUINT16: *out = HLO_U16; return NULL;
  case TENSORFLOW__DATA_TYPE__DT_QINT32: *out = HLO_S32; return NULL;
  default: return hlo_error("type %s is not supported", tf_type_name(t));
  }
}

Tensorflow__DataType tf_type_from_hlo(HloType t) {
  switch (t) {
  case HLO_F32: return TENSORFLOW__DATA_TYPE__DT_FLOAT;
  case HLO_F64: return TENSORFLOW__DATA_TYPE__DT_DOUBLE;
  case HLO_F16: return TENSORFLOW__DATA_TYPE__DT_HALF;
  case HLO_BF16: return TENSORFLOW__DATA_TYPE__DT_BFLOAT16;
  case HLO_S8: return TENSORFLOW__DATA_TYPE__DT_INT8;
  case HLO_S16: return TENSORFLOW__DATA_TYPE__DT_INT16;
  case HLO_S32: return TENSORFLOW__DATA_TYPE__DT_INT32;
  case HLO_S64: return TENSORFLOW__DATA_TYPE__DT_INT64;
  case HLO_U8: return TENSORFLOW__DATA_TYPE__DT_UINT8;
  case HLO_U16: return TENSORFLOW__DATA_TYPE__DT_UINT16;
  case HLO_U32: return TENSORFLOW__DATA_TYPE__DT_UINT32;
  case HLO_U64: return TENSORFLOW__DATA_TYPE__DT_UINT64;
  case HLO_PRED: return TENSORFLOW__DATA_TYPE__DT_BOOL;
  default: return TENSORFLOW__DATA_TYPE__DT_INVALID;
  }
}

const Tensorflow__AttrValue *tf_attr_find(const TfNode *n, const char *name) {
  const Tensorflow__AttrValue *found = NULL;
  /* A map given twice keeps its last entry, as protobuf does. */
  for (size_t i = 0; i < n->def->n_attr; i++) {
    const Tensorflow__NodeDef__AttrEntry *e = n->def->attr[i];
    if (e->value && !strcmp(e->key, name)) found = e->value;
  }
  return found;
}

static const char *kind_name(Tensorflow__AttrValue__ValueCase c) {
  switch (c) {
  case TENSORFLOW__ATTR_VALUE__VALUE_S: return "a string";
  case TENSORFLOW__ATTR_VALUE__VALUE_I: return "an int";
  case TENSORFLOW__ATTR_VALUE__VALUE_F: return "a float";
  case TENSORFLOW__ATTR_VALUE__VALUE_B: return "a bool";
  case TENSORFLOW__ATTR_VALUE__VALUE_TYPE: return "a type";
  case TENSORFLOW__ATTR_VALUE__VALUE_SHAPE: return "a shape";
  case TENSORFLOW__ATTR_VALUE__VALUE_TENSOR: return "a tensor";
  case TENSORFLOW__ATTR_VALUE__VALUE_LIST: return "a list";
  case TENSORFLOW__ATTR_VALUE__VALUE_FUNC: return "a function";
  case TENSORFLOW__ATTR_VALUE__VALUE_PLACEHOLDER: return "a placeholder";
  default: return "no value";
  }
}

/* The attribute `name` of kind `want`, or an error naming both. */
static HloError *get(const TfNode *n, const char *name,
                     Tensorflow__AttrValue__ValueCase want,
                     const Tensorflow__AttrValue **out) {
  const Tensorflow__AttrValue *v = tf_attr_find(n, name);
  if (!v) return tf_node_error(n, "attr '%s' is missing", name);
  if (v->value_case != want)
    return tf_node_error(n, "attr '%s' holds %s, expected %s", name,
                         kind_name(v->value_case), kind_name(want));
  *out = v;
  return NULL;
}

HloError *tf_attr_type(const TfNode *n, const char *name,
                       Tensorflow__DataType *out) {
  const Tensorflow__AttrValue *v;
  HloError *e = get(n, name, TENSORFLOW__ATTR_VALUE__VALUE_TYPE, &v);
  if (!e) *out = v->type;
  return e;
}

HloError *tf_attr_int(const TfNode *n, const char *name, int64_t *out) {
  const Tensorflow__AttrValue *v;
  HloError *e = get(n, name, TENSORFLOW__ATTR_VALUE__VALUE_I, &v);
  if (!e) *out = v->i;
  return e;
}

HloError *tf_attr_float(const TfNode *n, const char *name, float *out) {
  const Tensorflow__AttrValue *v;
  HloError *e = get(n, name, TENSORFLOW__ATTR_VALUE__VALUE_F, &v);
  if (!e) *out = v->f;
  return e;
}

HloError *tf_attr_bool(const TfNode *n, const char *name, bool *out) {
  const Tensorflow__AttrValue *v;
  HloError *e = get(n, name, TENSORFLOW__ATTR_VALUE__VALUE_B, &v);
  if (!e) *out = v->b != 0;
  return e;
}

HloError *tf_attr_string(const TfNode *n, const char *name,
                         const char **out) {
  const Tensorflow__AttrValue *v;
  HloError *e = get(n, name, TENSORFLOW__ATTR_VALUE__VALUE_S, &v);
  if (e) return e;
  if (v->s.len && memchr(v->s.data, '\0', v->s.len))
    return tf_node_error(n, "attr '%s' holds binary data, expected text",
                         name);
  *out = hlo_arena_strndup(n->graph->arena, (const char *)v->s.data,
                           v->s.len);
  return NULL;
}

/* The kinds of values a list holds, for "holds a list of shapes". */
static const char *list_kind(const Tensorflow__AttrValue__ListValue *l) {
  if (l->n_s) return "strings";
  if (l->n_i) return "ints";
  if (l->n_f) return "floats";
  if (l->n_b) return "bools";
  if (l->n_type) return "types";
  if (l->n_shape) return "shapes";
  if (l->n_tensor) return "tensors";
  if (l->n_func) return "functions";
  return NULL;
}

/* The list attribute `name`; *count is the length of the member holding
 * `want` (named for messages), which must be the member in use. */
static HloError *get_list(const TfNode *n, const char *name, const char *want,
                          const Tensorflow__AttrValue__ListValue **out) {
  const Tensorflow__AttrValue *v;
  HloError *e = get(n, name, TENSORFLOW__ATTR_VALUE__VALUE_LIST, &v);
  if (e) return e;
  const char *kind = list_kind(v->list);
  if (kind && strcmp(kind, want))
    return tf_node_error(n, "attr '%s' holds a list of %s, expected a list "
                         "of %s", name, kind, want);
  *out = v->list;
  return NULL;
}

HloError *tf_attr_int_list(const TfNode *n, const char *name,
                           const int64_t **out, int *count) {
  const Tensorflow__AttrValue__ListValue *l;
  HloError *e = get_list(n, name, "ints", &l);
  if (e) return e;
  *out = l->i;
  *count = (int)l->n_i;
  return NULL;
}

HloError *tf_attr_float_list(const TfNode *n, const char *name,
                             const float **out, int *count) {
  const Tensorflow__AttrValue__ListValue *l;
  HloError *e = get_list(n, name, "floats", &l);
  if (e) return e;
  *out = l->f;
  *count = (int)l->n_f;
  return NULL;
}

HloError *tf_attr_type_list(const TfNode *n, const char *name,
                            const Tensorflow__DataType **out, int *count) {
  const Tensorflow__AttrValue__ListValue *l;
  HloError *e = get_list(n, name, "types", &l);
  if (e) return e;
  *out = l->type;
  *count = (int)l->n_type;
  return NULL;
}

HloError *tf_attr_shape(const TfNode *n, const char *name,
                        const Tensorflow__TensorShapeProto **out) {
  const Tensorflow__AttrValue *v;
  HloError *e = get(n, name, TENSORFLOW__ATTR_VALUE__VALUE_SHAPE, &v);
  if (!e) *out = v->shape;
  return e;
}

HloError *tf_attr_tensor(const TfNode *n, const char *name,
                         const Tensorflow__TensorProto **out) {
  const Tensorflow__AttrValue *v;
  HloError *e = get(n, name, TENSORFLOW__ATTR_VALUE__VALUE_TENSOR, &v);
  if (!e) *out = v->tensor;
  return e;
}

HloError *tf_attr_func(const TfNode *n, const char *name,
                       const Tensorflow__NameAttrList **out) {
  const Tensorflow__AttrValue *v;
  HloError *e = get(n, name, TENSORFLOW__ATTR_VALUE__VALUE_FUNC, &v);
  if (!e) *out = v->func;
  return e;
}
