/*
 * main.c — the `hloc` command.
 *
 *   hloc compile MODEL [--config CFG] [--name N] [-o PREFIX] [--target T]
 *                [--cpu C] [--features F] [--emit obj,header,lib,so,exe]
 *   hloc run MODEL [--config CFG] [--interpret] [--cpu C] [--features F]
 *            [--input [NAME=]FILE.npy]... [--output-dir DIR] [--print]
 *            [--expect FILE.npy]... [--atol A] [--rtol R]
 *   hloc dump MODEL [--config CFG] [--stage hlo|mlir|llvm|asm] [--name N]
 *             [--target T] [--cpu C] [--features F]
 *   hloc ops [--markdown]
 *   hloc version
 *
 * MODEL is HLO text (.hlo) or a frozen TensorFlow GraphDef (.pb, .pbtxt) with
 * a tfcompile config (--config).  Every model is verified before use; for a
 * GraphDef the config's feed and fetch names name the compiled function's
 * arguments and results.  `compile` lives in compile.c.
 *
 * `run` compiles the model in process (cg_compile, cg_jit) and runs it
 * through its hloc_program descriptor, or evaluates it with the reference
 * interpreter (--interpret); both then share everything else.  Results are
 * written as one .npy per result into DIR (default "."): for a GraphDef,
 * FETCH.npy named after each config fetch; for HLO, a tuple root gives
 * out0.npy, out1.npy, … (nested tuples flattened depth first) and an array
 * root out0.npy.  Nothing is written unless every result was computed.
 *
 * Exit status: 0 on success, 1 when the model, an input or an output is
 * rejected, 2 for a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <llvm-c/Core.h>

#include "cli.h"
#include "codegen.h"
#include "frontend.h"
#include "hlo.h"
#include "literal_io.h"

int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "hloc: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nrun 'hloc help' for usage\n");
  return EXIT_USAGE;
}

int report(HloError *e) {
  fprintf(stderr, "hloc: error: %s\n", hlo_error_message(e));
  hlo_error_free(e);
  return EXIT_FAILURE;
}

static bool has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

bool is_identifier(const char *s) {
  if (!*s || (*s >= '0' && *s <= '9')) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '_'))
      return false;
  return true;
}

/* --- models ------------------------------------------------------------- */

void model_free(Model *md) {
  hlo_module_free(md->m);
  for (int i = 0; i < md->nfeeds; i++) free(md->feeds[i]);
  for (int i = 0; i < md->nfetches; i++) free(md->fetches[i]);
  free(md->feeds);
  free(md->fetches);
  memset(md, 0, sizeof *md);
}

void model_names(const Model *md, CgOptions *o) {
  o->arg_names = (const char *const *)md->feeds;
  o->narg_names = md->nfeeds;
  o->result_names = (const char *const *)md->fetches;
  o->nresult_names = md->nfetches;
}

static HloError *load_graphdef(const char *path, const char *config, Model *md) {
  if (!config)
    return hlo_error("%s: a TensorFlow GraphDef needs its tfcompile config (--config "
                     "FILE.pbtxt) to know the feeds and fetches",
                     path);
  TfGraph *g = NULL;
  HloError *e = tf_graph_load(path, config, &g);
  if (!e) e = tf_import(g, "model", &md->m);
  if (!e) {
    md->nfeeds = g->nfeeds;
    md->feeds = calloc((size_t)g->nfeeds + 1, sizeof(char *));
    for (int i = 0; i < g->nfeeds; i++) md->feeds[i] = strdup(g->feeds[i].name);
    md->nfetches = g->nfetches;
    md->fetches = calloc((size_t)g->nfetches + 1, sizeof(char *));
    for (int i = 0; i < g->nfetches; i++) md->fetches[i] = strdup(g->fetches[i].name);
  }
  if (g) tf_graph_free(g);
  return e;
}

