/*
 * bundle.c — TensorFlow checkpoints (the "TensorBundle" format), as
 * tf.train.Checkpoint, tf.compat.v1.train.Saver and SavedModel's
 * variables/ write them.
 *
 * PREFIX.index is a LevelDB table: data blocks of key/value entries, keys
 * sorted bytewise and prefix-compressed (each entry stores how many bytes
 * it shares with the previous key, then the rest), with an array of
 * "restart" offsets at the block's end where a key is stored whole; an
 * index block mapping a separator key (>= every key of a block, < every key
 * of the next) to each data block's handle (varint offset, varint size); a
 * metaindex block (empty in TensorFlow's files); and a 48-byte footer: the
 * two handles, padding, and a magic number.  Every block is followed by a
 * compression byte and a masked CRC32C of the block and that byte.  The
 * empty key maps to a BundleHeaderProto (number of data files, byte order,
 * format version), every other key to a BundleEntryProto: dtype, shape, and
 * where the bytes lie in PREFIX.data-SSSSS-of-NNNNN, with their CRC32C.
 *
 * tf_bundle_open validates everything before it returns: each block's
 * checksum and bounds, each varint and length against the bytes it may
 * use, the restart array, the order of all keys and the index's
 * separators, every entry's protobuf, dtype, shape and byte range, and
 * that each data file exists and is long enough for its entries.  So a
 * bundle that opened can only fail to read on a tensor's own content (its
 * checksum, a size that disagrees with its shape) or a file changed since.
 * Blocks must lie in file order without overlapping, as TensorFlow writes
 * them: a crafted index cannot make the reader visit one block twice, and
 * the work is linear in the index size.
 *
 * The index is read whole (it holds no tensor data: a few bytes per
 * variable).  Data files are not: a checkpoint may be larger than memory,
 * and a compiler usually wants some of its tensors.  The reader records
 * each file's size at open and reads a tensor with pread when asked,
 * opening the file for that read only, so a checkpoint of thousands of
 * shards holds no descriptors.  Only TensorFlow's own choices are read:
 * uncompressed blocks (TensorFlow never compresses checkpoint indexes),
 * little-endian data.
 *
 * A partitioned variable (TensorFlow 1's get_variable with a partitioner)
 * is one entry listing its slices (BundleEntryProto.slices: a start and a
 * length per dimension) and no bytes; each slice is an entry of its own
 * under a binary key that encodes the variable's key and the slice.  Open
 * checks every slice against the variable's shape; a read finds each
 * slice's entry, checks its dtype, shape and size, and assembles the
 * tensor, which the slices must cover exactly once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend.h"
#include "tensor_bundle.pb-c.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "checkpoint tensors are copied as little-endian bytes");

#define FOOTER_BYTES 48    /* two handles padded to 40 bytes, the magic */
#define TRAILER_BYTES 5    /* compression type, masked CRC32C */
#define TABLE_MAGIC UINT64_C(0xdb4775248b80fb57)
#define MAX_INDEX_BYTES ((size_t)INT32_MAX)
#define BUNDLE_VERSION 1   /* the format version this reader implements */
#define KEY_TEXT 160       /* bytes of a key quoted in a message */

/* ------------------------------------------------------------------------ */
/* CRC32C                                                                   */
/* ------------------------------------------------------------------------ */

/* CRC32C (the Castagnoli polynomial, reflected: 0x82f63b78) one byte at a
 * time: entry n is the CRC of the byte n after its eight shift steps. */
static const uint32_t crc_table[256] = {
    0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c,
    0x26a1e7e8, 0xd4ca64eb, 0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b,
    0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24, 0x105ec76f, 0xe235446c,
    0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
    0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc,
    0xbc267848, 0x4e4dfb4b, 0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
    0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35, 0xaa64d611, 0x580f5512,
    0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
    0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad,
    0x1642ae59, 0xe4292d5a, 0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a,
    0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595, 0x417b1dbc, 0xb3109ebf,
    0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
    0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f,
    0xed03a29b, 0x1f682198, 0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
    0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38, 0xdbfc821c, 0x2997011f,
    0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
    0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e,
    0x4767748a, 0xb50cf789, 0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
    0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46, 0x7198540d, 0x83f3d70e,
    0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
    0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de,
    0xdde0eb2a, 0x2f8b6829, 0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c,
    0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93, 0x082f63b7, 0xfa44e0b4,
    0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
    0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b,
    0xb4091bff, 0x466298fc, 0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c,
    0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033, 0xa24bb5a6, 0x502036a5,
    0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
    0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975,
    0x0e330a81, 0xfc588982, 0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
    0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622, 0x38cc2a06, 0xcaa7a905,
    0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
    0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8,
    0xe52cc12c, 0x1747422f, 0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff,
    0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0, 0xd3d3e1ab, 0x21b862a8,
    0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
    0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78,
    0x7fab5e8c, 0x8dc0dd8f, 0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee,
    0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1, 0x69e9f0d5, 0x9b8273d6,
    0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
    0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69,
    0xd5cf889d, 0x27a40b9e, 0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
    0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

uint32_t tf_crc32c_extend(uint32_t crc, const void *data, size_t n) {
  const uint8_t *p = data;
  crc = ~crc;
  for (size_t i = 0; i < n; i++)
    crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

/* Rotated right by 15 bits plus a constant: TensorFlow's (and LevelDB's)
 * rule, so that the CRC of data that embeds CRCs stays informative. */
uint32_t tf_crc32c_mask(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

/* Whether a stored masked CRC matches the computed one.  Fuzzing builds
 * (frontend/CMakeLists.txt) compute it but accept any, so that mutated
 * inputs reach the parsing behind the checksums. */
static bool crc_matches(uint32_t stored_masked, uint32_t computed) {
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  (void)stored_masked;
  (void)computed;
  return true;
#else
  return stored_masked == tf_crc32c_mask(computed);
#endif
}

/* ------------------------------------------------------------------------ */
/* The bundle                                                               */
/* ------------------------------------------------------------------------ */

/* A data file: in memory (the caller's buffer), or on disk, read on
 * demand. */
typedef struct Shard {
  char *path;          /* PREFIX.data-SSSSS-of-NNNNN: messages, and the file
                        * to open when `data` is NULL */
  const uint8_t *data; /* memory bundles: the bytes; NULL for files */
  uint64_t size;       /* bytes, for files as of the open */
} Shard;

struct TfBundle {
  char *index_name;        /* PREFIX.index, for messages */
  HloArena *arena;         /* keys */
  int nentries;            /* sorted by key */
  TfBundleEntry *entries;
  size_t cap;              /* entries allocated */
  int nshards;             /* the header's num_shards */
  Shard *shards;           /* nshards of them; NULL until all are found */
};

static uint32_t get_le32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static uint64_t get_le64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* Reads a varint of at most `max_bytes` bytes at *pos (< end).  Returns 0,
 * 1 when the bytes end inside it, 2 when it is longer than max_bytes or
 * holds more than 64 bits. */
static int get_varint(const uint8_t *p, size_t *pos, size_t end, int max_bytes,
                      uint64_t *v) {
  uint64_t r = 0;
  for (int i = 0; i < max_bytes; i++) {
    if (*pos >= end) return 1;
    uint8_t b = p[(*pos)++];
    if (i == 9 && b > 1) return 2;
    r |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      *v = r;
      return 0;
    }
  }
  return 2;
}

/* A key for messages: printable ASCII as is, other bytes (the binary keys
 * of slices) as \xNN, long keys cut with "...". */
static const char *key_text(char *buf, size_t n, const uint8_t *k,
                            size_t len) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (o + 8 >= n) {
      memcpy(buf + o, "...", 4);
      return buf;
    }
    uint8_t c = k[i];
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
      buf[o++] = (char)c;
    else
      o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
  }
  buf[o] = 0;
  return buf;
}

