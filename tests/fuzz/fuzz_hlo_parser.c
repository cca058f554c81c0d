/*
 * fuzz_hlo_parser.c — libFuzzer harness for the HLO text parser and printer.
 *
 * Any input must parse or fail with a message, without crashing, leaking
 * or hanging (AddressSanitizer and libFuzzer's limits watch that).  What
 * parses must print to text that parses again and prints the same bytes:
 * the fixed point test_hlo_text.c checks on hand-written cases, here on
 * whatever the fuzzer makes.  A broken fixed point aborts so that libFuzzer
 * saves the input.
 *
 * Build: configure the source root with CC=clang-22 -DHLOC_FUZZ=ON; run
 *   fuzz_hlo_parser -dict=tests/fuzz/hlo_parser.dict -max_len=4096 CORPUS_DIR
 * with a scratch CORPUS_DIR seeded from tests/fuzz/corpus/hlo_parser (scripts/fuzz.sh does this).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  HloModule *m = NULL;
  HloError *e = hlo_parse((const char *)data, size, "fuzz", &m);
  if (e) {
    hlo_error_free(e);
    return 0;
  }
  char *once = hlo_module_to_string(m);
  HloModule *again = NULL;
  e = hlo_parse(once, strlen(once), "printed", &again);
  if (e) {
    fprintf(stderr, "printed module does not parse: %s\n%s", hlo_error_message(e), once);
    abort();
  }
  char *twice = hlo_module_to_string(again);
  if (strcmp(once, twice)) {
    fprintf(stderr, "print is not a fixed point:\n%s\n---\n%s", once, twice);
    abort();
  }
  free(once);
  free(twice);
  hlo_module_free(again);
  hlo_module_free(m);
  return 0;
}