HloError *load_model(const char *path, const char *config, Model *md) {
  memset(md, 0, sizeof *md);
  if (has_suffix(path, ".pb") || has_suffix(path, ".pbtxt")) return load_graphdef(path, config, md);
  if (!has_suffix(path, ".hlo") && !has_suffix(path, ".txt"))
    return hlo_error("%s: unknown model format (expected HLO text '.hlo', or a TensorFlow "
                     "GraphDef '.pb'/'.pbtxt' with --config)",
                     path);
  if (config) return hlo_error("%s: --config applies to TensorFlow GraphDefs only", path);
  HloError *e = hlo_parse_file(path, &md->m);
  if (e) return e;
  if ((e = hlo_verify(md->m))) {
    model_free(md);
    return hlo_error_wrap(e, "%s", path);
  }
  return NULL;
}

/* A file name for a fetch: characters outside [A-Za-z0-9_.-] become '_'. */
static char *file_name_for(const char *name) {
  char *r = strdup(name);
  for (char *p = r; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '_' || *p == '.' || *p == '-'))
      *p = '_';
  return r;
}

static bool names_unique(char *const *names, int n) {
  for (int i = 0; i < n; i++)
    for (int k = 0; k < i; k++)
      if (!strcmp(names[i], names[k])) return false;
  return true;
}

/* The file names (without ".npy") of a model's n results: its fetches' for
 * a GraphDef, unless two would collide; else out0, out1, …  Malloc'd. */
static char **result_file_names(const Model *md, int n) {
  char **names = calloc((size_t)n + 1, sizeof *names);
  for (int i = 0; i < n && md->nfetches == n; i++) names[i] = file_name_for(md->fetches[i]);
  if (md->nfetches == n && names_unique(names, n)) return names;
  for (int i = 0; i < n; i++) {
    char out[32];
    snprintf(out, sizeof out, "out%d", i);
    free(names[i]);
    names[i] = strdup(out);
  }
  return names;
}

/* The value of option argv[*i], advancing *i; NULL when it is missing. */
static const char *option_value(int argc, char **argv, int *i) {
  return *i + 1 < argc ? argv[++*i] : NULL;
}

/* --- run ---------------------------------------------------------------- */

typedef struct RunInput {
  const char *name; /* NULL: positional */
  const char *path;
} RunInput;

/* Matches inputs to the entry's parameters: by parameter name, by "argN" or
 * "N", or positionally in command-line order. */
static HloError *bind_inputs(const HloComputation *entry, const RunInput *inputs, int ninputs,
                             HloLiteral **args) {
  int next_positional = 0;
  for (int i = 0; i < ninputs; i++) {
    int index = -1;
    if (inputs[i].name) {
      for (int p = 0; p < entry->nparams; p++)
        if (entry->params[p] && !strcmp(entry->params[p]->name, inputs[i].name)) index = p;
      if (index < 0) {
        char *end;
        const char *num = inputs[i].name;
        if (!strncmp(num, "arg", 3)) num += 3;
        long v = strtol(num, &end, 10);
        if (*num && !*end && v >= 0 && v < entry->nparams) index = (int)v;
      }
      if (index < 0) {
        HloStr names = {0};
        for (int p = 0; p < entry->nparams; p++)
          hlo_str_printf(&names, "%s%s", p ? ", " : "", entry->params[p]->name);
        HloError *e = hlo_error("--input %s: the model has no parameter of that name "
                                "(parameters: %s)",
                                inputs[i].name, names.buf ? names.buf : "none");
        free(names.buf);
        return e;
      }
    } else {
      while (next_positional < entry->nparams && args[next_positional]) next_positional++;
      index = next_positional;
      if (index >= entry->nparams)
        return hlo_error("--input %s: the model takes only %d parameter(s)", inputs[i].path,
                         entry->nparams);
    }
    if (args[index])
      return hlo_error("--input %s: parameter %d (%s) is given twice", inputs[i].path, index,
                       entry->params[index]->name);
    HloError *e = hloc_read_npy(inputs[i].path, &args[index]);
    if (e) return e;
    const HloShape *want = &entry->params[index]->shape;
    if (!hlo_shape_equal(&args[index]->shape, want, false)) {
      char *g = hlo_shape_to_string(&args[index]->shape), *w = hlo_shape_to_string(want);
      e = hlo_error("--input %s: array is %s but parameter %d (%s) is %s", inputs[i].path, g,
                    index, entry->params[index]->name, w);
      free(g);
      free(w);
      return e;
    }
  }
  for (int p = 0; p < entry->nparams; p++)
    if (!args[p])
      return hlo_error("no --input for parameter %d (%s)", p, entry->params[p]->name);
  return NULL;
}

