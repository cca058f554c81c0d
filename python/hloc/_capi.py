"""Loading libhloc.so and declaring its C functions (driver/hloc.h) for ctypes.

The library is the file the HLOC_LIBRARY environment variable names when it
is set; otherwise libhloc.so inside this package's directory (where
`pip install ./python` puts a copy when it can find one), then the one of an
installed hloc (PREFIX/lib beside the PREFIX/bin/hloc on PATH), then the
dynamic loader's search path (LD_LIBRARY_PATH, ld.so.conf).  Every
prototype is declared here, once, so that a wrong argument type fails in
Python instead of inside the library.
"""

import ctypes
import os
import shutil


class CompilerOptions(ctypes.Structure):
    """struct hloc_compiler_options."""
    _fields_ = [("cpu", ctypes.c_char_p), ("features", ctypes.c_char_p),
                ("device", ctypes.c_char_p), ("gpu_tf32", ctypes.c_int),
                ("conv_precision", ctypes.c_char_p)]


class ModelOptions(ctypes.Structure):
    """struct hloc_model_options."""
    _fields_ = [("config", ctypes.c_char_p), ("checkpoint", ctypes.c_char_p),
                ("tags", ctypes.c_char_p), ("signature", ctypes.c_char_p),
                ("num_input_shapes", ctypes.c_int),
                ("input_shape_names", ctypes.POINTER(ctypes.c_char_p)),
                ("input_shape_ranks", ctypes.POINTER(ctypes.c_int)),
                ("input_shape_dims", ctypes.POINTER(ctypes.POINTER(ctypes.c_int64))),
                ("cache_dir", ctypes.c_char_p)]


class KernelProfile(ctypes.Structure):
    _fields_ = [("symbol", ctypes.c_char_p), ("instruction", ctypes.c_char_p),
                ("kind", ctypes.c_char_p), ("shape", ctypes.c_char_p),
                ("tf_op", ctypes.c_char_p), ("loop", ctypes.c_char_p),
                ("calls", ctypes.c_uint64), ("seconds", ctypes.c_double)]


class ProfileSummary(ctypes.Structure):
    _fields_ = [("runs", ctypes.c_uint64), ("seconds", ctypes.c_double),
                ("kernel_seconds", ctypes.c_double)]


_c_p = ctypes.c_void_p
_c_p_p = ctypes.POINTER(ctypes.c_void_p)
_size = ctypes.c_size_t

