/*
 * test_codegen_split.c — compiling a module in parts (codegen/split.c) and
 * merging the parts' objects with the constants' bytes (codegen/object.c).
 *
 * A chain of dense layers whose kernels each hold their own scalar
 * constants (so every part's object has constant pools in sections of the
 * same names, which the merge concatenates and relocates) and read weights
 * from constants (the object's data section): compiled whole and in one
 * part per kernel group, the JIT runs both to the same bits, and matches
 * the evaluator.  The merged object exports the entry points and nothing
 * else, and its bytes do not change from one compile to the next.  The
 * merge refuses what it cannot read with an error, never a crash.
 */
#include <elf.h>

#include "hloc_runtime.h"
#include "internal.h"
#include "test_codegen_util.h"

/* Four layers: dot with a constant weight, then a scale and a clamp of
 * constants of the layer's own.  Each is large enough to run on the
 * thread pool (its kernel calls the runtime, so it has unwind entries).
 * Inputs are small integers and the scales powers of two, so every value
 * is exact and the evaluator must match to the bit. */
static char *chain_module(void) {
  static const double scale[] = {0.5, -2.0, 4.0, 0.125};
  HloStr s = {0};
  hlo_str_printf(&s, "HloModule chain\n\nENTRY main {\n  x0 = f32[1024,24] parameter(0)\n");
  for (int l = 0; l < 4; l++) {
    hlo_str_printf(&s, "  w%d = f32[24,24] constant({", l);
    for (int i = 0; i < 24; i++) {
      hlo_str_printf(&s, "%s{", i ? ", " : "");
      for (int j = 0; j < 24; j++)
        hlo_str_printf(&s, "%s%d", j ? ", " : "", (i * 7 + j * 3 + l) % 9 - 4);
      hlo_str_printf(&s, "}");
    }
    hlo_str_printf(&s, "})\n");
    hlo_str_printf(&s,
                   "  d%d = f32[1024,24] dot(x%d, w%d), lhs_contracting_dims={1}, "
                   "rhs_contracting_dims={0}\n"
                   "  k%d = f32[] constant(%g)\n"
                   "  kb%d = f32[1024,24] broadcast(k%d), dimensions={}\n"
                   "  a%d = f32[1024,24] multiply(d%d, kb%d)\n"
                   "  lo%d = f32[] constant(%d)\n  hi%d = f32[] constant(%d)\n"
                   "  %sx%d = f32[1024,24] clamp(lo%d, a%d, hi%d)\n",
                   l, l, l, l, scale[l], l, l, l, l, l, l, -20 - l, l, 30 + l,
                   l == 3 ? "ROOT " : "", l + 1, l, l, l);
  }
  hlo_str_printf(&s, "}\n");
  return hlo_str_take(&s);
}

static CgProgram *compile(const HloModule *m, int parts) {
  CgProgram *p = NULL;
  HloError *e = cg_compile(m, &(CgOptions){.name = "t", .parts = parts}, &p);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  return p;
}

/* Runs the program on x; the result (malloc'd). */
static HloLiteral *run(const HloModule *m, int parts, const HloLiteral *x) {
  CgProgram *p = compile(m, parts);
  CgJit *j = NULL;
  HloError *e = cg_jit(p, &j);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  cg_program_free(p);
  HloLiteral *out = hlo_literal_new(&m->entry->root->shape);
  void *bufs[2] = {x->data, out->data};
  ck_assert_int_eq(hloc_program_run(cg_jit_program(j), bufs), 0);
  cg_jit_free(j);
  return out;
}

static HloModule *optimized_chain(void) {
  char *text = chain_module();
  HloModule *m = ck_parse_verified(text);
  free(text);
  HloError *e = cgt_optimize(m);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  return m;
}

START_TEST(parts_run_like_whole) {
  HloModule *m = optimized_chain();
  HloLiteral *x = hlo_literal_new(&m->entry->params[0]->shape);
  uint64_t seed = 11;
  cgt_fill_values(x, &seed, true);
  HloLiteral *whole = run(m, 1, x), *split = run(m, KIR_MAX_PARTS, x);
  ck_assert(!memcmp(whole->data, split->data, hlo_shape_byte_size(&whole->shape)));
  HloLiteral *want = ck_evaluate(m, &x, 1);
  char msg[256];
  ck_assert_msg(ck_allclose(split, want, 0, 0, msg, sizeof msg), "%s", msg);
  hlo_literal_free(want);
  hlo_literal_free(whole);
  hlo_literal_free(split);
  hlo_literal_free(x);
  hlo_module_free(m);
}
END_TEST

static char *object_of(const HloModule *m, int parts, size_t *len) {
  CgProgram *p = compile(m, parts);
  char *obj;
  HloError *e = cg_program_emit(p, CG_FILE_OBJECT, &obj, len);
  ck_assert_msg(!e, "%s", hlo_error_message(e));
  cg_program_free(p);
  return obj;
}

/* Checks that every unwind entry's code address (a relocation of
 * .eh_frame against the section symbol of .text, as LLVM writes it) is the
 * start of a function of .text: the parts' entries moved with their code.
 * Returns how many there are. */