static const char *entry_text(char *buf, size_t n, const TfBundleEntry *e) {
  return key_text(buf, n, (const uint8_t *)e->key, e->key_len);
}

/* ------------------------------------------------------------------------ */
/* The table: blocks and their entries                                      */
/* ------------------------------------------------------------------------ */

/* A block being walked entry by entry. */
typedef struct Block {
  const TfBundle *b;
  const uint8_t *p;      /* the block's contents (no trailer) */
  uint64_t at;           /* its offset in the index file */
  size_t limit;          /* where the restart array starts */
  uint32_t nrestarts;
  uint32_t restart;      /* the next restart point to meet */
  size_t pos;            /* the next entry */
  size_t nread;          /* entries read so far */
  uint8_t *key;          /* the current key (malloc'd, grown) */
  size_t klen, kcap;
  const uint8_t *value;  /* the current value, in the block */
  size_t vlen;
  uint64_t entry_at;     /* the current entry's offset in the file */
} Block;

static HloError *block_error(const Block *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static HloError *block_error(const Block *k, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  HloError *e = hlo_verror(fmt, ap);
  va_end(ap);
  return hlo_error_wrap(e, "%s: block at byte %llu", k->b->index_name,
                        (unsigned long long)k->at);
}

/* Checks the block of `size` bytes at `off` of the index, whose blocks
 * end at `table_end` (the footer): bounds, checksum, compression, restart
 * count; then sets up *k to walk it.  `what` names the block for
 * messages. */
static HloError *block_open(const TfBundle *b, const uint8_t *index,
                            size_t table_end, uint64_t off, uint64_t size,
                            const char *what, Block *k) {
  memset(k, 0, sizeof *k);
  k->b = b;
  k->at = off;
  if (size > table_end || table_end - size < TRAILER_BYTES ||
      off > table_end - size - TRAILER_BYTES)
    return hlo_error("%s: %s block at byte %llu (%llu bytes and its %d-byte "
                     "trailer) extends past the table's end (byte %zu)",
                     b->index_name, what, (unsigned long long)off,
                     (unsigned long long)size, TRAILER_BYTES, table_end);
  const uint8_t *p = index + off;
  uint8_t type = p[size];
  uint32_t crc = tf_crc32c_extend(tf_crc32c_extend(0, p, size), &type, 1);
  if (!crc_matches(get_le32(p + size + 1), crc))
    return block_error(k, "CRC32C mismatch");
  if (type == 1)
    return block_error(k, "compressed with Snappy, which hloc does not "
                       "read (TensorFlow writes checkpoints uncompressed)");
  if (type != 0)
    return block_error(k, "unknown compression type %u", type);
  if (size < 4)
    return block_error(k, "%llu bytes cannot hold the restart count",
                       (unsigned long long)size);
  k->p = p;
  k->nrestarts = get_le32(p + size - 4);
  if (k->nrestarts > (size - 4) / 4)
    return block_error(k, "%u restart points do not fit in its %llu bytes",
                       k->nrestarts, (unsigned long long)size);
  k->limit = (size_t)size - 4 - 4 * (size_t)k->nrestarts;
  return NULL;
}

static uint32_t restart_at(const Block *k, uint32_t i) {
  return get_le32(k->p + k->limit + 4 * (size_t)i);
}

/* Reads one of an entry's three lengths (a varint32). */
static HloError *entry_length(Block *k, const char *what, uint32_t *out) {
  uint64_t v = 0;
  size_t at = k->pos;
  int r = get_varint(k->p, &k->pos, k->limit, 5, &v);
  if (r == 1)
    return block_error(k, "entry at byte %llu: truncated %s",
                       (unsigned long long)(k->at + at), what);
  if (r == 2 || v > UINT32_MAX)
    return block_error(k, "entry at byte %llu: %s is not a 32-bit varint",
                       (unsigned long long)(k->at + at), what);
  *out = (uint32_t)v;
  return NULL;
}

/* Steps to the next entry: *more is false at the end of the block (where
 * the restart array is checked for leftovers). */
static HloError *block_next(Block *k, bool *more) {
  *more = false;
  if (k->pos >= k->limit) {
    /* A restart point that no entry started at: the only one allowed is
     * the 0 of an empty block (what LevelDB writes for one). */
    if (k->restart < k->nrestarts &&
        !(k->nread == 0 && k->nrestarts == 1 && restart_at(k, 0) == 0))
      return block_error(k, "restart point %u (offset %u) is not at an "
                         "entry", k->restart, restart_at(k, k->restart));
    return NULL;
  }
  k->entry_at = k->at + k->pos;
  bool restart = false;
  if (k->restart < k->nrestarts) {
    uint32_t r = restart_at(k, k->restart);
    if (r < k->pos)
      return block_error(k, "restart point %u (offset %u) is not at an "
                         "entry", k->restart, r);
    if (r == k->pos) {
      restart = true;
      k->restart++;
    }
  }
  if (k->nread == 0 && !restart)
    return block_error(k, "the first entry is not a restart point");
  uint32_t shared, unshared, vlen;
  HloError *e;
  if ((e = entry_length(k, "shared key length", &shared)) ||
      (e = entry_length(k, "key length", &unshared)) ||
      (e = entry_length(k, "value length", &vlen)))
    return e;
  unsigned long long at = (unsigned long long)k->entry_at;
  if (restart && shared)
    return block_error(k, "entry at byte %llu: a restart point shares %u "
                       "key bytes (must be 0)", at, shared);
  if (shared > k->klen)
    return block_error(k, "entry at byte %llu: shares %u key bytes with a "
                       "previous key of %zu", at, shared, k->klen);
  size_t left = k->limit - k->pos;
  if (unshared > left || vlen > left - unshared)
    return block_error(k, "entry at byte %llu: key and value (%u + %u "
                       "bytes) run past the entries' end (%zu bytes left)",
                       at, unshared, vlen, left);
  /* A key is at most the block's size: the allocation is bounded. */
  size_t klen = (size_t)shared + unshared;
  if (klen + 1 > k->kcap) {
    k->kcap = 2 * (klen + 1);
    k->key = hlo_xrealloc(k->key, k->kcap);
  }
  memcpy(k->key + shared, k->p + k->pos, unshared);
  k->klen = klen;
  k->key[klen] = 0;
  k->value = k->p + k->pos + unshared;
  k->vlen = vlen;
  k->pos += (size_t)unshared + vlen;
  k->nread++;
  *more = true;
  return NULL;
}

static void block_done(Block *k) { free(k->key); }

/* Bytewise key order, a prefix first. */
static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b,
                   size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if (c) return c;
  return alen < blen ? -1 : alen > blen;
}

