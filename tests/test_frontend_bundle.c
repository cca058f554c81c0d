/*
 * test_frontend_bundle.c — checkpoint reading (frontend/bundle.c).
 *
 * testdata/tf/checkpoints holds a TF2 checkpoint (tf.train.Checkpoint of a
 * module with variables of several dtypes and ranks) and two TF1 ones
 * (Saver over VariableV2 nodes, one partitioned; partitioned variables
 * along either axis), with TensorFlow's own reading of every key as .npy
 * (MANIFEST), partitioned variables assembled.  Every tensor read must
 * equal it bit for bit.  The corrupt inputs are the good files patched in the test (in
 * memory, or copied to a temporary directory for what concerns files),
 * block checksums recomputed where the damage is meant to lie behind them;
 * each error message is asserted exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "frontend.h"

#define DIR "testdata/tf/checkpoints/"
#define TF1 DIR "tf1/model"
#define TF2 DIR "tf2/ckpt"
#define PARTS DIR "parts/model"

static TfBundle *open_ok(const char *prefix) {
  TfBundle *b;
  HloError *e = tf_bundle_open(prefix, &b);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  return b;
}

static void expect(HloError *e, const char *want) {
  ck_assert_msg(e != NULL, "no error, expected: %s", want);
  ck_assert_str_eq(hlo_error_message(e), want);
  hlo_error_free(e);
}

/* ------------------------------------------------------------------------ */
/* Good checkpoints                                                         */
/* ------------------------------------------------------------------------ */

START_TEST(reads_what_tensorflow_reads) {
  char *manifest = ck_read_file(DIR "MANIFEST", NULL);
  static const char *const names[3] = {"tf1/model", "tf2/ckpt", "parts/model"};
  TfBundle *bundles[3] = {open_ok(TF1), open_ok(TF2), open_ok(PARTS)};
  HloArena *a = hlo_arena_new();
  int listed[3] = {0, 0, 0}, read = 0;
  for (char *line = strtok(manifest, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] == '#') continue;
    char ckpt[64], key[256], file[64], dtype[32];
    ck_assert_int_eq(sscanf(line, "%63s %255s %63s %31s", ckpt, key, file,
                            dtype), 4);
    int which = 0;
    while (which < 2 && strcmp(ckpt, names[which])) which++;
    ck_assert_str_eq(ckpt, names[which]);
    TfBundle *b = bundles[which];
    listed[which]++;
    const TfBundleEntry *e = tf_bundle_find(b, key);
    ck_assert_msg(e != NULL, "%s: no key %s", ckpt, key);
    ck_assert_str_eq(tf_type_name(e->dtype), dtype);
    if (!strcmp(file, "-")) continue;
    char path[256];
    snprintf(path, sizeof path, DIR "%s", file);
    HloLiteral *want = ck_read_npy(path);
    if (e->dtype == TENSORFLOW__DATA_TYPE__DT_STRING) {
      const uint8_t *data;
      size_t len;
      HloError *err = tf_bundle_read_string(b, e, a, &data, &len);
      ck_assert_msg(!err, "%s", hlo_error_message(err));
      ck_assert_int_eq(len, hlo_shape_elements(&want->shape));
      ck_assert_msg(!memcmp(data, want->data, len), "%s: bytes differ", key);
    } else {
      HloLiteral *heap, *in_arena;
      HloError *err = tf_bundle_read(b, e, NULL, &heap);
      ck_assert_msg(!err, "%s", hlo_error_message(err));
      ck_assert_ptr_null(tf_bundle_read(b, e, a, &in_arena));
      ck_assert_msg(hlo_literal_equal(heap, want), "%s: values differ", key);
      ck_assert(hlo_literal_equal(in_arena, want));
      hlo_literal_free(heap);
    }
    hlo_literal_free(want);
    read++;
  }
  /* TF2 lists every entry; TF1 lists a partitioned variable once, the
   * bundle also holds its slices (2 of embedding; 2 of rows, 3 of cols). */
  ck_assert_int_eq(listed[1], 13);
  ck_assert_int_eq(tf_bundle_size(bundles[1]), listed[1]);
  ck_assert_int_eq(listed[0], 4);
  ck_assert_int_eq(tf_bundle_size(bundles[0]), listed[0] + 2);
  ck_assert_int_eq(listed[2], 3);
  ck_assert_int_eq(tf_bundle_size(bundles[2]), listed[2] + 5);
  ck_assert_int_eq(read, 19);
  hlo_arena_free(a);
  for (int i = 0; i < 3; i++) tf_bundle_free(bundles[i]);
  free(manifest);
}
END_TEST

