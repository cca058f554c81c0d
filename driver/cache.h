/*
 * cache.h — libhloc's compile cache (cache.c): compiled models kept as the
 * object files the JIT loads, named by a hash of everything the compile
 * reads.  Internal to driver/.
 */
#ifndef HLOC_DRIVER_CACHE_H
#define HLOC_DRIVER_CACHE_H

#include <stddef.h>

#include "hlo.h"
#include "pipeline.h"

/* The cache file name (32 hex digits and ".o") for compiling `path` with
 * `src` for cpu/features (NULL or "native": this host, resolved to its CPU
 * and features, so that a cache moved to another machine misses).  The
 * hash covers hloc's and LLVM's versions, the target, the options and the
 * bytes of every file the compile reads: the model (a SavedModel
 * directory's files, in name order), the config, the checkpoint's index
 * and data files.  Errors name a file that cannot be read. */
HloError *cache_name(const char *path, const ModelSource *src, const char *cpu,
                     const char *features, char name[40]);

/* DIR/NAME's bytes (malloc'd), or *data = NULL when there is no such
 * file. */
HloError *cache_read(const char *dir, const char *name, char **data, size_t *len);

/* Writes DIR/NAME (making DIR if missing) under a temporary name, then
 * renames it: a reader sees the whole file or none. */
HloError *cache_write(const char *dir, const char *name, const void *data, size_t len);

#endif