static void flatten(HloLiteral *l, HloLiteral **flat, int *n) {
  if (l->shape.type == HLO_TUPLE) {
    for (int i = 0; i < l->shape.ntuple; i++) flatten(l->elems[i], flat, n);
    return;
  }
  if (flat) flat[*n] = l;
  (*n)++;
}

static HloError *make_dir(const char *dir) {
  if (mkdir(dir, 0777) && errno != EEXIST)
    return hlo_error("--output-dir %s: %s", dir, strerror(errno));
  struct stat st;
  if (stat(dir, &st) || !S_ISDIR(st.st_mode))
    return hlo_error("--output-dir %s: not a directory", dir);
  return NULL;
}

/* Prints an array numpy-style, eliding the middle of long dimensions. */
static void print_array(FILE *f, const HloLiteral *l, int dim, int64_t offset,
                        const int64_t *strides) {
  const HloShape *s = &l->shape;
  if (dim == s->rank) {
    if (hlo_type_is_float(s->type)) fprintf(f, "%.6g", hlo_literal_get_f64(l, offset));
    else if (s->type == HLO_PRED) fprintf(f, "%s", hlo_literal_get_s64(l, offset) ? "true" : "false");
    else if (s->type == HLO_U64) fprintf(f, "%llu", (unsigned long long)hlo_literal_get_s64(l, offset));
    else fprintf(f, "%lld", (long long)hlo_literal_get_s64(l, offset));
    return;
  }
  int64_t n = s->dims[dim], edge = dim == s->rank - 1 ? 5 : 3;
  fputc('[', f);
  for (int64_t i = 0; i < n; i++) {
    if (n > 2 * edge && i == edge) {
      fprintf(f, "..., ");
      i = n - edge;
    }
    print_array(f, l, dim + 1, offset + i * strides[dim], strides);
    if (i + 1 < n) fputs(dim == s->rank - 1 ? ", " : ",\n  ", f);
  }
  fputc(']', f);
}

/* Compares a result with an expected array: |got - want| <= atol + rtol *
 * |want| elementwise (NaN matches NaN).  Writes the verdict to stdout. */
static bool check_expected(const char *name, const HloLiteral *got, const HloLiteral *want,
                           double atol, double rtol) {
  if (!hlo_shape_equal(&got->shape, &want->shape, false)) {
    char *g = hlo_shape_to_string(&got->shape), *w = hlo_shape_to_string(&want->shape);
    printf("%s: MISMATCH: result is %s, expected %s\n", name, g, w);
    free(g);
    free(w);
    return false;
  }
  double worst = 0;
  int64_t bad = -1, n = hlo_shape_elements(&got->shape);
  for (int64_t i = 0; i < n; i++) {
    double g = hlo_literal_get_f64(got, i), w = hlo_literal_get_f64(want, i);
    if (g != g && w != w) continue;
    double d = g > w ? g - w : w - g;
    if (!(d <= atol + rtol * (w < 0 ? -w : w)) && bad < 0) bad = i;
    if (d > worst || d != d) worst = d;
  }
  if (bad >= 0) {
    printf("%s: MISMATCH at element %lld: %.9g, expected %.9g (atol %g, rtol %g)\n", name,
           (long long)bad, hlo_literal_get_f64(got, bad), hlo_literal_get_f64(want, bad), atol,
           rtol);
    return false;
  }
  printf("%s: matches the expected output (max abs difference %.3g)\n", name, worst);
  return true;
}

/* Compiles the model for this machine, loads it and runs it on args
 * through its descriptor.  *result is a tuple of the flattened results. */
