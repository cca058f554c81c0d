/*
 * check_util.h — helpers shared by the Check suites: reading files and
 * testdata, parsing HLO text inside a test, comparing literals with stated
 * tolerances, and running a suite.
 */
#ifndef HLOC_TESTS_CHECK_UTIL_H
#define HLOC_TESTS_CHECK_UTIL_H

#include <check.h>
#include <sys/types.h>

#include "hlo.h"

/* Reads a whole file (NUL-terminated, malloc'd); aborts the test when it is
 * missing. */
char *ck_read_file(const char *path, size_t *len);
/* Writes text to DIR/NAME, its path into path[0..len); fails the test
 * when it cannot. */
void ck_write_file(const char *dir, const char *name, const char *text, char *path, size_t len);
/* Parses HLO text; fails the test with the parser's message on error. */
HloModule *ck_parse(const char *text);
/* Parses and verifies; fails the test with the message on error. */
HloModule *ck_parse_verified(const char *text);
/* Reads a .npy file into a heap literal; fails the test on error. */
HloLiteral *ck_read_npy(const char *path);
/* Evaluates m on args; fails the test on error. */
HloLiteral *ck_evaluate(const HloModule *m, HloLiteral *const *args, int nargs);

/* A module whose kernels are large enough for codegen to split across
 * threads: a 256x256x256 matmul with a tanh, and a 3x3 convolution of 16
 * to 32 channels over 32x32 (the thread tests of the driver suites). */
extern const char ck_threads_hlo[];

/* A module of every opcode the first lowering step expands into plain HLO
 * (acos…sinh in three float types, reduce-precision, a map whose scalar
 * computation holds a conditional and a call, real and imag of real
 * values): the pass test and the
 * codegen test both check it against the evaluator. */
extern const char ck_expanded_ops_hlo[];

/* Buffers and the custom-calls XLA makes and reads them with: Pin and
 * Unpin (with a layout change), a buffer parameter carried through a
 * while loop whose body unpins, computes and pins again, CreateBuffer and
 * AllocateBuffer (zeros) and LayoutConstraint (an identity): the pass
 * test and the codegen test both check it against the evaluator. */
extern const char ck_buffers_hlo[];

/* Compares two array literals of equal shape: each element must satisfy
 * |got - want| <= atol + rtol * |want| (NaN matches NaN, infinities must
 * match exactly).  On mismatch writes the first bad index and values into
 * msg and returns false. */
bool ck_allclose(const HloLiteral *got, const HloLiteral *want, double atol, double rtol,
                 char *msg, size_t msglen);

/* One case of the JAX corpus, testdata/hlo/MANIFEST: NAME.hlo (and
 * NAME.opt.hlo) with inputs NAME.in<k>.npy and outputs NAME.out<k>.npy;
 * nin/nout are -1 for parse-only cases. */
typedef struct CkCorpusCase {
  char name[128];
  int nin, nout;
  double atol, rtol;
} CkCorpusCase;

/* The corpus cases, read once per process; returns their count. */
int ck_hlo_corpus(const CkCorpusCase **cases);

/* The steps at which the corpus tests meet a module: hlo_verify, the
 * evaluator on the module as written, the pass pipeline and the
 * evaluator after it, and cg_compile (with the JIT) after the pipeline or
 * (_O0) without it. */
typedef enum {
  CK_AT_VERIFY,
  CK_AT_EVAL,
  CK_AT_PIPELINE,
  CK_AT_COMPILE,
  CK_AT_COMPILE_O0,
} CkStep;

/* Corpus modules hloc refuses on purpose for now (an op not built yet),
 * listed in check_util.c with the exact message of each step that stops
 * them.  For `file` (NAME.hlo or NAME.opt.hlo) at `step`: returns -1
 * when nothing is listed (the caller checks the module as usual), 0 when
 * e is the listed refusal, and 1, with a line appended to report, when it
 * is not, or when the module passes the step (then the entry goes). */
int ck_corpus_refusal(const char *file, CkStep step, const HloError *e, HloStr *report);
/* The message listed for file at step, or NULL. */
const char *ck_corpus_listed(const char *file, CkStep step);

/* Runs a shell command line with stderr joined to stdout; *out (malloc'd)
 * receives what it printed, or it is discarded when out is NULL.  Returns
 * the exit status (-1 when killed by a signal). */
int ck_sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Starts `sh -c COMMAND` without waiting for it; a command that ends in
 * `exec PROGRAM …` makes the returned pid PROGRAM's (and `$$` names it
 * beforehand, as in `mkfifo out.tmp.$$ && exec hloc …`). */
pid_t ck_sh_start(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Polls every 10 ms, for up to `seconds`, until `path` exists; fails the
 * test, killing `pid`, when it does not or when pid ends first. */
void ck_wait_for_file(pid_t pid, const char *path, double seconds);
/* Waits up to `seconds` for pid to end; returns the signal that ended
 * it, or 0 when it exited (failing the test, killing it, on time-out). */
int ck_wait_signal(pid_t pid, double seconds);
/* An environment variable CTest sets for the suite; fails the test when
 * it is missing. */
const char *ck_env(const char *name);
/* The number of entries in a directory. */
int ck_count_files(const char *dir);

/* CUDA's ptxas ($CUDA_HOME/bin/ptxas, /usr/local/cuda/bin/ptxas, or on
 * PATH), or NULL where CUDA is not installed (static storage). */
const char *ck_ptxas(void);
/* Assembles every NAME.ptx file of dir with `ptxas -arch=sm`, several
 * processes at once (ptxas takes one module per run and dominates the
 * GPU corpus tests when run one after another).  Returns how many it
 * accepted; *report (malloc'd, NULL when none) gets a line per refused
 * file with ptxas's message. */
int ck_ptxas_dir(const char *ptxas, const char *dir, const char *sm, char **report);

/* FileCheck in small, for printed IR.  Each line of `pattern` must match
 * a line of `text`, in order, each after the last one matched.  In a
 * pattern line, "%name" (a letter first) matches a value "%N" of the text
 * and binds name to it, so later uses must be the same value: tests check
 * structure, not numbering; "..." matches any run of characters; spaces
 * match as written.  A pattern line "NOT: P" says no line between the
 * previous and the next matched line matches P (or up to the end).
 * Returns NULL, or a malloc'd account of the first line that did not
 * match and where the search started. */
char *ck_match(const char *text, const char *pattern);
/* Fails the test with ck_match's account when text does not match. */
void ck_assert_match(const char *text, const char *pattern);

/* Runs a suite with CK_NORMAL output; returns the process exit status. */
int ck_run_suite(Suite *s);

#endif
