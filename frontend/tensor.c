/*
 * tensor.c — TensorFlow tensors and shapes as HLO literals and shapes.
 *
 * A TensorProto carries its elements one of two ways.  tensor_content holds
 * the raw elements, little-endian, row-major: its size must be exactly the
 * element count times the element size.  Otherwise the repeated field for
 * the dtype holds them (float_val for DT_FLOAT, int_val for the integer
 * types of 32 bits and less, half_val for the 16-bit patterns of DT_HALF and
 * DT_BFLOAT16, …), and TensorFlow's compression rule applies: when the field
 * holds fewer values than the shape has elements, the last value repeats to
 * fill the tensor, and when it holds none the tensor is zeros.  So a 1 GB
 * tensor of ones is a few bytes in the GraphDef: sizes come from the shape,
 * which is checked (dims >= 0, at most 2^31 elements) before anything is
 * allocated.  Integers narrower than their field are truncated as
 * TensorFlow's static_cast does.
 */
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "tensor_content is copied as little-endian bytes");

#define MAX_ELEMENTS (INT64_C(1) << 31)

void tf_shape_print(HloStr *out, const Tensorflow__TensorShapeProto *s) {
  if (!s || s->unknown_rank) {
    hlo_str_printf(out, "(unknown rank)");
    return;
  }
  hlo_str_printf(out, "(");
  for (size_t i = 0; i < s->n_dim; i++)
    hlo_str_printf(out, "%s%lld", i ? ", " : "", (long long)s->dim[i]->size);
  hlo_str_printf(out, ")");
}

HloError *tf_shape_to_hlo(const Tensorflow__TensorShapeProto *s, HloType type,
                          HloShape *out) {
  if (!s) {
    *out = hlo_shape_scalar(type);
    return NULL;
  }
  if (s->unknown_rank) return hlo_error("shape has unknown rank");
  if (s->n_dim > HLO_MAX_RANK)
    return hlo_error("rank %zu exceeds the maximum of %d", s->n_dim,
                     HLO_MAX_RANK);
  int64_t dims[HLO_MAX_RANK];
  int64_t count = 1;
  for (size_t i = 0; i < s->n_dim; i++) {
    int64_t d = s->dim[i]->size;
    if (d == -1) return hlo_error("dimension %zu is unknown (-1)", i);
    if (d < 0) return hlo_error("dimension %zu is negative (%lld)", i,
                                (long long)d);
    if (d && count > INT64_MAX / d)
      return hlo_error("element count overflows int64");
    count *= d;
    dims[i] = d;
  }
  *out = hlo_shape_array(type, (int)s->n_dim, dims);
  return NULL;
}

HloError *tf_tensor_shape(const Tensorflow__TensorProto *t, HloShape *out) {
  HloType type;
  if (t->dtype == TENSORFLOW__DATA_TYPE__DT_STRING ||
      t->dtype == TENSORFLOW__DATA_TYPE__DT_STRING_REF)
    return hlo_error("dtype %s: string tensors (string_val) are not "
                     "supported for computation", tf_type_name(t->dtype));
  HloError *e = tf_type_to_hlo(t->dtype, &type);
  if (e) return hlo_error_wrap(e, "dtype");
  e = tf_shape_to_hlo(t->tensor_shape, type, out);
  if (e) return hlo_error_wrap(e, "tensor_shape");
  int64_t n = hlo_shape_elements(out);
  if (n > MAX_ELEMENTS)
    return hlo_error("tensor_shape: %lld elements exceed the limit of 2^31",
                     (long long)n);
  return NULL;
}

/* The repeated value fields, to report one set for the wrong dtype. */
typedef struct ValField {
  const char *name;
  size_t n;
} ValField;

/* Fills dst[0..count) from vals[0..nv) by TensorFlow's rule; CT is the
 * element's C type. */
#define FILL(CT, vals, nv)                                                    \
  do {                                                                        \
    CT *dst = data;                                                           \
    for (int64_t i = 0; i < count; i++)                                       \
      dst[i] = (CT)(vals)[(size_t)i < (nv) ? (size_t)i : (nv) - 1];           \
  } while (0)

/* The typed field t's dtype (as HLO type `type`) takes its values from,
 * and how many it holds; an error when another field is set. */
static HloError *typed_values(const Tensorflow__TensorProto *t, HloType type,
                              const char **field, size_t *count) {
  const ValField fields[] = {
      {"half_val", t->n_half_val},       {"float_val", t->n_float_val},
      {"double_val", t->n_double_val},   {"int_val", t->n_int_val},
      {"string_val", t->n_string_val},   {"scomplex_val", t->n_scomplex_val},
      {"int64_val", t->n_int64_val},     {"bool_val", t->n_bool_val},
      {"dcomplex_val", t->n_dcomplex_val}, {"uint32_val", t->n_uint32_val},
      {"uint64_val", t->n_uint64_val},
  };
  const char *want;
  switch (type) {
  case HLO_F16: case HLO_BF16: want = "half_val"; break;
  case HLO_F32: want = "float_val"; break;
  case HLO_F64: want = "double_val"; break;
  case HLO_S8: case HLO_S16: case HLO_S32: case HLO_U8: case HLO_U16:
    want = "int_val"; break;
  case HLO_S64: want = "int64_val"; break;
  case HLO_U32: want = "uint32_val"; break;
  case HLO_U64: want = "uint64_val"; break;
  case HLO_PRED: want = "bool_val"; break;
  default: HLO_UNREACHABLE();
  }
  size_t nv = 0;
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
    if (!strcmp(fields[i].name, want))
      nv = fields[i].n;
    else if (fields[i].n)
      return hlo_error("%s is set, but dtype %s takes its values from %s or "
                       "tensor_content", fields[i].name,
                       tf_type_name(t->dtype), want);
  }
  *field = want;
  *count = nv;
  return NULL;
}