static HloError *run_native(const Model *md, const CgOptions *opts, HloLiteral **args,
                            HloLiteral **result) {
  CgProgram *prog = NULL;
  CgJit *jit = NULL;
  HloError *e = cg_compile(md->m, opts, &prog);
  if (!e) e = cg_jit(prog, &jit);
  cg_program_free(prog);
  if (e) return e;
  const hloc_program *p = cg_jit_program(jit);
  HLO_CHECK(p->num_args == md->m->entry->nparams);
  HloLiteral **results = calloc((size_t)p->num_results + 1, sizeof *results);
  void **buffers = calloc((size_t)(p->num_args + p->num_results) + 1, sizeof *buffers);
  for (int a = 0; a < p->num_args; a++) buffers[a] = args[a]->data;
  for (int r = 0; r < p->num_results; r++) {
    const hloc_buffer_info *b = &p->results[r];
    HloShape s = hlo_shape_array(hloc_type_from_dtype((RtDtype)b->dtype), b->rank, b->dims);
    results[r] = hlo_literal_new(&s);
    buffers[p->num_args + r] = results[r]->data;
  }
  int status = hloc_program_run(p, buffers);
  if (status) e = hlo_error("the compiled model failed (status %d)", status);
  *result = hlo_literal_tuple(results, p->num_results);
  free(results);
  free(buffers);
  cg_jit_free(jit);
  return e;
}

static int cmd_run(int argc, char **argv) {
  const char *model = NULL, *config = NULL, *outdir = ".";
  bool interpret = false, print = false;
  double atol = 1e-5, rtol = 1e-5;
  CgOptions opts = {0};
  RunInput *inputs = calloc((size_t)argc + 1, sizeof *inputs);
  const char **expect = calloc((size_t)argc + 1, sizeof *expect);
  int ninputs = 0, nexpect = 0, rc = EXIT_FAILURE, bad = 0;
  for (int i = 0; i < argc && !bad; i++) {
    const char *a = argv[i], *v;
    if (!strcmp(a, "--interpret")) {
      interpret = true;
    } else if (!strcmp(a, "--print")) {
      print = true;
    } else if (a[0] != '-') {
      if (model) bad = usage_error("run: more than one model given ('%s')", a);
      model = a;
    } else if (strcmp(a, "--expect") && strcmp(a, "--atol") && strcmp(a, "--rtol") &&
               strcmp(a, "--input") && strcmp(a, "--output-dir") && strcmp(a, "--config") &&
               strcmp(a, "--cpu") && strcmp(a, "--features")) {
      bad = usage_error("run: unknown option '%s'", a);
    } else if (!(v = option_value(argc, argv, &i))) {
      bad = usage_error("%s needs a value", a);
    } else if (!strcmp(a, "--expect")) {
      expect[nexpect++] = v;
    } else if (!strcmp(a, "--atol") || !strcmp(a, "--rtol")) {
      char *end;
      double x = strtod(v, &end);
      if (*end || end == v || x < 0) bad = usage_error("bad tolerance '%s'", v);
      else if (!strcmp(a, "--atol")) atol = x;
      else rtol = x;
    } else if (!strcmp(a, "--output-dir")) {
      outdir = v;
    } else if (!strcmp(a, "--config")) {
      config = v;
    } else if (!strcmp(a, "--cpu")) {
      opts.cpu = v;
    } else if (!strcmp(a, "--features")) {
      opts.features = v;
    } else {
      const char *eq = strchr(v, '=');
      inputs[ninputs].name = eq ? strndup(v, (size_t)(eq - v)) : NULL;
      inputs[ninputs].path = eq ? eq + 1 : v;
      ninputs++;
    }
  }
  Model md = {0};
  HloLiteral **args = NULL, *result = NULL, **flat = NULL;
  HloError *e = NULL;
  if (!bad && !model) bad = usage_error("run: no model given%s", "");
  if (bad) {
    rc = bad;
    goto done;
  }
  if ((e = load_model(model, config, &md))) goto fail;
  model_names(&md, &opts);
  HloComputation *entry = md.m->entry;
  args = calloc((size_t)entry->nparams + 1, sizeof *args);
  if ((e = bind_inputs(entry, inputs, ninputs, args))) goto fail;
  if (interpret) e = hlo_evaluate(md.m, args, entry->nparams, &result);
  else e = run_native(&md, &opts, args, &result);
  if (e || (e = make_dir(outdir))) goto fail;
  int nflat = 0;
  flatten(result, NULL, &nflat);
  flat = calloc((size_t)nflat + 1, sizeof *flat);
  nflat = 0;
  flatten(result, flat, &nflat);
  if (nexpect > nflat) {
    e = hlo_error("%d --expect files given but the model has %d result(s)", nexpect, nflat);
    goto fail;
  }
  char **names = result_file_names(&md, nflat);
  for (int i = 0; i < nflat && !e; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.npy", outdir, names[i]);
    e = hloc_write_npy(path, flat[i]);
    if (!e && print) {
      int64_t strides[HLO_MAX_RANK];
      hlo_shape_strides(&flat[i]->shape, strides);
      char *sh = hlo_shape_to_string(&flat[i]->shape);
      printf("%s: %s\n  ", names[i], sh);
      free(sh);
      print_array(stdout, flat[i], 0, 0, strides);
      printf("\n");
    }
  }
  rc = EXIT_SUCCESS;
  for (int i = 0; i < nexpect && !e; i++) {
    HloLiteral *want = NULL;
    if ((e = hloc_read_npy(expect[i], &want))) break;
    if (!check_expected(names[i], flat[i], want, atol, rtol)) rc = EXIT_FAILURE;
    hlo_literal_free(want);
  }
  for (int i = 0; i < nflat; i++) free(names[i]);
  free(names);
  if (!e) goto done;
fail:
  rc = report(e);
done:
  if (args && md.m)
    for (int p = 0; p < md.m->entry->nparams; p++) hlo_literal_free(args[p]);
  free(args);
  free(flat);
  hlo_literal_free(result);
  model_free(&md);
  for (int i = 0; i < ninputs; i++) free((char *)inputs[i].name);
  free(inputs);
  free(expect);
  return rc;
}

