/*
 * header.c — the C header of a compiled program: the typed entry point,
 * the generic entry and descriptor, and compile-time constants (scratch
 * size and alignment; each argument's and result's name, element type,
 * shape and size), so a host can allocate everything statically.
 *
 * Everything is derived from the CgSignature alone.  Macros carry the
 * --name prefix, so headers of several models can be included together.
 * Element C types: pred is uint8_t (0/1), f16 and bf16 are uint16_t bit
 * patterns.
 */
#include <inttypes.h>

#include "internal.h"

static const char *c_type(HloType t) {
  switch (t) {
  case HLO_PRED: return "uint8_t";
  case HLO_S8: return "int8_t";
  case HLO_S16: return "int16_t";
  case HLO_S32: return "int32_t";
  case HLO_S64: return "int64_t";
  case HLO_U8: return "uint8_t";
  case HLO_U16: case HLO_F16: case HLO_BF16: return "uint16_t";
  case HLO_U32: return "uint32_t";
  case HLO_U64: return "uint64_t";
  case HLO_F32: return "float";
  case HLO_F64: return "double";
  /* (re, im) pairs: two per element */
  case HLO_C64: return "float";
  case HLO_C128: return "double";
  /* One byte per element: a sub-byte integer sign- or zero-extended, a
   * float8 or float4 its bit pattern (hloc_runtime.h). */
  case HLO_S2: case HLO_S4: return "int8_t";
  case HLO_U2: case HLO_U4: case HLO_F8E4M3FN: case HLO_F8E5M2: case HLO_F8E4M3FNUZ:
  case HLO_F8E5M2FNUZ: case HLO_F8E4M3B11FNUZ: case HLO_F8E4M3: case HLO_F8E3M4:
  case HLO_F8E8M0FNU: case HLO_F4E2M1FN: return "uint8_t";
  default: HLO_UNREACHABLE();
  }
}

static const char *rt_dtype(HloType t) {
  switch (t) {
  case HLO_PRED: return "RT_BOOL";
  case HLO_S8: return "RT_I8";
  case HLO_S16: return "RT_I16";
  case HLO_S32: return "RT_I32";
  case HLO_S64: return "RT_I64";
  case HLO_U8: return "RT_U8";
  case HLO_U16: return "RT_U16";
  case HLO_U32: return "RT_U32";
  case HLO_U64: return "RT_U64";
  case HLO_F16: return "RT_F16";
  case HLO_BF16: return "RT_BF16";
  case HLO_F32: return "RT_F32";
  case HLO_F64: return "RT_F64";
  case HLO_C64: return "RT_C64";
  case HLO_C128: return "RT_C128";
  case HLO_S2: return "RT_I2";
  case HLO_S4: return "RT_I4";
  case HLO_U2: return "RT_U2";
  case HLO_U4: return "RT_U4";
  case HLO_F8E4M3FN: return "RT_F8E4M3FN";
  case HLO_F8E5M2: return "RT_F8E5M2";
  case HLO_F8E4M3FNUZ: return "RT_F8E4M3FNUZ";
  case HLO_F8E5M2FNUZ: return "RT_F8E5M2FNUZ";
  case HLO_F8E4M3B11FNUZ: return "RT_F8E4M3B11FNUZ";
  case HLO_F8E4M3: return "RT_F8E4M3";
  case HLO_F8E3M4: return "RT_F8E3M4";
  case HLO_F8E8M0FNU: return "RT_F8E8M0FNU";
  case HLO_F4E2M1FN: return "RT_F4E2M1FN";
  default: HLO_UNREACHABLE();
  }
}

static void shape_text(HloStr *s, const CgBufferInfo *b) {
  hlo_str_printf(s, "%s[", hlo_type_name(b->type));
  for (int k = 0; k < b->rank; k++)
    hlo_str_printf(s, "%s%" PRId64, k ? "," : "", b->dims[k]);
  hlo_str_printf(s, "]");
}

static void buffer_macros(HloStr *s, const char *n, const char *kind, int i,
                          const CgBufferInfo *b) {
  int64_t elements = 1;
  for (int k = 0; k < b->rank; k++) elements *= b->dims[k];
  hlo_str_printf(s, "/* %s %d: %s, ", kind[0] == 'A' ? "argument" : "result",
                 i, b->name);
  shape_text(s, b);
  hlo_str_printf(s, "%s */\n", b->updated ? ", a variable: the run writes its new value back" : "");
  hlo_str_printf(s, "#define %s_%s%d_NAME \"%s\"\n", n, kind, i, b->name);
  hlo_str_printf(s, "#define %s_%s%d_DTYPE %s\n", n, kind, i, rt_dtype(b->type));
  hlo_str_printf(s, "typedef %s %s_%s%d_t;\n", c_type(b->type), n, kind, i);
  hlo_str_printf(s, "#define %s_%s%d_RANK %d\n", n, kind, i, b->rank);
  hlo_str_printf(s, "#define %s_%s%d_DIMS {", n, kind, i);
  for (int k = 0; k < b->rank; k++)
    hlo_str_printf(s, "%s%" PRId64, k ? ", " : "", b->dims[k]);
  hlo_str_printf(s, "}\n");
  hlo_str_printf(s, "#define %s_%s%d_ELEMENTS %" PRId64 "\n", n, kind, i, elements);
  hlo_str_printf(s, "#define %s_%s%d_BYTES %zu\n\n", n, kind, i, b->bytes);
}

