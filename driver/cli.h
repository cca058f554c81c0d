/*
 * cli.h — what the files of the `hloc` command share: the pipeline
 * options, reporting errors with the command's exit statuses, and the
 * commands that live outside main.c.  Internal to driver/.
 */
#ifndef HLOC_DRIVER_CLI_H
#define HLOC_DRIVER_CLI_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "codegen.h"
#include "hlo.h"
#include "pipeline.h"

/* 0 success, 1 (EXIT_FAILURE) a rejected model, input or output. */
enum { EXIT_USAGE = 2 };

/* Prints "hloc: " fmt (with one string argument) and a hint; returns
 * EXIT_USAGE. */
int usage_error(const char *fmt, const char *arg);
/* Prints "hloc: error: MESSAGE", frees e; returns EXIT_FAILURE. */
int report(HloError *e);

/* The pipeline options that compile, run and dump share: --O0 (or
 * --no-passes), --dump-after PASS|all, --dump-dir DIR, --disable-pass NAME
 * (repeatable), --time-passes, --stats, -v (--verbose), and codegen's
 * --verify-kernels;
 * and where a TensorFlow model's feeds, fetches and variables come from:
 * --config CFG, --tag TAGS, --signature KEY, --input-shape NAME=D,D,...
 * (repeatable) and --checkpoint PREFIX. */
typedef struct PipelineFlags {
  PipelineOptions opts;
  ModelSource source;
  bool stats;
  bool verify_kernels;
  bool exact_conv;          /* --conv-precision exact: CgOptions.exact_winograd */
  FILE *verbose;            /* -v: stages and their times go here (stderr) */
  const char *disabled[32]; /* opts.disabled points here; no duplicates */
} PipelineFlags;

/* -v: a command's stages, one line each with its wall time, to stderr
 * ("hloc: passes  41.2 ms"); codegen's phases (kernel IR, lowering and
 * LLVM's optimization, object emission) print in between, as with
 * --time-passes.  Without -v, nothing. */
typedef struct CliClock {
  FILE *out;
  double since;
} CliClock;
void cli_clock_start(CliClock *c, const PipelineFlags *f);
/* Prints the stage that ends now (fmt with one string argument) and starts
 * the next. */
void cli_stage(CliClock *c, const char *fmt, const char *arg);

/* When argv[*i] is a pipeline option, takes it and its value (advancing
 * *i) into f and returns true; a bad value sets *bad to the usage error's
 * exit status. */
bool pipeline_flag(int argc, char **argv, int *i, PipelineFlags *f, int *bad);
/* Checks the options together once all are parsed, points the statistics
 * at `stats` (the timing table goes to stderr) and sets codegen's options
 * in cg; returns 0 or the usage error's exit status. */
int pipeline_flags_finish(PipelineFlags *f, FILE *stats, CgOptions *cg);

/* Whether s is a C identifier (what --name must be). */
bool is_identifier(const char *s);

/* One option of a command, in the table cli_parse reads: a flag sets
 * *flag; an option with a value stores it in *slot or, when it repeats or
 * must be checked, hands it to take, which returns 0 or a usage status. */
typedef struct CliOption {
  const char *name;
  const char **slot;
  bool *flag;
  int (*take)(const char *name, const char *value, void *ctx);
} CliOption;

/* Parses the arguments of command `cmd` ("compile", …): the pipeline
 * options (into *flags), the one model (the argument not starting with
 * '-'), and the options of the table (ending with a NULL name), each
 * option's value the next argument.  Returns 0 or the usage error's exit
 * status, naming the command, the option and what was wrong. */
int cli_parse(const char *cmd, int argc, char **argv, const CliOption *options, void *ctx,
              PipelineFlags *flags, const char **model);

/* What bounds `hloc run` (bound.c): --timeout and --max-iterations. */
typedef struct RunBound {
  const char *timeout_arg;        /* --timeout as written; NULL: none */
  double timeout;                 /* its seconds */
  const char *max_iterations_arg; /* --max-iterations as written; NULL: none */
  int64_t max_iterations;         /* the interpreter's while limit; 0: none */
  atomic_int cancel;              /* the flag the run polls; the watchdog sets it */
  bool watching;                  /* the fields below are live */
  bool finished;                  /* the run ended (lock) */
  pthread_t thread;               /* the watchdog */
  pthread_mutex_t lock;
  pthread_cond_t wake;            /* finished became true */
} RunBound;

/* Takes --timeout (a positive, finite number of seconds) or
 * --max-iterations (a whole number >= 1) into b; returns 0 or the usage
 * error's exit status. */
int run_bound_option(RunBound *b, const char *name, const char *value);
/* Clears the flag and, with a timeout, starts the watchdog that sets it
 * once the time has passed. */
HloError *run_bound_start(RunBound *b);
/* Stops the watchdog (when one runs) and waits for it. */
void run_bound_stop(RunBound *b);
/* "timed out after SECONDS s at WHERE". */
HloError *run_bound_timed_out(const RunBound *b, const char *where);

/* `hloc compile` (compile.c), `hloc dump` (dump.c), `hloc inspect`
 * (inspect.c). */
int cmd_compile(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
/* `hloc tfcompile` (compile.c): tfcompile's command line. */
int cmd_tfcompile(int argc, char **argv);

#endif