/* --- dump --------------------------------------------------------------- */

/* Prints the model at a stage of the pipeline: the verified HLO, the MLIR
 * codegen builds, or the optimized LLVM IR or assembly for the target. */
static int cmd_dump(int argc, char **argv) {
  const char *model = NULL, *config = NULL, *stage = "hlo";
  CgOptions opts = {0};
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v;
    if (a[0] != '-') {
      if (model) return usage_error("dump: more than one model given ('%s')", a);
      model = a;
      continue;
    }
    const char **slot = !strcmp(a, "--stage")      ? &stage
                        : !strcmp(a, "--config")   ? &config
                        : !strcmp(a, "--name")     ? &opts.name
                        : !strcmp(a, "--target")   ? &opts.target
                        : !strcmp(a, "--cpu")      ? &opts.cpu
                        : !strcmp(a, "--features") ? &opts.features
                                                   : NULL;
    if (!slot) return usage_error("dump: unknown option '%s'", a);
    if (!(v = option_value(argc, argv, &i))) return usage_error("%s needs a value", a);
    *slot = v;
  }
  if (!model) return usage_error("dump: no model given%s", "");
  if (strcmp(stage, "hlo") && strcmp(stage, "mlir") && strcmp(stage, "llvm") &&
      strcmp(stage, "asm"))
    return usage_error("dump: unknown stage '%s' (stages: hlo, mlir, llvm, asm)", stage);
  if (opts.name && !is_identifier(opts.name))
    return usage_error("--name '%s' is not a C identifier", opts.name);
  Model md;
  HloError *e = load_model(model, config, &md);
  if (e) return report(e);
  model_names(&md, &opts);
  char *text = NULL;
  size_t len = 0;
  if (!strcmp(stage, "hlo")) {
    text = hlo_module_to_string(md.m);
  } else if (!strcmp(stage, "mlir")) {
    e = cg_emit_mlir(md.m, &opts, &text);
  } else {
    CgProgram *prog = NULL;
    e = cg_compile(md.m, &opts, &prog);
    if (!e)
      e = cg_program_emit(prog, !strcmp(stage, "llvm") ? CG_FILE_LLVM_IR : CG_FILE_ASSEMBLY,
                          &text, &len);
    cg_program_free(prog);
  }
  model_free(&md);
  if (e) return report(e);
  fputs(text, stdout);
  free(text);
  return EXIT_SUCCESS;
}

