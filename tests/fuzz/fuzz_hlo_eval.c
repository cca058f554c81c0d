/*
 * fuzz_hlo_eval.c — libFuzzer harness for HLO text through the verifier,
 * the pass pipeline and the reference evaluator: parse, verify, optimize
 * (fz_optimize: passes, buffer assignment, statistics), then evaluate the
 * optimized module on zero arguments.
 *
 * A module may be refused by the parser or the verifier, and evaluation
 * may return an error (an unsupported custom-call, a while loop over its
 * iteration budget), but nothing may crash, leak or abort.  To keep one
 * input in milliseconds, modules are only evaluated when small: a bound on
 * instructions, on the bytes of every value, and on the evaluator's work
 * (fz_cost); while loops get an iteration budget such that all of them
 * together stay within the same work.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
  MAX_INSTRUCTIONS = 400,
  MAX_VALUE_BYTES = 1 << 20,       /* one array value */
  MAX_TOTAL_BYTES = 16 << 20,      /* all of them */
  MAX_WORK = 4 << 20,              /* element steps (fz_cost) */
  MAX_WHILE_ITERATIONS = 1000,
};

static HloLiteral *zero(const HloShape *s) { return hlo_literal_new(s); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  HloModule *m = NULL;
  HloError *e = hlo_parse((const char *)data, size, "fuzz.hlo", &m);
  if (!e) e = hlo_verify(m);
  if (e) {
    fz_drop(e);
    hlo_module_free(m);
    return 0;
  }
  FzCost cost;
  fz_cost(m, &cost);
  bool small = cost.instructions <= MAX_INSTRUCTIONS && cost.max_bytes <= MAX_VALUE_BYTES &&
               cost.total_bytes <= MAX_TOTAL_BYTES && cost.work <= MAX_WORK;
  if (!small) {
    hlo_module_free(m);
    return 0;
  }
  fz_optimize(m);
  const HloComputation *entry = m->entry;
  HloLiteral **args = calloc((size_t)entry->nparams + 1, sizeof *args);
  for (int i = 0; i < entry->nparams; i++) args[i] = zero(&entry->params[i]->shape);
  int64_t iterations = MAX_WHILE_ITERATIONS;
  if (cost.loop_work > 0 && MAX_WORK / cost.loop_work < iterations)
    iterations = MAX_WORK / cost.loop_work > 0 ? MAX_WORK / cost.loop_work : 1;
  HloEvalOptions limits = {.max_while_iterations = iterations};
  HloLiteral *out = NULL;
  e = hlo_evaluate_with(m, args, entry->nparams, &limits, &out);
  fz_drop(e);
  hlo_literal_free(out);
  for (int i = 0; i < entry->nparams; i++) hlo_literal_free(args[i]);
  free(args);
  hlo_module_free(m);
  return 0;
}
