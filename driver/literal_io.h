/*
 * literal_io.h — moving values between .npy files (runtime/) and HLO
 * literals (hlo/).  Internal to driver/ (the public API is hloc.h); the test
 * suites link it too, to read testdata/.
 */
#ifndef HLOC_DRIVER_LITERAL_IO_H
#define HLOC_DRIVER_LITERAL_IO_H

#include "hlo.h"
#include "hloc_runtime.h"

/* The element type of a .npy dtype, and back (false for TUPLE/TOKEN). */
HloType hloc_type_from_dtype(RtDtype t);
bool hloc_dtype_from_type(HloType t, RtDtype *out);

/* An array shape in NumPy's notation, "float32[2,784]", a bounded dynamic
 * dim with "<=" ("int32[<=5,3]": what messages about .npy inputs and
 * results say); tuples as HLO prints them.  Malloc'd. */
char *hloc_array_text(const HloShape *s);

/* Reads PATH into a heap literal (hlo_literal_free).  A '|V1' file (the
 * narrow types: runtime/hloc_runtime.h) takes the element type `narrow`,
 * its bytes checked; with narrow not one of those types it is an error
 * saying that the type is not known. */
HloError *hloc_read_npy_as(const char *path, HloType narrow, HloLiteral **out);
/* hloc_read_npy_as with no narrow type known. */
HloError *hloc_read_npy(const char *path, HloLiteral **out);
/* Writes an array literal to PATH atomically (temporary name, rename). */
HloError *hloc_write_npy(const char *path, const HloLiteral *l);
/* The bytes of an array literal's .npy file that precede its data (at most
 * RT_NPY_HEADER_MAX, into buf) and their count; errors name path. */
HloError *hloc_npy_header(const HloLiteral *l, const char *path, unsigned char *buf,
                          size_t *len);

#endif
