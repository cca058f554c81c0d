/*
 * object.c — one relocatable object out of the objects of a split
 * program's parts (split.c): what `ld -r` does, for the objects LLVM
 * writes for our targets (ELF64, little-endian, RELA relocations), so
 * `--emit obj`, the JIT and everything built from the object see one file
 * and need no linker.
 *
 * Sections of one name, type and flags are concatenated, each part's at
 * an offset aligned as it asks (ORC's JIT, unlike a linker, wants section
 * names unique).  Symbols and relocations follow their section: values and
 * offsets move by the part's offset in it, and a relocation against a
 * part's section symbol becomes one against the merged section's, its
 * addend moved the same way.  The constants' bytes (codegen.c) are one
 * more section, .rodata.hloc_constants, written from the bytes as they
 * are: they never pass through LLVM.  With separate weights that section
 * is .bss.hloc_weights instead: the same layout, no bytes, writable, and
 * named as a whole by a global symbol (N_weights) the host fills.  Symbols:
 *   - one section symbol per merged section, then every part's local
 *     symbols, then the constants (local);
 *   - hidden definitions (the functions parts share, split.c) become
 *     local: the merged object exports what an unsplit one does;
 *   - the other definitions stay global (they are unique: duplicates are
 *     an error);
 *   - an undefined symbol that some part defines becomes that definition;
 *     the rest (libc, libm, the runtime) are kept once per name.
 * LLVM's address-significance tables (.llvm_addrsig, a hint for identical
 * code folding, indexed by symbol) are dropped.  Anything else this does
 * not know how to renumber (section groups, REL relocations, extended
 * section indices, sections linked to others, unwind tables that would
 * need padding between parts) is refused: a codegen bug, not the user's.
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifndef SHT_LLVM_ADDRSIG
#define SHT_LLVM_ADDRSIG 0x6fff4c03
#endif

typedef struct Part {
  const unsigned char *bytes;
  size_t len;
  const Elf64_Ehdr *eh;
  const Elf64_Shdr *sh;    /* e_shnum headers */
  int symtab;              /* its section index */
  const Elf64_Sym *syms;
  int nsyms;
  const char *strs;        /* the symbol table's names */
  size_t strs_len;
  int *sym_map;            /* old symbol index → new (0: none) */
} Part;

static HloError *bad(int p, const char *what) {
  return hlo_error("codegen: internal error: cannot merge the object of part %d: %s", p, what);
}

static bool in_bounds(const Part *pt, uint64_t off, uint64_t size) {
  return off <= pt->len && size <= pt->len - off;
}