START_TEST(entries) {
  TfBundle *b = open_ok(TF2);
  const TfBundleEntry *e =
      tf_bundle_find(b, "model/kernel/.ATTRIBUTES/VARIABLE_VALUE");
  ck_assert_ptr_nonnull(e);
  ck_assert_int_eq(e->dtype, TENSORFLOW__DATA_TYPE__DT_FLOAT);
  ck_assert_int_eq(e->rank, 2);
  ck_assert_int_eq(e->dims[0], 3);
  ck_assert_int_eq(e->dims[1], 4);
  ck_assert_int_eq(e->shard, 0);
  ck_assert_int_eq(e->size, 48);
  ck_assert(!e->sliced);
  e = tf_bundle_find(b, "model/scale/.ATTRIBUTES/VARIABLE_VALUE");
  ck_assert_int_eq(e->rank, 0);
  e = tf_bundle_find(b, "model/empty/.ATTRIBUTES/VARIABLE_VALUE");
  ck_assert_int_eq(e->size, 0);
  ck_assert_ptr_null(tf_bundle_find(b, "model/kernel"));
  ck_assert_ptr_null(tf_bundle_find(b, ""));
  ck_assert_ptr_null(tf_bundle_find(b, "zzz"));
  for (int i = 1; i < tf_bundle_size(b); i++)
    ck_assert_int_lt(strcmp(tf_bundle_entry(b, i - 1)->key,
                            tf_bundle_entry(b, i)->key), 0);
  /* The object graph is a serialized TrackableObjectGraph: it starts with
   * its field 1 (nodes), length-delimited. */
  HloArena *a = hlo_arena_new();
  const uint8_t *data;
  size_t len;
  e = tf_bundle_find(b, "_CHECKPOINTABLE_OBJECT_GRAPH");
  ck_assert_ptr_null(tf_bundle_read_string(b, e, a, &data, &len));
  ck_assert_int_gt(len, 100);
  ck_assert_int_eq(data[0], 0x0a);
  hlo_arena_free(a);
  tf_bundle_free(b);

  /* A partitioned variable: the full entry, and its slices under binary
   * keys that sort first (they start with a NUL byte). */
  b = open_ok(TF1);
  e = tf_bundle_find(b, "embedding");
  ck_assert(e->sliced);
  ck_assert_int_eq(e->rank, 2);
  ck_assert_int_eq(e->dims[0], 4);
  ck_assert_int_eq(e->nslices, 2);
  ck_assert_int_eq(e->slices[1].start[0], 2);
  ck_assert_int_eq(e->slices[1].length[0], 2);
  ck_assert_int_eq(e->slices[1].length[1], 2);
  for (int i = 0; i < 2; i++) {
    e = tf_bundle_entry(b, i);
    ck_assert_int_eq(e->key[0], 0);
    ck_assert_int_gt(e->key_len, 10);
    ck_assert(!e->sliced);
    ck_assert_int_eq(e->rank, 2);
    ck_assert_int_eq(e->dims[0], 2);
  }
  tf_bundle_free(b);
}
END_TEST

