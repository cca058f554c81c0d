/*
 * passes_util.h — helpers shared by the tests/test_passes_*.c suites (each
 * suite is one translation unit, so these are static): run a pass and
 * verify, describe an instruction tree compactly for expectations, and the
 * differential check every pass gets — random inputs through the evaluator
 * before and after the pass must agree.
 */
#ifndef HLOC_TESTS_PASSES_UTIL_H
#define HLOC_TESTS_PASSES_UTIL_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "passes.h"

typedef bool (*PassFn)(HloModule *);

/* The policy of a backend able to do all the policy names (what the CPU
 * backend states today: codegen/cpu/backend.c), for the suites that expect
 * its fusion and buffer decisions.  Suites compare it with the
 * conservative policy where the difference is the point. */
static const PassPolicy pu_capable = {
    .hoist_prefix_values = true,
    .root_views = true,
    .scalar_contraction_epilogues = true,
    .reductions_write_producers = true,
    .reuse_operand_buffers = true,
    .explicit_conv_padding = true,
};

/* Runs pass on m, verifies, and returns whether it reported a change. */
static __attribute__((unused)) bool pu_run(HloModule *m, PassFn pass) {
  bool changed = pass(m);
  HloError *e = hlo_verify(m);
  ck_assert_msg(e == NULL, "verifier after pass: %s", hlo_error_message(e));
  return changed;
}

/* "add(x, broadcast(constant))": opcodes, with parameters by name, to a
 * depth of 6. */
static void pu_sexpr_into(HloStr *s, const HloInstr *in, int depth) {
  if (in->op == HLO_OP_PARAMETER) {
    hlo_str_printf(s, "%s", in->name);
    return;
  }
  hlo_str_printf(s, "%s", hlo_opcode_name(in->op));
  if (!in->noperands || depth == 0) return;
  hlo_str_printf(s, "(");
  for (int i = 0; i < in->noperands; i++) {
    if (i) hlo_str_printf(s, ", ");
    pu_sexpr_into(s, in->operands[i], depth - 1);
  }
  hlo_str_printf(s, ")");
}

/* The entry root as an s-expression (static buffer, overwritten). */
static __attribute__((unused)) const char *pu_root(const HloModule *m) {
  static char buf[2048];
  HloStr s = {0};
  pu_sexpr_into(&s, m->entry->root, 6);
  snprintf(buf, sizeof buf, "%s", s.buf ? s.buf : "");
  free(s.buf);
  return buf;
}

/* Instructions of the entry with opcode op. */
static __attribute__((unused)) int pu_count(const HloModule *m, HloOpcode op) {
  int n = 0;
  for (const HloInstr *in = m->entry->first; in; in = in->next) n += in->op == op;
  return n;
}

/* A deterministic pseudo-random literal for a parameter: floats in
 * [-2, 2), signed integers in [-5, 5], unsigned in [0, 10], pred 0/1. */
static HloLiteral *pu_random(const HloShape *s, unsigned *seed) {
  HloLiteral *l = hlo_literal_new(s);
  if (s->type == HLO_TUPLE) {
    for (int i = 0; i < s->ntuple; i++) {
      hlo_literal_free(l->elems[i]);
      l->elems[i] = pu_random(&s->tuple[i], seed);
    }
    return l;
  }
  int64_t n = hlo_shape_elements(s);
  for (int64_t i = 0; i < n; i++) {
    *seed = *seed * 1103515245u + 12345u;
    unsigned r = (*seed >> 8) & 0xffff;
    double v;
    if (hlo_type_is_float(s->type)) v = (double)r / 65536.0 * 4.0 - 2.0;
    else if (s->type == HLO_PRED) v = r & 1;
    else if (hlo_type_is_unsigned(s->type)) v = r % 11;
    else v = (double)(r % 11) - 5.0;
    hlo_literal_set_f64(l, i, v);
  }
  return l;
}

static bool pu_close(const HloLiteral *a, const HloLiteral *b, double atol, double rtol,
                     char *msg, size_t len) {
  if (a->shape.type == HLO_TUPLE) {
    if (b->shape.type != HLO_TUPLE || a->shape.ntuple != b->shape.ntuple) {
      snprintf(msg, len, "tuple arity differs");
      return false;
    }
    for (int i = 0; i < a->shape.ntuple; i++)
      if (!pu_close(a->elems[i], b->elems[i], atol, rtol, msg, len)) return false;
    return true;
  }
  return ck_allclose(a, b, atol, rtol, msg, len);
}

/* Evaluates m on three random argument sets; returns the results. */
static void pu_eval3(const HloModule *m, HloLiteral **out) {
  const HloComputation *e = m->entry;
  for (int k = 0; k < 3; k++) {
    unsigned seed = 1234u + 77u * (unsigned)k;
    HloLiteral *args[64];
    ck_assert_int_le(e->nparams, 64);
    for (int i = 0; i < e->nparams; i++) args[i] = pu_random(&e->params[i]->shape, &seed);
    out[k] = ck_evaluate(m, args, e->nparams);
    for (int i = 0; i < e->nparams; i++) hlo_literal_free(args[i]);
  }
}

/* The differential check on m: evaluates it, runs pass (which must report
 * `expect_change`), verifies, evaluates again and compares. */
static __attribute__((unused)) void pu_differential_on(HloModule *m, PassFn pass,
                                                       bool expect_change, double atol,
                                                       double rtol) {
  HloLiteral *before[3], *after[3];
  pu_eval3(m, before);
  bool changed = pu_run(m, pass);
  ck_assert_msg(changed == expect_change, "pass %s the module:\n%s",
                changed ? "changed" : "did not change", hlo_module_to_string(m));
  pu_eval3(m, after);
  for (int k = 0; k < 3; k++) {
    char msg[256];
    ck_assert_msg(pu_close(after[k], before[k], atol, rtol, msg, sizeof msg),
                  "results differ after the pass: %s", msg);
    hlo_literal_free(before[k]);
    hlo_literal_free(after[k]);
  }
}

/* The same on text, parsed; returns the rewritten module for further
 * expectations. */
static __attribute__((unused)) HloModule *pu_differential(const char *text, PassFn pass,
                                                          bool expect_change, double atol,
                                                          double rtol) {
  HloModule *m = ck_parse_verified(text);
  pu_differential_on(m, pass, expect_change, atol, rtol);
  return m;
}

#endif
