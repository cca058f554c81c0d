/*
 * test_runtime_npy.c — .npy reading and writing: every dtype round-trips,
 * files NumPy wrote (testdata) read back, and malformed files are rejected
 * with a message naming the problem.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "hloc_runtime.h"

static char tmpdir[64];

static void setup(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hloc-npy-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

START_TEST(round_trip_every_dtype) {
  for (int t = 0; t < RT_NUM_DTYPES; t++) {
    RtArray a = {.dtype = (RtDtype)t, .rank = 2, .dims = {3, 5}};
    a.nbytes = 15 * rt_dtype_size(a.dtype);
    a.data = malloc(a.nbytes);
    for (size_t i = 0; i < a.nbytes; i++) ((unsigned char *)a.data)[i] = (unsigned char)(i * 7 + t);
    if (a.dtype == RT_BOOL)
      for (size_t i = 0; i < a.nbytes; i++) ((unsigned char *)a.data)[i] &= 1;
    /* In memory an int2/int4 is sign-extended, a uint2/uint4/float4 in
     * the low bits. */
    int bits = t == RT_I2 || t == RT_U2 ? 2 : t == RT_I4 || t == RT_U4 || t == RT_F4E2M1FN ? 4 : 8;
    for (size_t i = 0; bits < 8 && i < a.nbytes; i++) {
      unsigned char *b = (unsigned char *)a.data + i;
      *b &= (unsigned char)((1u << bits) - 1);
      if ((t == RT_I2 || t == RT_I4) && *b >> (bits - 1)) *b |= (unsigned char)(0xffu << bits);
    }
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/a%d.npy", tmpdir, t);
    ck_assert_int_eq(rt_npy_write(path, &a, err, sizeof err), 0);
    RtArray b;
    ck_assert_msg(rt_npy_read(path, &b, err, sizeof err) == 0, "%s", err);
    /* The narrow types are all '|V1': raw bytes until given their type. */
    ck_assert_int_eq(b.dtype, rt_dtype_is_narrow(a.dtype) ? RT_V1 : a.dtype);
    ck_assert_int_eq(rt_array_retype(&b, a.dtype, path, err, sizeof err), 0);
    ck_assert_int_eq(b.dtype, a.dtype);
    ck_assert_int_eq(b.rank, 2);
    ck_assert(b.dims[0] == 3 && b.dims[1] == 5);
    ck_assert_mem_eq(b.data, a.data, a.nbytes);
    rt_array_free(&a);
    rt_array_free(&b);
  }
}
END_TEST

START_TEST(scalar_and_empty) {
  char path[128], err[256];
  double v = 2.5;
  RtArray s = {.dtype = RT_F64, .rank = 0, .data = &v, .nbytes = 8};
  snprintf(path, sizeof path, "%s/s.npy", tmpdir);
  ck_assert_int_eq(rt_npy_write(path, &s, err, sizeof err), 0);
  RtArray r;
  ck_assert_int_eq(rt_npy_read(path, &r, err, sizeof err), 0);
  ck_assert_int_eq(r.rank, 0);
  ck_assert(*(double *)r.data == 2.5);
  rt_array_free(&r);
  RtArray e = {.dtype = RT_I32, .rank = 2, .dims = {0, 4}};
  snprintf(path, sizeof path, "%s/e.npy", tmpdir);
  ck_assert_int_eq(rt_npy_write(path, &e, err, sizeof err), 0);
  ck_assert_int_eq(rt_npy_read(path, &r, err, sizeof err), 0);
  ck_assert(r.rank == 2 && r.dims[0] == 0 && r.nbytes == 0);
  rt_array_free(&r);
}
END_TEST

/* The header of the widest shape fits RT_NPY_HEADER_MAX and keeps the data
 * 64-byte aligned; a write that fails names the file and the reason. */
START_TEST(header_bound_and_write_errors) {
  RtArray a = {.dtype = RT_F64, .rank = RT_MAX_RANK};
  for (int i = 0; i < RT_MAX_RANK; i++) a.dims[i] = INT64_MAX;
  unsigned char buf[RT_NPY_HEADER_MAX];
  size_t n = rt_npy_header(&a, buf);
  ck_assert_uint_le(n, RT_NPY_HEADER_MAX);
  ck_assert_uint_eq(n % 64, 0);
  char path[128], err[256], want[256];
  double v = 1;
  RtArray s = {.dtype = RT_F64, .rank = 0, .data = &v, .nbytes = 8};
  snprintf(path, sizeof path, "%s/missing/s.npy", tmpdir);
  ck_assert_int_eq(rt_npy_write(path, &s, err, sizeof err), -1);
  snprintf(want, sizeof want, "cannot write '%s': No such file or directory", path);
  ck_assert_str_eq(err, want);
  ck_assert_int_eq(ck_count_files(tmpdir), 0);
}
END_TEST

/* A header as NumPy would write it, with the given dict text and payload. */
static int parse_with(const char *dict, size_t payload, char *err, size_t errlen) {
  unsigned char buf[512] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  size_t n = strlen(dict);
  buf[8] = (unsigned char)n;
  buf[9] = 0;
  memcpy(buf + 10, dict, n);
  RtArray a;
  int rc = rt_npy_parse(buf, 10 + n + payload, "x.npy", &a, err, errlen);
  if (rc == 0) rt_array_free(&a);
  return rc;
}

