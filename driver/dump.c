/*
 * dump.c — `hloc dump`: the model at one stage of the pipeline.
 *
 *   hloc dump MODEL [--config CFG] [--stage S] [-o FILE] [--name N]
 *             [--target T] [--cpu C] [--features F] [--gpu-tf32] [--gpu-wgmma] [PIPELINE]
 *
 *   hlo       the HLO module codegen gets: after the passes, or as loaded
 *             and verified with --O0
 *   dot       that module as a Graphviz graph (hlo_module_to_dot): above
 *             400 instructions each fusion is one box, except those named
 *             by --expand NAME (repeatable); --expand-all draws every one
 *             as the cluster of what it holds
 *   svg, png  the graph rendered by Graphviz's `dot`, which must be on
 *             PATH: hloc does not link Graphviz, a tool few builds need
 *   mlir      the MLIR codegen builds, before any MLIR pass
 *   llvm, asm the optimized LLVM IR or assembly for the target
 *   ptx       the kernels' PTX (--target nvptx64, which --stage ptx
 *             implies; the assembly of that target), built alone: no
 *             host side, no ptxas
 *
 * The output goes to stdout, or with -o to FILE, an output of output.c:
 * written under a temporary name and renamed (DESIGN.md: a failed command
 * leaves no half-written file).  The stage decides how far the pipeline goes: `hlo` and the
 * graph stages stop before codegen.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "output.h"

static const char *const stages[] = {"hlo", "dot", "svg", "png", "kir",
                                     "mlir", "llvm", "asm", "ptx"};

static bool is_stage(const char *s) {
  for (size_t i = 0; i < sizeof stages / sizeof *stages; i++)
    if (!strcmp(stages[i], s)) return true;
  return false;
}

/* Runs `dot -TFORMAT [-o out] graph`: to `out`, or to stdout when out is
 * NULL. */