/* --- ops ------------------------------------------------------------------ */

/* `hloc ops --markdown` writes docs/ops.md, so the table cannot drift from
 * the lowering tables it is generated from. */
static int cmd_ops(int argc, char **argv) {
  bool markdown = false;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--markdown")) markdown = true;
    else return usage_error("ops: unknown option '%s'", argv[i]);
  }
  int n;
  const TfOpInfo *ops = tf_supported_ops(&n);
  if (!markdown) {
    for (int i = 0; i < n; i++) printf("%s\n", ops[i].op);
    return EXIT_SUCCESS;
  }
  printf("# Supported TensorFlow ops\n\n"
         "Generated by `hloc ops --markdown` from the frontend's lowering tables; "
         "a test keeps this file equal to that output.\n\n"
         "%d ops. Every op also accepts the `T`-style type attributes TensorFlow gives it; "
         "inputs marked constant must be known at compile time (a `Const`, or a value "
         "computed from constants and static shapes only).\n\n"
         "| op | attributes | notes |\n|---|---|---|\n",
         n);
  for (int i = 0; i < n; i++)
    printf("| %s | %s | %s |\n", ops[i].op, ops[i].attrs, ops[i].notes);
  return EXIT_SUCCESS;
}

/* --- main ---------------------------------------------------------------- */

static int cmd_version(int argc, char **argv) {
  unsigned major, minor, patch;
  LLVMGetVersion(&major, &minor, &patch);
  printf("hloc 0.1.0 (LLVM %u.%u.%u)\n", major, minor, patch);
  return EXIT_SUCCESS;
}

static int cmd_help(int argc, char **argv);

static const struct {
  const char *name;
  int (*fn)(int, char **);
  const char *help;
} commands[] = {
    {"compile", cmd_compile,
     "compile MODEL [--config CFG] [--name N] [-o PREFIX] [--target T] [--cpu C]\n"
     "          [--features F] [--emit obj,header,lib,so,exe]\n"
     "      compile MODEL to native code: PREFIX.o and PREFIX.h (the default),\n"
     "      libPREFIX.a, libPREFIX.so, or the executable PREFIX; N (default \"model\")\n"
     "      prefixes every symbol, PREFIX defaults to N"},
    {"run", cmd_run,
     "run MODEL [--config CFG] [--interpret] [--cpu C] [--features F]\n"
     "          [--input [NAME=]FILE.npy]... [--output-dir DIR]\n"
     "          [--print] [--expect FILE.npy]... [--atol A] [--rtol R]\n"
     "      compile MODEL in process (or evaluate it with the reference interpreter:\n"
     "      --interpret) and run it on the inputs; writes one .npy per result into\n"
     "      DIR, prints them with --print, compares them in order with --expect files"},
    {"dump", cmd_dump,
     "dump MODEL [--config CFG] [--stage hlo|mlir|llvm|asm] [--name N] [--target T]\n"
     "          [--cpu C] [--features F]\n"
     "      print the verified HLO module, the MLIR codegen builds, or the optimized\n"
     "      LLVM IR or assembly"},
    {"ops", cmd_ops, "ops [--markdown]\n      list the supported TensorFlow ops"},
    {"version", cmd_version, "version\n      print hloc's and LLVM's versions"},
    {"help", cmd_help, "help\n      this text"},
};

static int cmd_help(int argc, char **argv) {
  printf("usage: hloc COMMAND ...\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    printf("  %s\n", commands[i].help);
  printf("\nMODEL is HLO text (.hlo) or a frozen TensorFlow GraphDef (.pb, .pbtxt) whose\n"
         "tfcompile config (feeds with static shapes, fetches) --config names.\n"
         "Targets: x86_64, aarch64 (cross: obj and header only); CPUs and features are\n"
         "LLVM's names, listed when a name is not known.\n");
  return EXIT_SUCCESS;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    cmd_help(0, NULL);
    return EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--version")) return cmd_version(0, NULL);
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return cmd_help(0, NULL);
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 2, argv + 2);
  return usage_error("unknown command '%s'", argv[1]);
}
