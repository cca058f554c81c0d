/*
 * cli.h — what the files of the `hloc` command share: loading a model,
 * reporting errors with the command's exit statuses, and the commands
 * that live outside main.c.  Internal to driver/.
 */
#ifndef HLOC_DRIVER_CLI_H
#define HLOC_DRIVER_CLI_H

#include "codegen.h"
#include "hlo.h"

/* 0 success, 1 (EXIT_FAILURE) a rejected model, input or output. */
enum { EXIT_USAGE = 2 };

/* Prints "hloc: " fmt (with one string argument) and a hint; returns
 * EXIT_USAGE. */
int usage_error(const char *fmt, const char *arg);
/* Prints "hloc: error: MESSAGE", frees e; returns EXIT_FAILURE. */
int report(HloError *e);

/* A loaded, verified model and, for GraphDefs, the config's feed and fetch
 * names in config order (no names for HLO text). */
typedef struct Model {
  HloModule *m;
  int nfeeds, nfetches;
  char **feeds, **fetches;
} Model;

/* Loads HLO text (.hlo), or a GraphDef (.pb, .pbtxt) with its config. */
HloError *load_model(const char *path, const char *config, Model *md);
void model_free(Model *md);
/* Points o's argument and result names at the model's feeds and fetches;
 * o keeps pointing into md. */
void model_names(const Model *md, CgOptions *o);

/* Whether s is a C identifier (what --name must be). */
bool is_identifier(const char *s);

/* `hloc compile` (compile.c). */
int cmd_compile(int argc, char **argv);

#endif
