/*
 * host.c — the host side of a program for `--target nvptx64`: the entry,
 * compiled for the host CPU, running the kernels through the runtime's
 * CUDA glue, and the image of the device code the object carries.
 *
 * After the device code is lowered (the PTX comes from the same kernel IR
 * with its launches), the entry is rewritten for the host.  Every buffer
 * it gets (arguments, results, the scratch arena, and views of them) is a
 * device address the host never dereferences; what it has of its own are
 * its allocas (a while loop's state, the cancellation status) and the
 * constants' bytes in the object.  So:
 *
 *   launch @k grid, block, bufs…  → hloc_cuda_entry_launch(ctx, n, K, grid, block)
 *   copy device → device          → hloc_cuda_entry_copy(ctx, bytes, ON_DEVICE)
 *   copy constant → device        → hloc_cuda_entry_copy(ctx, bytes, TO_DEVICE)
 *   load from a device buffer     → copied TO_HOST into an alloca of its
 *                                   type (at the entry's start), read there
 *   the entry's status            → hloc_cuda_entry_begin()'s -1 when no
 *                                   run of the runtime is under way
 *
 * where ctx packs the buffers' addresses (kir_pack) and K is the kernel's
 * index in the signature, whose symbol names it in the PTX.  Anything else
 * touching device memory on the host (a store, a vector access) is an
 * error naming the op; codegen makes none today.  The device functions
 * then leave the module, and what remains prints as a CPU module, lowered
 * with the CPU's pipeline and finished by the CPU's ABI (N_run…,
 * N_program) and N_cuda_image (runtime/hloc_runtime.h): the PTX, a cubin
 * when ptxas is found (ptx.c), and each constant the PTX has as a global,
 * pointing at its bytes in the object.
 */
#include <stdlib.h>
#include <string.h>

#include "../cpu/cpu.h"
#include "gpu.h"

/* Where a memref of the entry lives. */
typedef enum Where { ON_DEVICE, ON_HOST, CONSTANT, UNKNOWN } Where;

/* The largest buffer the host reads a scalar of by copying it whole. */
enum { HOST_READ_MAX = 1 << 16 };

static Where where(const KirFunc *f, KirVal v) {
  for (;;) {
    const KirOp *def = f->vals[v].def;
    if (!def) return f->vals[v].block == f->body ? ON_DEVICE : UNKNOWN;
    switch (def->code) {
    case KIR_ALLOCA: return ON_HOST;
    case KIR_GLOBAL: return CONSTANT;
    case KIR_VIEW:
    case KIR_RESHAPE: v = def->opnds[0]; continue;
    default: return UNKNOWN;
    }
  }
}

static int64_t memref_bytes(const KirModule *m, KirType t) {
  const KirMemref *r = kir_memref_of(m, t);
  int64_t n = 1;
  for (int i = 0; i < r->rank; i++) n *= r->dims[i];
  switch (r->elem) {
  case KIR_I16: return 2 * n;
  case KIR_I32:
  case KIR_F32: return 4 * n;
  case KIR_I64:
  case KIR_F64:
  case KIR_INDEX:
  case KIR_PTR: return 8 * n;
  default: return n;
  }
}

typedef struct Host {
  KirModule *m;
  KirFunc *entry;
  const CgSignature *sig;
  KirFunc *launch, *copy;
} Host;

static HloError *refuse(const Host *h, const KirOp *op, const char *why) {
  HloStr s = {0};
  kir_print_op(&s, h->entry, op);
  HloError *e = hlo_error("codegen: nvptx64: %s: %s on the host: %s", h->entry->name, why,
                          s.buf ? s.buf : "");
  free(s.buf);
  return e;
}

static int kernel_index(const CgSignature *sig, const char *sym) {
  for (int i = 0; i < sig->nkernels; i++)
    if (!strcmp(sig->kernels[i].symbol, sym)) return i;
  return -1;
}

static void call_copy(Host *h, KirBuilder *b, KirVal to, KirVal from, int64_t bytes, int kind) {
  KirVal ctx = kir_pack(b, 2, (KirVal[]){to, from});
  kir_call(b, h->copy, 3,
           (KirVal[]){ctx, kir_const_int(b, kir_scalar(KIR_I64), bytes),
                      kir_const_int(b, kir_scalar(KIR_I32), kind)});
}