/* ------------------------------------------------------------------------ */
/* Header and entries                                                       */
/* ------------------------------------------------------------------------ */

/* The value of the current entry parsed as `desc`; errors name the key. */
static HloError *parse_value(const Block *k, const ProtobufCMessageDescriptor *d,
                             ProtobufCMessage **out) {
  char key[KEY_TEXT], name[KEY_TEXT + 256];
  snprintf(name, sizeof name, "%s: entry '%s' (at byte %llu): its %s",
           k->b->index_name, key_text(key, sizeof key, k->key, k->klen),
           (unsigned long long)k->entry_at, d->name);
  HloError *e = tf_proto_parse_binary(d, k->value, k->vlen, name, out);
  /* The parser's advice for a .pb that looks like text does not apply to
   * a value inside a table. */
  static const char hint[] = " (the file looks like protobuf text format: "
                             "name it .pbtxt)";
  const char *m = e ? hlo_error_message(e) : "";
  size_t n = strlen(m), h = sizeof hint - 1;
  if (n > h && !strcmp(m + n - h, hint)) {
    HloError *plain = hlo_error("%.*s", (int)(n - h), m);
    hlo_error_free(e);
    e = plain;
  }
  return e;
}

static HloError *read_header(TfBundle *b, const Block *k) {
  ProtobufCMessage *m;
  HloError *e = parse_value(k, &tensorflow__bundle_header_proto__descriptor,
                            &m);
  if (e) return e;
  Tensorflow__BundleHeaderProto *h = (Tensorflow__BundleHeaderProto *)m;
  const char *f = b->index_name;
  if (h->num_shards < 1)
    e = hlo_error("%s: the header names %d data files (at least 1)", f,
                  h->num_shards);
  else if (h->endianness == TENSORFLOW__BUNDLE_HEADER_PROTO__ENDIANNESS__BIG)
    e = hlo_error("%s: the checkpoint was written big-endian, which hloc "
                  "does not read", f);
  else if (h->endianness != TENSORFLOW__BUNDLE_HEADER_PROTO__ENDIANNESS__LITTLE)
    e = hlo_error("%s: the header's endianness %d is unknown", f,
                  (int)h->endianness);
  else if (h->version && h->version->min_consumer > BUNDLE_VERSION)
    e = hlo_error("%s: the checkpoint needs a reader of format version %d "
                  "or later; hloc reads version %d", f,
                  h->version->min_consumer, BUNDLE_VERSION);
  for (size_t i = 0; !e && h->version && i < h->version->n_bad_consumers; i++)
    if (h->version->bad_consumers[i] == BUNDLE_VERSION)
      e = hlo_error("%s: the checkpoint excludes readers of format version "
                    "%d, which hloc is", f, BUNDLE_VERSION);
  b->nshards = h->num_shards;
  tensorflow__bundle_header_proto__free_unpacked(h, NULL);
  return e;
}

/* Slices in the order of their starts, dimension by dimension (the starts
 * past the rank are 0). */
static int cmp_slices(const void *x, const void *y) {
  const TfBundleSlice *a = x, *b = y;
  for (int d = 0; d < HLO_MAX_RANK; d++)
    if (a->start[d] != b->start[d]) return a->start[d] < b->start[d] ? -1 : 1;
  return 0;
}

/* A partitioned variable's slices, checked against its shape t->dims and
 * sorted; in b's arena. */
static HloError *take_slices(TfBundle *b, const Tensorflow__BundleEntryProto *p,
                             TfBundleEntry *t) {
  if (t->rank < 0) return hlo_error("a partitioned variable of unknown shape");
  TfBundleSlice *sl = hlo_arena_alloc(b->arena, sizeof *sl * p->n_slices);
  for (size_t i = 0; i < p->n_slices; i++) {
    const Tensorflow__TensorSliceProto *sp = p->slices[i];
    TfBundleSlice *x = &sl[i];
    memset(x, 0, sizeof *x);
    if (sp->n_extent != (size_t)t->rank)
      return hlo_error("slice %zu has %zu extents, but the tensor has rank %d", i,
                       sp->n_extent, t->rank);
    for (int d = 0; d < t->rank; d++) {
      const Tensorflow__TensorSliceProto__Extent *x_d = sp->extent[d];
      int64_t start = x_d->start, end;
      bool full = x_d->has_length_case != TENSORFLOW__TENSOR_SLICE_PROTO__EXTENT__HAS_LENGTH_LENGTH;
      int64_t len = full ? t->dims[d] : x_d->length;
      if (start < 0 || len < 0)
        return hlo_error("slice %zu: dimension %d has start %lld and length %lld (negative)", i,
                         d, (long long)start, (long long)len);
      if (full && start)
        return hlo_error("slice %zu: dimension %d has no length (the whole dimension) but "
                         "starts at %lld", i, d, (long long)start);
      if (!hlo_add_ok(start, len, &end) || end > t->dims[d])
        return hlo_error("slice %zu: dimension %d: %lld + %lld exceeds the tensor's %lld", i,
                         d, (long long)start, (long long)len, (long long)t->dims[d]);
      x->start[d] = start;
      x->length[d] = len;
      if (full) x->full |= 1u << d;
    }
  }
  if (p->n_slices) qsort(sl, p->n_slices, sizeof *sl, cmp_slices);
  t->slices = sl;
  t->nslices = (int)p->n_slices;
  return NULL;
}