HloError *tf_tensor_to_literal(const Tensorflow__TensorProto *t,
                               HloArena *arena, HloLiteral **out) {
  *out = NULL;
  HloShape shape;
  HloError *e = tf_tensor_shape(t, &shape);
  if (e) return e;
  int64_t count = hlo_shape_elements(&shape);
  size_t bytes = hlo_shape_byte_size(&shape);

  const char *want;
  size_t nv;
  if ((e = typed_values(t, shape.type, &want, &nv))) return e;

  if (t->tensor_content.len) {
    if (t->tensor_content.len != bytes) {
      char *s = hlo_shape_to_string(&shape);
      e = hlo_error("tensor_content has %zu bytes, expected %zu for %s",
                    t->tensor_content.len, bytes, s);
      free(s);
      return e;
    }
  } else if (nv > (uint64_t)count) {
    char *s = hlo_shape_to_string(&shape);
    e = hlo_error("%s has %zu values, more than the %lld elements of %s", want,
                  nv, (long long)count, s);
    free(s);
    return e;
  }

  HloLiteral *lit = arena ? hlo_literal_new_in(arena, &shape)
                          : hlo_literal_new(&shape);
  void *data = lit->data;
  if (t->tensor_content.len) {
    memcpy(data, t->tensor_content.data, bytes);
    if (shape.type == HLO_PRED)
      for (size_t i = 0; i < bytes; i++)
        ((uint8_t *)data)[i] = ((uint8_t *)data)[i] != 0;
  } else if (nv && count) {
    switch (shape.type) {
    case HLO_F16: case HLO_BF16: FILL(uint16_t, t->half_val, nv); break;
    case HLO_F32: FILL(float, t->float_val, nv); break;
    case HLO_F64: FILL(double, t->double_val, nv); break;
    case HLO_S8: FILL(int8_t, t->int_val, nv); break;
    case HLO_S16: FILL(int16_t, t->int_val, nv); break;
    case HLO_S32: FILL(int32_t, t->int_val, nv); break;
    case HLO_U8: FILL(uint8_t, t->int_val, nv); break;
    case HLO_U16: FILL(uint16_t, t->int_val, nv); break;
    case HLO_S64: FILL(int64_t, t->int64_val, nv); break;
    case HLO_U32: FILL(uint32_t, t->uint32_val, nv); break;
    case HLO_U64: FILL(uint64_t, t->uint64_val, nv); break;
    case HLO_PRED: {
      uint8_t *dst = data;
      for (int64_t i = 0; i < count; i++)
        dst[i] = t->bool_val[(size_t)i < nv ? (size_t)i : nv - 1] != 0;
      break;
    }
    default: HLO_UNREACHABLE();
    }
  }
  *out = lit;
  return NULL;
}

HloError *tf_tensor_repeated(const Tensorflow__TensorProto *t, HloArena *arena,
                            HloLiteral **values) {
  *values = NULL;
  HloShape shape;
  HloError *e = tf_tensor_shape(t, &shape);
  const char *field;
  size_t nv;
  if (!e) e = typed_values(t, shape.type, &field, &nv);
  if (e || t->tensor_content.len || nv >= (uint64_t)hlo_shape_elements(&shape)) return e;
  /* The same tensor with the shape [nv] (one zero when nv is 0) decodes
   * the given values by the same rules. */
  Tensorflow__TensorShapeProto__Dim dim = TENSORFLOW__TENSOR_SHAPE_PROTO__DIM__INIT;
  Tensorflow__TensorShapeProto__Dim *dims[1] = {&dim};
  Tensorflow__TensorShapeProto given = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
  dim.size = nv ? (int64_t)nv : 1;
  given.n_dim = 1;
  given.dim = dims;
  Tensorflow__TensorProto copy = *t;
  copy.tensor_shape = &given;
  return tf_tensor_to_literal(&copy, arena, values);
}

HloError *tf_node_tensor(const TfNode *n, const Tensorflow__TensorProto **out) {
  Tensorflow__DataType dtype;
  HloError *e = tf_attr_tensor(n, "value", out);
  if (!e) e = tf_attr_type(n, "dtype", &dtype);
  if (e) return e;
  if ((*out)->dtype != dtype)
    return tf_node_error(n, "attr 'value' has dtype %s, but attr 'dtype' is "
                         "%s", tf_type_name((*out)->dtype), tf_type_name(dtype));
  return NULL;
}

HloError *tf_node_const(const TfNode *n, HloArena *arena, HloLiteral **out) {
  *out = NULL;
  const Tensorflow__TensorProto *t;
  HloError *e = tf_node_tensor(n, &t);
  if (e) return e;
  e = tf_tensor_to_literal(t, arena, out);
  if (e) {
    HloError *w = tf_node_error(n, "attr 'value': %s", hlo_error_message(e));
    hlo_error_free(e);
    return w;
  }
  return NULL;
}