static HloError *rewrite(Host *h, KirBlock *blk) {
  const KirFunc *f = h->entry;
  for (KirOp *op = blk->first, *next; op; op = next) {
    next = op->next;
    for (int i = 0; i < op->nregions; i++) {
      HloError *e = rewrite(h, op->regions[i]);
      if (e) return e;
    }
    KirBuilder b;
    kir_before(&b, op);
    switch (op->code) {
    case KIR_LAUNCH: {
      int k = kernel_index(h->sig, op->sym), n = op->nopnds - 2;
      if (k < 0) return refuse(h, op, "a launch of no kernel of the signature");
      for (int i = 0; i < n; i++)
        if (kir_type(f, op->opnds[2 + i]).elem != KIR_MEMREF)
          return refuse(h, op, "a kernel parameter that is no buffer");
      KirVal ctx = kir_pack(&b, n, op->opnds + 2);
      KirVal grid = kir_cast(&b, KIR_INDEX_CAST, op->opnds[0], kir_scalar(KIR_I64));
      KirVal block = kir_cast(&b, KIR_INDEX_CAST, op->opnds[1], kir_scalar(KIR_I64));
      kir_call(&b, h->launch, 5,
               (KirVal[]){ctx, kir_const_int(&b, kir_scalar(KIR_I32), n),
                          kir_const_int(&b, kir_scalar(KIR_I32), k), grid, block});
      kir_erase(op);
      break;
    }
    case KIR_COPY: {
      Where from = where(f, op->opnds[0]), to = where(f, op->opnds[1]);
      int64_t bytes = memref_bytes(h->m, kir_type(f, op->opnds[0]));
      if (from == ON_HOST && to == ON_HOST) break;
      int kind = from == ON_DEVICE && to == ON_DEVICE ? HLOC_CUDA_ON_DEVICE
                 : from == CONSTANT && to == ON_DEVICE ? HLOC_CUDA_TO_DEVICE
                 : from == ON_DEVICE && to == ON_HOST  ? HLOC_CUDA_TO_HOST
                                                       : -1;
      if (kind < 0) return refuse(h, op, "a copy between buffers it cannot place");
      call_copy(h, &b, op->opnds[1], op->opnds[0], bytes, kind);
      kir_erase(op);
      break;
    }
    case KIR_LOAD: {
      Where w = where(f, op->opnds[0]);
      if (w == ON_HOST || w == CONSTANT) break;
      KirType t = kir_type(f, op->opnds[0]);
      int64_t bytes = memref_bytes(h->m, t);
      if (w != ON_DEVICE || bytes > HOST_READ_MAX)
        return refuse(h, op, "a read of device memory it cannot copy");
      KirBuilder top;
      kir_at_start(&top, h->entry->body);
      KirVal local = kir_alloca(&top, t, 64);
      call_copy(h, &b, local, op->opnds[0], bytes, HLOC_CUDA_TO_HOST);
      op->opnds[0] = local;
      break;
    }
    case KIR_STORE:
    case KIR_VLOAD:
    case KIR_VSTORE:
    case KIR_MLOAD:
    case KIR_MSTORE:
    case KIR_PREFETCH:
      if (where(f, op->opnds[op->code == KIR_STORE || op->code == KIR_VSTORE ||
                            op->code == KIR_MSTORE ? 1 : 0]) != ON_HOST)
        return refuse(h, op, "an access to device memory");
      break;
    default: break;
    }
  }
  return NULL;
}

HloError *gpu_host_mlir(KirModule *m, const CgSignature *sig, char **mlir) {
  *mlir = NULL;
  HloStr nm = {0};
  hlo_str_printf(&nm, "%s_run_profiled", sig->name);
  Host h = {.m = m, .entry = kir_func_find(m, nm.buf), .sig = sig};
  free(nm.buf);
  HLO_CHECK(h.entry && !h.entry->device);
  KirType ptr = kir_scalar(KIR_PTR), i32 = kir_scalar(KIR_I32), i64 = kir_scalar(KIR_I64);
  h.launch = kir_func_declare(m, "hloc_cuda_entry_launch", 5, (KirType[]){ptr, i32, i32, i64, i64},
                              1, &i32);
  h.copy = kir_func_declare(m, "hloc_cuda_entry_copy", 3, (KirType[]){ptr, i64, i32}, 1, &i32);
  HloError *e = rewrite(&h, h.entry->body);
  if (e) return e;
  /* Outside a run of the runtime (N_run called directly) nothing can
   * reach the GPU: every launch and copy does nothing, a condition reads
   * false, and the entry returns hloc_cuda_entry_begin's -1, not a 0 that
   * would pass its untouched results off as computed. */
  KirFunc *begin = kir_func_declare(m, "hloc_cuda_entry_begin", 0, NULL, 1, &i32);
  KirOp *ret = h.entry->body->last;
  HLO_CHECK(ret && ret->code == KIR_RETURN && ret->nopnds == 1);
  KirBuilder b;
  kir_at_start(&b, h.entry->body);
  KirVal outside = kir_call(&b, begin, 0, NULL);
  kir_before(&b, ret);
  KirVal zero = kir_const_int(&b, i32, 0);
  ret->opnds[0] = kir_select(&b, kir_cmpi(&b, KIR_NE, outside, zero), outside, ret->opnds[0]);
  /* The device functions have been compiled: the host's module is the rest. */
  KirFunc **at = &m->first;
  m->last = NULL;
  while (*at) {
    KirFunc *f = *at;
    if (f->device) {
      *at = f->next;
      free(f->vals);
      free(f->consts);
      f->vals = NULL;
      f->consts = NULL;
    } else {
      m->last = f;
      at = &f->next;
    }
  }
  e = kir_verify(m);
  if (e) return e;
  *mlir = kir_print_mlir(m);
  return NULL;
}