static HloError *read_part(int p, const void *bytes, size_t len, Part *pt) {
  pt->bytes = bytes;
  pt->len = len;
  if (len < sizeof(Elf64_Ehdr)) return bad(p, "not an ELF object");
  if ((uintptr_t)bytes % 8) return bad(p, "the object's bytes are not 8-byte aligned");
  pt->eh = bytes;
  const Elf64_Ehdr *eh = pt->eh;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
      eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_type != ET_REL)
    return bad(p, "not a 64-bit little-endian relocatable ELF object");
  if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum == 0 || eh->e_shoff % 8 ||
      eh->e_shstrndx >= eh->e_shnum ||
      !in_bounds(pt, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))
    return bad(p, "bad section header table");
  pt->sh = (const Elf64_Shdr *)(pt->bytes + eh->e_shoff);
  pt->symtab = -1;
  for (int i = 1; i < eh->e_shnum; i++) {
    const Elf64_Shdr *s = &pt->sh[i];
    if (s->sh_type != SHT_NOBITS && !in_bounds(pt, s->sh_offset, s->sh_size))
      return bad(p, "a section outside the file");
    if ((s->sh_type == SHT_SYMTAB || s->sh_type == SHT_RELA) && s->sh_offset % 8)
      return bad(p, "a misaligned table");
    if (s->sh_type == SHT_GROUP) return bad(p, "section groups are not supported");
    if (s->sh_type == SHT_REL) return bad(p, "REL relocations are not supported");
    if (s->sh_type == SHT_SYMTAB_SHNDX) return bad(p, "extended section indices");
    if (s->sh_type == SHT_SYMTAB) {
      if (pt->symtab != -1) return bad(p, "two symbol tables");
      pt->symtab = i;
    }
  }
  if (pt->symtab == -1) return bad(p, "no symbol table");
  const Elf64_Shdr *names = &pt->sh[eh->e_shstrndx];
  if (names->sh_type != SHT_STRTAB || !names->sh_size ||
      pt->bytes[names->sh_offset + names->sh_size - 1] != '\0')
    return bad(p, "bad section name table");
  const Elf64_Shdr *st = &pt->sh[pt->symtab];
  if (st->sh_entsize != sizeof(Elf64_Sym) || st->sh_link >= eh->e_shnum)
    return bad(p, "bad symbol table");
  pt->syms = (const Elf64_Sym *)(pt->bytes + st->sh_offset);
  pt->nsyms = (int)(st->sh_size / sizeof(Elf64_Sym));
  pt->strs = (const char *)pt->bytes + pt->sh[st->sh_link].sh_offset;
  pt->strs_len = pt->sh[st->sh_link].sh_size;
  for (int i = 0; i < pt->nsyms; i++)
    if (pt->syms[i].st_name >= pt->strs_len ||
        !memchr(pt->strs + pt->syms[i].st_name, '\0', pt->strs_len - pt->syms[i].st_name))
      return bad(p, "a symbol name outside the string table");
  pt->sym_map = hlo_xcalloc((size_t)pt->nsyms + 1, sizeof *pt->sym_map);
  return NULL;
}

static const char *sym_name(const Part *pt, int i) { return pt->strs + pt->syms[i].st_name; }

static const char *sec_name(const Part *pt, int i) {
  const Elf64_Shdr *names = &pt->sh[pt->eh->e_shstrndx];
  if (pt->sh[i].sh_name >= names->sh_size) return "";
  return (const char *)pt->bytes + names->sh_offset + pt->sh[i].sh_name;
}

/* Whether section i of a part goes into the merged object as it is. */
static bool kept(const Part *pt, int i) {
  uint32_t t = pt->sh[i].sh_type;
  if (t == SHT_RELA && pt->sh[i].sh_info < pt->eh->e_shnum &&
      pt->sh[pt->sh[i].sh_info].sh_type == SHT_LLVM_ADDRSIG)
    return false;
  return t != SHT_SYMTAB && t != SHT_STRTAB && t != SHT_LLVM_ADDRSIG && t != SHT_NULL;
}

/* Appends s (with its '\0') to a string table; returns its offset. */
static uint32_t add_str(HloStr *t, const char *s) {
  uint32_t off = (uint32_t)t->len;
  hlo_str_append(t, s, strlen(s) + 1);
  return off;
}

/* A definition by name, for resolving other parts' undefined symbols. */
typedef struct Def {
  const char *name;
  int sym;  /* its index in the merged table */
} Def;

static int find_def(const Def *defs, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (!strcmp(defs[i].name, name)) return defs[i].sym;
  return 0;
}

static bool is_def(const Elf64_Sym *s) { return s->st_shndx != SHN_UNDEF; }
static bool is_local(const Elf64_Sym *s) { return ELF64_ST_BIND(s->st_info) == STB_LOCAL; }
static bool is_hidden(const Elf64_Sym *s) {
  return ELF64_ST_VISIBILITY(s->st_other) == STV_HIDDEN;
}
static bool is_section_sym(const Elf64_Sym *s) { return ELF64_ST_TYPE(s->st_info) == STT_SECTION; }

/* A merged section: the parts' sections of its name, type and flags. */
typedef struct OutSec {
  const char *name;
  const Elf64_Shdr *first; /* the first part's header, for its type and flags */
  uint64_t size, align;
  HloStr rela;             /* its relocations, merged */
} OutSec;

