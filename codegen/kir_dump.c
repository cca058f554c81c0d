/*
 * kir_dump.c — the readable form of the kernel IR (`hloc dump --stage
 * kir`, verifier messages, kernel-structure tests): one op a line, values
 * numbered per function in print order, types after the results.
 *
 *   func @m_k0_add(%0: memref<4xf32>, %1: memref<4xf32>) internal noinline {
 *     %2 = const 0 : index
 *     for %5 = %2 to %3 step %4 {
 *       %6 = load %0[%5] : f32
 *       store %6, %1[%5]
 *       yield
 *     }
 *     return
 *   }
 *
 * The form is stable: the same IR prints the same text, and numbers do not
 * depend on the order values were created in, only on where they are.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kir.h"

typedef struct Dumper {
  HloStr *out;
  const KirFunc *fn;
  int *name;
  int next;
  int indent;
} Dumper;

static void put(Dumper *d, const char *s) { hlo_str_append(d->out, s, strlen(s)); }

static void val(Dumper *d, KirVal v) {
  if (d->name[v] < 0) d->name[v] = d->next++;
  hlo_str_printf(d->out, "%%%d", d->name[v]);
}

static void vals(Dumper *d, int n, const KirVal *v) {
  for (int i = 0; i < n; i++) {
    if (i) put(d, ", ");
    val(d, v[i]);
  }
}

static void type(Dumper *d, KirType t) { kir_type_print(d->out, d->fn->m, t); }

static void indent(Dumper *d) {
  for (int i = 0; i < d->indent; i++) put(d, "  ");
}

/* Numbers in print order: a walk that names what each op defines before
 * its regions, as printing does. */
static void number_block(Dumper *d, const KirBlock *b) {
  for (int i = 0; i < b->nargs; i++) d->name[b->args + i] = d->next++;
  for (const KirOp *op = b->first; op; op = op->next) {
    for (int i = 0; i < op->nres; i++) d->name[op->res + i] = d->next++;
    for (int i = 0; i < op->nregions; i++) number_block(d, op->regions[i]);
  }
}

static void dump_block(Dumper *d, const KirBlock *b);

static void dump_region(Dumper *d, const char *head, const KirBlock *b) {
  put(d, head);
  /* A for's and a while's first region show their arguments in the op. */
  bool in_head = b->parent && (b->parent->code == KIR_FOR ||
                               (b->parent->code == KIR_WHILE && b == b->parent->regions[0]));
  if (b->nargs && !in_head) {
    put(d, "(");
    for (int i = 0; i < b->nargs; i++) {
      if (i) put(d, ", ");
      val(d, b->args + i);
    }
    put(d, ") ");
  }
  put(d, "{\n");
  d->indent++;
  dump_block(d, b);
  d->indent--;
  indent(d);
  put(d, "}");
}