/* Checks a BundleEntryProto and appends it as an entry. */
static HloError *add_entry(TfBundle *b, const Block *k) {
  ProtobufCMessage *m;
  HloError *e = parse_value(k, &tensorflow__bundle_entry_proto__descriptor,
                            &m);
  if (e) return e;
  Tensorflow__BundleEntryProto *p = (Tensorflow__BundleEntryProto *)m;
  char key[KEY_TEXT];
  key_text(key, sizeof key, k->key, k->klen);
  TfBundleEntry t = {.dtype = p->dtype, .shard = p->shard_id,
                     .crc32c = p->crc32c, .sliced = p->n_slices > 0};
  const Tensorflow__TensorShapeProto *s = p->shape;
  int64_t end, count = 1;
  t.rank = !s ? 0 : s->unknown_rank ? -1 : (int)s->n_dim;
  if (p->dtype == TENSORFLOW__DATA_TYPE__DT_INVALID ||
      !protobuf_c_enum_descriptor_get_value(&tensorflow__data_type__descriptor,
                                            p->dtype))
    e = hlo_error("dtype %d is not a TensorFlow DataType", (int)p->dtype);
  else if (s && !s->unknown_rank && s->n_dim > HLO_MAX_RANK)
    e = hlo_error("rank %zu exceeds the maximum of %d", s->n_dim,
                  HLO_MAX_RANK);
  for (int i = 0; !e && i < t.rank; i++) {
    t.dims[i] = s->dim[i]->size;
    if (t.dims[i] < 0)
      e = hlo_error("dimension %d is negative (%lld)", i,
                    (long long)t.dims[i]);
    else if (!hlo_mul_ok(count, t.dims[i], &count))
      e = hlo_error("element count overflows int64");
  }
  if (e) {
    /* reported below */
  } else if (p->shard_id < 0 || p->shard_id >= b->nshards)
    e = hlo_error("shard %d is not one of the %d data files", p->shard_id,
                  b->nshards);
  else if (p->offset < 0 || p->size < 0)
    e = hlo_error("offset %lld and size %lld must not be negative",
                  (long long)p->offset, (long long)p->size);
  else if (!hlo_add_ok(p->offset, p->size, &end))
    e = hlo_error("offset %lld + size %lld overflows", (long long)p->offset,
                  (long long)p->size);
  else if (p->n_slices)
    e = take_slices(b, p, &t);
  if (e) {
    tensorflow__bundle_entry_proto__free_unpacked(p, NULL);
    return hlo_error_wrap(e, "%s: entry '%s' (at byte %llu)", b->index_name,
                          key, (unsigned long long)k->entry_at);
  }
  t.offset = (uint64_t)p->offset;
  t.size = (uint64_t)p->size;
  tensorflow__bundle_entry_proto__free_unpacked(p, NULL);
  char *copy = hlo_arena_alloc(b->arena, k->klen + 1);
  memcpy(copy, k->key, k->klen);
  t.key = copy;
  t.key_len = k->klen;
  /* Each entry takes at least 3 bytes of an index below 2 GiB: the count
   * fits an int. */
  if ((size_t)b->nentries == b->cap) {
    b->cap = b->cap ? 2 * b->cap : 16;
    b->entries = hlo_xrealloc(b->entries, b->cap * sizeof *b->entries);
  }
  b->entries[b->nentries++] = t;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Reading the index                                                        */
/* ------------------------------------------------------------------------ */

/* Decodes one block handle of the footer. */
static HloError *footer_handle(const TfBundle *b, const uint8_t *index,
                               size_t *pos, size_t end, const char *what,
                               uint64_t *off, uint64_t *size) {
  size_t at = *pos;
  if (get_varint(index, pos, end, 10, off) ||
      get_varint(index, pos, end, 10, size))
    return hlo_error("%s: footer at byte %zu: malformed %s block handle",
                     b->index_name, at, what);
  return NULL;
}

/* State across the data blocks: the previous key, the previous index
 * separator, where the previous block ended. */
typedef struct Walk {
  uint8_t *last;       /* the last key read (malloc'd) */
  size_t last_len;
  bool any;            /* a key was read */
  uint8_t *sep;        /* the previous block's separator (malloc'd) */
  size_t sep_len;
  bool has_sep;
  uint64_t next_block; /* the first byte a data block may start at */
} Walk;

static void set_bytes(uint8_t **dst, size_t *dlen, const uint8_t *src,
                      size_t len) {
  *dst = hlo_xrealloc(*dst, len + 1);
  memcpy(*dst, src, len);
  *dlen = len;
}

/* Reads one data block: checks its keys against the previous ones and its
 * separator, and takes its entries. */
static HloError *read_data_block(TfBundle *b, const uint8_t *index,
                                 size_t table_end, const Block *ix,
                                 uint64_t off, uint64_t size, Walk *w) {
  char t1[KEY_TEXT], t2[KEY_TEXT];
  unsigned long long ixat = (unsigned long long)ix->entry_at;
  if (off < w->next_block)
    return hlo_error("%s: index entry at byte %llu: data block at byte %llu "
                     "starts before the end of the previous block (byte "
                     "%llu)", b->index_name, ixat, (unsigned long long)off,
                     (unsigned long long)w->next_block);
  Block k;
  HloError *e = block_open(b, index, table_end, off, size, "data", &k);
  if (e) return e;
  w->next_block = off + size + TRAILER_BYTES;
  bool more;
  while (!(e = block_next(&k, &more)) && more) {
    if (w->has_sep && key_cmp(k.key, k.klen, w->sep, w->sep_len) <= 0) {
      e = hlo_error("%s: key '%s' at byte %llu is not after the index's "
                    "bound '%s' for the previous block", b->index_name,
                    key_text(t1, sizeof t1, k.key, k.klen),
                    (unsigned long long)k.entry_at,
                    key_text(t2, sizeof t2, w->sep, w->sep_len));
      break;
    }
    if (w->any && key_cmp(k.key, k.klen, w->last, w->last_len) <= 0) {
      e = hlo_error("%s: key '%s' at byte %llu is not after the previous "
                    "key '%s': the table is not sorted", b->index_name,
                    key_text(t1, sizeof t1, k.key, k.klen),
                    (unsigned long long)k.entry_at,
                    key_text(t2, sizeof t2, w->last, w->last_len));
      break;
    }
    if (!w->any) {
      if (k.klen) {
        e = hlo_error("%s: the table has no header (the empty key comes "
                      "first)", b->index_name);
        break;
      }
      e = read_header(b, &k);
    } else {
      e = add_entry(b, &k);
    }
    if (e) break;
    set_bytes(&w->last, &w->last_len, k.key, k.klen);
    w->any = true;
  }
  block_done(&k);
  if (e) return e;
  if (w->any && key_cmp(ix->key, ix->klen, w->last, w->last_len) < 0)
    return hlo_error("%s: index entry at byte %llu: bound '%s' is before "
                     "its block's last key '%s'", b->index_name, ixat,
                     key_text(t1, sizeof t1, ix->key, ix->klen),
                     key_text(t2, sizeof t2, w->last, w->last_len));
  set_bytes(&w->sep, &w->sep_len, ix->key, ix->klen);
  w->has_sep = true;
  return NULL;
}

static HloError *read_index(TfBundle *b, const uint8_t *index, size_t len) {
  if (len > MAX_INDEX_BYTES)
    return hlo_error("%s: %zu bytes is larger than the 2 GiB an index may "
                     "have", b->index_name, len);
  if (len < FOOTER_BYTES)
    return hlo_error("%s: %zu bytes is too short for a table (its footer "
                     "alone has %d)", b->index_name, len, FOOTER_BYTES);
  size_t foot = len - FOOTER_BYTES;
  if (get_le64(index + len - 8) != TABLE_MAGIC)
    return hlo_error("%s: not a checkpoint index: no table magic number at "
                     "byte %zu", b->index_name, len - 8);
  uint64_t moff, msize, ioff, isize;
  size_t pos = foot;
  HloError *e;
  if ((e = footer_handle(b, index, &pos, len - 8, "metaindex", &moff,
                         &msize)) ||
      (e = footer_handle(b, index, &pos, len - 8, "index", &ioff, &isize)))
    return e;

  /* The metaindex names optional meta blocks (filters) hloc has no use
   * for; its block is still checked. */
  Block k, ix;
  bool more;
  if ((e = block_open(b, index, foot, moff, msize, "metaindex", &k)))
    return e;
  while (!(e = block_next(&k, &more)) && more) {
  }
  block_done(&k);
  if (e) return e;

  if ((e = block_open(b, index, foot, ioff, isize, "index", &ix))) return e;
  Walk w = {0};
  while (!(e = block_next(&ix, &more)) && more) {
    size_t hp = 0;
    uint64_t off, size;
    if (get_varint(ix.value, &hp, ix.vlen, 10, &off) ||
        get_varint(ix.value, &hp, ix.vlen, 10, &size) || hp != ix.vlen) {
      e = hlo_error("%s: index entry at byte %llu: malformed block handle",
                    b->index_name, (unsigned long long)ix.entry_at);
      break;
    }
    if ((e = read_data_block(b, index, foot, &ix, off, size, &w))) break;
  }
  block_done(&ix);
  free(w.last);
  free(w.sep);
  if (!e && !w.any)
    e = hlo_error("%s: the table has no header (it is empty)",
                  b->index_name);
  return e;
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                  */
/* ------------------------------------------------------------------------ */

static TfBundle *bundle_new(const char *prefix) {
  TfBundle *b = hlo_xcalloc(1, sizeof *b);
  size_t n = strlen(prefix);
  b->index_name = hlo_xmalloc(n + 7);
  snprintf(b->index_name, n + 7, "%s.index", prefix);
  b->arena = hlo_arena_new();
  return b;
}

static char *shard_path(const char *prefix, int i, int n) {
  size_t len = strlen(prefix) + 64;
  char *p = hlo_xmalloc(len);
  snprintf(p, len, "%s.data-%05d-of-%05d", prefix, i, n);
  return p;
}

/* Every entry's bytes lie in its shard. */
static HloError *check_ranges(const TfBundle *b) {
  for (int i = 0; i < b->nentries; i++) {
    const TfBundleEntry *e = &b->entries[i];
    const Shard *s = &b->shards[e->shard];
    if (e->offset + e->size > s->size) {
      char key[KEY_TEXT];
      return hlo_error("%s: entry '%s' reads bytes %llu..%llu past the end "
                       "of the file (%llu bytes)", s->path,
                       entry_text(key, sizeof key, e),
                       (unsigned long long)e->offset,
                       (unsigned long long)(e->offset + e->size),
                       (unsigned long long)s->size);
    }
  }
  return NULL;
}

HloError *tf_bundle_open_memory(const char *name, const void *index,
                                size_t index_len, int nshards,
                                const void *const *shards,
                                const size_t *shard_lens, TfBundle **out) {
  *out = NULL;
  TfBundle *b = bundle_new(name);
  HloError *e = read_index(b, index, index_len);
  if (!e && b->nshards != nshards)
    e = hlo_error("%s: the header names %d data files, but %d were given",
                  b->index_name, b->nshards, nshards);
  if (!e) {
    b->shards = hlo_xcalloc((size_t)nshards, sizeof *b->shards);
    for (int i = 0; i < nshards; i++) {
      b->shards[i].path = shard_path(name, i, nshards);
      b->shards[i].data = shards[i];
      b->shards[i].size = shard_lens[i];
    }
    e = check_ranges(b);
  }
  if (e) {
    tf_bundle_free(b);
    return e;
  }
  *out = b;
  return NULL;
}

HloError *tf_bundle_open(const char *prefix, TfBundle **out) {
  *out = NULL;
  TfBundle *b = bundle_new(prefix);
  char *index;
  size_t len;
  HloError *e =
      tf_file_read(b->index_name, MAX_INDEX_BYTES, "the 2 GiB an index may have", &index, &len);
  if (!e) {
    e = read_index(b, (const uint8_t *)index, len);
    free(index);
  }
  /* Each file is looked at before the next is allocated for: a header
   * naming 2^31 files costs one failed stat. */
  Shard *shards = NULL;
  for (int i = 0; !e && i < b->nshards; i++) {
    char *path = shard_path(prefix, i, b->nshards);
    struct stat st;
    if (stat(path, &st))
      e = hlo_error("%s: cannot open: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
      e = hlo_error("%s: not a regular file", path);
    if (e) {
      free(path);
      for (int j = 0; j < i; j++) free(shards[j].path);
      free(shards);
      break;
    }
    shards = hlo_xrealloc(shards, (size_t)(i + 1) * sizeof *shards);
    shards[i] = (Shard){.path = path, .size = (uint64_t)st.st_size};
  }
  if (!e) {
    b->shards = shards;
    e = check_ranges(b);
  }
  if (e) {
    tf_bundle_free(b);
    return e;
  }
  *out = b;
  return NULL;
}

void tf_bundle_free(TfBundle *b) {
  if (!b) return;
  if (b->shards)
    for (int i = 0; i < b->nshards; i++) free(b->shards[i].path);
  free(b->shards);
  free(b->entries);
  hlo_arena_free(b->arena);
  free(b->index_name);
  free(b);
}

int tf_bundle_size(const TfBundle *b) { return b->nentries; }

const TfBundleEntry *tf_bundle_entry(const TfBundle *b, int i) {
  HLO_CHECK(i >= 0 && i < b->nentries);
  return &b->entries[i];
}

static const TfBundleEntry *find_key(const TfBundle *b, const uint8_t *key, size_t len) {
  int lo = 0, hi = b->nentries;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    const TfBundleEntry *e = &b->entries[mid];
    int c = key_cmp((const uint8_t *)e->key, e->key_len, key, len);
    if (!c) return e;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

const TfBundleEntry *tf_bundle_find(const TfBundle *b, const char *key) {
  return find_key(b, (const uint8_t *)key, strlen(key));
}

/* ------------------------------------------------------------------------ */
/* Slices                                                                   */
/* ------------------------------------------------------------------------ */

/* The key of a slice is TensorFlow's "ordered code" (strings/ordered_code.h,
 * used by checkpoint::EncodeTensorNameSlice): the number 0, the variable's
 * key, the rank, then each dimension's start and length (-1 for the whole
 * dimension) as signed numbers.  Each encoding sorts bytewise like the
 * values it encodes. */
typedef struct Bytes {
  uint8_t *p;
  size_t n;
} Bytes;

static void put(Bytes *k, const void *src, size_t n) {
  k->p = hlo_xrealloc(k->p, k->n + n + 1);
  memcpy(k->p + k->n, src, n);
  k->n += n;
}

/* An unsigned number: its byte count, then its bytes big-endian. */
static void put_unsigned(Bytes *k, uint64_t v) {
  uint8_t buf[9];
  int n = 0;
  for (uint64_t x = v; x; x >>= 8) n++;
  buf[0] = (uint8_t)n;
  for (int i = 0; i < n; i++) buf[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
  put(k, buf, (size_t)n + 1);
}

/* A string: NUL as 00 ff, 0xff as ff 00, ended by 00 01. */
static void put_string(Bytes *k, const char *s, size_t len) {
  for (size_t i = 0; i < len; i++) {
    uint8_t c = (uint8_t)s[i];
    if (c == 0x00) put(k, "\x00\xff", 2);
    else if (c == 0xff) put(k, "\xff\x00", 2);
    else put(k, &c, 1);
  }
  put(k, "\x00\x01", 2);
}

/* A signed number in n = 1 + b / 7 bytes, b its significant bits (of ~v
 * for a negative v): two's complement, sign-extended to 10 bytes,
 * big-endian, the last n bytes kept with their first n bits inverted.
 * Those bits repeat the sign, so a non-negative number starts with n ones
 * and a zero, a negative one with n zeros and a one. */
static void put_signed(Bytes *k, int64_t v) {
  uint64_t x = v < 0 ? ~(uint64_t)v : (uint64_t)v;
  int bits = 0;
  while (x >> bits) bits++;
  int n = (bits + 7) / 7;
  uint8_t buf[10];
  buf[0] = buf[1] = v < 0 ? 0xff : 0x00;
  for (int i = 0; i < 8; i++) buf[2 + i] = (uint8_t)((uint64_t)v >> (8 * (7 - i)));
  uint8_t *at = buf + 10 - n;
  /* n leading 1 bits then a 0 bit, across one or two bytes */
  uint16_t header = (uint16_t)(0xffffu << (16 - n));
  at[0] ^= (uint8_t)(header >> 8);
  if (n > 1) at[1] ^= (uint8_t)header;
  put(k, at, (size_t)n);
}

static void slice_key(const TfBundleEntry *e, const TfBundleSlice *x, Bytes *k) {
  put_unsigned(k, 0);
  put_string(k, e->key, e->key_len);
  put_unsigned(k, (uint64_t)e->rank);
  for (int d = 0; d < e->rank; d++) {
    put_signed(k, x->start[d]);
    put_signed(k, x->full >> d & 1 ? -1 : x->length[d]);
  }
}

/* TensorFlow's text of a slice: "start,length" per dimension, "-" for the
 * whole one, joined by ':'. */
static const char *slice_text(char *buf, size_t n, const TfBundleEntry *e,
                              const TfBundleSlice *x) {
  size_t o = 0;
  buf[0] = 0;
  for (int d = 0; d < e->rank && o < n; d++) {
    if (x->full >> d & 1)
      o += (size_t)snprintf(buf + o, n - o, "%s-", d ? ":" : "");
    else
      o += (size_t)snprintf(buf + o, n - o, "%s%lld,%lld", d ? ":" : "",
                            (long long)x->start[d], (long long)x->length[d]);
  }
  return buf;
}

/* err, prefixed with the variable's entry and the slice. */
static HloError *slice_wrap(const TfBundle *b, const TfBundleEntry *e, const TfBundleSlice *x,
                            HloError *err) {
  char key[KEY_TEXT], sl[256];
  return hlo_error_wrap(err, "%s: entry '%s': slice %s", b->index_name,
                        entry_text(key, sizeof key, e), slice_text(sl, sizeof sl, e, x));
}

static HloError *slice_error(const TfBundle *b, const TfBundleEntry *e,
                             const TfBundleSlice *x, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static HloError *slice_error(const TfBundle *b, const TfBundleEntry *e,
                             const TfBundleSlice *x, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  HloError *what = hlo_verror(fmt, ap);
  va_end(ap);
  char key[KEY_TEXT], sl[256];
  HloError *err = hlo_error("%s: entry '%s': slice %s %s", b->index_name,
                            entry_text(key, sizeof key, e), slice_text(sl, sizeof sl, e, x),
                            hlo_error_message(what));
  hlo_error_free(what);
  return err;
}

HloError *tf_bundle_slice_entry(const TfBundle *b, const TfBundleEntry *e,
                                int s, const TfBundleEntry **out) {
  *out = NULL;
  HLO_CHECK(e->sliced && s >= 0 && s < e->nslices);
  const TfBundleSlice *x = &e->slices[s];
  Bytes k = {0};
  slice_key(e, x, &k);
  const TfBundleEntry *p = find_key(b, k.p, k.n);
  free(k.p);
  if (!p) return slice_error(b, e, x, "has no entry in the checkpoint");
  if (p->sliced) return slice_error(b, e, x, "is itself partitioned");
  if (p->dtype != e->dtype)
    return slice_error(b, e, x, "holds %s, the variable %s", tf_type_name(p->dtype),
                       tf_type_name(e->dtype));
  bool same = p->rank == e->rank;
  for (int d = 0; same && d < e->rank; d++) same = p->dims[d] == x->length[d];
  if (!same) {
    HloStr got = {0};
    for (int d = 0; d < p->rank; d++)
      hlo_str_printf(&got, "%s%lld", d ? "," : "", (long long)p->dims[d]);
    HloError *err = slice_error(b, e, x, "is stored with shape [%s]",
                                p->rank < 0 ? "unknown" : got.buf ? got.buf : "");
    free(got.buf);
    return err;
  }
  *out = p;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Reading tensors                                                          */
/* ------------------------------------------------------------------------ */

/* Copies the entry's bytes into dst (e->size bytes). */
static HloError *read_bytes(const TfBundle *b, const TfBundleEntry *e,
                            void *dst) {
  const Shard *s = &b->shards[e->shard];
  if (s->data) {
    if (e->size) memcpy(dst, s->data + e->offset, e->size);
    return NULL;
  }
  if (!e->size) return NULL;
  int fd = open(s->path, O_RDONLY);
  if (fd < 0) return hlo_error("%s: cannot open: %s", s->path, strerror(errno));
  uint64_t done = 0;
  HloError *err = NULL;
  while (done < e->size) {
    ssize_t n = pread(fd, (uint8_t *)dst + done, e->size - done,
                      (off_t)(e->offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = hlo_error("%s: read error: %s", s->path, strerror(errno));
      break;
    }
    if (n == 0) {
      char key[KEY_TEXT];
      err = hlo_error("%s: entry '%s': the file ends at byte %llu, before "
                      "the entry's end (byte %llu): it changed since the "
                      "checkpoint was opened", s->path,
                      entry_text(key, sizeof key, e),
                      (unsigned long long)(e->offset + done),
                      (unsigned long long)(e->offset + e->size));
      break;
    }
    done += (uint64_t)n;
  }
  close(fd);
  return err;
}

static HloError *entry_wrap(const TfBundle *b, const TfBundleEntry *e,
                            HloError *err) {
  char key[KEY_TEXT];
  return hlo_error_wrap(err, "%s: entry '%s'", b->index_name,
                        entry_text(key, sizeof key, e));
}

static HloError *entry_error(const TfBundle *b, const TfBundleEntry *e,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static HloError *entry_error(const TfBundle *b, const TfBundleEntry *e,
                             const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  HloError *err = hlo_verror(fmt, ap);
  va_end(ap);
  return entry_wrap(b, e, err);
}

/* Errors for what no entry of this reader can be read as. */
static HloError *check_readable(const TfBundle *b, const TfBundleEntry *e) {
  if (e->rank < 0) return entry_error(b, e, "its shape is unknown");
  return NULL;
}

static HloError *crc_error(const TfBundle *b, const TfBundleEntry *e,
                           const char *what) {
  char key[KEY_TEXT];
  return hlo_error("%s: entry '%s' (bytes %llu..%llu): %sCRC32C mismatch",
                   b->shards[e->shard].path, entry_text(key, sizeof key, e),
                   (unsigned long long)e->offset,
                   (unsigned long long)(e->offset + e->size), what);
}

/* The shape of numeric entry e. */
static HloError *numeric_shape(const TfBundle *b, const TfBundleEntry *e, HloShape *shape) {
  HloError *err = check_readable(b, e);
  if (err) return err;
  HloType type;
  if (e->dtype == TENSORFLOW__DATA_TYPE__DT_STRING)
    return entry_error(b, e, "dtype DT_STRING is not numeric");
  if ((err = tf_type_to_hlo(e->dtype, &type))) return entry_wrap(b, e, err);
  *shape = hlo_shape_array(type, e->rank, e->dims);
  if ((err = hlo_shape_check_size(shape))) return entry_wrap(b, e, err);
  return NULL;
}

/* Unpartitioned entry e must hold the bytes of `shape`. */
static HloError *check_size(const TfBundle *b, const TfBundleEntry *e, const HloShape *shape) {
  size_t bytes = hlo_shape_byte_size(shape);
  if (bytes == e->size) return NULL;
  char *s = hlo_shape_to_string(shape);
  HloError *err = entry_error(b, e, "size is %llu bytes, but %s takes %zu",
                              (unsigned long long)e->size, s, bytes);
  free(s);
  return err;
}

/* Reads unpartitioned numeric entry e, of the given shape (check_size),
 * into dst. */
static HloError *read_tensor(const TfBundle *b, const TfBundleEntry *e, const HloShape *shape,
                             void *dst) {
  size_t bytes = hlo_shape_byte_size(shape);
  HloError *err = read_bytes(b, e, dst);
  if (!err && !crc_matches(e->crc32c, tf_crc32c_extend(0, dst, bytes)))
    err = crc_error(b, e, "");
  if (!err && shape->type == HLO_PRED)
    for (size_t i = 0; i < bytes; i++) ((uint8_t *)dst)[i] = ((uint8_t *)dst)[i] != 0;
  return err;
}

/* Assembles partitioned entry e, of the given shape, into a new literal:
 * every slice read from its own entry and copied row by row into place,
 * after checking that the slices' elements add up to the tensor's and
 * (marking each element as it is written) that no two overlap, so that
 * they cover it exactly once.  Nothing is allocated for the tensor before
 * its slices' entries are found, each within its data file. */
static HloError *read_sliced(const TfBundle *b, const TfBundleEntry *e, const HloShape *shape,
                             HloArena *arena, HloLiteral **out) {
  const TfBundleEntry **parts = hlo_xcalloc((size_t)e->nslices + 1, sizeof *parts);
  int64_t total = hlo_shape_elements(shape), sum = 0;
  HloError *err = NULL;
  for (int s = 0; s < e->nslices && !err; s++) {
    const TfBundleSlice *x = &e->slices[s];
    HloShape ps = hlo_shape_array(shape->type, e->rank, x->length); /* <= shape */
    err = tf_bundle_slice_entry(b, e, s, &parts[s]);
    if (!err && (err = check_size(b, parts[s], &ps))) err = slice_wrap(b, e, x, err);
    if (!err && !hlo_add_ok(sum, hlo_shape_elements(&ps), &sum)) sum = INT64_MAX;
  }
  if (!err && sum != total)
    err = entry_error(b, e, "its slices hold %lld elements, but the tensor has %lld",
                      (long long)sum, (long long)total);
  size_t esize = hlo_type_size(shape->type);
  uint8_t *seen = err ? NULL : hlo_xcalloc((size_t)total + 1, 1);
  HloLiteral *lit = err ? NULL : arena ? hlo_literal_new_in(arena, shape) : hlo_literal_new(shape);
  uint8_t *dst = lit ? lit->data : NULL;
  int64_t stride[HLO_MAX_RANK]; /* elements between neighbours along d */
  for (int d = e->rank - 1; d >= 0; d--)
    stride[d] = d == e->rank - 1 ? 1 : stride[d + 1] * e->dims[d + 1];
  for (int s = 0; s < e->nslices && !err; s++) {
    const TfBundleSlice *x = &e->slices[s];
    HloShape ps = hlo_shape_array(shape->type, e->rank, x->length);
    uint8_t *buf = hlo_xmalloc(hlo_shape_byte_size(&ps) + 1);
    if ((err = read_tensor(b, parts[s], &ps, buf))) err = slice_wrap(b, e, x, err);
    /* Rows along the last dimension are contiguous in both. */
    int64_t row = e->rank ? x->length[e->rank - 1] : 1;
    int64_t rows = row ? hlo_shape_elements(&ps) / row : 0;
    int64_t idx[HLO_MAX_RANK] = {0};
    for (int64_t r = 0; r < rows && !err; r++) {
      int64_t at = 0;
      for (int d = 0; d < e->rank; d++) at += (x->start[d] + idx[d]) * stride[d];
      for (int64_t i = 0; i < row && !err; i++)
        if (seen[at + i]++)
          err = slice_error(b, e, x, "overlaps another slice");
      memcpy(dst + (size_t)at * esize, buf + (size_t)(r * row) * esize,
             (size_t)row * esize);
      for (int d = e->rank - 2; d >= 0; d--) {
        if (++idx[d] < x->length[d]) break;
        idx[d] = 0;
      }
    }
    free(buf);
  }
  free(seen);
  free(parts);
  if (err && lit && !arena) hlo_literal_free(lit);
  *out = err ? NULL : lit;
  return err;
}

HloError *tf_bundle_read(TfBundle *b, const TfBundleEntry *e, HloArena *arena,
                         HloLiteral **out) {
  *out = NULL;
  HloShape shape;
  HloError *err = numeric_shape(b, e, &shape);
  if (err) return err;
  if (e->sliced) return read_sliced(b, e, &shape, arena, out);
  /* The size is within the shard (checked at open): allocating it is
   * bounded by the checkpoint's size. */
  if ((err = check_size(b, e, &shape))) return err;
  HloLiteral *lit = arena ? hlo_literal_new_in(arena, &shape)
                          : hlo_literal_new(&shape);
  err = read_tensor(b, e, &shape, lit->data);
  if (err) {
    if (!arena) hlo_literal_free(lit);
    return err;
  }
  *out = lit;
  return NULL;
}

/* A string tensor's bytes are the varint64 length of each element, a
 * masked CRC32C of those lengths (each as a little-endian uint32, or
 * uint64 beyond 4 GiB: not the varint bytes), then the elements.  The
 * entry's CRC32C continues the lengths' CRC over the 4 checksum bytes and
 * the elements. */
HloError *tf_bundle_read_string(TfBundle *b, const TfBundleEntry *e,
                                HloArena *arena, const uint8_t **data,
                                size_t *len) {
  HLO_CHECK(arena);
  *data = NULL;
  *len = 0;
  HloError *err = check_readable(b, e);
  if (err) return err;
  if (e->sliced) return entry_error(b, e, "a partitioned string tensor is not read");
  if (e->dtype != TENSORFLOW__DATA_TYPE__DT_STRING)
    return entry_error(b, e, "dtype %s is not DT_STRING",
                       tf_type_name(e->dtype));
  if (e->rank != 0)
    return entry_error(b, e, "a string tensor of rank %d: only scalars are "
                       "read", e->rank);
  uint8_t *buf = hlo_arena_alloc(arena, e->size);
  if ((err = read_bytes(b, e, buf))) return err;
  size_t pos = 0;
  uint64_t n;
  if (get_varint(buf, &pos, e->size, 10, &n))
    return entry_error(b, e, "malformed string length");
  if (e->size - pos < 4 || n != e->size - pos - 4)
    return entry_error(b, e, "a string of %llu bytes does not fill the "
                       "entry's %llu bytes after a %zu-byte length and a "
                       "4-byte checksum", (unsigned long long)n,
                       (unsigned long long)e->size, pos);
  uint32_t crc;
  if (n <= UINT32_MAX) {
    uint32_t n32 = (uint32_t)n;
    crc = tf_crc32c_extend(0, &n32, 4);
  } else {
    crc = tf_crc32c_extend(0, &n, 8);
  }
  if (!crc_matches(get_le32(buf + pos), crc))
    return crc_error(b, e, "the string length's ");
  crc = tf_crc32c_extend(crc, buf + pos, e->size - pos);
  if (!crc_matches(e->crc32c, crc)) return crc_error(b, e, "");
  *data = buf + pos + 4;
  *len = (size_t)n;
  return NULL;
}
