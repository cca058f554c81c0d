/*
 * main.c — the `hloc` command.
 *
 *   hloc run MODEL [--interpret] [--input [NAME=]FILE.npy]... [--output-dir DIR]
 *   hloc dump MODEL --stage hlo
 *   hloc version
 *
 * MODEL is HLO text (.hlo).  Every model is verified before use.  Results of
 * `run` are written as one .npy per result into DIR (default "."): a tuple
 * root gives out0.npy, out1.npy, … (nested tuples flattened depth first), an
 * array root gives out0.npy.  Exit status: 0 on success, 1 when the model or
 * an input is rejected, 2 for a usage error.  Nothing is written unless every
 * result was computed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <llvm-c/Core.h>

#include "hlo.h"
#include "literal_io.h"

enum { EXIT_USAGE = 2 };

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "hloc: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nrun 'hloc help' for usage\n");
  return EXIT_USAGE;
}

static int report(HloError *e) {
  fprintf(stderr, "hloc: error: %s\n", hlo_error_message(e));
  hlo_error_free(e);
  return EXIT_FAILURE;
}

static bool has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

/* Loads and verifies a model.  Only HLO text is read here; GraphDefs come
 * with the TensorFlow frontend. */
static HloError *load_model(const char *path, HloModule **out) {
  if (!has_suffix(path, ".hlo") && !has_suffix(path, ".txt"))
    return hlo_error("%s: unknown model format (expected HLO text, '.hlo')", path);
  HloModule *m = NULL;
  HloError *e = hlo_parse_file(path, &m);
  if (e) return e;
  if ((e = hlo_verify(m))) {
    hlo_module_free(m);
    return hlo_error_wrap(e, "%s", path);
  }
  *out = m;
  return NULL;
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

static int cmd_run(int argc, char **argv) {
  const char *model = NULL, *outdir = ".";
  bool interpret = false;
  RunInput *inputs = calloc((size_t)argc, sizeof *inputs);
  int ninputs = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--interpret")) {
      interpret = true;
    } else if (!strcmp(a, "--input") || !strcmp(a, "--output-dir")) {
      if (i + 1 >= argc) {
        free(inputs);
        return usage_error("%s needs a value", a);
      }
      const char *v = argv[++i];
      if (!strcmp(a, "--output-dir")) {
        outdir = v;
      } else {
        const char *eq = strchr(v, '=');
        inputs[ninputs].name = eq ? strndup(v, (size_t)(eq - v)) : NULL;
        inputs[ninputs].path = eq ? eq + 1 : v;
        ninputs++;
      }
    } else if (a[0] == '-') {
      free(inputs);
      return usage_error("run: unknown option '%s'", a);
    } else if (!model) {
      model = a;
    } else {
      free(inputs);
      return usage_error("run: more than one model given ('%s')", a);
    }
  }
  int rc = EXIT_FAILURE;
  HloModule *m = NULL;
  HloLiteral **args = NULL, *result = NULL;
  HloError *e = NULL;
  if (!model) {
    rc = usage_error("run: no model given%s", "");
    goto done;
  }
  if (!interpret) {
    e = hlo_error("run: native compilation is not available in this build yet; "
                  "pass --interpret to evaluate with the reference interpreter");
    goto fail;
  }
  if ((e = load_model(model, &m))) goto fail;
  args = calloc((size_t)m->entry->nparams + 1, sizeof *args);
  if ((e = bind_inputs(m->entry, inputs, ninputs, args))) goto fail;
  if ((e = hlo_evaluate(m, args, m->entry->nparams, &result))) goto fail;
  if ((e = make_dir(outdir))) goto fail;
  int nflat = 0;
  flatten(result, NULL, &nflat);
  HloLiteral **flat = calloc((size_t)nflat + 1, sizeof *flat);
  nflat = 0;
  flatten(result, flat, &nflat);
  for (int i = 0; i < nflat && !e; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/out%d.npy", outdir, i);
    e = hloc_write_npy(path, flat[i]);
  }
  free(flat);
  if (e) goto fail;
  rc = EXIT_SUCCESS;
  goto done;
fail:
  rc = report(e);
done:
  if (args && m)
    for (int p = 0; p < m->entry->nparams; p++) hlo_literal_free(args[p]);
  free(args);
  hlo_literal_free(result);
  hlo_module_free(m);
  for (int i = 0; i < ninputs; i++) free((char *)inputs[i].name);
  free(inputs);
  return rc;
}

/* --- dump --------------------------------------------------------------- */

static int cmd_dump(int argc, char **argv) {
  const char *model = NULL, *stage = "hlo";
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--stage")) {
      if (i + 1 >= argc) return usage_error("%s needs a value", argv[i]);
      stage = argv[++i];
    } else if (argv[i][0] == '-') {
      return usage_error("dump: unknown option '%s'", argv[i]);
    } else if (!model) {
      model = argv[i];
    } else {
      return usage_error("dump: more than one model given ('%s')", argv[i]);
    }
  }
  if (!model) return usage_error("dump: no model given%s", "");
  if (strcmp(stage, "hlo")) return usage_error("dump: unknown stage '%s' (stages: hlo)", stage);
  HloModule *m = NULL;
  HloError *e = load_model(model, &m);
  if (e) return report(e);
  char *text = hlo_module_to_string(m);
  fputs(text, stdout);
  free(text);
  hlo_module_free(m);
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
    {"run", cmd_run,
     "run MODEL --interpret [--input [NAME=]FILE.npy]... [--output-dir DIR]\n"
     "      evaluate MODEL on the inputs; writes DIR/out0.npy, out1.npy, ..."},
    {"dump", cmd_dump, "dump MODEL [--stage hlo]\n      print the verified HLO module"},
    {"version", cmd_version, "version\n      print hloc's and LLVM's versions"},
    {"help", cmd_help, "help\n      this text"},
};

static int cmd_help(int argc, char **argv) {
  printf("usage: hloc COMMAND ...\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    printf("  %s\n", commands[i].help);
  printf("\nMODEL is HLO text (.hlo).\n");
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