typedef struct Merge {
  Part *parts;
  int n;
  const CgData *data;      /* the constants, or NULL */
  int data_sec;            /* their merged section + 1 (0: none) */
  OutSec *secs;
  int nsecs;
  int **out_of;            /* by part: section index → merged section + 1 (0: none) … */
  uint64_t **base;         /* … and its offset there */
  HloStr syms, strs;
} Merge;

static bool unwind_table(const OutSec *o) {
  return !strcmp(o->name, ".eh_frame");
}

/* The merged symbol of part p's symbol i: its section and value moved. */
static HloError *out_sym(Merge *mg, int p, int i, unsigned char bind, unsigned char other) {
  Part *pt = &mg->parts[p];
  Elf64_Sym s = pt->syms[i];
  if (s.st_shndx != SHN_UNDEF && s.st_shndx < SHN_LORESERVE) {
    if (s.st_shndx >= pt->eh->e_shnum) return bad(p, "a symbol in no section");
    int o = mg->out_of[p][s.st_shndx];
    if (!o) return NULL; /* in a dropped section: unused */
    s.st_value += mg->base[p][s.st_shndx];
    s.st_shndx = (Elf64_Section)o;
  } else if (s.st_shndx == SHN_XINDEX) {
    return bad(p, "extended section indices");
  }
  s.st_name = *sym_name(pt, i) ? add_str(&mg->strs, sym_name(pt, i)) : 0;
  s.st_info = ELF64_ST_INFO(bind, ELF64_ST_TYPE(s.st_info));
  s.st_other = other;
  pt->sym_map[i] = (int)(mg->syms.len / sizeof s);
  hlo_str_append(&mg->syms, (const char *)&s, sizeof s);
  return NULL;
}

/* Places every kept section of every part in a merged one. */
static HloError *place_sections(Merge *mg) {
  for (int p = 0; p < mg->n; p++) {
    Part *pt = &mg->parts[p];
    for (int i = 1; i < pt->eh->e_shnum; i++) {
      const Elf64_Shdr *h = &pt->sh[i];
      if (!kept(pt, i) || h->sh_type == SHT_RELA) continue;
      if (h->sh_link || (h->sh_flags & (SHF_INFO_LINK | SHF_LINK_ORDER)))
        return bad(p, "a section linked to another");
      const char *name = sec_name(pt, i);
      int o = 0;
      while (o < mg->nsecs &&
             (strcmp(mg->secs[o].name, name) || mg->secs[o].first->sh_type != h->sh_type ||
              mg->secs[o].first->sh_flags != h->sh_flags ||
              mg->secs[o].first->sh_entsize != h->sh_entsize))
        o++;
      if (o == mg->nsecs) mg->secs[mg->nsecs++] = (OutSec){.name = name, .first = h, .align = 1};
      OutSec *os = &mg->secs[o];
      uint64_t a = h->sh_addralign > 1 ? h->sh_addralign : 1;
      uint64_t at = (os->size + a - 1) / a * a;
      if (at != os->size && unwind_table(os))
        return bad(p, "unwind tables that need padding between parts");
      mg->base[p][i] = at;
      os->size = at + h->sh_size;
      if (a > os->align) os->align = a;
      mg->out_of[p][i] = o + 1; /* merged section o is section o + 1 */
    }
  }
  if (mg->data && mg->data->region_symbol) {
    static const Elf64_Shdr bss = {.sh_type = SHT_NOBITS, .sh_flags = SHF_ALLOC | SHF_WRITE};
    mg->secs[mg->nsecs++] = (OutSec){.name = ".bss.hloc_weights", .first = &bss,
                                     .size = mg->data->size, .align = 64};
    mg->data_sec = mg->nsecs;
  } else if (mg->data && mg->data->nsyms) {
    static const Elf64_Shdr rodata = {.sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC};
    mg->secs[mg->nsecs++] = (OutSec){.name = ".rodata.hloc_constants", .first = &rodata,
                                     .size = mg->data->size, .align = 64};
    mg->data_sec = mg->nsecs;
  }
  return NULL;
}

