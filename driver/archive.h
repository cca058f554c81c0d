/*
 * archive.h — reading and writing `ar` archives (static libraries), so
 * that `hloc compile --emit lib` needs no binutils: the model's object and
 * the runtime's objects (read out of libhloc_runtime.a) go into one
 * libPREFIX.a.  Internal to driver/.
 */
#ifndef HLOC_DRIVER_ARCHIVE_H
#define HLOC_DRIVER_ARCHIVE_H

#include <stddef.h>

#include "hlo.h"

/* One file of an archive. */
typedef struct ArMember {
  char *name;          /* file name, without directories (malloc'd) */
  unsigned char *data; /* its bytes (malloc'd) */
  size_t size;
} ArMember;

/* Reads the members of a GNU or System V archive in order, leaving out its
 * symbol index and long-name table.  *members is malloc'd; free it with
 * ar_members_free. */
HloError *ar_read(const char *path, ArMember **members, int *n);
void ar_members_free(ArMember *members, int n);

/* The bytes of a GNU archive of the members, in order, with the symbol
 * index ("/") that linkers need, built from the global symbols each ELF64
 * little-endian relocatable member defines.  Member names longer than 15
 * characters go to the long-name table ("//").  Timestamps, owners and
 * modes are fixed, so equal inputs give equal archives.  Errors name a
 * member that is not such an object or is malformed. */
HloError *ar_build(const ArMember *members, int n, HloStr *out);

#endif
