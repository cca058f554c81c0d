/*
 * fuzz_bundle.c — libFuzzer harness for the checkpoint reader
 * (frontend/bundle.c), through its in-memory entry point.
 *
 * An input is a checkpoint: its first 4 bytes (little-endian) are the
 * length of the index, which follows; the rest is the one data file.  An
 * input shorter than that, or whose length runs past the end, is cut
 * (the index takes what there is).  scripts/fuzz.sh makes seeds of this
 * form from testdata/tf/checkpoints.  In the fuzz build the reader
 * computes checksums but does not insist on them, so mutations get past
 * them.
 *
 * A bundle that opens is walked completely: every entry is looked up by
 * key and read as a tensor (a partitioned one assembled from its slices)
 * and as a string; whatever fails must fail with
 * a message, and what reads must agree with the entry.  No crash, leak,
 * read outside the input, or undefined behaviour.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what) {
  fprintf(stderr, "fuzz_bundle: %s\n", what);
  abort();
}

/* Frees an error, which must carry a message. */
static void drop(HloError *e) {
  if (!e) return;
  if (!hlo_error_message(e)[0]) fail("an error without a message");
  if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "%s\n", hlo_error_message(e));
  hlo_error_free(e);
}

/* Strictly before, bytewise. */
static bool key_before(const TfBundleEntry *x, const TfBundleEntry *y) {
  size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
  int c = memcmp(x->key, y->key, n);
  return c < 0 || (!c && x->key_len < y->key_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint32_t n = 0;
  if (size >= 4) memcpy(&n, data, 4);
  size_t rest = size >= 4 ? size - 4 : 0;
  size_t index_len = n < rest ? n : rest;
  /* Copies, so that ASan sees reads past either part. */
  uint8_t *index = malloc(index_len ? index_len : 1);
  size_t shard_len = rest - index_len;
  uint8_t *shard = malloc(shard_len ? shard_len : 1);
  if (index_len) memcpy(index, data + 4, index_len);
  if (shard_len) memcpy(shard, data + 4 + index_len, shard_len);

  const void *shards[1] = {shard};
  TfBundle *b = NULL;
  HloError *e = tf_bundle_open_memory("fuzz", index, index_len, 1, shards,
                                      &shard_len, &b);
  free(index); /* the bundle must not need it */
  if (e) {
    if (b) fail("an error and a bundle");
    drop(e);
    free(shard);
    return 0;
  }
  HloArena *a = hlo_arena_new();
  for (int i = 0; i < tf_bundle_size(b); i++) {
    const TfBundleEntry *t = tf_bundle_entry(b, i);
    if (t->key[t->key_len]) fail("a key not NUL-terminated");
    if (i && !key_before(tf_bundle_entry(b, i - 1), t))
      fail("entries out of order");
    if (strlen(t->key) == t->key_len && tf_bundle_find(b, t->key) != t)
      fail("tf_bundle_find does not find an entry");
    if (t->shard != 0 || t->offset + t->size > shard_len)
      fail("an entry outside the data file");
    HloLiteral *l = NULL;
    e = tf_bundle_read(b, t, NULL, &l);
    if (!e) {
      if (!t->sliced && hlo_shape_byte_size(&l->shape) != t->size)
        fail("a literal whose size is not the entry's");
      if (l->shape.rank != t->rank ||
          (t->rank && memcmp(l->shape.dims, t->dims, sizeof *t->dims * (size_t)t->rank)))
        fail("a literal whose shape is not the entry's");
      hlo_literal_free(l);
    } else if (l) {
      fail("an error and a literal");
    }
    drop(e);
    const uint8_t *s;
    size_t len;
    e = tf_bundle_read_string(b, t, a, &s, &len);
    if (!e && len + 5 > t->size) fail("a string longer than its entry");
    drop(e);
  }
  hlo_arena_free(a);
  tf_bundle_free(b);
  free(shard);
  return 0;
}