/* The symbol table: section symbols, locals, hidden definitions made
 * local, global definitions, then undefined symbols no part defines.
 * Returns the index of the first global in *first_global. */
static HloError *merge_symbols(Merge *mg, int *first_global) {
  HloError *e = NULL;
  Elf64_Sym null = {0};
  hlo_str_append(&mg->syms, (const char *)&null, sizeof null);
  hlo_str_append(&mg->strs, "", 1);
  for (int o = 0; o < mg->nsecs; o++) {
    Elf64_Sym s = {.st_info = ELF64_ST_INFO(STB_LOCAL, STT_SECTION),
                   .st_shndx = (Elf64_Section)(o + 1)};
    hlo_str_append(&mg->syms, (const char *)&s, sizeof s);
  }
  int ndefs = 0, cap = 0;
  for (int p = 0; p < mg->n; p++) cap += mg->parts[p].nsyms;
  if (mg->data) cap += mg->data->nsyms + 1; /* the constants, the region */
  Def *defs = hlo_xcalloc((size_t)cap + 1, sizeof *defs);
  for (int p = 0; p < mg->n && !e; p++)
    for (int i = 1; i < mg->parts[p].nsyms && !e; i++) {
      const Elf64_Sym *s = &mg->parts[p].syms[i];
      if (is_local(s) && !is_section_sym(s)) e = out_sym(mg, p, i, STB_LOCAL, s->st_other);
    }
  for (int i = 0; i < (mg->data_sec ? mg->data->nsyms : 0) && !e; i++) {
    const CgDataSymbol *d = &mg->data->syms[i];
    Elf64_Sym s = {.st_name = add_str(&mg->strs, d->name),
                   .st_info = ELF64_ST_INFO(STB_LOCAL, STT_OBJECT),
                   .st_shndx = (Elf64_Section)mg->data_sec,
                   .st_value = d->offset,
                   .st_size = d->size};
    if (find_def(defs, ndefs, d->name)) e = bad(0, "a constant defined twice");
    defs[ndefs++] = (Def){d->name, (int)(mg->syms.len / sizeof s)};
    hlo_str_append(&mg->syms, (const char *)&s, sizeof s);
  }
  for (int pass = 0; pass < 2 && !e; pass++) {
    if (pass == 1) *first_global = (int)(mg->syms.len / sizeof(Elf64_Sym));
    if (pass == 1 && mg->data_sec && mg->data->region_symbol) {
      /* Separate weights: the host fills the whole section by this name. */
      Elf64_Sym s = {.st_name = add_str(&mg->strs, mg->data->region_symbol),
                     .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT),
                     .st_shndx = (Elf64_Section)mg->data_sec,
                     .st_size = mg->data->size};
      defs[ndefs++] = (Def){mg->data->region_symbol, (int)(mg->syms.len / sizeof s)};
      hlo_str_append(&mg->syms, (const char *)&s, sizeof s);
    }
    for (int p = 0; p < mg->n && !e; p++)
      for (int i = 1; i < mg->parts[p].nsyms && !e; i++) {
        const Elf64_Sym *s = &mg->parts[p].syms[i];
        const char *name = sym_name(&mg->parts[p], i);
        if (is_local(s) || !is_def(s) || is_hidden(s) != (pass == 0)) continue;
        if (find_def(defs, ndefs, name)) {
          e = bad(p, "a symbol defined in two parts");
          break;
        }
        e = pass == 0 ? out_sym(mg, p, i, STB_LOCAL, STV_DEFAULT)
                      : out_sym(mg, p, i, ELF64_ST_BIND(s->st_info), s->st_other);
        if (mg->parts[p].sym_map[i]) defs[ndefs++] = (Def){name, mg->parts[p].sym_map[i]};
      }
  }
  for (int p = 0; p < mg->n && !e; p++)
    for (int i = 1; i < mg->parts[p].nsyms && !e; i++) {
      const Elf64_Sym *s = &mg->parts[p].syms[i];
      if (is_local(s) || is_def(s)) continue;
      int k = find_def(defs, ndefs, sym_name(&mg->parts[p], i));
      if (k) {
        mg->parts[p].sym_map[i] = k;
        continue;
      }
      e = out_sym(mg, p, i, ELF64_ST_BIND(s->st_info), s->st_other);
      defs[ndefs++] = (Def){sym_name(&mg->parts[p], i), mg->parts[p].sym_map[i]};
    }
  free(defs);
  return e;
}

