"""hloc: compile TensorFlow graphs and HLO modules to native code, run them on NumPy arrays.

    import numpy as np, hloc
    exe = hloc.compile("mnist_mlp.pb", config="mnist_mlp.config.pbtxt")
    exe.inputs                      # (TensorSpec(name='image', dtype=float32, shape=(2, 784), ...),)
    probs, = exe(np.zeros((2, 784), np.float32))
    exe.run(image=x)                # {'probs': array(...)}
    exe.save("libmnist.so")         # a shared library of the compiled code ...
    exe = hloc.load("libmnist.so")  # ... which a later process loads without compiling

A thin ctypes binding of libhloc.so (driver/hloc.h; see docs/api.md): the model
is compiled for this machine by hloc's pipeline and loaded in this process.  Which libhloc.so is used: see hloc/_capi.py (HLOC_LIBRARY, or
next to this package).

Every failure, whether libhloc reports it (a malformed GraphDef, an unsupported
op, an unknown CPU) or this binding rejects an argument (wrong dtype, wrong
shape, unknown input name), raises hloc.Error with a message saying what and
where.  Executables may be called from several threads at once; the GIL is
released while compiled code runs.  exe.set_threads(n) (or threads=n when
compiling) runs an executable's large kernels on n threads; results are
bit-identical for any n.
"""

import collections
import collections.abc
import ctypes
import numbers
import os
import threading
import weakref

import numpy as np

from . import _capi

__all__ = ["Error", "TensorSpec", "Compiler", "Executable", "compile", "compile_graphdef",
           "compile_model", "compile_hlo", "load"]

_lib = _capi.load()
__version__ = _lib.hloc_version().decode()


class Error(Exception):
    """A compile or run failure; str(e) is the message (libhloc's, where it reported it)."""


class TensorSpec(collections.namedtuple("TensorSpec", "name dtype shape nbytes tf_name")):
    """One input or output: name (str), dtype (numpy.dtype), shape (tuple), nbytes (int),
    tf_name (str: the TensorFlow tensor, "NODE:INDEX", for a GraphDef or SavedModel; else
    None)."""

    def __str__(self):
        return f"{self.name}: {_notation(self.dtype, self.shape)}"


def _bfloat16():
    # NumPy has no bfloat16; ml_dtypes (from JAX) does.  Without it, bf16
    # values travel as their 2-byte patterns, which is how .npy stores them.
    try:
        import ml_dtypes
        return np.dtype(ml_dtypes.bfloat16)
    except ImportError:
        return np.dtype("V2")


# hloc_dtype values (driver/hloc.h) are indices here.
_DTYPES = [np.dtype(t) for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                                 np.uint16, np.uint32, np.uint64, np.float16)]
_DTYPES += [_bfloat16(), np.dtype(np.float32), np.dtype(np.float64)]
_BF16 = 10


def _narrow(name):
    # The narrow types (one byte per element) are ml_dtypes' where it is
    # installed; without it, their raw bytes (void '|V1'), in the layout
    # hloc_runtime.h gives them in memory.
    try:
        import ml_dtypes
        return np.dtype(getattr(ml_dtypes, name))
    except (ImportError, AttributeError):
        return np.dtype("V1")


# 13 is raw bytes, no program's type; then the narrow types in hloc_dtype's
# order.  _SIGN_EXTEND: ml_dtypes' sub-byte signed integers by their bits;
# compiled code holds them sign-extended to fill their byte, where ml_dtypes
# leaves the high bits zero (and ignores them when it reads).
_DTYPES += [np.dtype("V1")] + [_narrow(n) for n in (
    "int2", "int4", "uint2", "uint4", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
    "float8_e5m2fnuz", "float8_e4m3b11fnuz", "float8_e4m3", "float8_e3m4", "float8_e8m0fnu",
    "float4_e2m1fn")]
_DTYPES += [np.dtype(np.complex64), np.dtype(np.complex128)]
_SIGN_EXTEND = {} if _DTYPES[15] == np.dtype("V1") else {_DTYPES[14]: 2, _DTYPES[15]: 4}


