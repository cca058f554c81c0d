/*
 * fuzz_util.h — what several libFuzzer harnesses share: reading a binary
 * GraphDef, a permissive tfcompile config for any graph, running the pass
 * pipeline and the analyses codegen consumes, and the size and work
 * guards that keep one input fast.  Not part of any library.
 */
#ifndef HLOC_FUZZ_UTIL_H
#define HLOC_FUZZ_UTIL_H

#include <stdint.h>

#include "frontend.h"
#include "hlo.h"

/* Frees an error the input may cause, printing it first when FUZZ_VERBOSE
 * is set (to see how far a seed gets). */
void fz_drop(HloError *e);

/* A binary GraphDef, or NULL when it does not parse. */
Tensorflow__GraphDef *fz_parse_graphdef(const uint8_t *data, size_t size);

/* Feeds for the Placeholders (their static shape attr, else a scalar),
 * fetches of output 0 of every other node; owned, for tf_graph_new. */
Tensorflow__Tf2xla__Config *fz_permissive_config(const Tensorflow__GraphDef *gd);

/* Runs the default pass pipeline on a verified module under the CPU
 * backend's policy (every PassPolicy choice on), then buffer assignment
 * and statistics.  The passes promise a verified module for a verified
 * one, so any error is a bug: it aborts with the message and the module,
 * for libFuzzer to save the input. */
void fz_optimize(HloModule *m);

/* The graph view of gd (consumed) under cfg (consumed), lowered to HLO and
 * optimized (fz_optimize); an input the frontend refuses is dropped. */
void fz_lower_graph(Tensorflow__GraphDef *gd, Tensorflow__Tf2xla__Config *cfg);

/* What evaluating a module costs, roughly: `work` counts element steps
 * (an elementwise op is one per element, a dot the contraction length per
 * element, a reduce-window the window size, a call of a computation its
 * own work) over every computation; `loop_work` is the largest work of
 * one while condition plus body. */
typedef struct FzCost {
  int64_t instructions; /* in all computations */
  int64_t max_bytes;    /* the largest array value */
  int64_t total_bytes;  /* every array value of every computation */
  int64_t work;
  int64_t loop_work;
} FzCost;
void fz_cost(const HloModule *m, FzCost *out);

#endif