/* Each part's relocations, into their merged section's. */
static HloError *merge_relocations(Merge *mg) {
  for (int p = 0; p < mg->n; p++) {
    const Part *pt = &mg->parts[p];
    for (int i = 1; i < pt->eh->e_shnum; i++) {
      const Elf64_Shdr *h = &pt->sh[i];
      if (!kept(pt, i) || h->sh_type != SHT_RELA) continue;
      int t = (int)h->sh_info;
      if (t >= pt->eh->e_shnum || !mg->out_of[p][t] || h->sh_entsize != sizeof(Elf64_Rela))
        return bad(p, "relocations for a section that is not kept");
      OutSec *os = &mg->secs[mg->out_of[p][t] - 1];
      const Elf64_Rela *r = (const Elf64_Rela *)(pt->bytes + h->sh_offset);
      for (uint64_t j = 0; j < h->sh_size / sizeof *r; j++) {
        Elf64_Rela x = r[j];
        uint64_t sym = ELF64_R_SYM(x.r_info);
        uint64_t to = 0;
        if (sym >= (uint64_t)pt->nsyms) return bad(p, "a relocation against no symbol");
        if (sym && is_section_sym(&pt->syms[sym])) {
          int s = pt->syms[sym].st_shndx;
          if (s >= pt->eh->e_shnum || !mg->out_of[p][s])
            return bad(p, "a relocation against a dropped section");
          to = (uint64_t)mg->out_of[p][s]; /* its merged section's symbol */
          x.r_addend += (int64_t)mg->base[p][s];
        } else if (sym) {
          if (!pt->sym_map[sym]) return bad(p, "a relocation against a dropped symbol");
          to = (uint64_t)pt->sym_map[sym];
        }
        x.r_offset += mg->base[p][t];
        x.r_info = ELF64_R_INFO(to, ELF64_R_TYPE(x.r_info));
        hlo_str_append(&os->rela, (const char *)&x, sizeof x);
      }
    }
  }
  return NULL;
}

/* The file being written: `head`, then a hole of `hole` bytes (the
 * constants' section, whose bytes the caller writes from where they are),
 * then `tail`.  File offsets count the hole. */
typedef struct Out {
  HloStr *head, *tail;
  size_t hole;
  bool in_tail;          /* the hole is placed: bytes go to the tail */
} Out;

static HloStr *cur(Out *out) { return out->in_tail ? out->tail : out->head; }

static size_t pos(const Out *out) {
  return out->in_tail ? out->head->len + out->hole + out->tail->len : out->head->len;
}

static void put(Out *out, const void *bytes, size_t n) { hlo_str_append(cur(out), bytes, n); }

static void align_to(Out *out, uint64_t align) {
  static const char zeros[64];
  while (align > 1 && pos(out) % align) {
    size_t n = align - pos(out) % align;
    put(out, zeros, n < sizeof zeros ? n : sizeof zeros);
  }
}

/* The file: header, merged sections, their relocations, the tables, the
 * section headers.  The constants' section is the last merged one
 * (place_sections), so the hole of its bytes comes after every other
 * section's. */
