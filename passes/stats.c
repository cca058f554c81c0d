/*
 * stats.c — what a compiled module will cost, in the units the pipeline
 * tries to reduce: kernels launched, bytes moved between kernels, arena
 * bytes; plus the model's weight bytes and dot/convolution FLOPs.
 *
 * A kernel is a fusion or an instruction outside fusions that does work;
 * parameters, constants, tuples, get-tuple-element and bitcasts are free,
 * and while/conditional/call are counted through their bodies.  Bytes
 * moved: for each kernel, its operands read and its result written (a
 * lower bound for what codegen will move).
 *
 * requires: a verified module.
 * keeps:    the module untouched.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

bool pass_is_kernel(const HloInstr *in) {
  switch (in->op) {
  case HLO_OP_PARAMETER: case HLO_OP_CONSTANT: case HLO_OP_TUPLE:
  case HLO_OP_GET_TUPLE_ELEMENT: case HLO_OP_BITCAST: case HLO_OP_WHILE:
  case HLO_OP_CONDITIONAL: case HLO_OP_CALL:
    return false;
  default:
    return true;
  }
}

static int64_t product(const HloShape *s, const HloDims *d) {
  int64_t p = 1;
  for (int i = 0; i < d->n; i++) p *= s->dims[d->v[i]];
  return p;
}

/* 2 × multiply-adds of a dot or convolution. */
static int64_t flops_of(const HloInstr *in) {
  if (in->op == HLO_OP_DOT)
    return 2 * hlo_shape_elements(&in->shape) *
           product(&in->operands[0]->shape, &in->dot.lhs_contracting);
  if (in->op == HLO_OP_CONVOLUTION) {
    const HloShape *k = &in->operands[1]->shape;
    int64_t per_out = k->dims[in->conv.k_in_feature];
    for (int i = 0; i < in->conv.nspatial; i++) per_out *= k->dims[in->conv.k_spatial[i]];
    return 2 * hlo_shape_elements(&in->shape) * per_out / in->batch_group_count;
  }
  return 0;
}

static void count_fused(const HloComputation *fc, PassStats *s) {
  for (const HloInstr *in = fc->first; in; in = in->next) s->flops += flops_of(in);
}

HloError *pass_stats(const HloModule *m, const PassPolicy *policy, PassStats *s) {
  memset(s, 0, sizeof *s);
  int nc;
  HloComputation **comps = px_graph_computations(m, false, &nc);
  for (int i = 0; i < nc; i++) {
    for (const HloInstr *in = comps[i]->first; in; in = in->next) {
      s->instructions++;
      if (in->op == HLO_OP_CONSTANT) s->weight_bytes += px_shape_bytes(&in->shape);
      if (!pass_is_kernel(in)) continue;
      s->kernels++;
      if (in->op == HLO_OP_FUSION) {
        s->fusions[in->fusion_kind]++;
        count_fused(in->called[0], s);
      }
      s->flops += flops_of(in);
      s->bytes_moved += px_shape_bytes(&in->shape);
      for (int k = 0; k < in->noperands; k++) s->bytes_moved += px_shape_bytes(&in->operands[k]->shape);
    }
  }
  free(comps);
  PassBufferPlan plan;
  HloError *e = pass_assign_buffers(m, policy, &plan);
  if (e) return e;
  s->arena_bytes = plan.arena_bytes;
  s->naive_arena_bytes = plan.naive_bytes;
  s->peak_live_bytes = plan.peak_live_bytes;
  pass_buffer_plan_free(&plan);
  return NULL;
}

void pass_stats_print(FILE *f, const PassStats *s) {
  fprintf(f, "instructions      %" PRId64 "\n", s->instructions);
  fprintf(f, "kernels           %" PRId64 " (fusions: %" PRId64 " loop, %" PRId64 " input, %" PRId64
             " output, %" PRId64 " custom)\n",
          s->kernels, s->fusions[HLO_FUSION_LOOP], s->fusions[HLO_FUSION_INPUT],
          s->fusions[HLO_FUSION_OUTPUT], s->fusions[HLO_FUSION_CUSTOM]);
  fprintf(f, "weight bytes      %" PRId64 "\n", s->weight_bytes);
  fprintf(f, "flops             %" PRId64 "\n", s->flops);
  fprintf(f, "bytes moved       %" PRId64 "\n", s->bytes_moved);
  fprintf(f, "arena bytes       %" PRId64 " (one slot per value: %" PRId64 ", peak live: %" PRId64
             ")\n",
          s->arena_bytes, s->naive_arena_bytes, s->peak_live_bytes);
}