/* NumPy with ml_dtypes saves int4 [-2, 7, -8, 0] as '|V1' with the value
 * in the low bits; read as int4 it fills its byte, sign-extended.  The
 * high bits are ignored as ml_dtypes ignores them; float8_e5m2 comes as
 * '<f1'; sizes and types must still agree. */
START_TEST(narrow_types_take_the_readers_type) {
  static const char v1[] = "{'descr': '|V1', 'fortran_order': False, 'shape': (4,), }";
  unsigned char buf[128] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, sizeof v1 - 1, 0};
  memcpy(buf + 10, v1, sizeof v1 - 1);
  size_t n = 10 + sizeof v1 - 1;
  memcpy(buf + n, "\x0e\x07\x08\xf0", 4);
  RtArray a;
  char err[256];
  ck_assert_msg(rt_npy_parse(buf, n + 4, "q.npy", &a, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(a.dtype, RT_V1);
  ck_assert_int_eq(rt_array_retype(&a, RT_I4, "q.npy", err, sizeof err), 0);
  ck_assert_int_eq(a.dtype, RT_I4);
  ck_assert_mem_eq(a.data, "\xfe\x07\xf8\x00", 4);
  /* already int4: nothing to do; to another type: no */
  ck_assert_int_eq(rt_array_retype(&a, RT_I4, "q.npy", err, sizeof err), 0);
  ck_assert_int_eq(rt_array_retype(&a, RT_U4, "q.npy", err, sizeof err), -1);
  ck_assert_str_eq(err, "q.npy: the file holds int4, not uint4");
  rt_array_free(&a);
  ck_assert_int_eq(rt_npy_parse(buf, n + 4, "q.npy", &a, err, sizeof err), 0);
  ck_assert_int_eq(rt_array_retype(&a, RT_U4, "q.npy", err, sizeof err), 0);
  ck_assert_mem_eq(a.data, "\x0e\x07\x08\x00", 4);
  rt_array_free(&a);
  ck_assert_int_eq(rt_npy_parse(buf, n + 4, "q.npy", &a, err, sizeof err), 0);
  ck_assert_int_eq(rt_array_retype(&a, RT_F8E4M3FN, "q.npy", err, sizeof err), 0);
  ck_assert_mem_eq(a.data, "\x0e\x07\x08\xf0", 4);
  rt_array_free(&a);
  /* A float32 file is not an int4 one. */
  ck_assert_int_eq(parse_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8,
                              err, sizeof err), 0);
  RtArray f = {.dtype = RT_F32, .rank = 1, .dims = {2}};
  ck_assert_int_eq(rt_array_retype(&f, RT_I4, "f.npy", err, sizeof err), -1);
  ck_assert_str_eq(err, "f.npy: the file holds float32, not int4");
  /* float8_e5m2 as ml_dtypes saves it */
  ck_assert_int_eq(parse_with("{'descr': '<f1', 'fortran_order': False, 'shape': (3,), }", 3,
                              err, sizeof err), 0);
  /* a payload that disagrees with the shape */
  ck_assert_int_eq(parse_with(v1, 3, err, sizeof err), -1);
  ck_assert_str_eq(err, "x.npy: data has 3 bytes but shape and dtype need 4");
  ck_assert_int_eq(parse_with(v1, 5, err, sizeof err), -1);
  ck_assert_str_eq(err, "x.npy: data has 5 bytes but shape and dtype need 4");
  ck_assert_int_eq(parse_with("{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }", 3,
                              err, sizeof err), -1);
}
END_TEST

START_TEST(malformed_headers) {
  char err[256];
  ck_assert_int_eq(parse_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8,
                              err, sizeof err), 0);
  ck_assert_int_eq(parse_with("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8,
                              err, sizeof err), -1);
  ck_assert_str_eq(err, "x.npy: data has 8 bytes but shape and dtype need 12");
  ck_assert_int_eq(parse_with("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8,
                              err, sizeof err), -1);
  ck_assert_str_eq(err, "x.npy: big-endian dtype '>f4' is not supported");
  /* complex256 (x87 long double parts) has no HLO type */
  ck_assert_int_eq(parse_with("{'descr': '<c32', 'fortran_order': False, 'shape': (1,), }", 32,
                              err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "unsupported dtype '<c32'"));
  ck_assert_int_eq(parse_with("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8,
                              err, sizeof err), 0);
  ck_assert_int_eq(parse_with("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", 8,
                              err, sizeof err), -1);
  ck_assert_str_eq(err, "x.npy: data has 8 bytes but shape and dtype need 16");
  ck_assert_int_eq(parse_with("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8,
                              err, sizeof err), -1);
  ck_assert_str_eq(err, "x.npy: Fortran-order arrays are not supported (save in C order)");
  ck_assert_int_eq(parse_with("{'descr': '<f4', 'shape': (2,), }", 8, err, sizeof err), -1);
  ck_assert_str_eq(err, "x.npy: .npy header lacks 'fortran_order'");
  ck_assert_int_eq(parse_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", 8,
                              err, sizeof err), -1);
  ck_assert_str_eq(err, "x.npy: .npy 'shape' has a non-integer dimension");
  /* A huge shape must be refused before any allocation. */
  ck_assert_int_eq(parse_with("{'descr': '<f8', 'fortran_order': False, "
                              "'shape': (4294967296, 4294967296, 4294967296), }",
                              0, err, sizeof err), -1);
  ck_assert_str_eq(err, "x.npy: shape is too large");
  RtArray a;
  ck_assert_int_eq(rt_npy_parse("NUMPY", 5, "y.npy", &a, err, sizeof err), -1);
  ck_assert_str_eq(err, "y.npy: not a .npy file (bad magic)");
  ck_assert_int_eq(rt_npy_read("/nonexistent/z.npy", &a, err, sizeof err), -1);
  ck_assert_str_eq(err, "cannot read '/nonexistent/z.npy': No such file or directory");
}
END_TEST