static HloError *write_object(Merge *mg, int first_global, Out *out) {
  int nrela = 0;
  for (int o = 0; o < mg->nsecs; o++) nrela += mg->secs[o].rela.len > 0;
  int nsec = 1 + mg->nsecs + nrela + 3;
  int symtab = nsec - 3, strtab = nsec - 2, shstrtab = nsec - 1;
  if (nsec >= SHN_LORESERVE) return bad(0, "too many sections");
  Elf64_Shdr *sh = hlo_xcalloc((size_t)nsec, sizeof *sh);
  HloStr names = {0};
  hlo_str_append(&names, "", 1);
  Elf64_Ehdr eh = *mg->parts[0].eh;
  put(out, &eh, sizeof eh);
  for (int o = 0; o < mg->nsecs; o++) {
    OutSec *os = &mg->secs[o];
    Elf64_Shdr s = *os->first;
    s.sh_name = add_str(&names, os->name);
    s.sh_size = os->size;
    s.sh_addralign = os->align;
    align_to(out, os->align);
    s.sh_offset = pos(out);
    if (o + 1 == mg->data_sec) {
      HLO_CHECK(o == mg->nsecs - 1);
      if (!mg->data->region_symbol) {
        out->hole = mg->data->size;
        out->in_tail = true;
      }
    } else if (s.sh_type != SHT_NOBITS) {
      size_t at = cur(out)->len;
      static const char zeros[64];
      for (uint64_t k = 0; k < os->size; k += sizeof zeros)
        put(out, zeros, os->size - k < sizeof zeros ? os->size - k : sizeof zeros);
      for (int p = 0; p < mg->n; p++)
        for (int i = 1; i < mg->parts[p].eh->e_shnum; i++)
          if (mg->out_of[p][i] == o + 1)
            memcpy(cur(out)->buf + at + mg->base[p][i],
                   mg->parts[p].bytes + mg->parts[p].sh[i].sh_offset, mg->parts[p].sh[i].sh_size);
    }
    sh[o + 1] = s;
  }
  int k = 1 + mg->nsecs;
  for (int o = 0; o < mg->nsecs; o++) {
    OutSec *os = &mg->secs[o];
    if (!os->rela.len) continue;
    char name[256];
    snprintf(name, sizeof name, ".rela%s", os->name);
    align_to(out, 8);
    sh[k] = (Elf64_Shdr){.sh_name = add_str(&names, name),
                         .sh_type = SHT_RELA,
                         .sh_flags = SHF_INFO_LINK,
                         .sh_offset = pos(out),
                         .sh_size = os->rela.len,
                         .sh_link = (Elf64_Word)symtab,
                         .sh_info = (Elf64_Word)(o + 1),
                         .sh_addralign = 8,
                         .sh_entsize = sizeof(Elf64_Rela)};
    put(out, os->rela.buf, os->rela.len);
    k++;
  }
  align_to(out, 8);
  sh[symtab] = (Elf64_Shdr){.sh_name = add_str(&names, ".symtab"),
                            .sh_type = SHT_SYMTAB,
                            .sh_offset = pos(out),
                            .sh_size = mg->syms.len,
                            .sh_link = (Elf64_Word)strtab,
                            .sh_info = (Elf64_Word)first_global,
                            .sh_addralign = 8,
                            .sh_entsize = sizeof(Elf64_Sym)};
  put(out, mg->syms.buf, mg->syms.len);
  sh[strtab] = (Elf64_Shdr){.sh_name = add_str(&names, ".strtab"),
                            .sh_type = SHT_STRTAB,
                            .sh_offset = pos(out),
                            .sh_size = mg->strs.len,
                            .sh_addralign = 1};
  put(out, mg->strs.buf, mg->strs.len);
  uint32_t shstr_name = add_str(&names, ".shstrtab");
  sh[shstrtab] = (Elf64_Shdr){.sh_name = shstr_name,
                              .sh_type = SHT_STRTAB,
                              .sh_offset = pos(out),
                              .sh_size = names.len,
                              .sh_addralign = 1};
  put(out, names.buf, names.len);
  align_to(out, 8);
  Elf64_Ehdr *h = (Elf64_Ehdr *)out->head->buf;
  h->e_shoff = pos(out);
  h->e_shnum = (Elf64_Half)nsec;
  h->e_shstrndx = (Elf64_Half)shstrtab;
  put(out, sh, (size_t)nsec * sizeof *sh);
  free(sh);
  free(names.buf);
  return NULL;
}

