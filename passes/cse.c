/*
 * cse.c — common subexpression elimination: of two instructions with the
 * same opcode, operands, attributes, called computations and shape (layout
 * included), the later is replaced by the earlier.
 *
 * The identity of an instruction is its printed HLO text without its name
 * and metadata: the printer already spells out every attribute the IR
 * knows, including raw ones, so nothing can be forgotten here when the IR
 * grows.  Constants are compared by payload instead (printing megabytes of
 * weights to compare them would be silly), hashed by a sample of it.
 *
 * requires: a verified module.
 * keeps:    parameters and custom-calls (never merged); called computations
 *           are compared by identity, so two calls of equal-looking but
 *           distinct computations stay distinct.
 * breaks:   nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct Entry {
  uint64_t hash;
  char *key;        /* printed identity; NULL for constants */
  HloInstr *instr;
} Entry;

typedef struct Table {
  size_t cap, count;
  Entry *slots;
} Table;

static uint64_t fnv(const void *p, size_t n, uint64_t h) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

/* A constant's payload hashed by sample: up to 64 blocks of 64 bytes,
 * spread evenly (equal payloads hash equal; `same` compares in full).
 * Hashing every byte of a model's weights took most of the pass's time
 * (ResNet-50: 100 MB, four runs, a second). */
static uint64_t payload_hash(const HloLiteral *l, const HloShape *s, uint64_t h) {
  size_t n = (size_t)hlo_shape_byte_size(s);
  const unsigned char *p = l->data;
  enum { BLOCK = 64, BLOCKS = 64 };
  if (n <= (size_t)BLOCK * BLOCKS) return fnv(p, n, h);
  size_t step = (n - BLOCK) / (BLOCKS - 1);
  for (size_t i = 0; i < BLOCKS; i++) h = fnv(p + i * step, BLOCK, h);
  return fnv(p + n - BLOCK, BLOCK, h);
}

static char *identity(const HloInstr *in) {
  HloInstr tmp = *in;
  tmp.name = "";
  memset(&tmp.metadata, 0, sizeof tmp.metadata);
  HloStr s = {0};
  hlo_print_instr(&s, &tmp);
  return hlo_str_take(&s);
}

static bool same(const Entry *e, uint64_t hash, const char *key, const HloInstr *in) {
  if (e->hash != hash) return false;
  if (!key) {
    const HloInstr *o = e->instr;
    return !e->key && o->op == HLO_OP_CONSTANT &&
           hlo_shape_equal(&o->shape, &in->shape, true) &&
           hlo_literal_equal(o->literal, in->literal);
  }
  return e->key && !strcmp(e->key, key);
}

/* Returns the earlier equal instruction, or records `in` and returns NULL. */
static HloInstr *lookup_or_add(Table *t, HloInstr *in) {
  char *key = NULL;
  uint64_t hash;
  if (in->op == HLO_OP_CONSTANT) {
    char *shape = hlo_shape_to_string(&in->shape);
    hash = fnv(shape, strlen(shape), 1469598103934665603ull);
    free(shape);
    if (hlo_type_is_array(in->shape.type)) hash = payload_hash(in->literal, &in->shape, hash);
  } else {
    key = identity(in);
    hash = fnv(key, strlen(key), 1469598103934665603ull);
  }
  if ((t->count + 1) * 2 > t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 256;
    Entry *slots = hlo_xcalloc(cap, sizeof(Entry));
    for (size_t i = 0; i < t->cap; i++) {
      if (!t->slots[i].instr) continue;
      size_t j = t->slots[i].hash & (cap - 1);
      while (slots[j].instr) j = (j + 1) & (cap - 1);
      slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
  }
  size_t j = hash & (t->cap - 1);
  for (; t->slots[j].instr; j = (j + 1) & (t->cap - 1)) {
    if (same(&t->slots[j], hash, key, in)) {
      free(key);
      return t->slots[j].instr;
    }
  }
  t->slots[j] = (Entry){hash, key, in};
  t->count++;
  return NULL;
}

static void table_free(Table *t) {
  for (size_t i = 0; i < t->cap; i++) free(t->slots[i].key);
  free(t->slots);
}

bool pass_cse(HloModule *m) {
  bool changed = false;
  int nc;
  HloComputation **comps = px_graph_computations(m, true, &nc);
  for (int ci = 0; ci < nc; ci++) {
    int n;
    HloInstr **order = hlo_post_order(comps[ci], &n);
    Table t = {0};
    /* Post order: operands are already canonical when a user is keyed. */
    for (int i = 0; i < n; i++) {
      HloInstr *in = order[i];
      if (px_has_side_effect(in)) continue;
      HloInstr *earlier = lookup_or_add(&t, in);
      if (!earlier) continue;
      hlo_replace_all_uses(in, earlier);
      if (!in->nusers && comps[ci]->root != in) hlo_instr_remove(in);
      changed = true;
    }
    table_free(&t);
    free(order);
  }
  free(comps);
  return changed;
}