/* Writes n bytes to DIR/name; returns the path (static). */
static const char *write_bytes(const char *name, const void *bytes, size_t n) {
  static char path[128];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
  ck_assert_int_eq(fclose(f), 0);
  return path;
}

/* What is not a regular file is refused before any read, and the header
 * is checked against the file's size before the data is allocated: a tiny
 * file cannot ask for a huge buffer. */
START_TEST(reading_refuses_what_is_not_an_array_file) {
  char err[256], want[256];
  RtArray a;
  ck_assert_int_eq(rt_npy_read(tmpdir, &a, err, sizeof err), -1);
  snprintf(want, sizeof want, "cannot read '%s': Is a directory", tmpdir);
  ck_assert_str_eq(err, want);
  ck_assert_int_eq(rt_npy_read("/dev/zero", &a, err, sizeof err), -1);
  ck_assert_str_eq(err, "cannot read '/dev/zero': not a regular file");
  /* Version 2: a 4-byte header length claiming 4 GiB in a 12-byte file. */
  const char *p = write_bytes("h.npy", "\x93NUMPY\x02\x00\xff\xff\xff\xff", 12);
  ck_assert_int_eq(rt_npy_read(p, &a, err, sizeof err), -1);
  snprintf(want, sizeof want, "%s: truncated .npy header", p);
  ck_assert_str_eq(err, want);
  /* 2^40 float64 elements announced, 8 bytes present. */
  char file[128] = "\x93NUMPY\x01\x00";
  const char dict[] = "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }";
  file[8] = (char)(sizeof dict - 1);
  memcpy(file + 10, dict, sizeof dict - 1);
  p = write_bytes("d.npy", file, 10 + sizeof dict - 1 + 8);
  ck_assert_int_eq(rt_npy_read(p, &a, err, sizeof err), -1);
  snprintf(want, sizeof want, "%s: data has 8 bytes but shape and dtype need 8796093022208", p);
  ck_assert_str_eq(err, want);
  /* The same file with its shape corrected reads back. */
  file[10 + strlen("{'descr': '<f8', 'fortran_order': False, 'shape': (")] = '1';
  memcpy(strstr(file + 10, "(1") + 2, ",), }          ", 15);
  p = write_bytes("ok.npy", file, 10 + sizeof dict - 1 + 8);
  ck_assert_msg(rt_npy_read(p, &a, err, sizeof err) == 0, "%s", err);
  ck_assert(a.rank == 1 && a.dims[0] == 1 && a.nbytes == 8);
  rt_array_free(&a);
}
END_TEST

START_TEST(reads_numpy_files) {
  /* A file NumPy wrote: the JAX corpus input of the first manifest entry. */
  FILE *f = fopen("testdata/hlo/MANIFEST", "r");
  ck_assert_ptr_nonnull(f);
  char line[512], name[256];
  int found = 0;
  while (!found && fgets(line, sizeof line, f))
    if (line[0] != '#' && sscanf(line, "%255s", name) == 1) found = 1;
  fclose(f);
  ck_assert(found);
  char path[512], err[256];
  snprintf(path, sizeof path, "testdata/hlo/%s.out0.npy", name);
  RtArray a;
  ck_assert_msg(rt_npy_read(path, &a, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq((int64_t)a.nbytes, rt_array_elements(&a) * (int64_t)rt_dtype_size(a.dtype));
  rt_array_free(&a);
}
END_TEST

int main(void) {
  Suite *s = suite_create("runtime_npy");
  TCase *t = tcase_create("npy");
  tcase_add_checked_fixture(t, setup, teardown);
  tcase_add_test(t, round_trip_every_dtype);
  tcase_add_test(t, scalar_and_empty);
  tcase_add_test(t, header_bound_and_write_errors);
  tcase_add_test(t, malformed_headers);
  tcase_add_test(t, narrow_types_take_the_readers_type);
  tcase_add_test(t, reads_numpy_files);
  tcase_add_test(t, reading_refuses_what_is_not_an_array_file);
  suite_add_tcase(s, t);
  return ck_run_suite(s);
}