static HloError *merge(Part *parts, int n, const CgData *data, Out *out) {
  for (int p = 1; p < n; p++)
    if (parts[p].eh->e_machine != parts[0].eh->e_machine ||
        parts[p].eh->e_flags != parts[0].eh->e_flags)
      return bad(p, "another machine or flags than part 0");
  Merge mg = {.parts = parts, .n = n, .data = data};
  int total = 0;
  for (int p = 0; p < n; p++) total += parts[p].eh->e_shnum;
  mg.secs = hlo_xcalloc((size_t)total + 2, sizeof *mg.secs);
  mg.out_of = hlo_xcalloc((size_t)n, sizeof *mg.out_of);
  mg.base = hlo_xcalloc((size_t)n, sizeof *mg.base);
  for (int p = 0; p < n; p++) {
    mg.out_of[p] = hlo_xcalloc(parts[p].eh->e_shnum, sizeof *mg.out_of[p]);
    mg.base[p] = hlo_xcalloc(parts[p].eh->e_shnum, sizeof *mg.base[p]);
  }
  int first_global = 0;
  HloError *e = place_sections(&mg);
  if (!e) e = merge_symbols(&mg, &first_global);
  if (!e) e = merge_relocations(&mg);
  if (!e) e = write_object(&mg, first_global, out);
  for (int p = 0; p < n; p++) {
    free(mg.out_of[p]);
    free(mg.base[p]);
  }
  for (int o = 0; o < mg.nsecs; o++) free(mg.secs[o].rela.buf);
  free(mg.secs);
  free(mg.out_of);
  free(mg.base);
  free(mg.syms.buf);
  free(mg.strs.buf);
  return e;
}

HloError *cg_object_merge_around(const char *const *objs, const size_t *lens, int n,
                                 const CgData *data, HloStr *head, HloStr *tail) {
  *head = (HloStr){0};
  *tail = (HloStr){0};
  Part *parts = hlo_xcalloc((size_t)n, sizeof *parts);
  HloError *e = NULL;
  for (int p = 0; p < n && !e; p++) e = read_part(p, objs[p], lens[p], &parts[p]);
  Out out = {.head = head, .tail = tail};
  if (!e) e = merge(parts, n, data, &out);
  for (int p = 0; p < n; p++) free(parts[p].sym_map);
  free(parts);
  if (e) {
    free(head->buf);
    free(tail->buf);
    *head = *tail = (HloStr){0};
  }
  return e;
}

int cg_data_pieces(const CgData *d, struct iovec **v, int n) {
  static const char zeros[64];
  *v = hlo_xrealloc(*v, sizeof **v * ((size_t)n + 2 * (size_t)d->nsyms + 1));
  size_t at = 0;
  for (int i = 0; i < d->nsyms; i++) {
    const CgDataSymbol *s = &d->syms[i];
    HLO_CHECK(s->offset >= at && s->offset - at <= sizeof zeros);
    if (s->offset > at) (*v)[n++] = (struct iovec){(void *)zeros, s->offset - at};
    if (s->size) (*v)[n++] = (struct iovec){s->bytes, s->size};
    at = s->offset + s->size;
  }
  HLO_CHECK(at == d->size);
  return n;
}

HloError *cg_object_merge(const char *const *objs, const size_t *lens, int n,
                          const CgData *data, char **out, size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  HloStr head, tail;
  HloError *e = cg_object_merge_around(objs, lens, n, data, &head, &tail);
  if (e) return e;
  if (data && data->nsyms && !data->region_symbol) {
    struct iovec *v = NULL;
    int nv = cg_data_pieces(data, &v, 0);
    for (int i = 0; i < nv; i++) hlo_str_append(&head, v[i].iov_base, v[i].iov_len);
    free(v);
  }
  if (tail.len) hlo_str_append(&head, tail.buf, tail.len);
  free(tail.buf);
  *out = head.buf;
  *out_len = head.len;
  return NULL;
}