# name: (restype, argtypes), as driver/hloc.h declares them.
_PROTOTYPES = {
    "hloc_version": (ctypes.c_char_p, []),
    "hloc_error_message": (ctypes.c_char_p, [_c_p]),
    "hloc_error_free": (None, [_c_p]),
    "hloc_compiler_create": (ctypes.c_int, [ctypes.POINTER(CompilerOptions), _c_p_p, _c_p_p]),
    "hloc_compiler_free": (None, [_c_p]),
    "hloc_compile_graphdef": (ctypes.c_int, [_c_p, ctypes.c_char_p, _size, ctypes.c_char_p,
                                             _size, _c_p_p, _c_p_p]),
    "hloc_compile_graphdef_file": (ctypes.c_int, [_c_p, ctypes.c_char_p, ctypes.c_char_p,
                                                  _c_p_p, _c_p_p]),
    "hloc_compile_hlo": (ctypes.c_int, [_c_p, ctypes.c_char_p, _size, _c_p_p, _c_p_p]),
    "hloc_compile_hlo_file": (ctypes.c_int, [_c_p, ctypes.c_char_p, _c_p_p, _c_p_p]),
    "hloc_compile_model": (ctypes.c_int, [_c_p, ctypes.c_char_p, ctypes.POINTER(ModelOptions),
                                          _c_p_p, _c_p_p]),
    "hloc_executable_free": (None, [_c_p]),
    "hloc_executable_save": (ctypes.c_int, [_c_p, ctypes.c_char_p, _c_p_p]),
    "hloc_executable_load": (ctypes.c_int, [ctypes.c_char_p, _c_p_p, _c_p_p]),
    "hloc_executable_num_inputs": (ctypes.c_int, [_c_p]),
    "hloc_executable_num_outputs": (ctypes.c_int, [_c_p]),
    "hloc_executable_scratch_bytes": (_size, [_c_p]),
    "hloc_execute": (ctypes.c_int, [_c_p, _c_p_p, _c_p_p, _c_p_p]),
    "hloc_executable_set_threads": (ctypes.c_int, [_c_p, ctypes.c_int, _c_p_p]),
    "hloc_executable_threads": (ctypes.c_int, [_c_p]),
    "hloc_executable_cancel": (ctypes.c_int, [_c_p]),
    "hloc_executable_set_profiling": (ctypes.c_int, [_c_p, ctypes.c_int, _c_p_p]),
    "hloc_executable_clear_profile": (None, [_c_p]),
    "hloc_executable_num_kernels": (ctypes.c_int, [_c_p]),
    "hloc_executable_kernel_profile": (ctypes.c_int, [_c_p, ctypes.c_int,
                                                      ctypes.POINTER(KernelProfile), _c_p_p]),
    "hloc_executable_profile_summary": (ctypes.c_int, [_c_p, ctypes.POINTER(ProfileSummary),
                                                       _c_p_p]),
    "hloc_executable_profile_report": (_size, [_c_p, ctypes.c_char_p, _size]),
}
for _kind in ("input", "output"):
    _PROTOTYPES.update({
        f"hloc_executable_{_kind}_name": (ctypes.c_char_p, [_c_p, ctypes.c_int]),
        f"hloc_executable_{_kind}_dtype": (ctypes.c_int, [_c_p, ctypes.c_int]),
        f"hloc_executable_{_kind}_rank": (ctypes.c_int, [_c_p, ctypes.c_int]),
        f"hloc_executable_{_kind}_dims": (ctypes.POINTER(ctypes.c_int64), [_c_p, ctypes.c_int]),
        f"hloc_executable_{_kind}_bytes": (_size, [_c_p, ctypes.c_int]),
        f"hloc_executable_{_kind}_tf_name": (ctypes.c_char_p, [_c_p, ctypes.c_int]),
        f"hloc_executable_{_kind}_index": (ctypes.c_int, [_c_p, ctypes.c_char_p, _c_p_p]),
    })


def _candidates():
    env = os.environ.get("HLOC_LIBRARY")
    if env:
        # An explicit choice is the only one tried: falling back silently
        # would hide a typo behind another copy of the library.
        return [env]
    found = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "libhloc.so")]
    # An installed hloc (cmake --install) keeps the library in ../lib from
    # its bin/hloc.
    exe = shutil.which("hloc")
    if exe:
        found.append(os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(exe))),
                                  "lib", "libhloc.so"))
    return found + ["libhloc.so"]


def _dlopen_mode():
    """RTLD_DEEPBIND makes libhloc resolve LLVM's symbols in its own
    libLLVM.so: a process that loaded TensorFlow first holds another LLVM,
    whose symbols would otherwise win ("Attribute 'noext' does not apply
    to functions!").  AddressSanitizer refuses DEEPBIND, so a sanitized run
    (libasan preloaded) loads plainly."""
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        return os.RTLD_NOW
    return os.RTLD_NOW | getattr(os, "RTLD_DEEPBIND", 0)


def load():
    """The loaded library with its prototypes; OSError naming what was tried."""
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(f"{path} (no such file)")
            continue
        try:
            lib = ctypes.CDLL(path, mode=_dlopen_mode())
        except OSError as e:
            tried.append(f"{path} ({e})")
            continue
        for name, (restype, argtypes) in _PROTOTYPES.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        return lib
    raise OSError("hloc: cannot load libhloc.so; tried " + "; ".join(tried) +
                  ". Set HLOC_LIBRARY to the library's path (build/driver/libhloc.so "
                  "in a build tree)")