static HloError *run_dot(const char *format, const char *graph, const char *out) {
  char type[16];
  snprintf(type, sizeof type, "-T%s", format);
  const char *argv[] = {"dot", type, graph, out ? "-o" : NULL, out, NULL};
  fflush(stdout);
  int status, err = child_run(argv, &status);
  if (err == ENOENT) return hlo_error("Graphviz 'dot' not found: install the graphviz package");
  if (err) return hlo_error("cannot run Graphviz 'dot': %s", strerror(err));
  if (!WIFEXITED(status) || WEXITSTATUS(status))
    return hlo_error("Graphviz 'dot -T%s' failed (%s %d)", format,
                     WIFEXITED(status) ? "exit status" : "signal",
                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  return NULL;
}

/* Renders the graph text with dot into output `out` of o (NULL: stdout)
 * by way of a temporary file, which dot reads at its own pace. */
static HloError *render(const char *format, const char *graph, Outputs *o, const char *out) {
  char *path;
  HloError *e = temp_make("hloc-graph", false, &path);
  if (e) return e;
  e = write_file(path, &(struct iovec){(void *)graph, strlen(graph)}, 1);
  if (!e) e = run_dot(format, path, out ? outputs_add(o, out) : NULL);
  temp_remove(path);
  free(path);
  return e;
}

/* Writes the stage's output to output `out` of o (NULL: stdout). */
static HloError *emit_stage(const Model *md, const char *stage, const CgOptions *opts,
                            const HloDotOptions *dot, Outputs *o, const char *out) {
  char *text = NULL;
  size_t len = 0;
  HloError *e = NULL;
  if (!strcmp(stage, "hlo")) {
    text = hlo_module_to_string(md->m);
  } else if (!strcmp(stage, "dot") || !strcmp(stage, "svg") || !strcmp(stage, "png")) {
    text = hlo_module_to_dot(md->m, dot);
    if (strcmp(stage, "dot")) {
      e = render(stage, text, o, out);
      free(text);
      return e;
    }
  } else if (!strcmp(stage, "kir")) {
    e = pipeline_emit_kir(md, opts, &text);
  } else if (!strcmp(stage, "mlir")) {
    e = pipeline_emit_mlir(md, opts, &text);
  } else {
    /* The device code alone for a GPU: its assembly is the PTX, and
     * neither the host side nor ptxas's cubin is printed. */
    CgOptions device = *opts;
    device.device_only = true;
    CgProgram *prog = NULL;
    e = pipeline_codegen(md, &device, &prog);
    if (!e)
      e = cg_program_emit(prog, !strcmp(stage, "llvm") ? CG_FILE_LLVM_IR : CG_FILE_ASSEMBLY,
                          &text, &len);
    cg_program_free(prog);
  }
  if (!e) {
    if (!len) len = strlen(text);
    if (out) e = outputs_write_bytes(o, out, text, len);
    else if (fwrite(text, 1, len, stdout) != len || fflush(stdout))
      e = hlo_error("cannot write to stdout: %s", strerror(errno));
  }
  free(text);
  return e;
}

/* Graphs with more instructions than this (fused ones counted) draw each
 * fusion as one box: a few hundred boxes still render legibly in seconds. */
#define COLLAPSE_ABOVE 400

/* --expand NAME (repeatable) and --expand-all. */
typedef struct DotFlags {
  const char *names[64];
  int n;
  bool all;
} DotFlags;

static int take_expand(const char *name, const char *value, void *ctx) {
  DotFlags *f = ctx;
  if (f->n == (int)(sizeof f->names / sizeof *f->names))
    return usage_error("dump: too many --expand fusions (at most 64; %s)", value);
  f->names[f->n++] = value;
  return 0;
}

int cmd_dump(int argc, char **argv) {
  const char *model = NULL, *stage = "hlo", *out = NULL;
  CgOptions opts = {0};
  PipelineFlags flags = {0};
  DotFlags dot = {0};
  const CliOption options[] = {
      {"--stage", &stage},     {"-o", &out},
      {"--name", &opts.name},  {"--target", &opts.target},     {"--cpu", &opts.cpu},
      {"--features", &opts.features}, {"--expand", .take = take_expand},
      {"--expand-all", .flag = &dot.all}, {"--gpu-tf32", .flag = &opts.gpu_tf32},
      {"--gpu-wgmma", .flag = &opts.gpu_wgmma}, {NULL},
  };
  int usage = cli_parse("dump", argc, argv, options, &dot, &flags, &model);
  if (usage) return usage;
  if (!is_stage(stage))
    return usage_error("dump: unknown stage '%s' (stages: hlo, dot, svg, png, kir, mlir, llvm, "
                       "asm, ptx)",
                       stage);
  if (!strcmp(stage, "ptx")) {
    if (opts.target && strcmp(opts.target, "nvptx64"))
      return usage_error("dump: --stage ptx is the PTX of --target nvptx64, not of '%s'",
                         opts.target);
    opts.target = "nvptx64";
  }
  if (opts.name && !is_identifier(opts.name))
    return usage_error("--name '%s' is not a C identifier", opts.name);
  /* stdout may carry the dump itself */
  int bad = pipeline_flags_finish(&flags, stderr, &opts);
  if (bad) return bad;
  Model md;
  CliClock clock;
  cli_clock_start(&clock, &flags);
  HloError *e = pipeline_load_file(model, &flags.source, &md);
  cli_stage(&clock, "load %s", model);
  if (!e) e = pipeline_optimize(&md, &flags.opts, &opts);
  cli_stage(&clock, "%s", flags.opts.no_passes ? "verify (--O0: no passes)" : "passes");
  Outputs outputs = {0};
  HloDotOptions dot_options = {.collapse_above = dot.all ? 0 : COLLAPSE_ABOVE,
                               .expand = dot.names, .nexpand = dot.n};
  if (!e) e = emit_stage(&md, stage, &opts, &dot_options, &outputs, out);
  if (!e) e = outputs_commit(&outputs);
  cli_stage(&clock, "dump %s", stage);
  outputs_discard(&outputs);
  model_free(&md);
  return e ? report(e) : EXIT_SUCCESS;
}
