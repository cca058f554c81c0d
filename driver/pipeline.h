/*
 * pipeline.h — the one compile pipeline of hloc, shared by every command
 * (`compile`, `run` natively and with --interpret, `dump`) and by libhloc,
 * so that what the CLI compiles and what the library compiles cannot
 * differ.  Internal to driver/.
 *
 *   load (HLO text, or GraphDef + config) → verify → passes → codegen
 *
 * A Model goes through the stages in that order: a pipeline_load_* leaves
 * it verified, pipeline_optimize runs the pass pipeline (or, with
 * no_passes, nothing) and marks it ready, and only a ready model may be
 * evaluated, dumped or given to pipeline_codegen, which checks it.
 */
#ifndef HLOC_DRIVER_PIPELINE_H
#define HLOC_DRIVER_PIPELINE_H

#include <stdbool.h>
#include <stdio.h>

#include "codegen.h"
#include "frontend.h"
#include "hlo.h"

/* A loaded model and, for GraphDefs, the config's feed and fetch names in
 * config order (none for HLO text): they name the compiled function's
 * arguments and results.  Config variables are feeds after the config's
 * feeds, and the new values of the read-write ones are results after its
 * fetches (module aliases), named after the variables. */
typedef struct Model {
  HloModule *m;
  int nfeeds, nfetches;
  char **feeds, **fetches;
  /* The TensorFlow tensors they are, "NODE:INDEX" (for a variable's feed
   * and new value, its node's output 0), recorded in the descriptor so
   * that hosts bind by them too; as many as the names. */
  char **feed_tf_names, **fetch_tf_names;
  bool ready; /* pipeline_optimize has run */
  bool unoptimized; /* … without the passes: codegen gives every value a
                     * scratch slot of its own instead of planning buffers */
} Model;

/* How the passes run.  Zero-initialised options run the default pass
 * pipeline silently (libhloc's choice). */
typedef struct PipelineOptions {
  bool no_passes;         /* --O0: codegen gets the verified input as is */
  const char *dump_after; /* a pass name or "all": HLO text per pass … */
  const char *dump_dir;   /* … into this directory (NULL: "hloc-dump"),
                           * created if missing */
  const char *const *disabled; /* passes not to run */
  int ndisabled;
  FILE *timing;           /* a table of time per pass, when set */
  FILE *stats;            /* pass_stats of the optimized module, when set */
} PipelineOptions;

/* Where a TensorFlow model's feeds, fetches and variables come from: the
 * options --config, --tag, --signature, --input-shape and --checkpoint. */
#define MODEL_MAX_INPUT_SHAPES 64
typedef struct ModelSource {
  const char *config;     /* a tfcompile config (GraphDef: required) */
  const char *checkpoint; /* GraphDef: the checkpoint prefix that freezes its
                           * variables */
  TfSavedModelOptions saved; /* SavedModel: tag set, signature, shapes
                              * (input_shapes points into shapes) */
  TfInputShape shapes[MODEL_MAX_INPUT_SHAPES];
} ModelSource;

/* Whether `path` is a TensorFlow GraphDef file: by its extension (.pb,
 * .pbtxt) or, for a name with another (not .hlo), by its content, as
 * pipeline_load_file decides. */
bool pipeline_is_graphdef(const char *path);

/* A model: HLO text (.hlo), a GraphDef (.pb, .pbtxt) with its tfcompile
 * config, or a SavedModel directory; a file of another name is HLO text
 * or a GraphDef by its content (its first word HloModule; a GraphDef's
 * field, by name or as a binary tag).  src may be NULL (no
 * options). */
HloError *pipeline_load_file(const char *path, const ModelSource *src, Model *md);
/* HLO text of any name, from a file or from memory (`filename` names it in
 * messages). */
HloError *pipeline_load_hlo_file(const char *path, Model *md);
HloError *pipeline_load_hlo_text(const char *text, size_t len, const char *filename, Model *md);
/* A TensorFlow graph view (consumed), lowered to HLO. */
HloError *pipeline_load_graph(TfGraph *g, Model *md);
void model_free(Model *md);

/* Runs the pass pipeline on a loaded model as o says (o may be NULL),
 * with the policy of the backend cg's target selects (codegen decides how
 * kernels run, so fusion and buffer reuse follow it). */
HloError *pipeline_optimize(Model *md, const PipelineOptions *o, const CgOptions *cg);

/* Compiles a ready model.  The model's feeds and fetches name the
 * arguments and results (o's names are ignored; without feeds and fetches
 * codegen derives names from the HLO). */
HloError *pipeline_codegen(const Model *md, const CgOptions *o, CgProgram **out);
/* pipeline_codegen that frees the model (md is left empty, also on error)
 * as soon as codegen holds what it needs from it, before LLVM runs: a
 * model's weights are then never held twice while LLVM takes its share of
 * memory. */
HloError *pipeline_compile(Model *md, const CgOptions *o, CgProgram **out);
/* The MLIR codegen prints, and the kernel IR it builds, for a ready model,
 * named likewise (for dumps). */
HloError *pipeline_emit_mlir(const Model *md, const CgOptions *o, char **mlir);
HloError *pipeline_emit_kir(const Model *md, const CgOptions *o, char **text);

/* Bounded dynamic dims at the entry (docs/api.md): whether a parameter or
 * the result has one; the leaves of shape s copied by value into out (NULL:
 * only counted into *n), to keep the signature as written before the
 * passes give the sizes their own arguments and results. */
bool pipeline_entry_is_dynamic(const HloComputation *entry);
void pipeline_shape_leaves(const HloShape *s, HloShape *out, int *n);

#endif
