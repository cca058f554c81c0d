/*
 * hloc_runtime.h — the runtime that hloc's compiled models and tools link:
 * plain C, no dependency on the compiler, LLVM or MLIR.
 *
 * This header is the runtime's one public header.  It currently holds the
 * `.npy` reader/writer that generated executables and the `hloc` driver use
 * to exchange arrays with NumPy.
 *
 * Errors: functions return 0 on success, -1 on failure with a message in the
 * caller's buffer (`err`, `errlen`) naming the file and the problem.
 */
#ifndef HLOC_RUNTIME_H
#define HLOC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RT_MAX_RANK 12

/* Element types of .npy files, with the NumPy descr each reads from and
 * writes as.  bf16 has no NumPy dtype; ml_dtypes stores it as the 2-byte
 * void type '<V2', which is what RT_BF16 reads and writes. */
#define RT_DTYPES(X)                                                          \
  X(BOOL, "|b1", 1)                                                           \
  X(I8, "|i1", 1)                                                             \
  X(I16, "<i2", 2)                                                            \
  X(I32, "<i4", 4)                                                            \
  X(I64, "<i8", 8)                                                            \
  X(U8, "|u1", 1)                                                             \
  X(U16, "<u2", 2)                                                            \
  X(U32, "<u4", 4)                                                            \
  X(U64, "<u8", 8)                                                            \
  X(F16, "<f2", 2)                                                            \
  X(BF16, "<V2", 2)                                                           \
  X(F32, "<f4", 4)                                                            \
  X(F64, "<f8", 8)

typedef enum RtDtype {
#define X(e, descr, size) RT_##e,
  RT_DTYPES(X)
#undef X
  RT_NUM_DTYPES
} RtDtype;

/* A dense C-order array.  `data` is malloc'd by rt_npy_read and released
 * with rt_array_free; callers filling one for rt_npy_write own it. */
typedef struct RtArray {
  RtDtype dtype;
  int rank;
  int64_t dims[RT_MAX_RANK];
  void *data;
  size_t nbytes; /* element count * element size */
} RtArray;

const char *rt_dtype_descr(RtDtype t);
size_t rt_dtype_size(RtDtype t);
int64_t rt_array_elements(const RtArray *a);
void rt_array_free(RtArray *a);

/* Reads a version 1/2/3 .npy file: little-endian or byte-order-free dtypes
 * above, C order, rank <= RT_MAX_RANK; anything else is an error naming the
 * file and the header field. */
int rt_npy_read(const char *path, RtArray *out, char *err, size_t errlen);
/* Parses an in-memory .npy image (the same checks as rt_npy_read); `name`
 * is used in messages.  The data is copied. */
int rt_npy_parse(const void *buf, size_t len, const char *name, RtArray *out,
                 char *err, size_t errlen);
/* Writes a version 1.0 .npy file, first to PATH.tmp.PID then renamed, so a
 * failure leaves no partial file. */
int rt_npy_write(const char *path, const RtArray *a, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* HLOC_RUNTIME_H */