static int unwind_entries_at_functions(const char *obj) {
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)obj;
  const Elf64_Shdr *sh = (const Elf64_Shdr *)(obj + eh->e_shoff);
  const char *secnames = obj + sh[eh->e_shstrndx].sh_offset;
  int text = 0, symtab = 0, n = 0;
  int64_t seen[64];
  for (int i = 1; i < eh->e_shnum; i++) {
    if (!strcmp(secnames + sh[i].sh_name, ".text")) text = i;
    if (sh[i].sh_type == SHT_SYMTAB) symtab = i;
  }
  ck_assert(text && symtab);
  const Elf64_Sym *sym = (const Elf64_Sym *)(obj + sh[symtab].sh_offset);
  size_t nsyms = sh[symtab].sh_size / sizeof *sym;
  for (int i = 1; i < eh->e_shnum; i++) {
    if (sh[i].sh_type != SHT_RELA || strcmp(secnames + sh[sh[i].sh_info].sh_name, ".eh_frame"))
      continue;
    const Elf64_Rela *r = (const Elf64_Rela *)(obj + sh[i].sh_offset);
    for (size_t k = 0; k < sh[i].sh_size / sizeof *r; k++) {
      const Elf64_Sym *to = &sym[ELF64_R_SYM(r[k].r_info)];
      if (ELF64_ST_TYPE(to->st_info) != STT_SECTION || to->st_shndx != text) continue;
      bool at_function = false;
      for (size_t j = 1; j < nsyms; j++)
        at_function |= ELF64_ST_TYPE(sym[j].st_info) == STT_FUNC && sym[j].st_shndx == text &&
                       sym[j].st_value == (uint64_t)r[k].r_addend;
      ck_assert_msg(at_function, "an unwind entry at .text+%lld", (long long)r[k].r_addend);
      for (int m = 0; m < n && m < 64; m++) /* one entry per function */
        ck_assert_msg(seen[m] != r[k].r_addend, "two unwind entries at .text+%lld",
                      (long long)r[k].r_addend);
      if (n < 64) seen[n] = r[k].r_addend;
      n++;
    }
  }
  return n;
}

START_TEST(merged_object_exports_entry_points_only) {
  HloModule *m = optimized_chain();
  size_t len, len2;
  char *obj = object_of(m, KIR_MAX_PARTS, &len), *again = object_of(m, KIR_MAX_PARTS, &len2);
  ck_assert(len == len2 && !memcmp(obj, again, len)); /* deterministic */
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)obj;
  const Elf64_Shdr *sh = (const Elf64_Shdr *)(obj + eh->e_shoff);
  int globals = 0, constants = 0;
  for (int i = 0; i < eh->e_shnum; i++) {
    if (sh[i].sh_type != SHT_SYMTAB) continue;
    const Elf64_Sym *sym = (const Elf64_Sym *)(obj + sh[i].sh_offset);
    const char *names = obj + sh[sh[i].sh_link].sh_offset;
    for (size_t k = 1; k < sh[i].sh_size / sizeof *sym; k++) {
      const char *name = names + sym[k].st_name;
      bool local = ELF64_ST_BIND(sym[k].st_info) == STB_LOCAL;
      ck_assert_msg(local == (k < sh[i].sh_info), "%s: locals first", name);
      ck_assert_msg(ELF64_ST_VISIBILITY(sym[k].st_other) != STV_HIDDEN, "%s is hidden", name);
      if (!strncmp(name, "t_const", 7)) {
        constants++;
        ck_assert_msg(local && sym[k].st_shndx != SHN_UNDEF, "%s", name);
        ck_assert_int_eq(sym[k].st_value % 64, 0);
      }
      if (local) continue;
      if (sym[k].st_shndx == SHN_UNDEF) {
        ck_assert_msg(strncmp(name, "t_", 2), "%s is left undefined", name);
        continue;
      }
      globals++;
      ck_assert_msg(!strcmp(name, "t_run") || !strcmp(name, "t_run_buffers") ||
                        !strcmp(name, "t_run_cancellable") ||
                        !strcmp(name, "t_run_buffers_cancellable") ||
                        !strcmp(name, "t_run_profiled") ||
                        !strcmp(name, "t_run_buffers_profiled") || !strcmp(name, "t_program"),
                    "%s is exported", name);
    }
  }
  ck_assert_int_eq(globals, 7);
  ck_assert_int_ge(constants, 4);
  ck_assert_int_ge(unwind_entries_at_functions(obj), 3); /* from several parts */
  free(obj);
  free(again);
  hlo_module_free(m);
}
END_TEST

START_TEST(merge_refuses_what_it_cannot_read) {
  HloModule *m = optimized_chain();
  size_t len;
  char *obj = object_of(m, 1, &len);
  static _Alignas(8) const char junk[] =
      "not an object at all, but long enough to hold an ELF header....";
  const struct {
    const char *bytes;
    size_t len;
    const char *want;
  } cases[] = {
      {junk, sizeof junk, "not a 64-bit little-endian relocatable ELF object"},
      {obj, 16, "not an ELF object"},
      {obj, len / 2, "bad section header table"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *out;
    size_t out_len;
    HloError *e = cg_object_merge(&cases[i].bytes, &cases[i].len, 1, NULL, &out, &out_len);
    ck_assert_msg(e && strstr(hlo_error_message(e), cases[i].want), "case %zu: %s", i,
                  e ? hlo_error_message(e) : "no error");
    hlo_error_free(e);
  }
  /* The same object twice defines t_run twice. */
  const char *two[2] = {obj, obj};
  size_t lens[2] = {len, len}, out_len;
  char *out;
  HloError *e = cg_object_merge(two, lens, 2, NULL, &out, &out_len);
  ck_assert_msg(e && strstr(hlo_error_message(e), "defined in two parts"), "%s",
                e ? hlo_error_message(e) : "no error");
  hlo_error_free(e);
  free(obj);
  hlo_module_free(m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("codegen_split");
  TCase *t = tcase_create("split");
  tcase_add_test(t, parts_run_like_whole);
  tcase_add_test(t, merged_object_exports_entry_points_only);
  tcase_add_test(t, merge_refuses_what_it_cannot_read);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