def _check(rc, err):
    """Raises Error with libhloc's message when a call failed (rc != 0)."""
    if rc == 0:
        return
    msg = _lib.hloc_error_message(err).decode("utf-8", "replace")
    _lib.hloc_error_free(err)
    raise Error(msg)


_MAX_THREADS = 2**31 - 1  # a C int


def _check_threads(n):
    """n as a thread count (an int >= 1), or Error."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise Error(f"threads must be a positive integer, got {n!r} ({type(n).__name__})")
    if n < 1:
        raise Error(f"threads must be a positive integer, got {n}")
    if n > _MAX_THREADS:
        raise Error(f"threads must be a positive integer of at most {_MAX_THREADS}, got {n}")
    return int(n)


def _is_path(x):
    return isinstance(x, (str, os.PathLike))


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise Error(f"{os.fspath(path)}: {e.strerror}") from None


def _contents(x, what):
    if _is_path(x):
        return _read(x)
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x)
    raise Error(f"{what}: expected a path (str or os.PathLike) or bytes, got {type(x).__name__}")


class Compiler:
    """Compiles for one CPU: cpu is an LLVM CPU name ("x86-64-v3", "znver4", ...),
    "native" or "generic" (None: this machine's, "native"); features adds or removes
    CPU features ("+avx2,-avx512f").  Unknown names raise Error at the first compile.
    device="cuda" compiles for the machine's NVIDIA GPU instead (cpu then names its SM:
    "sm_80", the default, "sm_86", "sm_89", "sm_90"); running raises Error ("no CUDA
    driver found", "no GPU") where there is none.  gpu_tf32=True (device="cuda" only)
    lets f32 dots and convolutions run on tensor cores with operands rounded to TF32.
    conv_precision="exact" keeps 3x3 convolutions to algorithms exact on small integers
    (Winograd F(2x2,3x3), direct); "fast" (None: the same) allows F(4x4,3x3) too."""

    def __init__(self, cpu=None, features=None, device=None, gpu_tf32=False,
                 conv_precision=None):
        opts = _capi.CompilerOptions(cpu.encode() if cpu else None,
                                     features.encode() if features else None,
                                     device.encode() if device else None,
                                     1 if gpu_tf32 else 0,
                                     conv_precision.encode() if conv_precision else None)
        handle, err = ctypes.c_void_p(), ctypes.c_void_p()
        _check(_lib.hloc_compiler_create(ctypes.byref(opts), ctypes.byref(handle),
                                         ctypes.byref(err)), err)
        self._handle = handle
        weakref.finalize(self, _lib.hloc_compiler_free, handle)

    def _finish(self, rc, exe, err):
        _check(rc, err)
        return Executable(exe)

    def compile_graphdef(self, graph, config):
        """A frozen GraphDef (.pb binary or .pbtxt text) and its tfcompile config (text or
        binary), each a path or the file's bytes."""
        exe, err = ctypes.c_void_p(), ctypes.c_void_p()
        if _is_path(graph) and _is_path(config):
            rc = _lib.hloc_compile_graphdef_file(self._handle, os.fsencode(graph),
                                                 os.fsencode(config), ctypes.byref(exe),
                                                 ctypes.byref(err))
        else:
            g, c = _contents(graph, "graph"), _contents(config, "config")
            rc = _lib.hloc_compile_graphdef(self._handle, g, len(g), c, len(c), ctypes.byref(exe),
                                            ctypes.byref(err))
        return self._finish(rc, exe, err)

    def compile_model(self, path, config=None, checkpoint=None, tags=None, signature=None,
                      input_shapes=None, cache_dir=None):
        """A model by path: a SavedModel directory, a GraphDef (with config, the path of
        its tfcompile config, and checkpoint, the prefix of the checkpoint holding its
        variables) or HLO text.  For a SavedModel: tags selects the meta graph (a str,
        comma-separated, or a list; None: "serve"), signature the signature (None:
        "serving_default"), and input_shapes ({input key: shape}) gives static shapes
        for inputs saved with -1 dimensions.  With cache_dir (a directory, made if
        missing), the compiled code is kept there, keyed by a hash of everything the
        compile reads, and a later compile of the same inputs loads it instead."""
        enc = lambda x: os.fsencode(x) if x is not None else None
        if isinstance(tags, (list, tuple)):
            tags = ",".join(tags)
        shapes = dict(input_shapes or {})
        n = len(shapes)
        names = (ctypes.c_char_p * (n + 1))(*[k.encode() for k in shapes])
        dims = [(ctypes.c_int64 * (len(v) + 1))(*[int(d) for d in v]) for v in shapes.values()]
        ranks = (ctypes.c_int * (n + 1))(*[len(v) for v in shapes.values()])
        dim_ptrs = (ctypes.POINTER(ctypes.c_int64) * (n + 1))(
            *[ctypes.cast(d, ctypes.POINTER(ctypes.c_int64)) for d in dims])
        opts = _capi.ModelOptions(enc(config), enc(checkpoint),
                                  tags.encode() if tags is not None else None,
                                  signature.encode() if signature is not None else None,
                                  n, names, ranks, dim_ptrs, enc(cache_dir))
        exe, err = ctypes.c_void_p(), ctypes.c_void_p()
        rc = _lib.hloc_compile_model(self._handle, os.fsencode(path), ctypes.byref(opts),
                                     ctypes.byref(exe), ctypes.byref(err))
        return self._finish(rc, exe, err)

    def compile_hlo(self, text_or_path):
        """An HLO module in XLA's text format: bytes or a str holding the text (a str that
        starts with "HloModule" or has a newline), else a path."""
        exe, err = ctypes.c_void_p(), ctypes.c_void_p()
        x = text_or_path
        if isinstance(x, str) and (x.lstrip().startswith("HloModule") or "\n" in x):
            x = x.encode()
        if _is_path(x):
            rc = _lib.hloc_compile_hlo_file(self._handle, os.fsencode(x), ctypes.byref(exe),
                                            ctypes.byref(err))
        else:
            text = _contents(x, "hlo")
            rc = _lib.hloc_compile_hlo(self._handle, text, len(text), ctypes.byref(exe),
                                       ctypes.byref(err))
        return self._finish(rc, exe, err)


def _spec(handle, kind, i):
    def query(what):
        return getattr(_lib, f"hloc_executable_{kind}_{what}")(handle, i)
    dims = query("dims")
    tf_name = query("tf_name")
    return TensorSpec(query("name").decode(), _DTYPES[query("dtype")],
                      tuple(dims[k] for k in range(query("rank"))), query("bytes"),
                      tf_name.decode() if tf_name is not None else None)


def _specs(handle, kind):
    count = getattr(_lib, f"hloc_executable_num_{kind}s")(handle)
    return tuple(_spec(handle, kind, i) for i in range(count))


class Executable:
    """A compiled model loaded in this process (made by compile_graphdef, compile_model,
    compile_hlo or load).

    inputs, outputs: tuples of TensorSpec, in the order the model takes and gives them.
    """

    def __init__(self, handle):
        self._handle = handle
        weakref.finalize(self, _lib.hloc_executable_free, handle)
        self.inputs = _specs(handle, "input")
        self.outputs = _specs(handle, "output")
        self.scratch_bytes = _lib.hloc_executable_scratch_bytes(handle)
        # What every call needs and no call changes, made once (see __call__):
        # the pointer-array types, the outputs' (shape, dtype), and per input
        # the (dtype, shape) an array must have to be passed as it is (None
        # where every array needs converting: the sign-extended narrow types).
        self._in_ptrs = ctypes.c_void_p * max(len(self.inputs), 1)
        self._out_ptrs = ctypes.c_void_p * max(len(self.outputs), 1)
        self._out_specs = tuple((s.shape, s.dtype) for s in self.outputs)
        self._exact = tuple(None if s.dtype in _SIGN_EXTEND else (s.dtype, s.shape)
                            for s in self.inputs)

    @property
    def threads(self):
        """How many threads its runs use, the caller's included (1 by default)."""
        return _lib.hloc_executable_threads(self._handle)

    def set_threads(self, n):
        """Runs the model's large kernels on n threads in all (n >= 1; 1: the calling
        thread alone): the executable owns a pool of n - 1 threads that every call uses.
        Results are bit-identical for any n.  Calls from several Python threads at once
        share the pool: a kernel that finds it busy runs on its caller's thread alone.
        A count that is not a positive integer, or threads that cannot be started,
        raise Error."""
        n = _check_threads(n)
        err = ctypes.c_void_p()
        _check(_lib.hloc_executable_set_threads(self._handle, n, ctypes.byref(err)), err)

    def cancel(self):
        """Stops the calls of this executable running now, from any thread: each raises
        Error("hloc_execute: cancelled at WHERE") soon (the compiled code checks before
        every kernel and every while-loop iteration; on the GPU, before every kernel
        launch and copy, and nothing is written).  Calls that start later run
        normally.  Returns how many calls it asked to stop (0 when none was running)."""
        return _lib.hloc_executable_cancel(self._handle)

    def set_profiling(self, on=True):
        """With profiling on, every call times each kernel of the compiled code and adds
        the times to the executable's profile (profile(), profile_report()); off (the
        default) calls run unprofiled.  What was gathered is kept either way."""
        err = ctypes.c_void_p()
        _check(_lib.hloc_executable_set_profiling(self._handle, 1 if on else 0,
                                                  ctypes.byref(err)), err)

    def clear_profile(self):
        """Forgets the profile gathered so far."""
        _lib.hloc_executable_clear_profile(self._handle)

    def profile(self):
        """The profile: a dict with runs, seconds (their wall time summed),
        kernel_seconds, and kernels, a list of dicts in program order (symbol,
        instruction, kind, shape, tf_op, loop, calls, seconds)."""
        err = ctypes.c_void_p()
        summary = _capi.ProfileSummary()
        _check(_lib.hloc_executable_profile_summary(self._handle, ctypes.byref(summary),
                                                    ctypes.byref(err)), err)
        kernels = []
        for i in range(_lib.hloc_executable_num_kernels(self._handle)):
            k = _capi.KernelProfile()
            _check(_lib.hloc_executable_kernel_profile(self._handle, i, ctypes.byref(k),
                                                       ctypes.byref(err)), err)
            text = {f: (getattr(k, f).decode() if getattr(k, f) is not None else None)
                    for f in ("symbol", "instruction", "kind", "shape", "tf_op", "loop")}
            kernels.append(dict(text, calls=k.calls, seconds=k.seconds))
        return {"runs": summary.runs, "seconds": summary.seconds,
                "kernel_seconds": summary.kernel_seconds, "kernels": kernels}

    def profile_report(self):
        """The profile as the table `hloc run --profile` prints (a str)."""
        n = _lib.hloc_executable_profile_report(self._handle, None, 0)
        buf = ctypes.create_string_buffer(n + 1)
        _lib.hloc_executable_profile_report(self._handle, buf, n + 1)
        return buf.value.decode()

    def save(self, path):
        """Writes the compiled model as a shared library at path (str or os.PathLike),
        which hloc.load reads back in any later process without compiling
        (hloc_executable_save: the C compiler links it with a copy of hloc's runtime;
        the file appears whole or not at all).  An executable that hloc.load made
        raises Error: its file is such a library already."""
        if not _is_path(path):
            raise Error(f"save: expected a path (str or os.PathLike), got {type(path).__name__}")
        err = ctypes.c_void_p()
        _check(_lib.hloc_executable_save(self._handle, os.fsencode(path), ctypes.byref(err)),
               err)

    def __repr__(self):
        return (f"<hloc.Executable inputs=[{', '.join(map(str, self.inputs))}] "
                f"outputs=[{', '.join(map(str, self.outputs))}]>")

    def input_index(self, name):
        """The position of the input `name` names: its name, its TensorFlow name
        ("model/x:0", or "model/x" for output 0 of the node) or its position ("0",
        "arg0"), by the rules of `hloc run` and the executables; else Error."""
        return self._index("input", name)

    def output_index(self, name):
        """The position of the output `name` names (as input_index; "model/out/Softmax")."""
        return self._index("output", name)

    def _index(self, kind, name):
        if not isinstance(name, str):
            raise Error(f"{kind} names are str, got {type(name).__name__}")
        err = ctypes.c_void_p()
        i = getattr(_lib, f"hloc_executable_{kind}_index")(self._handle, name.encode(),
                                                            ctypes.byref(err))
        _check(0 if i >= 0 else -1, err)
        return i

    def __call__(self, *arrays, **by_name):
        """Runs the model on its inputs, given in order, by name, or both; returns the
        outputs as a list of new arrays, in order.  By name is keywords (exe(image=x))
        or one dict (exe({"model/x:0": x})), whose keys may also be TensorFlow names
        (see input_index).

        A NumPy array must have the input's dtype exactly (bfloat16 inputs also take
        uint16 bit patterns) and its shape; other values (lists, scalars) are converted
        with numpy.asarray when that is a same-kind cast.  Anything else raises Error."""
        # `ins` keeps the arrays alive until the call returns.
        ins = arrays if not by_name and self._passable(arrays) else self._bind(arrays, by_name)
        outs = [np.empty(shape, dtype) for shape, dtype in self._out_specs]
        err = ctypes.c_void_p()
        _check(_execute(self._handle, self._in_ptrs(*map(_address, ins)),
                        self._out_ptrs(*map(_address, outs)), ctypes.byref(err)), err)
        return outs

    def _passable(self, arrays):
        """Whether `arrays`, given in order, are all exactly what their inputs take: an
        ndarray of the input's dtype and shape, C-contiguous and aligned, of a dtype
        passed unchanged.  Such arrays go to the model as they are, with no check left
        for _bind to make; anything else goes through _bind, which converts or rejects."""
        if len(arrays) != len(self._exact):
            return False
        for a, exact in zip(arrays, self._exact):
            if exact is None or type(a) is not np.ndarray or a.dtype != exact[0] \
                    or a.shape != exact[1]:
                return False
            flags = a.flags
            if not (flags.c_contiguous and flags.aligned):
                return False
        return True

    def run(self, *arrays, **by_name):
        """As calling the executable, but returns a dict: output name -> array (the names
        `hloc run` and the executables give their result files, NAME.npy)."""
        return dict(zip((s.name for s in self.outputs), self(*arrays, **by_name)))

    def _bind(self, arrays, by_name):
        if len(arrays) == 1 and isinstance(arrays[0], collections.abc.Mapping):
            if by_name:
                raise Error("inputs by name are either a dict or keywords, not both")
            arrays, by_name = (), dict(arrays[0])
        if len(arrays) > len(self.inputs):
            raise Error(f"{len(arrays)} inputs given but the model takes {len(self.inputs)} "
                        f"({', '.join(s.name for s in self.inputs) or 'none'})")
        values = list(arrays) + [None] * (len(self.inputs) - len(arrays))
        given = [True] * len(arrays) + [False] * (len(self.inputs) - len(arrays))
        for name, value in by_name.items():
            i = self.input_index(name)
            if given[i]:
                raise Error(f"input {i} ({self.inputs[i].name}) is given twice")
            values[i], given[i] = value, True
        missing = [s.name for s, g in zip(self.inputs, given) if not g]
        if missing:
            raise Error(f"missing input(s): {', '.join(missing)}")
        return [_as_input(i, s, v) for i, (s, v) in enumerate(zip(self.inputs, values))]


def _dtype_name(dtype):
    """NumPy's name of a dtype, bfloat16's without ml_dtypes included."""
    return "bfloat16" if dtype == _DTYPES[_BF16] else (dtype.name if dtype.kind != "U" else
                                                       str(dtype))


def _notation(dtype, shape):
    """"float32[2,784]": the notation of every hloc message about an array."""
    return f"{_dtype_name(dtype)}[{','.join(map(str, shape))}]"


def _as_input(i, spec, value):
    """value as a C-contiguous aligned array of spec's dtype and shape, or Error."""
    where = f"input {i} ({spec.name}) is {_notation(spec.dtype, spec.shape)}"
    if isinstance(value, np.ndarray):
        a = value
        if spec.dtype == _DTYPES[_BF16] and a.dtype in (np.dtype(np.uint16), np.dtype("V2")):
            a = a.view(spec.dtype)
        elif a.dtype != spec.dtype:
            raise Error(f"{where}, but the array is {_notation(a.dtype, a.shape)}")
    else:
        try:
            a = np.asarray(value)
        except (TypeError, ValueError) as e:
            raise Error(f"{where}, but no array can be made of the {type(value).__name__}: "
                        f"{e}") from None
        if a.dtype != spec.dtype and not np.can_cast(a.dtype, spec.dtype, "same_kind"):
            raise Error(f"{where}, but the {type(value).__name__} is "
                        f"{_notation(a.dtype, a.shape)}, which does not convert to "
                        f"{_dtype_name(spec.dtype)} (not a same-kind cast)")
        a = a.astype(spec.dtype, copy=False)
    if a.shape != spec.shape:
        raise Error(f"{where}, but the array is {_notation(a.dtype, a.shape)}")
    bits = _SIGN_EXTEND.get(a.dtype)
    if bits:
        shift = 8 - bits
        a = ((a.view(np.uint8) << shift).view(np.int8) >> shift).view(a.dtype)
    return np.require(a, requirements=("C", "A"))


_execute = _lib.hloc_execute
_c_char_at = ctypes.c_char.from_buffer


def _address(a):
    """The address of a C-contiguous array's first element.  Through ctypes' view of a
    writable buffer, several times faster than a.ctypes.data, which read-only and empty
    arrays still take."""
    try:
        return ctypes.addressof(_c_char_at(a))
    except (TypeError, ValueError, BufferError):
        return a.ctypes.data


_compilers = {}
_compilers_lock = threading.Lock()


def _compiler(cpu, features, device=None, conv_precision=None):
    # One Compiler per (cpu, features, device, conv_precision), made on first
    # use and kept: the module-level functions then need no handle of the caller's.
    with _compilers_lock:
        key = (cpu, features, device, conv_precision)
        if key not in _compilers:
            _compilers[key] = Compiler(cpu, features, device, conv_precision=conv_precision)
        return _compilers[key]


def _with_threads(exe, threads):
    if threads is not None:
        exe.set_threads(threads)
    return exe


def compile_graphdef(graph, config, cpu=None, features=None, threads=None, device=None,
                     conv_precision=None):
    """Compiles a frozen GraphDef with its tfcompile config (paths or bytes) for this
    machine (or the CPU named; see Compiler).  Returns an Executable whose inputs are
    the config's feeds and outputs its fetches, running on `threads` threads
    (None: 1; see Executable.set_threads); conv_precision: see Compiler."""
    if threads is not None:
        _check_threads(threads)
    compiler = _compiler(cpu, features, device, conv_precision)
    return _with_threads(compiler.compile_graphdef(graph, config), threads)


def compile_model(path, config=None, checkpoint=None, tags=None, signature=None,
                  input_shapes=None, cpu=None, features=None, threads=None, cache_dir=None,
                  device=None, conv_precision=None):
    """Compiles a SavedModel directory, a GraphDef (with its config and, for its
    variables, a checkpoint prefix) or HLO text by path (see Compiler.compile_model).
    A SavedModel's inputs and outputs are its signature's, named by their keys, in key
    order.  threads: as for compile_graphdef."""
    if threads is not None:
        _check_threads(threads)
    exe = _compiler(cpu, features, device, conv_precision).compile_model(
        path, config, checkpoint, tags, signature, input_shapes, cache_dir)
    return _with_threads(exe, threads)


def load(path, threads=None):
    """Loads a model library (made by Executable.save or `hloc compile --emit so`) as
    an Executable, without compiling anything; threads: as for compile_graphdef.
    A missing file, a file that is not a shared library, a shared library that no
    hloc made and a library of another hloc ABI raise Error naming the file.  Loading
    runs the library's initialisers (as any shared library's): load only files you
    trust."""
    if not _is_path(path):
        raise Error(f"load: expected a path (str or os.PathLike), got {type(path).__name__}")
    if threads is not None:
        _check_threads(threads)
    exe, err = ctypes.c_void_p(), ctypes.c_void_p()
    _check(_lib.hloc_executable_load(os.fsencode(path), ctypes.byref(exe), ctypes.byref(err)),
           err)
    return _with_threads(Executable(exe), threads)


def compile_hlo(text_or_path, cpu=None, features=None, threads=None, device=None,
                conv_precision=None):
    """Compiles an HLO module (text, or a path; see Compiler.compile_hlo).  Inputs are
    the entry's parameters; outputs the root's flattened tuple elements.  threads: as
    for compile_graphdef."""
    if threads is not None:
        _check_threads(threads)
    compiler = _compiler(cpu, features, device, conv_precision)
    return _with_threads(compiler.compile_hlo(text_or_path), threads)


def _is_hlo_text(x):
    """Whether x, an in-memory model (str or bytes), is HLO text: it starts with
    "HloModule", as the command's recognition by content has it."""
    head = x.lstrip()[:9]
    return head == ("HloModule" if isinstance(x, str) else b"HloModule")


def compile(model, config=None, checkpoint=None, tags=None, signature=None, input_shapes=None,
            cpu=None, features=None, threads=None, cache_dir=None, device=None,
            conv_precision=None):
    """Compiles whatever `hloc compile` takes, with its options: model is a path (a
    SavedModel directory, a GraphDef .pb/.pbtxt with config and perhaps checkpoint, HLO
    text; a file of another name is recognised by its content, as the command does), or
    the model itself in memory: HLO text (a str or bytes starting with "HloModule") or a
    GraphDef's bytes (with config, a path or bytes).  The options are compile_model's;
    those a model does not take (tags for a GraphDef, config for HLO, ...) raise Error
    as they do there, and a model in memory is cached by its content like one on disk.
    Returns an Executable (see compile_model)."""
    if threads is not None:
        _check_threads(threads)
    if _is_path(model) and not (isinstance(model, str) and (_is_hlo_text(model)
                                                             or "\n" in model)):
        return compile_model(model, config, checkpoint, tags, signature, input_shapes, cpu,
                             features, threads, cache_dir, device, conv_precision)
    if isinstance(model, str):
        model = model.encode()
    if not isinstance(model, (bytes, bytearray, memoryview)):
        raise Error("compile: expected a path (str or os.PathLike), HLO text or a model's "
                    f"bytes, got {type(model).__name__}")
    model = bytes(model)
    if config is not None and not _is_path(config):
        config = _contents(config, "config")
    direct = all(x is None for x in (checkpoint, tags, signature, input_shapes, cache_dir))
    if direct and _is_hlo_text(model) and config is None:
        return compile_hlo(model, cpu, features, threads, device, conv_precision)
    if direct and not _is_hlo_text(model) and config is not None:
        return compile_graphdef(model, config, cpu, features, threads, device, conv_precision)
    # Any other combination takes compile_model's path, whose checks (and cache)
    # then apply as to a file: the model (and a config in memory) go to a
    # temporary directory under names that leave the kind to the content.
    import tempfile
    with tempfile.TemporaryDirectory(prefix="hloc-") as tmp:
        path = os.path.join(tmp, "model")
        with open(path, "wb") as f:
            f.write(model)
        if isinstance(config, bytes):
            with open(os.path.join(tmp, "config"), "wb") as f:
                f.write(config)
            config = os.path.join(tmp, "config")
        try:
            return compile_model(path, config, checkpoint, tags, signature, input_shapes, cpu,
                                 features, threads, cache_dir, device, conv_precision)
        except Error as e:
            # name the model as the caller gave it, not by the temporary file
            raise Error(str(e).replace(os.path.join(tmp, "config"), "the config in memory")
                        .replace(path, "the model in memory")) from None
