/*
 * literal_io.c — .npy files to HLO literals and back.  Both sides store
 * arrays densely in C order with the same element encodings (bool as one
 * byte 0/1, f16 and bf16 as 16-bit patterns, the narrow types one byte
 * each as ml_dtypes holds them, complex numbers as (real, imaginary) pairs
 * of f32 or f64), so conversion is a type mapping and a
 * copy; a '|V1' file, which does not say its narrow type, takes the one
 * its reader expects.
 */
#include "literal_io.h"

#include <string.h>

static const struct {
  RtDtype dtype;
  HloType type;
} type_map[] = {
    {RT_BOOL, HLO_PRED}, {RT_I8, HLO_S8},   {RT_I16, HLO_S16}, {RT_I32, HLO_S32},
    {RT_I64, HLO_S64},   {RT_U8, HLO_U8},   {RT_U16, HLO_U16}, {RT_U32, HLO_U32},
    {RT_U64, HLO_U64},   {RT_F16, HLO_F16}, {RT_BF16, HLO_BF16}, {RT_F32, HLO_F32},
    {RT_F64, HLO_F64},   {RT_I2, HLO_S2},   {RT_I4, HLO_S4},   {RT_U2, HLO_U2},
    {RT_U4, HLO_U4},     {RT_F8E4M3FN, HLO_F8E4M3FN},     {RT_F8E5M2, HLO_F8E5M2},
    {RT_F8E4M3FNUZ, HLO_F8E4M3FNUZ},     {RT_F8E5M2FNUZ, HLO_F8E5M2FNUZ},
    {RT_F8E4M3B11FNUZ, HLO_F8E4M3B11FNUZ}, {RT_F8E4M3, HLO_F8E4M3},
    {RT_F8E3M4, HLO_F8E3M4},   {RT_F8E8M0FNU, HLO_F8E8M0FNU}, {RT_F4E2M1FN, HLO_F4E2M1FN},
    {RT_C64, HLO_C64},   {RT_C128, HLO_C128},
};

HloType hloc_type_from_dtype(RtDtype t) {
  for (size_t i = 0; i < sizeof type_map / sizeof type_map[0]; i++)
    if (type_map[i].dtype == t) return type_map[i].type;
  HLO_UNREACHABLE();
}

bool hloc_dtype_from_type(HloType t, RtDtype *out) {
  for (size_t i = 0; i < sizeof type_map / sizeof type_map[0]; i++) {
    if (type_map[i].type == t) {
      *out = type_map[i].dtype;
      return true;
    }
  }
  return false;
}

char *hloc_array_text(const HloShape *s) {
  RtDtype t;
  if (!hloc_dtype_from_type(s->type, &t)) return hlo_shape_to_string(s);
  char buf[64 + HLO_MAX_RANK * 24];
  return hlo_xstrdup(rt_type_text(buf, sizeof buf, t, s->rank, s->dims, s->dynamic));
}

HloError *hloc_read_npy_as(const char *path, HloType narrow, HloLiteral **out) {
  RtArray a;
  char err[512];
  if (rt_npy_read(path, &a, err, sizeof err)) return hlo_error("%s", err);
  if (a.rank > HLO_MAX_RANK) {
    rt_array_free(&a);
    return hlo_error("%s: rank %d exceeds the maximum of %d", path, a.rank, HLO_MAX_RANK);
  }
  RtDtype want;
  if (a.dtype == RT_V1) {
    if (!hloc_dtype_from_type(narrow, &want) || !rt_dtype_is_narrow(want)) {
      rt_array_free(&a);
      return hlo_error("%s: the file holds one-byte void elements ('|V1', an ml_dtypes narrow "
                       "type) where %s is expected",
                       path, hlo_type_is_array(narrow) ? hlo_type_name(narrow) : "no such type");
    }
    if (rt_array_retype(&a, want, path, err, sizeof err)) {
      rt_array_free(&a);
      return hlo_error("%s", err);
    }
  }
  HloShape s = hlo_shape_array(hloc_type_from_dtype(a.dtype), a.rank, a.dims);
  HloLiteral *l = hlo_literal_new(&s);
  memcpy(l->data, a.data, a.nbytes);
  rt_array_free(&a);
  *out = l;
  return NULL;
}

HloError *hloc_read_npy(const char *path, HloLiteral **out) {
  return hloc_read_npy_as(path, HLO_TUPLE, out);
}

/* The runtime's view of an array literal (no copy); errors name path. */
static HloError *as_array(const HloLiteral *l, const char *path, RtArray *a) {
  *a = (RtArray){0};
  if (!hloc_dtype_from_type(l->shape.type, &a->dtype))
    return hlo_error("%s: cannot write a %s value as .npy", path, hlo_type_name(l->shape.type));
  a->rank = l->shape.rank;
  for (int i = 0; i < a->rank; i++) a->dims[i] = l->shape.dims[i];
  a->data = l->data;
  a->nbytes = hlo_shape_byte_size(&l->shape);
  return NULL;
}

HloError *hloc_write_npy(const char *path, const HloLiteral *l) {
  RtArray a;
  HloError *e = as_array(l, path, &a);
  char err[512];
  if (!e && rt_npy_write(path, &a, err, sizeof err)) e = hlo_error("%s", err);
  return e;
}

HloError *hloc_npy_header(const HloLiteral *l, const char *path, unsigned char *buf,
                          size_t *len) {
  RtArray a;
  HloError *e = as_array(l, path, &a);
  if (!e) *len = rt_npy_header(&a, buf);
  return e;
}
