/*
 * emitter.c — the MLIR text builder: numbered SSA names, indentation, and a
 * printf whose directives are the things MLIR text is made of (values, value
 * lists, 64-bit integers), plus the names of element and memref types.
 *
 * Codegen writes MLIR as text and lets mlirModuleCreateParse build the IR
 * (DESIGN.md decision 3): text is easy to read in dumps and to compare in
 * tests, and the parser verifies every op.  Keeping all formatting here
 * keeps the emitters free of string handling.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void cg_vappend(HloStr *out, const char *fmt, va_list ap) {
  const char *run = fmt;
  for (const char *p = fmt; *p; p++) {
    if (*p != '%') continue;
    hlo_str_append(out, run, (size_t)(p - run));
    switch (*++p) {
    case 'v':
      hlo_str_printf(out, "%%v%d", va_arg(ap, CgVal));
      break;
    case 'V': {
      int n = va_arg(ap, int);
      const CgVal *v = va_arg(ap, const CgVal *);
      for (int i = 0; i < n; i++)
        hlo_str_printf(out, "%s%%v%d", i ? ", " : "", v[i]);
      break;
    }
    case 's': {
      const char *s = va_arg(ap, const char *);
      hlo_str_append(out, s, strlen(s));
      break;
    }
    case 'd':
      hlo_str_printf(out, "%d", va_arg(ap, int));
      break;
    case 'D':
      hlo_str_printf(out, "%" PRId64, va_arg(ap, int64_t));
      break;
    case '%':
      hlo_str_append(out, "%", 1);
      break;
    default:
      hlo_fatal(__FILE__, __LINE__, "bad emitter directive in \"%s\"", fmt);
    }
    run = p + 1;
  }
  hlo_str_append(out, run, strlen(run));
}

void cg_append(HloStr *out, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cg_vappend(out, fmt, ap);
  va_end(ap);
}

static void indent(CgEmitter *e) {
  for (int i = 0; i < e->indent; i++) hlo_str_append(&e->text, "  ", 2);
}

void cg_line(CgEmitter *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  indent(e);
  cg_vappend(&e->text, fmt, ap);
  hlo_str_append(&e->text, "\n", 1);
  va_end(ap);
}

CgVal cg_new(CgEmitter *e) { return e->nvals++; }

CgVal cg_def(CgEmitter *e, const char *fmt, ...) {
  CgVal v = cg_new(e);
  va_list ap;
  va_start(ap, fmt);
  indent(e);
  hlo_str_printf(&e->text, "%%v%d = ", v);
  cg_vappend(&e->text, fmt, ap);
  hlo_str_append(&e->text, "\n", 1);
  va_end(ap);
  return v;
}

void cg_open(CgEmitter *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  indent(e);
  cg_vappend(&e->text, fmt, ap);
  hlo_str_append(&e->text, "\n", 1);
  va_end(ap);
  e->indent++;
}

void cg_close(CgEmitter *e, const char *fmt, ...) {
  HLO_CHECK(e->indent > 0);
  e->indent--;
  va_list ap;
  va_start(ap, fmt);
  indent(e);
  cg_vappend(&e->text, fmt, ap);
  hlo_str_append(&e->text, "\n", 1);
  va_end(ap);
}

const char *cg_reg_type(HloType t) {
  switch (t) {
  case HLO_PRED: return "i1";
  case HLO_S8: case HLO_U8: return "i8";
  case HLO_S16: case HLO_U16: case HLO_F16: case HLO_BF16: return "i16";
  case HLO_S32: case HLO_U32: return "i32";
  case HLO_S64: case HLO_U64: return "i64";
  case HLO_F32: return "f32";
  case HLO_F64: return "f64";
  default: HLO_UNREACHABLE();
  }
}

const char *cg_mem_type(HloType t) {
  return t == HLO_PRED ? "i8" : cg_reg_type(t);
}

int cg_type_bits(HloType t) {
  return t == HLO_PRED ? 1 : (int)hlo_type_size(t) * 8;
}

CgTypeName cg_memref_type(const HloShape *s) {
  CgTypeName n;
  size_t len = (size_t)snprintf(n.s, sizeof n.s, "memref<");
  for (int i = 0; i < s->rank; i++)
    len += (size_t)snprintf(n.s + len, sizeof n.s - len, "%" PRId64 "x",
                            s->dims[i]);
  snprintf(n.s + len, sizeof n.s - len, "%s>", cg_mem_type(s->type));
  return n;
}