/* A program for an NVIDIA GPU (--target nvptx64): its N_run… take device
 * buffers and a device scratch arena and must run inside N_cuda_run_device
 * (the launches go to the run's hloc_cuda); these wrap the runtime's
 * loading and running, on device or host buffers. */
static void gpu_section(HloStr *s, const CgSignature *sig) {
  const char *n = sig->name;
  hlo_str_printf(s,
                 "/* The kernels run on an NVIDIA GPU (%s, or newer through the PTX).\n"
                 " * Open the GPU once with hloc_cuda_open, load the kernels into it with\n"
                 " * %s_cuda_load, then run with %s_cuda_run (host buffers: copied to\n"
                 " * the device and back) or %s_cuda_run_device (device buffers, and a\n"
                 " * device scratch arena of %s_DEVICE_SCRATCH_BYTES).  %s_run and the\n"
                 " * other entry points above take device addresses and run only inside\n"
                 " * these: called directly they do nothing and return -1.\n"
                 " * Each of these returns 0, or -1 with a message in err naming the CUDA\n"
                 " * call, its error and the kernel (\"no CUDA driver found\", \"no GPU\"\n"
                 " * come from hloc_cuda_open).  One run at a time per hloc_cuda. */\n"
                 "#define %s_GPU_SM \"%s\"\n"
                 "#define %s_DEVICE_SCRATCH_BYTES %zu\n"
                 "extern const hloc_cuda_image %s_cuda_image;\n"
                 "static inline int %s_cuda_load(hloc_cuda *gpu, char *err, size_t errlen) {\n"
                 "  return hloc_cuda_load_image(gpu, &%s_cuda_image, err, errlen);\n"
                 "}\n",
                 sig->gpu_sm, n, n, n, n, n, n, sig->gpu_sm, n, sig->scratch_bytes, n, n, n);
  static const char *const kinds[] = {"", "_device"};
  for (int dev = 0; dev < 2; dev++) {
    hlo_str_printf(s, "static inline int %s_cuda_run%s(hloc_cuda *gpu", n, kinds[dev]);
    for (int i = 0; i < sig->nargs + sig->nresults; i++) {
      const CgBufferInfo *b = i < sig->nargs ? &sig->args[i] : &sig->results[i - sig->nargs];
      if (dev) hlo_str_printf(s, ", uint64_t %s", b->name);
      else
        hlo_str_printf(s, ", %s%s *%s", i < sig->nargs && !b->updated ? "const " : "",
                       c_type(b->type), b->name);
    }
    hlo_str_printf(s, "%s,\n    char *err, size_t errlen) {\n", dev ? ", uint64_t scratch" : "");
    hlo_str_printf(s, "  void *const buffers[] = {");
    for (int i = 0; i < sig->nargs + sig->nresults; i++) {
      const CgBufferInfo *b = i < sig->nargs ? &sig->args[i] : &sig->results[i - sig->nargs];
      hlo_str_printf(s, "%s(void *)%s%s", i ? ", " : "", dev ? "(uintptr_t)" : "", b->name);
    }
    if (!sig->nargs && !sig->nresults) hlo_str_printf(s, "0");
    if (dev)
      hlo_str_printf(s, "};\n  return hloc_cuda_run_device(gpu, &%s_program, buffers, scratch, "
                        "err, errlen);\n}\n", n);
    else
      hlo_str_printf(s, "};\n  return hloc_cuda_run_host(gpu, &%s_program, buffers, err, "
                        "errlen);\n}\n", n);
  }
  hlo_str_printf(s, "\n");
}