START_TEST(crc32c) {
  /* The check value of CRC-32C, and masking (TensorFlow's rule). */
  ck_assert_uint_eq(tf_crc32c_extend(0, "123456789", 9), 0xe3069283);
  ck_assert_uint_eq(tf_crc32c_extend(tf_crc32c_extend(0, "1234", 4), "56789", 5),
                    0xe3069283);
  ck_assert_uint_eq(tf_crc32c_extend(0, "", 0), 0);
  ck_assert_uint_eq(tf_crc32c_mask(0), 0xa282ead8);
  ck_assert_uint_eq(tf_crc32c_mask(0x00008000), 0xa282ead9);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Corrupt checkpoints, from memory                                         */
/* ------------------------------------------------------------------------ */

/* A checkpoint's files in memory, to patch. */
typedef struct Ckpt {
  uint8_t *index, *data;
  size_t index_len, data_len;
} Ckpt;

static Ckpt load(const char *prefix) {
  char path[256];
  Ckpt c;
  snprintf(path, sizeof path, "%s.index", prefix);
  c.index = (uint8_t *)ck_read_file(path, &c.index_len);
  snprintf(path, sizeof path, "%s.data-00000-of-00001", prefix);
  c.data = (uint8_t *)ck_read_file(path, &c.data_len);
  return c;
}

static void unload(Ckpt *c) {
  free(c->index);
  free(c->data);
}

static HloError *open_mem(const Ckpt *c, TfBundle **b) {
  const void *shards[1] = {c->data};
  return tf_bundle_open_memory("ckpt", c->index, c->index_len, 1, shards,
                               &c->data_len, b);
}

static void open_err(const Ckpt *c, const char *want) {
  TfBundle *b;
  expect(open_mem(c, &b), want);
  ck_assert_ptr_null(b);
}

static uint64_t varint(const uint8_t *p, size_t *pos) {
  uint64_t v = 0;
  for (int s = 0;; s += 7) {
    uint8_t c = p[(*pos)++];
    v |= (uint64_t)(c & 0x7f) << s;
    if (!(c & 0x80)) return v;
  }
}

/* The first data block, through the footer and the index block. */
static void first_block(const Ckpt *c, size_t *off, size_t *size) {
  size_t pos = c->index_len - 48;
  varint(c->index, &pos);
  varint(c->index, &pos);
  pos = varint(c->index, &pos);
  ck_assert_int_eq(c->index[pos], 0); /* shared */
  pos++;
  uint64_t klen = varint(c->index, &pos);
  varint(c->index, &pos);
  pos += klen;
  *off = varint(c->index, &pos);
  *size = varint(c->index, &pos);
}

/* Recomputes the first data block's checksum after a patch inside it. */
static void fix_crc(Ckpt *c) {
  size_t off, size;
  first_block(c, &off, &size);
  uint32_t crc = tf_crc32c_extend(0, c->index + off, size + 1);
  crc = tf_crc32c_mask(crc);
  memcpy(c->index + off + size + 1, &crc, 4);
}

/* The offset of `what` (n bytes) in the index, which must hold it. */
static size_t find(const Ckpt *c, const char *what, size_t n) {
  for (size_t i = 0; i + n <= c->index_len; i++)
    if (!memcmp(c->index + i, what, n)) return i;
  ck_abort_msg("pattern not in the index");
  return 0;
}

START_TEST(truncated_index) {
  Ckpt c = load(TF1);
  size_t full = c.index_len;
  open_err(&(Ckpt){c.index, c.data, 0, c.data_len},
           "ckpt.index: 0 bytes is too short for a table (its footer alone "
           "has 48)");
  open_err(&(Ckpt){c.index, c.data, 47, c.data_len},
           "ckpt.index: 47 bytes is too short for a table (its footer alone "
           "has 48)");
  open_err(&(Ckpt){c.index, c.data, 48, c.data_len},
           "ckpt.index: not a checkpoint index: no table magic number at "
           "byte 40");
  size_t cuts[] = {full / 2, full - 8, full - 1};
  for (int i = 0; i < 3; i++) {
    char want[256];
    snprintf(want, sizeof want, "ckpt.index: not a checkpoint index: no "
             "table magic number at byte %zu", cuts[i] - 8);
    open_err(&(Ckpt){c.index, c.data, cuts[i], c.data_len}, want);
  }
  unload(&c);
}
END_TEST

START_TEST(bad_magic) {
  Ckpt c = load(TF1);
  c.index[c.index_len - 1] ^= 0x40;
  char want[256];
  snprintf(want, sizeof want, "ckpt.index: not a checkpoint index: no table "
           "magic number at byte %zu", c.index_len - 8);
  open_err(&c, want);
  unload(&c);
}
END_TEST

START_TEST(bad_block_crc) {
  Ckpt c = load(TF1);
  c.index[find(&c, "global_step", 11)] = 'G';
  open_err(&c, "ckpt.index: block at byte 0: CRC32C mismatch");
  unload(&c);
  /* The index block: the last block before the footer. */
  c = load(TF2);
  size_t pos = c.index_len - 48, ioff;
  varint(c.index, &pos);
  varint(c.index, &pos);
  ioff = varint(c.index, &pos);
  c.index[ioff + 3] ^= 1;
  char want[128];
  snprintf(want, sizeof want, "ckpt.index: block at byte %zu: CRC32C "
           "mismatch", ioff);
  open_err(&c, want);
  unload(&c);
}
END_TEST

START_TEST(compressed_block) {
  Ckpt c = load(TF1);
  size_t off, size;
  first_block(&c, &off, &size);
  c.index[off + size] = 1;
  fix_crc(&c);
  open_err(&c, "ckpt.index: block at byte 0: compressed with Snappy, which "
           "hloc does not read (TensorFlow writes checkpoints uncompressed)");
  c.index[off + size] = 7;
  fix_crc(&c);
  open_err(&c, "ckpt.index: block at byte 0: unknown compression type 7");
  unload(&c);
}
END_TEST

START_TEST(bad_restarts) {
  /* The block ends with its restart offsets (one: 0) and their count. */
  Ckpt c = load(TF1);
  size_t off, size;
  first_block(&c, &off, &size);
  uint8_t *count = c.index + off + size - 4, *first = count - 4;
  ck_assert_int_eq(count[0], 1);
  count[0] = 0xe8;
  count[1] = 0x03;
  fix_crc(&c);
  char want[128];
  snprintf(want, sizeof want, "ckpt.index: block at byte 0: 1000 restart "
           "points do not fit in its %zu bytes", size);
  open_err(&c, want);
  count[0] = 1;
  count[1] = 0;
  first[0] = 3;
  fix_crc(&c);
  open_err(&c, "ckpt.index: block at byte 0: the first entry is not a "
           "restart point");
  /* with none, neither */
  memcpy(first, "\0\0\0\0\0\0\0\0", 8);
  fix_crc(&c);
  open_err(&c, "ckpt.index: block at byte 0: the first entry is not a "
           "restart point");
  unload(&c);
}
END_TEST

START_TEST(unsorted_table) {
  /* "dense/bias" then "dense/kernel", stored as 6 shared bytes and
   * "kernel": make it "dense/aernel". */
  Ckpt c = load(TF1);
  size_t at = find(&c, "\x06\x06\x15kernel", 9);
  c.index[at + 3] = 'a';
  fix_crc(&c);
  char want[256];
  snprintf(want, sizeof want, "ckpt.index: key 'dense/aernel' at byte %zu "
           "is not after the previous key 'dense/bias': the table is not "
           "sorted", at);
  open_err(&c, want);
  unload(&c);
}
END_TEST

START_TEST(bad_entries) {
  Ckpt c = load(TF1);
  /* dense/bias is dtype 3, shape [3], size 12 (fields 1, 2, 5): size 12
   * becomes shard_id 3 (field 3), of the same length. */
  size_t at = find(&c, "bias\x08\x03\x12\x04\x12\x02\x08\x03\x28\x0c", 14);
  size_t entry = at - 9; /* its three lengths and "dense/" */
  char want[256];
  c.index[at + 12] = 0x18;
  c.index[at + 13] = 3;
  fix_crc(&c);
  snprintf(want, sizeof want, "ckpt.index: entry 'dense/bias' (at byte "
           "%zu): shard 3 is not one of the 1 data files", entry);
  open_err(&c, want);
  unload(&c);

  /* dtype 77 */
  c = load(TF1);
  at = find(&c, "bias\x08\x03", 6);
  c.index[at + 5] = 77;
  fix_crc(&c);
  snprintf(want, sizeof want, "ckpt.index: entry 'dense/bias' (at byte "
           "%zu): dtype 77 is not a TensorFlow DataType", entry);
  open_err(&c, want);
  unload(&c);

  /* a value that is not a BundleEntryProto: field 1 with wire type 2 */
  c = load(TF1);
  c.index[at + 4] = 0x0a;
  fix_crc(&c);
  snprintf(want, sizeof want, "ckpt.index: entry 'dense/bias' (at byte "
           "%zu): its tensorflow.BundleEntryProto: malformed protobuf at "
           "byte 0: field 1 (dtype) of tensorflow.BundleEntryProto has wire "
           "type 2 (length-delimited), expected 0 (varint)", entry);
  open_err(&c, want);
  unload(&c);

  /* a value of printable bytes: no advice to rename the file */
  c = load(TF1);
  memcpy(c.index + at + 4, "abcdefghijklmno", 15);
  fix_crc(&c);
  snprintf(want, sizeof want, "ckpt.index: entry 'dense/bias' (at byte "
           "%zu): its tensorflow.BundleEntryProto: malformed protobuf at "
           "byte 9: truncated length-delimited unknown field 13 of "
           "tensorflow.BundleEntryProto: length 107, 4 bytes left", entry);
  open_err(&c, want);
  unload(&c);

  /* the header names 2 data files, but one was given */
  c = load(TF1);
  at = find(&c, "\x08\x01\x1a\x02\x08\x01", 6);
  c.index[at + 1] = 2;
  fix_crc(&c);
  open_err(&c, "ckpt.index: the header names 2 data files, but 1 were "
           "given");
  unload(&c);
}
END_TEST

START_TEST(bad_tensors) {
  Ckpt c = load(TF1);
  TfBundle *b;
  /* dense/bias is s32[3]: say [4] (12 bytes no longer match) */
  size_t at = find(&c, "bias\x08\x03\x12\x04\x12\x02\x08\x03\x28\x0c", 14);
  c.index[at + 11] = 4;
  fix_crc(&c);
  ck_assert_ptr_null(open_mem(&c, &b));
  HloLiteral *l;
  const TfBundleEntry *e = tf_bundle_find(b, "dense/bias");
  expect(tf_bundle_read(b, e, NULL, &l),
         "ckpt.index: entry 'dense/bias': size is 12 bytes, but s32[4]{0} "
         "takes 16");
  ck_assert_ptr_null(l);
  tf_bundle_free(b);
  unload(&c);

  /* a flipped bit in dense/kernel's data */
  c = load(TF1);
  ck_assert_ptr_null(open_mem(&c, &b));
  e = tf_bundle_find(b, "dense/kernel");
  c.data[e->offset + 5] ^= 0x10;
  char want[256];
  snprintf(want, sizeof want, "ckpt.data-00000-of-00001: entry "
           "'dense/kernel' (bytes %llu..%llu): CRC32C mismatch",
           (unsigned long long)e->offset,
           (unsigned long long)(e->offset + e->size));
  expect(tf_bundle_read(b, e, NULL, &l), want);
  HloArena *a = hlo_arena_new();
  expect(tf_bundle_read(b, e, a, &l), want);
  hlo_arena_free(a);
  tf_bundle_free(b);
  unload(&c);
}
END_TEST

/* A key as messages print it: \xNN for bytes outside printable ASCII. */
static void key_text(char *buf, const char *key, size_t len) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)key[i];
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
      buf[o++] = (char)c;
    else
      o += (size_t)sprintf(buf + o, "\\x%02x", c);
  }
  buf[o] = 0;
}