static void dump_op(Dumper *d, const KirOp *op) {
  indent(d);
  if (op->nres) {
    vals(d, 1, &op->res);
    for (int i = 1; i < op->nres; i++) {
      put(d, ", ");
      val(d, op->res + i);
    }
    put(d, " = ");
  }
  put(d, kir_opcode_name(op->code));
  KirClass c = kir_opcode_class(op->code);
  if (c == KIR_C_CMPI) hlo_str_printf(d->out, " %s", kir_ipred_name((KirIPred)op->pred));
  if (c == KIR_C_CMPF) hlo_str_printf(d->out, " %s", kir_fpred_name((KirFPred)op->pred));
  if (op->code == KIR_REDUCE) hlo_str_printf(d->out, " %s", kir_combine_name((KirCombine)op->pred));
  if (op->sym && op->code != KIR_PARALLEL_FOR) hlo_str_printf(d->out, " @%s", op->sym);
  if (op->code == KIR_CONST) {
    KirType t = kir_type(d->fn, op->res);
    if (t.elem == KIR_I1) {
      put(d, op->imm & 1 ? " true" : " false");
    } else if (t.elem == KIR_F32) {
      uint32_t u = (uint32_t)op->imm;
      float x;
      memcpy(&x, &u, 4);
      hlo_str_printf(d->out, " %.9g", (double)x);
    } else if (t.elem == KIR_F64) {
      double x;
      memcpy(&x, &op->imm, 8);
      hlo_str_printf(d->out, " %.17g", x);
    } else {
      int bits = kir_elem_bits((KirElem)t.elem);
      int64_t v = bits >= 64 ? op->imm : (int64_t)((uint64_t)op->imm << (64 - bits)) >> (64 - bits);
      hlo_str_printf(d->out, " %" PRId64, v);
    }
  } else if (op->code == KIR_FOR) {
    const KirBlock *body = op->regions[0];
    put(d, " ");
    val(d, body->args);
    put(d, " = ");
    vals(d, 1, &op->opnds[0]);
    put(d, " to ");
    val(d, op->opnds[1]);
    put(d, " step ");
    val(d, op->opnds[2]);
    if (op->nopnds > 3) {
      put(d, " iter(");
      for (int i = 3; i < op->nopnds; i++) {
        if (i > 3) put(d, ", ");
        val(d, body->args + i - 2);
        put(d, " = ");
        val(d, op->opnds[i]);
      }
      put(d, ")");
    }
  } else if (op->code == KIR_WHILE) {
    const KirBlock *before = op->regions[0];
    if (op->nopnds) {
      put(d, " (");
      for (int i = 0; i < op->nopnds; i++) {
        if (i) put(d, ", ");
        val(d, before->args + i);
        put(d, " = ");
        val(d, op->opnds[i]);
      }
      put(d, ")");
    }
  } else if (c == KIR_C_MEM && op->nopnds) {
    /* The memref, its indices in brackets, then what else there is. */
    int m = op->code == KIR_STORE || op->code == KIR_VSTORE || op->code == KIR_MSTORE ? 1 : 0;
    int tail = op->code == KIR_MLOAD ? 2 : op->code == KIR_MSTORE ? 1 : 0;
    put(d, " ");
    if (m) {
      val(d, op->opnds[0]);
      put(d, ", ");
    }
    val(d, op->opnds[m]);
    if (op->code != KIR_COPY && op->code != KIR_RESHAPE && op->code != KIR_ADDR) {
      put(d, "[");
      vals(d, op->nopnds - m - 1 - tail, op->opnds + m + 1);
      put(d, "]");
    } else if (op->code == KIR_COPY) {
      put(d, ", ");
      val(d, op->opnds[1]);
    }
    if (tail) {
      put(d, ", ");
      vals(d, tail, op->opnds + op->nopnds - tail);
    }
  } else if (op->nopnds) {
    put(d, " ");
    vals(d, op->nopnds, op->opnds);
  }
  if (op->code == KIR_EXTRACT || op->code == KIR_INSERT || op->code == KIR_UNPACK ||
      op->code == KIR_HOOK)
    hlo_str_printf(d->out, " [%" PRId64 "]", op->imm);
  if (op->code == KIR_ALLOCA) hlo_str_printf(d->out, " align %" PRId64, op->imm);
  if (op->code == KIR_SHFL_XOR) hlo_str_printf(d->out, " xor %" PRId64, op->imm);
  if (op->code == KIR_MMA) hlo_str_printf(d->out, " %s", kir_mma_name((KirMmaKind)op->pred));
  if (op->code == KIR_WGMMA)
    hlo_str_printf(d->out, " m64n%" PRId64 " %s", op->imm, kir_mma_name((KirMmaKind)op->pred));
  if (op->code == KIR_WGMMA_DESC) hlo_str_printf(d->out, " fields 0x%" PRIx64, (uint64_t)op->imm);
  if (op->code == KIR_WGMMA_WAIT) hlo_str_printf(d->out, " %" PRId64, op->imm);
  if (op->code == KIR_PREFETCH) hlo_str_printf(d->out, " locality %" PRId64, op->imm);
  if (op->flags & KIR_F_NONTEMPORAL) hlo_str_printf(d->out, " nontemporal align %" PRId64, op->imm);
  if (op->code == KIR_PARALLEL_FOR) hlo_str_printf(d->out, " @%s", op->sym);
  if (op->code == KIR_SHUFFLE) {
    put(d, " [");
    for (int i = 0; i < op->nmask; i++) hlo_str_printf(d->out, "%s%d", i ? ", " : "", op->mask[i]);
    put(d, "]");
  }
  if (op->flags & KIR_F_CONTRACT) put(d, " contract");
  if (op->nres) {
    put(d, " : ");
    for (int i = 0; i < op->nres; i++) {
      if (i) put(d, ", ");
      type(d, kir_type(d->fn, op->res + i));
    }
  }
  for (int i = 0; i < op->nregions; i++) {
    const char *head = " ";
    char buf[32];
    if (op->code == KIR_IF && i == 1) head = " else ";
    if (op->code == KIR_WHILE && i == 1) head = " do ";
    if (op->code == KIR_SWITCH) {
      if (i < op->nregions - 1) snprintf(buf, sizeof buf, " case %d ", i);
      else snprintf(buf, sizeof buf, " default ");
      head = buf;
    }
    dump_region(d, head, op->regions[i]);
  }
  put(d, "\n");
}