/* A constant array of i8 holding n bytes, as a private global. */
static LLVMValueRef bytes_global(LLVMModuleRef mod, const char *name, const char *data, size_t n) {
  LLVMContextRef ctx = LLVMGetModuleContext(mod);
  LLVMValueRef init = LLVMConstStringInContext2(ctx, data, n, true);
  LLVMValueRef g = LLVMAddGlobal(mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(g, init);
  LLVMSetGlobalConstant(g, true);
  LLVMSetLinkage(g, LLVMPrivateLinkage);
  LLVMSetUnnamedAddr(g, true);
  return g;
}

static LLVMValueRef cstring(LLVMModuleRef mod, const char *s) {
  return bytes_global(mod, "", s, strlen(s) + 1);
}

HloError *gpu_host_finish(LLVMModuleRef mod, const CgTarget *ht, const CgSignature *sig,
                          LLVMModuleRef device, const CgTarget *dt, const CgData *consts) {
  char *ptx = NULL, *cubin = NULL;
  size_t ptx_len = 0, cubin_len = 0;
  HloError *e = gpu_ptx(device, dt, &ptx, &ptx_len);
  if (!e) e = gpu_cubin(ptx, dt->cpu, &cubin, &cubin_len);
  if (e) {
    free(ptx);
    return e;
  }
  cpu_abi_finish(mod, sig, ht);
  LLVMContextRef ctx = LLVMGetModuleContext(mod);
  LLVMTypeRef p = LLVMPointerTypeInContext(ctx, 0), i64 = LLVMInt64TypeInContext(ctx),
              i32 = LLVMInt32TypeInContext(ctx);
  /* hloc_cuda_global {name, data, bytes} for every constant the object
   * holds that the PTX has. */
  LLVMTypeRef gt = LLVMStructTypeInContext(ctx, (LLVMTypeRef[]){p, p, i64}, 3, false);
  int n = 0;
  LLVMValueRef *gs = NULL;
  for (int i = 0; i < consts->nsyms; i++) {
    const CgDataSymbol *c = &consts->syms[i];
    LLVMValueRef host = LLVMGetNamedGlobal(mod, c->name);
    if (!LLVMGetNamedGlobal(device, c->name) || !host) continue;
    gs = hlo_xrealloc(gs, sizeof *gs * ((size_t)n + 1));
    gs[n++] = LLVMConstNamedStruct(
        gt, (LLVMValueRef[]){cstring(mod, c->name), host, LLVMConstInt(i64, c->size, false)}, 3);
  }
  LLVMValueRef globals = LLVMConstNull(p);
  if (n) {
    LLVMValueRef arr = LLVMConstArray2(gt, gs, (uint64_t)n);
    globals = LLVMAddGlobal(mod, LLVMTypeOf(arr), "");
    LLVMSetInitializer(globals, arr);
    LLVMSetGlobalConstant(globals, true);
    LLVMSetLinkage(globals, LLVMPrivateLinkage);
  }
  free(gs);
  /* hloc_cuda_image {sm, ptx, cubin, cubin_bytes, num_globals, globals}. */
  LLVMTypeRef it = LLVMStructTypeInContext(ctx, (LLVMTypeRef[]){p, p, p, i64, i32, p}, 6, false);
  LLVMValueRef fields[6] = {
      cstring(mod, dt->cpu),
      bytes_global(mod, "", ptx, ptx_len + 1),
      cubin ? bytes_global(mod, "", cubin, cubin_len) : LLVMConstNull(p),
      LLVMConstInt(i64, cubin_len, false),
      LLVMConstInt(i32, (unsigned long long)n, false),
      globals,
  };
  HloStr nm = {0};
  hlo_str_printf(&nm, "%s_cuda_image", sig->name);
  LLVMValueRef img = LLVMAddGlobal(mod, it, nm.buf);
  free(nm.buf);
  LLVMSetInitializer(img, LLVMConstNamedStruct(it, fields, 6));
  LLVMSetGlobalConstant(img, true);
  free(ptx);
  free(cubin);
  return cpu_optimize(mod, ht);
}
