/*
 * convergent.c — marks the device module's warp-synchronous calls
 * `convergent` before LLVM optimizes it, so that no pass may sink, hoist,
 * duplicate or unswitch them into control flow that depends on the thread.
 *
 * LLVM's NVVM intrinsics for barriers, shuffles and the wgmma fence,
 * commit and wait carry the attribute by definition, but LLVM 22 declares
 * `llvm.nvvm.mma.*` (mma.sync, which all 32 lanes must execute together)
 * `memory(none)` and not convergent, and the inline assembly that
 * convert-nvvm-to-llvm makes of `nvvm.wgmma.mma_async` is only
 * `sideeffect`.  As clang does for CUDA, every inline assembly call is
 * taken to be convergent (its text is opaque), and so is every call of an
 * mma intrinsic.  Then, to a fixed point, a function that makes a
 * convergent call is itself marked convergent, so that calls of a task
 * holding a barrier are treated like the barrier until O3 inlines it
 * (FunctionAttrs removes the attribute again where no such call remains).
 *
 * What it assumes: the module is the device's, translated from MLIR and
 * not yet optimized; hloc emits no other warp-level intrinsic lacking the
 * attribute (wmma, ldmatrix are never emitted).
 */
#include <string.h>

#include "gpu.h"

static unsigned convergent_kind(void) {
  return LLVMGetEnumAttributeKindForName("convergent", strlen("convergent"));
}

static bool fn_convergent(LLVMValueRef f, unsigned kind) {
  return LLVMGetEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, kind) != NULL;
}

/* Whether call (a call instruction) is convergent, at the call site or
 * through its callee's attributes. */
bool gpu_call_convergent(LLVMValueRef call) {
  unsigned kind = convergent_kind();
  if (LLVMGetCallSiteEnumAttribute(call, LLVMAttributeFunctionIndex, kind)) return true;
  LLVMValueRef callee = LLVMGetCalledValue(call);
  return LLVMIsAFunction(callee) && fn_convergent(callee, kind);
}

/* Calls LLVM does not know to be warp-synchronous but are. */
static bool needs_mark(LLVMValueRef call) {
  LLVMValueRef callee = LLVMGetCalledValue(call);
  if (LLVMIsAInlineAsm(callee)) return true;
  if (!LLVMIsAFunction(callee)) return false;
  size_t n;
  const char *name = LLVMGetValueName2(callee, &n);
  static const char mma[] = "llvm.nvvm.mma.";
  return n > sizeof mma - 1 && !strncmp(name, mma, sizeof mma - 1);
}

void gpu_mark_convergent(LLVMModuleRef mod) {
  unsigned kind = convergent_kind();
  LLVMContextRef ctx = LLVMGetModuleContext(mod);
  for (bool changed = true, first = true; changed; first = false) {
    changed = false;
    for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
      if (LLVMIsDeclaration(f)) continue;
      bool calls = false;
      for (LLVMBasicBlockRef b = LLVMGetFirstBasicBlock(f); b; b = LLVMGetNextBasicBlock(b))
        for (LLVMValueRef i = LLVMGetFirstInstruction(b); i; i = LLVMGetNextInstruction(i)) {
          if (!LLVMIsACallInst(i)) continue;
          if (first && needs_mark(i) && !gpu_call_convergent(i))
            LLVMAddCallSiteAttribute(i, LLVMAttributeFunctionIndex,
                                     LLVMCreateEnumAttribute(ctx, kind, 0));
          calls = calls || gpu_call_convergent(i);
        }
      if (calls && !fn_convergent(f, kind)) {
        LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
                                LLVMCreateEnumAttribute(ctx, kind, 0));
        changed = true;
      }
    }
  }
}