static void dump_block(Dumper *d, const KirBlock *b) {
  for (const KirOp *op = b->first; op; op = op->next) dump_op(d, op);
}

static void dumper_init(Dumper *d, HloStr *out, const KirFunc *f) {
  *d = (Dumper){.out = out, .fn = f, .indent = 1};
  d->name = hlo_xmalloc((size_t)f->nvals * sizeof *d->name);
  for (int i = 0; i < f->nvals; i++) d->name[i] = -1;
  number_block(d, f->body);
}

static void dump_func(HloStr *out, const KirFunc *f) {
  if (f->external) {
    hlo_str_printf(out, "declare @%s", f->name);
    kir_signature_print(out, f);
    hlo_str_append(out, "\n", 1);
    return;
  }
  Dumper d;
  dumper_init(&d, out, f);
  hlo_str_printf(out, "func @%s(", f->name);
  for (int i = 0; i < f->nparams; i++) {
    if (i) put(&d, ", ");
    val(&d, kir_param(f, i));
    put(&d, ": ");
    type(&d, f->params[i]);
  }
  put(&d, ")");
  if (f->nresults) {
    put(&d, " -> ");
    type(&d, f->result);
  }
  if (f->internal) put(&d, " internal");
  if (f->noinline) put(&d, " noinline");
  if (f->kernel && f->block)
    hlo_str_printf(out, " kernel(%" PRId64 " threads in blocks of %d)", f->threads, f->block);
  else if (f->kernel)
    hlo_str_printf(out, " kernel(%" PRId64 " threads)", f->threads ? f->threads : 1);
  else if (f->device) put(&d, " device");
  put(&d, " {\n");
  dump_block(&d, f->body);
  put(&d, "}\n");
  free(d.name);
}

void kir_print_op(HloStr *out, const KirFunc *f, const KirOp *op) {
  Dumper d;
  dumper_init(&d, out, f);
  d.indent = 0;
  dump_op(&d, op);
  free(d.name);
}

char *kir_print(const KirModule *m) {
  HloStr out = {0};
  for (int i = 0; i < m->nglobals; i++) {
    hlo_str_printf(&out, "global @%s : ", m->globals[i].name);
    kir_type_print(&out, m, m->globals[i].type);
    hlo_str_printf(&out, " (%zu bytes)\n", m->globals[i].bytes);
  }
  for (const KirFunc *f = m->first; f; f = f->next) dump_func(&out, f);
  return hlo_str_take(&out);
}
