/*
 * fuzz_npy.c — libFuzzer harness for the .npy reader (runtime/npy.c) and
 * the driver's conversion to literals (driver/literal_io.c).
 *
 * Each input is parsed from memory (rt_npy_parse) and, written to a file
 * as is, read by path into a literal (hloc_read_npy_as): the two must agree
 * on accepting it and on the bytes.  What is accepted is written back
 * (rt_npy_write) and must read back identical.  Everything else must be
 * an error with a message: no crash, leak, or read past the input.
 * Files go to $TMPDIR (default /tmp), named after the process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hlo.h"
#include "hloc_runtime.h"
#include "literal_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char raw_path[512], out_path[512];

static void paths(void) {
  if (raw_path[0]) return;
  const char *dir = getenv("TMPDIR");
  if (!dir || !*dir) dir = "/tmp";
  snprintf(raw_path, sizeof raw_path, "%s/fuzz_npy.%ld.in.npy", dir, (long)getpid());
  snprintf(out_path, sizeof out_path, "%s/fuzz_npy.%ld.out.npy", dir, (long)getpid());
}

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "fuzz_npy: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  abort();
}

static bool same_array(const RtArray *a, const RtArray *b) {
  if (a->dtype != b->dtype || a->rank != b->rank || a->nbytes != b->nbytes) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return !a->nbytes || !memcmp(a->data, b->data, a->nbytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  paths();
  char err[512];
  RtArray a;
  int bad = rt_npy_parse(data, size, "fuzz.npy", &a, err, sizeof err);
  if (bad && !err[0]) fail("rt_npy_parse failed without a message", NULL);

  FILE *f = fopen(raw_path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f)) fail("cannot write", raw_path);
  HloLiteral *l = NULL;
  /* A '|V1' file as float8_e4m3fn, whose bytes are its values as they are. */
  HloError *e = hloc_read_npy_as(raw_path, HLO_F8E4M3FN, &l);
  unlink(raw_path);
  if (!bad && e) {
    /* literal_io refuses ranks the IR cannot hold; nothing else. */
    if (a.rank <= HLO_MAX_RANK) fail("hloc_read_npy_as refuses what rt_npy_parse reads",
                                     hlo_error_message(e));
  } else if (bad && !e) {
    fail("hloc_read_npy reads what rt_npy_parse refuses", err);
  } else if (!bad) {
    size_t n = hlo_shape_byte_size(&l->shape);
    if (n != a.nbytes || (n && memcmp(l->data, a.data, n)))
      fail("hloc_read_npy and rt_npy_parse disagree on the data", NULL);
  }
  hlo_error_free(e);
  hlo_literal_free(l);
  if (bad) return 0;

  if (a.nbytes != (size_t)rt_array_elements(&a) * rt_dtype_size(a.dtype))
    fail("nbytes is not elements * element size", NULL);
  if (rt_npy_write(out_path, &a, err, sizeof err)) fail("rt_npy_write", err);
  RtArray b;
  if (rt_npy_read(out_path, &b, err, sizeof err)) fail("what rt_npy_write wrote", err);
  unlink(out_path);
  if (!same_array(&a, &b)) fail("written and read back differ", NULL);
  rt_array_free(&a);
  rt_array_free(&b);
  return 0;
}