char *cg_header(const CgSignature *sig) {
  HloStr s = {0};
  const char *n = sig->name;
  hlo_str_printf(&s,
                 "/*\n"
                 " * %s.h — generated by hloc: the compiled function \"%s\".\n"
                 " *\n"
                 " * %s_run computes the results from the arguments, using a scratch\n"
                 " * arena of %s_SCRATCH_BYTES bytes aligned to %s_SCRATCH_ALIGN (NULL\n"
                 " * when that is 0), and returns 0.  Buffers are dense row-major arrays\n"
                 " * that must not overlap; pred elements are bytes 0/1, f16 and bf16\n"
                 " * are 16-bit patterns.  %s_run_buffers takes the arguments then the\n"
                 " * results as one array; %s_program describes the same function for\n"
                 " * hosts that bind by name (hloc_program_run allocates the scratch).\n"
                 " * Link %s.o with the hloc runtime (its large loops call\n"
                 " * rt_parallel_for; hloc_program_run is there too).\n"
                 " * %s_run_cancellable and %s_run_buffers_cancellable take one more\n"
                 " * argument, a flag another thread may set to stop the run (checked\n"
                 " * before each kernel and each while-loop iteration): they then return\n"
                 " * the point where they stopped, a number > 0 that\n"
                 " * hloc_program_cancel_point(&%s_program, status) names.\n"
                 " * %s_run_profiled and %s_run_buffers_profiled take a profiler after\n"
                 " * the flag and call its hooks around each kernel (NULL: none), for\n"
                 " * hloc_profile_run and the kernels %s_program lists.\n",
                 n, n, n, n, n, n, n, n, n, n, n, n, n, n);
  bool updates = false;
  for (int i = 0; i < sig->nargs; i++) updates |= sig->args[i].updated;
  if (updates)
    hlo_str_printf(&s, " * Arguments that are variables (non-const pointers) are updated in\n"
                       " * place: when the run ends, their buffers hold the new values.\n");
  hlo_str_printf(&s,
                 " */\n"
                 "#ifndef HLOC_GENERATED_%s_H\n"
                 "#define HLOC_GENERATED_%s_H\n\n"
                 "#include <stdint.h>\n\n"
                 "#include \"hloc_runtime.h\"\n\n"
                 "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
                 n, n);
  hlo_str_printf(&s, "#define %s_SCRATCH_BYTES %zu\n", n, sig->scratch_bytes);
  hlo_str_printf(&s, "#define %s_SCRATCH_ALIGN %zu\n", n, sig->scratch_align);
  hlo_str_printf(&s, "#define %s_NUM_ARGS %d\n", n, sig->nargs);
  hlo_str_printf(&s, "#define %s_NUM_RESULTS %d\n\n", n, sig->nresults);
  for (int i = 0; i < sig->nargs; i++) buffer_macros(&s, n, "ARG", i, &sig->args[i]);
  for (int i = 0; i < sig->nresults; i++)
    buffer_macros(&s, n, "RESULT", i, &sig->results[i]);
  static const char *const variants[] = {"", "_cancellable", "_profiled"};
  static const char *const extra[] = {"", ", const int32_t *cancel",
                                      ",\n    const int32_t *cancel, hloc_profiler *profiler"};
  for (int v = 0; v < 3; v++) {
    hlo_str_printf(&s, "int %s_run%s(", n, variants[v]);
    for (int i = 0; i < sig->nargs; i++)
      hlo_str_printf(&s, "%s%s *%s, ", sig->args[i].updated ? "" : "const ",
                     c_type(sig->args[i].type), sig->args[i].name);
    for (int i = 0; i < sig->nresults; i++)
      hlo_str_printf(&s, "%s *%s, ", c_type(sig->results[i].type), sig->results[i].name);
    hlo_str_printf(&s, "void *scratch%s);\n", extra[v]);
  }
  hlo_str_printf(&s, "int %s_run_buffers(void *const *buffers, void *scratch);\n", n);
  hlo_str_printf(&s,
                 "int %s_run_buffers_cancellable(void *const *buffers, void *scratch,\n"
                 "    const int32_t *cancel);\n"
                 "int %s_run_buffers_profiled(void *const *buffers, void *scratch,\n"
                 "    const int32_t *cancel, hloc_profiler *profiler);\n",
                 n, n);
  hlo_str_printf(&s, "extern const hloc_program %s_program;\n\n", n);
  if (sig->separate_weights) {
    hlo_str_printf(&s,
                   "/* The weights are not in %s.o: before the first run, load the weights\n"
                   " * file compiled with it into %s_weights (%s_load_weights; 0 or -1 with\n"
                   " * a message in err). */\n"
                   "#define %s_WEIGHTS_BYTES %zu\n"
                   "#define %s_WEIGHTS_FINGERPRINT UINT64_C(0x%016" PRIx64 ")\n"
                   "extern unsigned char %s_weights[];\n"
                   "static inline int %s_load_weights(const char *path, char *err, "
                   "size_t errlen) {\n"
                   "  return hloc_load_weights(path, %s_weights, %s_WEIGHTS_BYTES,\n"
                   "                           %s_WEIGHTS_FINGERPRINT, err, errlen);\n"
                   "}\n\n",
                   n, n, n, n, sig->weights_bytes, n, sig->weights_fingerprint, n, n, n, n,
                   n);
  }
  if (*sig->gpu_sm) gpu_section(&s, sig);
  hlo_str_printf(&s, "#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
  return hlo_str_take(&s);
}