/* Opens the patched TF1 checkpoint and reads 'embedding' (partitioned in
 * two: [0,2) and [2,4) of 4 x 2), expecting `want`. */
static void sliced_err(Ckpt *c, const char *want) {
  TfBundle *b;
  HloError *e = open_mem(c, &b);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  HloLiteral *l;
  expect(tf_bundle_read(b, tf_bundle_find(b, "embedding"), NULL, &l), want);
  ck_assert_ptr_null(l);
  tf_bundle_free(b);
}

/* The slices of 'embedding' as TensorSliceProtos inside its entry: slice
 * 0 {extent {length 2} extent {length 2}}, slice 1 {extent {start 2
 * length 2} extent {length 2}} (a start of 0 is not written). */
#define SLICE0 "\x3a\x08\x0a\x02\x10\x02\x0a\x02\x10\x02"
#define SLICE1 "\x3a\x0a\x0a\x04\x08\x02\x10\x02\x0a\x02\x10\x02"

START_TEST(bad_slices) {
  char want[512];
  /* At open: a slice past the shape, a start without a length. */
  Ckpt c = load(TF1);
  size_t s1 = find(&c, SLICE1, 12), entry = find(&c, "\x00\x09\x22" "embedding", 12);
  c.index[s1 + 7] = 5;
  fix_crc(&c);
  snprintf(want, sizeof want, "ckpt.index: entry 'embedding' (at byte %zu): slice 1: "
           "dimension 0: 2 + 5 exceeds the tensor's 4", entry);
  open_err(&c, want);
  c.index[s1 + 7] = 2;
  c.index[s1 + 6] = 0x18; /* length becomes unknown field 3 */
  fix_crc(&c);
  snprintf(want, sizeof want, "ckpt.index: entry 'embedding' (at byte %zu): slice 1: "
           "dimension 0 has no length (the whole dimension) but starts at 2", entry);
  open_err(&c, want);
  unload(&c);

  /* At read: a slice no entry holds. */
  c = load(TF1);
  size_t s0 = find(&c, SLICE0, 10);
  c.index[s0 + 5] = 1;
  fix_crc(&c);
  sliced_err(&c, "ckpt.index: entry 'embedding': slice 0,1:0,2 has no entry in the checkpoint");
  unload(&c);

  /* Both slices [0,2): their elements add up, but they overlap. */
  c = load(TF1);
  s1 = find(&c, SLICE1, 12);
  c.index[s1 + 5] = 0;
  fix_crc(&c);
  sliced_err(&c, "ckpt.index: entry 'embedding': slice 0,2:0,2 overlaps another slice");
  /* Slice 1 dropped (its field number becomes an unknown one). */
  c.index[s1 + 5] = 2;
  c.index[s1] = 0x42;
  fix_crc(&c);
  sliced_err(&c, "ckpt.index: entry 'embedding': its slices hold 4 elements, but the tensor "
                 "has 8");
  unload(&c);

  /* The entry of slice 0 says int32 (same size), then f32[2,3]. */
  c = load(TF1);
  size_t p0 = find(&c, "\x08\x01\x12\x08\x12\x02\x08\x02\x12\x02\x08\x02", 12);
  c.index[p0 + 1] = 3;
  fix_crc(&c);
  sliced_err(&c, "ckpt.index: entry 'embedding': slice 0,2:0,2 holds DT_INT32, the variable "
                 "DT_FLOAT");
  c.index[p0 + 1] = 1;
  c.index[p0 + 11] = 3;
  fix_crc(&c);
  sliced_err(&c, "ckpt.index: entry 'embedding': slice 0,2:0,2 is stored with shape [2,3]");
  unload(&c);

  /* A flipped bit in slice 1's data: its checksum, naming both keys. */
  c = load(TF1);
  TfBundle *b;
  ck_assert_ptr_null(open_mem(&c, &b));
  const TfBundleEntry *full = tf_bundle_find(b, "embedding"), *part;
  ck_assert_int_eq(full->nslices, 2);
  ck_assert_ptr_null(tf_bundle_slice_entry(b, full, 1, &part));
  c.data[part->offset + 3] ^= 0x10;
  char key[256];
  key_text(key, part->key, part->key_len);
  snprintf(want, sizeof want, "ckpt.index: entry 'embedding': slice 2,2:0,2: "
           "ckpt.data-00000-of-00001: entry '%s' (bytes %llu..%llu): CRC32C mismatch", key,
           (unsigned long long)part->offset, (unsigned long long)(part->offset + part->size));
  HloLiteral *l;
  expect(tf_bundle_read(b, full, NULL, &l), want);
  tf_bundle_free(b);
  unload(&c);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Partitioned variables in graphs                                          */
/* ------------------------------------------------------------------------ */

/* parts_graph reads "rows" and "cols" through their parts (VariableV2
 * nodes rows/part_0, ...): frozen with parts/model it computes what
 * TensorFlow computed. */
START_TEST(parts_freeze_a_graph) {
  TfGraph *g;
  HloModule *m = NULL;
  HloError *e = tf_graph_load(DIR "parts_graph.pbtxt", DIR "parts_graph.config.pbtxt", &g);
  if (!e) e = tf_graph_bind_checkpoint(g, PARTS, NULL);
  if (!e) e = tf_import(g, "parts", &m);
  tf_graph_free(g);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  HloLiteral *x = ck_read_npy(DIR "parts_graph.in0.npy"), *want = ck_read_npy(DIR "parts_graph.out0.npy");
  HloLiteral *y = ck_evaluate(m, &x, 1);
  char msg[256];
  ck_assert_msg(ck_allclose(y, want, 1e-5, 1e-5, msg, sizeof msg), "%s", msg);
  hlo_literal_free(x);
  hlo_literal_free(y);
  hlo_literal_free(want);
  hlo_module_free(m);
}
END_TEST

/* The error binding a graph of one VariableV2 `name` of shape `dims` (and
 * dtype DT_FLOAT) to parts/model. */
static char *bind_error(const char *name, const char *dims) {
  char text[1024];
  snprintf(text, sizeof text,
           "node { name: '%s' op: 'VariableV2' attr { key: 'dtype' value { type: DT_FLOAT } } "
           "attr { key: 'shape' value { shape { %s } } } }\n"
           "node { name: 'y' op: 'Identity' input: '%s' attr { key: 'T' value { type: DT_FLOAT } } }",
           name, dims, name);
  ProtobufCMessage *gd = NULL, *cfg = NULL;
  HloError *e = tf_proto_parse_text(&tensorflow__graph_def__descriptor, text, strlen(text),
                                    "graph.pbtxt", &gd);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  static const char config[] = "fetch { id { node_name: 'y' } }";
  e = tf_proto_parse_text(&tensorflow__tf2xla__config__descriptor, config, strlen(config),
                          "config.pbtxt", &cfg);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  TfGraph *g;
  e = tf_graph_new((Tensorflow__GraphDef *)gd, (Tensorflow__Tf2xla__Config *)cfg, &g);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  e = tf_graph_bind_checkpoint(g, PARTS, NULL);
  tf_graph_free(g);
  ck_assert_msg(e != NULL, "%s: bound", name);
  char *msg = strdup(hlo_error_message(e));
  hlo_error_free(e);
  return msg;
}

START_TEST(parts_that_do_not_fit) {
  static const struct {
    const char *name, *dims, *message;
  } bad[] = {
      {"rows/part_2", "dim { size: 65 } dim { size: 2 }",
       "node 'rows/part_2' (VariableV2): checkpoint '" PARTS "' holds 2 slices of partitioned "
       "variable 'rows', so no part 2"},
      {"rows/part_1", "dim { size: 64 } dim { size: 2 }",
       "node 'rows/part_1' (VariableV2): the variable has shape [64,2], but checkpoint '" PARTS
       "' holds [65,2] as part 1 of partitioned variable 'rows'"},
      {"cols/part_0", "dim { size: 2 } dim { size: 2 }",
       "node 'cols/part_0' (VariableV2): the variable is DT_FLOAT, but checkpoint '" PARTS
       "' holds DT_INT32 as part 0 of partitioned variable 'cols'"},
      {"plain/part_0", "dim { size: 2 }",
       "node 'plain/part_0' (VariableV2): checkpoint '" PARTS "' holds no value for the "
       "variable (no key 'plain/part_0')"},
      {"rows", "dim { size: 130 } dim { size: 3 }",
       "node 'rows' (VariableV2): the variable has shape [130,3], but checkpoint '" PARTS
       "' holds [130,2] under 'rows'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char *msg = bind_error(bad[i].name, bad[i].dims);
    ck_assert_str_eq(msg, bad[i].message);
    free(msg);
  }
}
END_TEST

START_TEST(bad_strings) {
  Ckpt c = load(TF2);
  TfBundle *b;
  ck_assert_ptr_null(open_mem(&c, &b));
  HloArena *a = hlo_arena_new();
  const uint8_t *data;
  size_t len;
  HloLiteral *l;
  const char *label = "model/label/.ATTRIBUTES/VARIABLE_VALUE";
  const TfBundleEntry *e = tf_bundle_find(b, label);
  ck_assert_ptr_null(tf_bundle_read_string(b, e, a, &data, &len));
  ck_assert_int_eq(len, 17);
  ck_assert(!memcmp(data, "hello, checkpoint", 17));
  expect(tf_bundle_read(b, e, NULL, &l),
         "ckpt.index: entry 'model/label/.ATTRIBUTES/VARIABLE_VALUE': dtype "
         "DT_STRING is not numeric");
  expect(tf_bundle_read_string(
             b, tf_bundle_find(b, "model/vocab/.ATTRIBUTES/VARIABLE_VALUE"), a,
             &data, &len),
         "ckpt.index: entry 'model/vocab/.ATTRIBUTES/VARIABLE_VALUE': a "
         "string tensor of rank 1: only scalars are read");
  expect(tf_bundle_read_string(
             b, tf_bundle_find(b, "model/steps/.ATTRIBUTES/VARIABLE_VALUE"), a,
             &data, &len),
         "ckpt.index: entry 'model/steps/.ATTRIBUTES/VARIABLE_VALUE': dtype "
         "DT_INT32 is not DT_STRING");
  /* the length (one varint byte), its checksum, the bytes */
  char want[256];
  snprintf(want, sizeof want, "ckpt.data-00000-of-00001: entry '%s' (bytes "
           "%llu..%llu): CRC32C mismatch", label,
           (unsigned long long)e->offset,
           (unsigned long long)(e->offset + e->size));
  c.data[e->offset + 7] ^= 1;
  expect(tf_bundle_read_string(b, e, a, &data, &len), want);
  c.data[e->offset + 7] ^= 1;
  snprintf(want, sizeof want, "ckpt.data-00000-of-00001: entry '%s' (bytes "
           "%llu..%llu): the string length's CRC32C mismatch", label,
           (unsigned long long)e->offset,
           (unsigned long long)(e->offset + e->size));
  c.data[e->offset + 2] ^= 1;
  expect(tf_bundle_read_string(b, e, a, &data, &len), want);
  c.data[e->offset + 2] ^= 1;
  c.data[e->offset] = 16;
  snprintf(want, sizeof want, "ckpt.index: entry '%s': a string of 16 bytes "
           "does not fill the entry's 22 bytes after a 1-byte length and a "
           "4-byte checksum", label);
  expect(tf_bundle_read_string(b, e, a, &data, &len), want);
  hlo_arena_free(a);
  tf_bundle_free(b);
  unload(&c);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Corrupt checkpoints, as files                                            */
/* ------------------------------------------------------------------------ */

static void write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fwrite(data, 1, len, f), len);
  ck_assert_int_eq(fclose(f), 0);
}

START_TEST(files) {
  TfBundle *b;
  expect(tf_bundle_open(DIR "nope", &b),
         DIR "nope.index: cannot open: No such file or directory");
  ck_assert_ptr_null(b);

  char dir[] = "/tmp/hloc_bundle_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char prefix[64], index[80], data[96], want[512];
  snprintf(prefix, sizeof prefix, "%s/ckpt", dir);
  snprintf(index, sizeof index, "%s.index", prefix);
  snprintf(data, sizeof data, "%s.data-00000-of-00001", prefix);
  Ckpt c = load(TF2);

  write_file(index, c.index, c.index_len);
  snprintf(want, sizeof want, "%s: cannot open: No such file or directory",
           data);
  expect(tf_bundle_open(prefix, &b), want);

  /* Cut after 100 bytes: the first entry (in key order) past them. */
  write_file(data, c.data, 100);
  TfBundle *good = open_ok(TF2);
  const TfBundleEntry *e = NULL;
  for (int i = 0; !e && i < tf_bundle_size(good); i++)
    if (tf_bundle_entry(good, i)->offset + tf_bundle_entry(good, i)->size > 100)
      e = tf_bundle_entry(good, i);
  ck_assert_ptr_nonnull(e);
  snprintf(want, sizeof want, "%s: entry '%s' reads bytes %llu..%llu past "
           "the end of the file (100 bytes)", data, e->key,
           (unsigned long long)e->offset,
           (unsigned long long)(e->offset + e->size));
  expect(tf_bundle_open(prefix, &b), want);
  tf_bundle_free(good);

  /* A file that shrinks after the open. */
  write_file(data, c.data, c.data_len);
  b = open_ok(prefix);
  e = tf_bundle_find(b, "model/mean/.ATTRIBUTES/VARIABLE_VALUE");
  ck_assert_int_eq(truncate(data, (off_t)(e->offset + 8)), 0);
  snprintf(want, sizeof want, "%s: entry '%s': the file ends at byte %llu, "
           "before the entry's end (byte %llu): it changed since the "
           "checkpoint was opened", data, e->key,
           (unsigned long long)(e->offset + 8),
           (unsigned long long)(e->offset + e->size));
  HloLiteral *l;
  expect(tf_bundle_read(b, e, NULL, &l), want);
  unlink(data);
  snprintf(want, sizeof want, "%s: cannot open: No such file or directory",
           data);
  expect(tf_bundle_read(b, e, NULL, &l), want);
  tf_bundle_free(b);

  unlink(index);
  ck_assert_int_eq(rmdir(dir), 0);
  unload(&c);
}
END_TEST

int main(void) {
  Suite *s = suite_create("frontend_bundle");
  TCase *t = tcase_create("bundle");
  tcase_add_test(t, reads_what_tensorflow_reads);
  tcase_add_test(t, entries);
  tcase_add_test(t, crc32c);
  tcase_add_test(t, truncated_index);
  tcase_add_test(t, bad_magic);
  tcase_add_test(t, bad_block_crc);
  tcase_add_test(t, compressed_block);
  tcase_add_test(t, bad_restarts);
  tcase_add_test(t, unsorted_table);
  tcase_add_test(t, bad_entries);
  tcase_add_test(t, bad_tensors);
  tcase_add_test(t, bad_strings);
  tcase_add_test(t, bad_slices);
  tcase_add_test(t, parts_freeze_a_graph);
  tcase_add_test(t, parts_that_do_not_fit);
  tcase_add_test(t, files);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
