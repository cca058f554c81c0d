"""The hloc Python binding end to end: TensorFlow models and HLO corpus cases
compiled, run on their stored inputs and compared with TensorFlow's and JAX's
stored outputs; inputs by position and by name; every rejected call raising
hloc.Error with a message that names the problem; docs/api.md's example;
threads (Executable.set_threads, threads=): bit-identical results for 1, 2
and 3 threads, the pool's threads started and stopped, bad counts rejected.

Tolerances: models atol 1e-4, rtol 1e-3 (generated kernels may reassociate
sums); HLO cases as testdata/hlo/MANIFEST states; op cases of the "exact"
family exactly.  Run from anywhere: paths are relative to this file.
"""

import gc
import os
import platform
import subprocess
import sys
import threading
import time
import unittest

try:
    import numpy as np
except ImportError as e:
    raise ImportError(
        f"the Python binding's tests need NumPy for {sys.executable}: install Debian's "
        "python3-numpy (scripts/install-deps.sh does), not a PyPI numpy") from e

import hloc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "testdata", "tf", "models")
OPS = os.path.join(ROOT, "testdata", "tf", "ops")
CORPUS = os.path.join(ROOT, "testdata", "hlo")
SAVED = os.path.join(ROOT, "testdata", "tf", "savedmodels")
MODEL_ATOL, MODEL_RTOL = 1e-4, 1e-3


def stored(prefix, kind, count):
    return [np.load(f"{prefix}.{kind}{k}.npy") for k in range(count)]


def manifest(name):
    """(nin, nout, atol, rtol) of an HLO corpus case."""
    with open(os.path.join(CORPUS, "MANIFEST")) as f:
        for line in f:
            fields = line.split()
            if fields and fields[0] == name:
                return int(fields[1]), int(fields[2]), float(fields[3]), float(fields[4])
    raise AssertionError(f"{name} is not in the HLO corpus MANIFEST")


_mnist = None


def mnist():
    """The MNIST MLP, compiled once for the tests that only run it."""
    global _mnist
    if _mnist is None:
        _mnist = hloc.compile_graphdef(os.path.join(MODELS, "mnist_mlp.pb"),
                                       os.path.join(MODELS, "mnist_mlp.config.pbtxt"))
    return _mnist


class ModelTest(unittest.TestCase):
    def assert_outputs(self, got, want, atol, rtol):
        self.assertEqual(len(got), len(want))
        for k, (g, w) in enumerate(zip(got, want)):
            self.assertEqual(g.dtype, w.dtype, f"output {k}")
            self.assertEqual(g.shape, w.shape, f"output {k}")
            np.testing.assert_allclose(g, w, atol=atol, rtol=rtol, err_msg=f"output {k}")

    def test_mnist_from_paths(self):
        exe = mnist()
        self.assertEqual(exe.inputs, (hloc.TensorSpec("image", np.dtype(np.float32), (2, 784),
                                                      2 * 784 * 4, "image:0"),))
        self.assertEqual(exe.outputs, (hloc.TensorSpec("probs", np.dtype(np.float32), (2, 10),
                                                       2 * 10 * 4, "Identity:0"),))
        prefix = os.path.join(MODELS, "mnist_mlp")
        x, = stored(prefix, "in", 1)
        self.assert_outputs(exe(x), stored(prefix, "out", 1), MODEL_ATOL, MODEL_RTOL)
        by_name = exe.run(image=x)
        self.assertEqual(list(by_name), ["probs"])
        np.testing.assert_array_equal(by_name["probs"], exe(x)[0])

    def test_device_cuda(self):
        """device="cuda" compiles for the GPU; without one, running raises the runtime's
        clear error (with HLOC_CUDA_DRIVER naming a missing driver, always), and with one
        the results match TensorFlow's.  Unknown devices are errors."""
        prefix = os.path.join(MODELS, "mnist_mlp")
        exe = hloc.compile(prefix + ".pb", prefix + ".config.pbtxt", device="cuda")
        self.assertEqual([s.name for s in exe.outputs], ["probs"])
        x, = stored(prefix, "in", 1)
        before = os.environ.get("HLOC_CUDA_DRIVER")
        os.environ["HLOC_CUDA_DRIVER"] = "/nonexistent/libcuda.so.1"
        try:
            # a fresh executable: the GPU is opened on its first run
            fresh = hloc.compile_graphdef(prefix + ".pb", prefix + ".config.pbtxt",
                                          device="cuda")
            with self.assertRaisesRegex(hloc.Error, r"no CUDA driver found \(/nonexistent"):
                fresh(x)
        finally:
            if before is None:
                del os.environ["HLOC_CUDA_DRIVER"]
            else:
                os.environ["HLOC_CUDA_DRIVER"] = before
        try:
            got = exe(x)
        except hloc.Error as e:
            self.assertRegex(str(e), "no CUDA driver found|no GPU")
            print(f"test_device_cuda: {e}: the GPU run is skipped", file=sys.stderr)
        else:
            self.assert_outputs(got, stored(prefix, "out", 1), MODEL_ATOL, MODEL_RTOL)
        with self.assertRaisesRegex(hloc.Error, "device 'tpu': the devices are cpu and cuda"):
            hloc.Compiler(device="tpu")
        # TF32 is for the GPU's tensor cores; with it the GPU program compiles too.
        with self.assertRaisesRegex(hloc.Error, 'gpu_tf32 .* needs device "cuda"'):
            hloc.Compiler(gpu_tf32=True)
        tf32 = hloc.Compiler(device="cuda", gpu_tf32=True).compile_graphdef(
            prefix + ".pb", prefix + ".config.pbtxt")
        self.assertEqual([s.name for s in tf32.outputs], ["probs"])

    def test_models_from_bytes(self):
        for name in ("small_cnn", "text_classifier"):
            with self.subTest(model=name):
                prefix = os.path.join(MODELS, name)
                with open(prefix + ".pb", "rb") as g, open(prefix + ".config.pbtxt", "rb") as c:
                    exe = hloc.compile_graphdef(g.read(), c.read())
                got = exe(*stored(prefix, "in", len(exe.inputs)))
                self.assert_outputs(got, stored(prefix, "out", len(exe.outputs)), MODEL_ATOL,
                                    MODEL_RTOL)

    def test_saved_models(self):
        """Every SavedModel case of testdata/tf/savedmodels/MANIFEST, compiled by path with
        its signature and input shapes, against TensorFlow's outputs."""
        with open(os.path.join(SAVED, "MANIFEST")) as f:
            cases = [line.split() for line in f if line.strip() and not line.startswith("#")]
        self.assertGreaterEqual(len(cases), 7)
        for name, directory, signature, nin, nout, *shapes in cases:
            with self.subTest(model=name):
                dims = {k: [int(d) for d in v.split(",")]
                        for k, v in (x.split("=") for x in shapes)}
                exe = hloc.compile_model(os.path.join(SAVED, directory), signature=signature,
                                         input_shapes=dims, tags=["serve"])
                prefix = os.path.join(SAVED, name)
                got = exe(*stored(prefix, "in", int(nin)))
                self.assert_outputs(got, stored(prefix, "out", int(nout)), MODEL_ATOL,
                                    MODEL_RTOL)

    def test_compile_cache(self):
        """A second process compiling the same SavedModel with the same cache_dir loads
        the kept code (the file is not rewritten: same inode) and computes the same."""
        import tempfile
        s = os.path.join(SAVED, "module_multi")
        code = ("import sys, numpy as np, hloc\n"
                "exe = hloc.compile_model(sys.argv[1], input_shapes={'x': (3, 4)}, "
                "cache_dir=sys.argv[2])\n"
                "y, z = exe(np.load(sys.argv[1] + '.in0.npy'))\n"
                "np.testing.assert_allclose(y, np.load(sys.argv[1] + '.out0.npy'), atol=1e-4, "
                "rtol=1e-3)\n")
        with tempfile.TemporaryDirectory() as cache:
            cache = os.path.join(cache, "made")  # made by the first compile
            env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
            run = lambda: subprocess.run([sys.executable, "-c", code, s, cache], env=env,
                                         check=True, capture_output=True)
            run()
            files = os.listdir(cache)
            self.assertEqual(len(files), 1)
            inode = os.stat(os.path.join(cache, files[0])).st_ino
            run()
            self.assertEqual(os.listdir(cache), files)
            self.assertEqual(os.stat(os.path.join(cache, files[0])).st_ino, inode)
            # a kept file that does not load is compiled again and replaced
            with open(os.path.join(cache, files[0]), "r+b") as f:
                f.truncate(100)
            run()
            self.assertGreater(os.path.getsize(os.path.join(cache, files[0])), 100)
            # another input shape is another compile
            exe = hloc.compile_model(s, input_shapes={"x": (5, 4)}, cache_dir=cache)
            self.assertEqual(len(os.listdir(cache)), 2)
            self.assertEqual(exe.inputs[0].shape, (5, 4))
        with self.assertRaises(hloc.Error) as cm:
            hloc.compile_model(s, input_shapes={"x": (3, 4)},
                               cache_dir=os.path.join(SAVED, "MANIFEST"))
        self.assertIn("cache directory " + os.path.join(SAVED, "MANIFEST") +
                      ": not a directory", str(cm.exception))

    def test_checkpoint_and_errors(self):
        prefix = os.path.join(SAVED, "tf1_graph")
        exe = hloc.compile_model(prefix + ".pbtxt", config=prefix + ".config.pbtxt",
                                 checkpoint=prefix + ".ckpt")
        self.assert_outputs(exe(*stored(prefix, "in", 1)), stored(prefix, "out", 1),
                            MODEL_ATOL, MODEL_RTOL)
        with self.assertRaises(hloc.Error) as cm:
            hloc.compile_model(os.path.join(SAVED, "module_multi"), signature="nope")
        self.assertIn("no signature 'nope'; the meta graph has 'lookup', 'serving_default'",
                      str(cm.exception))
        # a dynamic batch without input_shapes: the message names the keyword
        with self.assertRaises(hloc.Error) as cm:
            hloc.compile_model(os.path.join(SAVED, "module_multi"))
        self.assertIn("input 'x' has the saved shape (-1, 4), fixed only at run time: give it "
                      "a static shape (--input-shape x=N,...; libhloc and Python: input_shapes)",
                      str(cm.exception))

    def test_compile_takes_what_the_command_takes(self):
        """hloc.compile on each kind of model `hloc compile` takes, by path and in
        memory, lands on the same inputs and outputs as the specific functions; the
        options a model does not take are refused with the command's words."""
        import tempfile
        m = os.path.join(MODELS, "mnist_mlp")
        x, = stored(m, "in", 1)
        want, = stored(m, "out", 1)
        with open(m + ".pb", "rb") as f:
            graph = f.read()
        with open(m + ".config.pbtxt", "rb") as f:
            config = f.read()
        h = os.path.join(CORPUS, "attention_tiny")
        nin, nout, atol, rtol = manifest("attention_tiny")
        with open(h + ".hlo") as f:
            hlo_text = f.read()
        with tempfile.TemporaryDirectory() as tmp:
            renamed = os.path.join(tmp, "graph.bin")  # recognised by its content
            with open(renamed, "wb") as f:
                f.write(graph)
            for how, model, cfg in (("path", m + ".pb", m + ".config.pbtxt"),
                                    ("other name", renamed, m + ".config.pbtxt"),
                                    ("bytes", graph, config), ("bytes, config path", graph,
                                                               m + ".config.pbtxt")):
                with self.subTest(graphdef=how):
                    exe = hloc.compile(model, config=cfg, threads=2)
                    self.assertEqual(exe.threads, 2)
                    self.assertEqual([str(s) for s in exe.inputs], ["image: float32[2,784]"])
                    self.assert_outputs(exe(x), [want], MODEL_ATOL, MODEL_RTOL)
            for how, model in (("path", h + ".hlo"), ("text", hlo_text),
                               ("bytes", hlo_text.encode())):
                with self.subTest(hlo=how):
                    exe = hloc.compile(model)
                    self.assertEqual([s.name for s in exe.outputs],
                                     [f"result{k}" for k in range(nout)])
                    self.assert_outputs(exe(*stored(h, "in", nin)), stored(h, "out", nout),
                                        atol, rtol)
            # a model in memory is cached by its content, as a file is
            cache = os.path.join(tmp, "cache")
            hloc.compile(graph, config=config, cache_dir=cache)
            self.assertEqual(len(os.listdir(cache)), 1)
            exe = hloc.compile(m + ".pb", config=m + ".config.pbtxt", cache_dir=cache)
            self.assertEqual(len(os.listdir(cache)), 1)
            self.assert_outputs(exe(x), [want], MODEL_ATOL, MODEL_RTOL)
        s = os.path.join(SAVED, "module_multi")
        exe = hloc.compile(s, input_shapes={"x": (3, 4)}, tags="serve")
        self.assertEqual(exe.inputs[0].shape, (3, 4))
        for model, kw, message in (
                (hlo_text, {"config": m + ".config.pbtxt"},
                 "the model in memory: --config applies to TensorFlow GraphDefs and "
                 "SavedModels; this is HLO text"),
                (graph, {}, "the model in memory: a TensorFlow GraphDef needs its tfcompile "
                 "config"),
                (m + ".pb", {"config": m + ".config.pbtxt", "tags": "serve"},
                 "mnist_mlp.pb: --tag applies to SavedModels; this is a TensorFlow GraphDef"),
                (3, {}, "compile: expected a path (str or os.PathLike), HLO text or a model's "
                 "bytes, got int"),
                (hlo_text, {"threads": 0}, "threads must be a positive integer, got 0"),
                (hlo_text, {"cpu": "skylkae"}, "did you mean 'skylake'")):
            with self.subTest(error=message):
                with self.assertRaises(hloc.Error) as cm:
                    hloc.compile(model, **kw)
                self.assertIn(message, str(cm.exception))

    def test_inputs_by_position_and_name(self):
        prefix = os.path.join(OPS, "placeholder_multi")
        exe = hloc.compile_graphdef(prefix + ".pbtxt", prefix + ".config.pbtxt")
        self.assertEqual([s.name for s in exe.inputs], ["a", "b", "c"])
        self.assertEqual([s.dtype for s in exe.inputs],
                         [np.dtype(np.float32), np.dtype(np.int32), np.dtype(np.bool_)])
        a, b, c = stored(prefix, "in", 3)
        want = stored(prefix, "out", 3)
        self.assert_outputs(exe(a, b, c), want, 0, 0)
        self.assert_outputs(exe(c=c, a=a, b=b), want, 0, 0)
        self.assert_outputs(exe(a, c=c, b=b), want, 0, 0)
        got = exe.run(a, b, c)
        self.assertEqual(list(got), ["a2", "b1", "not_c"])
        self.assert_outputs(list(got.values()), want, 0, 0)

    def test_hlo_corpus(self):
        # attention_tiny by path; tuple_mixed_dtypes as text: eight outputs of
        # eight element types.
        for name, as_text in (("attention_tiny", False), ("tuple_mixed_dtypes", True)):
            with self.subTest(case=name):
                nin, nout, atol, rtol = manifest(name)
                path = os.path.join(CORPUS, name + ".hlo")
                if as_text:
                    with open(path) as f:
                        exe = hloc.compile_hlo(f.read())
                else:
                    exe = hloc.compile_hlo(path)
                self.assertEqual((len(exe.inputs), len(exe.outputs)), (nin, nout))
                self.assertEqual([s.name for s in exe.outputs],
                                 [f"result{k}" for k in range(nout)])
                prefix = os.path.join(CORPUS, name)
                self.assert_outputs(exe(*stored(prefix, "in", nin)), stored(prefix, "out", nout),
                                    atol, rtol)

    def test_non_contiguous_and_converted_inputs(self):
        exe = mnist()
        x, = stored(os.path.join(MODELS, "mnist_mlp"), "in", 1)
        want = exe(x)[0]
        np.testing.assert_array_equal(exe(np.asfortranarray(x))[0], want)
        wide = np.zeros((2, 1568), np.float32)
        wide[:, ::2] = x
        np.testing.assert_array_equal(exe(wide[:, ::2])[0], want)
        np.testing.assert_array_equal(exe(x.tolist())[0], want)  # float -> float32: same kind

    def test_inputs_as_they_are_and_new_outputs(self):
        # An exact array goes to the model as it is (no copy); a read-only or
        # misaligned one must still give the same results, and every call its
        # own output arrays.
        exe = mnist()
        x, = stored(os.path.join(MODELS, "mnist_mlp"), "in", 1)
        first, = exe(x)
        second, = exe(x)
        self.assertFalse(np.shares_memory(first, second))
        np.testing.assert_array_equal(first, second)
        ro = x.copy()
        ro.flags.writeable = False
        np.testing.assert_array_equal(exe(ro)[0], first)
        raw = np.zeros(x.nbytes + 1, np.uint8)
        odd = raw[1:].view(np.float32).reshape(x.shape)
        odd[...] = x
        self.assertFalse(odd.flags.aligned)
        np.testing.assert_array_equal(exe(odd)[0], first)
        np.testing.assert_array_equal(exe(image=x)[0], first)

    def test_threads(self):
        exe = mnist()
        x, = stored(os.path.join(MODELS, "mnist_mlp"), "in", 1)
        want = exe(x)[0]
        failures = []

        def work():
            for _ in range(20):
                if not np.array_equal(exe(x)[0], want):
                    failures.append("differs")

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(failures, [])


# Kernels large enough for codegen to split across threads: a 256x256x256
# matmul with a tanh and a 3x3 convolution of 16 to 32 channels.
THREADS_HLO = """HloModule m

ENTRY e {
  x = f32[256,256] parameter(0)
  w = f32[256,256] parameter(1)
  d = f32[256,256] dot(x, w), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  t = f32[256,256] tanh(d)
  i = f32[1,32,32,16] parameter(2)
  k = f32[3,3,16,32] parameter(3)
  c = f32[1,32,32,32] convolution(i, k), window={size=3x3 pad=1_1x1_1}, dim_labels=b01f_01io->b01f
  ROOT r = (f32[256,256], f32[1,32,32,32]) tuple(t, c)
}
"""


def os_threads():
    """The number of this process's threads (native ones included)."""
    return len(os.listdir("/proc/self/task"))


def settle(want):
    """Waits a little for joined threads to leave /proc; the thread count."""
    for _ in range(500):
        if os_threads() == want:
            break
        time.sleep(0.01)
    return os_threads()


class ConvPrecisionTest(unittest.TestCase):
    def test_conv_precision(self):
        """conv_precision="exact" reaches codegen: a 3x3 convolution that x86-64-v3
        plans as Winograd F(4x4, 3x3) (tests/test_codegen_gemm.c), on small integers,
        gives exactly the direct sum (NumPy's, in float64: exact here); the default
        ("fast") does not; another name raises Error."""
        rng = np.random.default_rng(3)
        k = rng.integers(-4, 4, size=(3, 3, 64, 96))
        x = rng.integers(-3, 4, size=(1, 35, 35, 64)).astype(np.float32)
        weights = str(k.tolist()).replace("[", "{").replace("]", "}")
        text = ("HloModule c\n\nENTRY main {\n  x = f32[1,35,35,64] parameter(0)\n"
                f"  k = f32[3,3,64,96] constant({weights})\n"
                "  ROOT c = f32[1,35,35,96] convolution(x, k), window={size=3x3 pad=1_1x1_1}, "
                "dim_labels=b01f_01io->b01f\n}\n")
        xp = np.pad(x[0].astype(np.float64), ((1, 1), (1, 1), (0, 0)))
        want = sum(xp[a:a + 35, b:b + 35] @ k[a, b] for a in range(3) for b in range(3))
        want = want[None].astype(np.float32)
        exact, = hloc.compile_hlo(text, cpu="x86-64-v3", conv_precision="exact")(x)
        self.assertTrue(np.array_equal(exact, want), "exact: not the direct sum")
        fast, = hloc.compile_hlo(text, cpu="x86-64-v3")(x)
        self.assertFalse(np.array_equal(fast, want), "fast: F(4x4, 3x3) gave the exact sum")
        with self.assertRaisesRegex(hloc.Error,
                                    "conv_precision 'exac': the precisions are exact and fast"):
            hloc.Compiler(conv_precision="exac")


class ThreadsTest(unittest.TestCase):
    def inputs(self, exe):
        rng = np.random.default_rng(0)
        return [(rng.standard_normal(s.shape) / 8).astype(s.dtype) for s in exe.inputs]

    def assert_identical(self, got, want, what):
        for k, (g, w) in enumerate(zip(got, want)):
            self.assertTrue(np.array_equal(g.view(np.uint32), w.view(np.uint32)),
                            f"{what}: output {k} differs")

    def test_set_threads(self):
        exe = hloc.compile_hlo(THREADS_HLO)
        self.assertEqual(exe.threads, 1)
        xs = self.inputs(exe)
        want = exe(*xs)
        base = os_threads()
        for n, started in ((3, 2), (2, 1), (1, 0), (3, 2)):
            exe.set_threads(n)
            self.assertEqual(exe.threads, n)
            self.assertEqual(settle(base + started), base + started, f"set_threads({n})")
            for _ in range(3):
                self.assert_identical(exe(*xs), want, f"{n} threads")
        exe.set_threads(np.int64(2))  # any integral type
        self.assertEqual(exe.threads, 2)
        del exe  # frees its pool
        gc.collect()
        self.assertEqual(settle(base), base)

    def test_threads_keyword(self):
        single = hloc.compile_hlo(THREADS_HLO)
        xs = self.inputs(single)
        want = single(*xs)
        exe = hloc.compile_hlo(THREADS_HLO, threads=3)
        self.assertEqual(exe.threads, 3)
        self.assert_identical(exe(*xs), want, "compile_hlo(threads=3)")
        mnist3 = hloc.compile_graphdef(os.path.join(MODELS, "mnist_mlp.pb"),
                                       os.path.join(MODELS, "mnist_mlp.config.pbtxt"), threads=2)
        self.assertEqual(mnist3.threads, 2)
        x, = stored(os.path.join(MODELS, "mnist_mlp"), "in", 1)
        np.testing.assert_array_equal(mnist3(x)[0], mnist()(x)[0])

    def test_python_threads_share_the_pool(self):
        exe = hloc.compile_hlo(THREADS_HLO, threads=2)
        xs = self.inputs(exe)
        want = exe(*xs)
        failures = []

        def work():
            for _ in range(5):
                got = exe(*xs)
                if not all(np.array_equal(g, w) for g, w in zip(got, want)):
                    failures.append("differs")

        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        for n in (1, 3, 2):
            exe.set_threads(n)  # while the calls run
        for t in threads:
            t.join()
        self.assertEqual(failures, [])

    def test_bad_thread_counts(self):
        exe = mnist()
        for bad, fragment in ((0, "got 0"), (-2, "got -2"), (2.0, "got 2.0 (float)"),
                              ("2", "got '2' (str)"), (True, "got True (bool)"),
                              (None, "got None"), (2**31, "at most 2147483647")):
            with self.subTest(threads=bad):
                with self.assertRaises(hloc.Error) as cm:
                    exe.set_threads(bad)
                self.assertIn("threads must be a positive integer", str(cm.exception))
                self.assertIn(fragment, str(cm.exception))
        self.assertEqual(exe.threads, 1)
        with self.assertRaises(hloc.Error) as cm:
            hloc.compile_hlo(THREADS_HLO, threads=0)
        self.assertIn("threads must be a positive integer, got 0", str(cm.exception))


ENDLESS_HLO = """HloModule endless
cond {
  p = (s32[], f32[4]) parameter(0)
  ROOT t = pred[] constant(true)
}
body {
  p = (s32[], f32[4]) parameter(0)
  i = s32[] get-tuple-element(p), index=0
  one = s32[] constant(1)
  next = s32[] add(i, one)
  x = f32[4] get-tuple-element(p), index=1
  y = f32[4] add(x, x)
  ROOT r = (s32[], f32[4]) tuple(next, y)
}
ENTRY main {
  x = f32[4] parameter(0)
  zero = s32[] constant(0)
  init = (s32[], f32[4]) tuple(zero, x)
  loop = (s32[], f32[4]) while(init), condition=cond, body=body
  ROOT out = f32[4] get-tuple-element(loop), index=1
}
"""


class CancelTest(unittest.TestCase):
    def test_cancel_stops_an_endless_run(self):
        exe = hloc.compile_hlo(ENDLESS_HLO)
        self.assertEqual(exe.cancel(), 0)  # nothing running: nothing to stop
        raised = []

        def run():
            try:
                exe(np.ones(4, np.float32))
            except hloc.Error as e:
                raised.append(str(e))

        t = threading.Thread(target=run)
        t.start()
        deadline = time.monotonic() + 30
        while t.is_alive() and exe.cancel() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        t.join(30)
        self.assertFalse(t.is_alive(), "the run was not stopped")
        self.assertEqual(len(raised), 1)
        self.assertIn("hloc_execute: cancelled at ", raised[0])
        self.assertIn("%loop", raised[0])


class ProfileTest(unittest.TestCase):
    def test_profile(self):
        exe = hloc.compile_graphdef(os.path.join(MODELS, "mnist_mlp.pb"),
                                    os.path.join(MODELS, "mnist_mlp.config.pbtxt"))
        x, = stored(os.path.join(MODELS, "mnist_mlp"), "in", 1)
        want = exe(x)[0]
        self.assertEqual(exe.profile()["runs"], 0)
        exe.set_profiling(True)
        np.testing.assert_array_equal(exe(x)[0], want)
        np.testing.assert_array_equal(exe(x)[0], want)
        p = exe.profile()
        self.assertEqual(p["runs"], 2)
        self.assertLessEqual(p["kernel_seconds"], p["seconds"])
        self.assertGreater(len(p["kernels"]), 0)
        for k in p["kernels"]:
            self.assertEqual(k["calls"], 2)
            self.assertGreaterEqual(k["seconds"], 0)
            self.assertIsNotNone(k["tf_op"])
            self.assertIsNone(k["loop"])
        report = exe.profile_report()
        self.assertIn("profile of", report)
        self.assertIn("(outside kernels", report)
        self.assertIn(p["kernels"][0]["tf_op"], report)
        exe.set_profiling(False)
        exe.clear_profile()
        exe(x)
        self.assertEqual(exe.profile()["runs"], 0)


class GpuFakeDriverTest(unittest.TestCase):
    """A device="cuda" executable's cancel() and profiling, on the fake CUDA driver
    (tests/fake_cuda.c: no kernel runs, each launch sleeps FAKE_CUDA_KERNEL_MS and is
    logged in FAKE_CUDA_LOG), built here with $CC or cc."""

    def setUp(self):
        import tempfile
        self.dir = tempfile.TemporaryDirectory()
        self.driver = os.path.join(self.dir.name, "libcuda.so.1")
        subprocess.run([os.environ.get("CC") or "cc", "-std=c17", "-shared", "-fPIC", "-o",
                        self.driver, os.path.join(ROOT, "tests", "fake_cuda.c")], check=True)
        self.env = {k: os.environ.get(k) for k in
                    ("HLOC_CUDA_DRIVER", "FAKE_CUDA_KERNEL_MS", "FAKE_CUDA_LOG")}
        os.environ["HLOC_CUDA_DRIVER"] = self.driver

    def tearDown(self):
        for k, v in self.env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        self.dir.cleanup()

    def test_cancel_and_profile(self):
        prefix = os.path.join(MODELS, "mnist_mlp")
        exe = hloc.compile_graphdef(prefix + ".pb", prefix + ".config.pbtxt", device="cuda")
        x, = stored(prefix, "in", 1)
        exe.set_profiling(True)
        os.environ["FAKE_CUDA_KERNEL_MS"] = "20"
        exe(x)
        exe(x)
        p = exe.profile()
        self.assertEqual(p["runs"], 2)
        self.assertGreaterEqual(len(p["kernels"]), 2)
        for k in p["kernels"]:
            self.assertEqual(k["calls"], 2, k)
            self.assertGreaterEqual(k["seconds"], 2 * 0.020, k)
        self.assertLessEqual(p["kernel_seconds"], p["seconds"])
        # Cancelled while the first kernel runs: stopped before the second.
        log = os.path.join(self.dir.name, "fake.log")
        os.environ["FAKE_CUDA_LOG"] = log
        os.environ["FAKE_CUDA_KERNEL_MS"] = "300"
        raised = []

        def run():
            try:
                exe(x)
            except hloc.Error as e:
                raised.append(str(e))

        t = threading.Thread(target=run)
        t.start()
        deadline = time.monotonic() + 30
        def launches():
            if not os.path.exists(log):
                return 0
            with open(log) as f:
                return f.read().count("launch ")

        while launches() < 1:
            self.assertLess(time.monotonic(), deadline, "no kernel was launched")
            time.sleep(0.002)
        self.assertEqual(exe.cancel(), 1)
        t.join(30)
        self.assertFalse(t.is_alive(), "the run was not stopped")
        k1 = p["kernels"][1]
        self.assertEqual(raised, [f"hloc_execute: cancelled at %{k1['instruction']} "
                                  f"(kernel {k1['symbol']})"])
        self.assertEqual(launches(), 1)


NAMES = os.path.join(ROOT, "testdata", "tf", "names")


class NamesTest(unittest.TestCase):
    """Inputs and outputs by config name, TensorFlow name and position: the rules of
    `hloc run` and the executables (libhloc's hloc_executable_input_index)."""

    def compile(self, config):
        return hloc.compile_graphdef(os.path.join(NAMES, "tfnames.pbtxt"),
                                     os.path.join(NAMES, config))

    def test_tensorflow_names(self):
        exe = self.compile("tfnames.config.pbtxt")
        self.assertEqual([(s.name, s.tf_name) for s in exe.inputs],
                         [("x", "model/x:0"), ("b", "b:0")])
        self.assertEqual([(s.name, s.tf_name) for s in exe.outputs],
                         [("model_out_Relu", "model/out/Relu:0"), ("neg", "model/neg:0")])
        x, b = np.load(os.path.join(NAMES, "x.npy")), np.load(os.path.join(NAMES, "b.npy"))
        want = {"model_out_Relu": np.maximum(x + b, 0), "neg": -x}
        for kwargs in ({"model/x:0": x, "b": b}, {"model/x": x, "b:0": b},
                       {"x": x, "1": b}, {"arg0": x, "b": b}):
            got = exe.run(kwargs)
            self.assertEqual(list(got), ["model_out_Relu", "neg"])
            for k in want:
                np.testing.assert_array_equal(got[k], want[k])
        np.testing.assert_array_equal(exe(x, **{"b:0": b})[1], -x)
        self.assertEqual(exe.input_index("model/x"), 0)
        self.assertEqual(exe.output_index("model/out/Relu"), 0)
        self.assertEqual(exe.output_index("model/neg:0"), 1)

    def test_bad_names(self):
        exe = self.compile("tfnames.config.pbtxt")
        x = np.zeros((2, 3), np.float32)
        cases = [
            (lambda: exe({"model/y": x, "b": x}),
             "the model has no input named 'model/y' (did you mean 'model/x:0'?) "
             "(inputs: x (model/x:0), b)"),
            (lambda: exe({"x": x, "model/x:0": x}), "input 0 (x) is given twice"),
            (lambda: exe({"x": x}, b=x), "either a dict or keywords"),
            (lambda: exe.output_index("model/out/relu"),
             "no output named 'model/out/relu' (did you mean 'model/out/Relu:0'?)"),
            (lambda: exe.input_index(0), "input names are str, got int"),
        ]
        for fn, message in cases:
            with self.assertRaises(hloc.Error) as cm:
                fn()
            self.assertIn(message, str(cm.exception))
        amb = self.compile("ambiguous.config.pbtxt")
        with self.assertRaises(hloc.Error) as cm:
            amb(b=x, bias=x)
        self.assertIn("the name 'b' is ambiguous: it names input 0 (b) and is the TensorFlow "
                      "name of input 1 (bias, b:0)", str(cm.exception))
        np.testing.assert_array_equal(amb({"model/x": x, "b:0": x + 1})[0], x + 1)


class LibraryTest(unittest.TestCase):
    """Executable.save and hloc.load: model libraries (hloc_executable_save/load)."""

    def setUp(self):
        import tempfile
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def test_save_then_load_in_another_process(self):
        """A library saved here runs in a later process that only loads it (nothing in it
        compiles: hloc.load is its one call), on threads and profiled."""
        lib = self.path("libmnist.so")
        mnist().save(lib)
        self.assertEqual(os.listdir(self.dir.name), ["libmnist.so"])
        prefix = os.path.join(MODELS, "mnist_mlp")
        code = ("import sys, numpy as np, hloc\n"
                "exe = hloc.load(sys.argv[1], threads=2)\n"
                "assert exe.threads == 2\n"
                "assert [str(s) for s in exe.inputs] == ['image: float32[2,784]'], exe.inputs\n"
                "exe.set_profiling()\n"
                "probs, = exe(np.load(sys.argv[2] + '.in0.npy'))\n"
                "np.testing.assert_allclose(probs, np.load(sys.argv[2] + '.out0.npy'), "
                "atol=1e-4, rtol=1e-3)\n"
                "ops = [k['tf_op'] for k in exe.profile()['kernels'] if k['calls'] == 1]\n"
                "assert any('MatMul' in (op or '') for op in ops), ops\n")
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
        subprocess.run([sys.executable, "-c", code, lib, prefix], env=env, check=True,
                       capture_output=True)

    def test_load_emit_so(self):
        """A library of `hloc compile --emit so` loads; its results match the JIT's."""
        hloc_bin = os.environ.get("HLOC_BIN") or os.path.join(
            os.path.dirname(os.environ["HLOC_LIBRARY"]), "hloc")
        prefix = os.path.join(MODELS, "mnist_mlp")
        subprocess.run([hloc_bin, "compile", prefix + ".pb", "--config",
                        prefix + ".config.pbtxt", "--name", "mnist", "--emit", "so", "-o",
                        self.path("m")], check=True, capture_output=True)
        exe = hloc.load(pathlib_path(self.path("libm.so")))
        x, = stored(prefix, "in", 1)
        np.testing.assert_array_equal(exe(x)[0], mnist()(x)[0])

    def test_threads_bit_identical(self):
        single = hloc.compile_hlo(THREADS_HLO)
        rng = np.random.default_rng(0)
        xs = [(rng.standard_normal(s.shape) / 8).astype(s.dtype) for s in single.inputs]
        want = single(*xs)
        single.save(self.path("libt.so"))
        exe = hloc.load(self.path("libt.so"), threads=3)
        for g, w in zip(exe(*xs), want):
            self.assertTrue(np.array_equal(g.view(np.uint32), w.view(np.uint32)))

    def test_load_refuses_a_cpu_without_the_features(self):
        """Code compiled for a feature this CPU lacks: the compiled executable refuses to
        run, and hloc.load refuses its library, naming the feature (found here by the
        refusal itself: a candidate this CPU has runs, as it should)."""
        prefix = os.path.join(MODELS, "mnist_mlp")
        x, = stored(prefix, "in", 1)
        candidates = (("sve2", "sme", "i8mm", "bf16") if platform.machine() == "aarch64" else
                      ("avxvnniint8", "avxifma", "amx-complex", "fma4", "xop", "sse4a"))
        for feature in candidates:
            exe = hloc.compile_graphdef(prefix + ".pb", prefix + ".config.pbtxt",
                                        features="+" + feature)
            try:
                exe(x)
            except hloc.Error as e:
                self.assertIn(f"but this CPU lacks the feature {feature}: ", str(e))
                break
        else:
            self.skipTest("this CPU has every candidate feature")
        exe.save(self.path("libnew.so"))
        with self.assertRaises(hloc.Error) as cm:
            hloc.load(self.path("libnew.so"))
        self.assertIn("libnew.so: model 'model' was compiled for the CPU", str(cm.exception))
        self.assertIn(f"but this CPU lacks the feature {feature}: ", str(cm.exception))

    def test_bad_inputs_of_a_loaded_library(self):
        mnist().save(self.path("lib.so"))
        exe = hloc.load(self.path("lib.so"))
        x, = stored(os.path.join(MODELS, "mnist_mlp"), "in", 1)
        with self.assertRaises(hloc.Error) as cm:
            exe(x.astype(np.float64))
        self.assertEqual(str(cm.exception),
                         "input 0 (image) is float32[2,784], but the array is float64[2,784]")
        with self.assertRaises(hloc.Error) as cm:
            exe(x[:1])
        self.assertEqual(str(cm.exception),
                         "input 0 (image) is float32[2,784], but the array is float32[1,784]")
        with self.assertRaises(hloc.Error) as cm:
            exe.save(self.path("again.so"))
        self.assertIn("loaded from a model library", str(cm.exception))
        self.assertFalse(os.path.exists(self.path("again.so")))

    def test_bad_files(self):
        npy = os.path.join(MODELS, "mnist_mlp.in0.npy")
        cases = [(self.path("none.so"), "none.so: No such file or directory"),
                 (self.dir.name, "not a regular file"),
                 (npy, npy + ": not a shared library (not an ELF file)"),
                 ("/lib/x86_64-linux-gnu/libm.so.6" if os.path.exists(
                     "/lib/x86_64-linux-gnu/libm.so.6") else None,
                  "a shared library, but not a model library made by hloc")]
        for path, message in cases:
            if path is None:
                continue
            with self.subTest(path=path):
                with self.assertRaises(hloc.Error) as cm:
                    hloc.load(path)
                self.assertIn(message, str(cm.exception))
        with self.assertRaises(hloc.Error) as cm:
            hloc.load(42)
        self.assertEqual(str(cm.exception), "load: expected a path (str or os.PathLike), got int")
        with self.assertRaises(hloc.Error) as cm:
            hloc.load(self.path("none.so"), threads=0)
        self.assertEqual(str(cm.exception), "threads must be a positive integer, got 0")
        with self.assertRaises(hloc.Error) as cm:
            mnist().save(os.path.join(self.path("missing"), "lib.so"))
        self.assertIn(os.path.join(self.path("missing"), "lib.so"), str(cm.exception))


def pathlib_path(p):
    import pathlib
    return pathlib.Path(p)


class ErrorTest(unittest.TestCase):
    def assert_error(self, fn, *fragments):
        with self.assertRaises(hloc.Error) as cm:
            fn()
        for f in fragments:
            self.assertIn(f, str(cm.exception))

    def test_error_is_an_exception(self):
        self.assertTrue(issubclass(hloc.Error, Exception))

    def test_bad_inputs(self):
        exe = mnist()
        x = np.zeros((2, 784), np.float32)
        self.assert_error(lambda: exe(x.astype(np.float64)),
                          "input 0 (image) is float32[2,784], but the array is float64[2,784]")
        self.assert_error(lambda: exe(x[:1]),
                          "input 0 (image) is float32[2,784], but the array is float32[1,784]")
        self.assert_error(lambda: exe(np.float32(1)),
                          "input 0 (image) is float32[2,784], but the array is float32[]")
        self.assert_error(lambda: exe(x, x), "2 inputs given but the model takes 1 (image)")
        self.assert_error(lambda: exe(), "missing input(s): image")
        self.assert_error(lambda: exe(imag=x),
                          "no input named 'imag' (did you mean 'image'?) (inputs: image)")
        self.assert_error(lambda: exe(x, image=x), "input 0 (image) is given twice")
        self.assert_error(lambda: exe("pixels"), "input 0 (image) is float32[2,784], but the "
                          "str is <U6[], which does not convert to float32 (not a same-kind "
                          "cast)")
        prefix = os.path.join(OPS, "placeholder_multi")
        multi = hloc.compile_graphdef(prefix + ".pbtxt", prefix + ".config.pbtxt")
        a, b, c = stored(prefix, "in", 3)
        self.assert_error(lambda: multi(a, [1.5, 2, 3, 4], c),
                          "input 1 (b) is int32[4], but the list is float64[4], which does not "
                          "convert to int32 (not a same-kind cast)")

    def test_unsupported_ops(self):
        graph = b"""
            node { name: 'x' op: 'Placeholder' attr { key: 'dtype' value { type: DT_FLOAT } }
                   attr { key: 'shape' value { shape { dim { size: 4 } } } } }
            node { name: 'where' op: 'Where' input: 'x' attr { key: 'T' value { type: DT_FLOAT } } }
            node { name: 'chol' op: 'Cholesky' input: 'where'
                   attr { key: 'T' value { type: DT_FLOAT } } }
            node { name: 'act' op: 'Relu7' input: 'chol'
                   attr { key: 'T' value { type: DT_FLOAT } } }"""
        config = (b"feed { id { node_name: 'x' } shape { dim { size: 4 } } }\n"
                  b"fetch { id { node_name: 'act' } }")
        self.assert_error(lambda: hloc.compile_graphdef(graph, config),
                          "TensorFlow ops hloc does not support", "Where: 1 node ('where')\n",
                          "Cholesky: 1 node ('chol')\n",
                          "Relu7: 1 node ('act'), did you mean 'Relu6'?")

    def test_bad_models(self):
        config = os.path.join(MODELS, "mnist_mlp.config.pbtxt")
        self.assert_error(lambda: hloc.compile_graphdef(b"\x0a\x05\x0a\x03", b""),
                          "graph: malformed protobuf at byte")
        self.assert_error(lambda: hloc.compile_graphdef("/nonexistent/g.pb", config),
                          "/nonexistent/g.pb")
        self.assert_error(lambda: hloc.compile_graphdef(b"", "/nonexistent/c.pbtxt"),
                          "/nonexistent/c.pbtxt: No such file")
        self.assert_error(lambda: hloc.compile_graphdef(42, config),
                          "graph: expected a path (str or os.PathLike) or bytes, got int")
        self.assert_error(lambda: hloc.compile_hlo("HloModule m\nENTRY e {\n"), "hlo:3:")
        self.assert_error(lambda: hloc.compile_hlo(
            "HloModule m\nENTRY e {\n  p = f32[2] parameter(0)\n  ROOT a = f32[3] add(p, p)\n}\n"),
            "hlo: verifier")
        self.assert_error(lambda: hloc.compile_hlo("/nonexistent/m.hlo"), "/nonexistent/m.hlo")

    def test_unknown_cpu(self):
        self.assert_error(lambda: hloc.compile_graphdef(
            os.path.join(MODELS, "mnist_mlp.pb"), os.path.join(MODELS, "mnist_mlp.config.pbtxt"),
            cpu="no-such-cpu"), "unknown CPU 'no-such-cpu'", "skylake")


class NarrowTypeTest(unittest.TestCase):
    """int4 and float8 arguments and results: ml_dtypes' arrays where it is
    installed, else their raw bytes ('|V1', int4 sign-extended to fill its
    byte, as hloc_runtime.h says compiled code holds it)."""

    HLO = ("HloModule narrow\n"
           "ENTRY e {\n"
           "  x = s4[16] parameter(0)\n"
           "  y = f8e4m3fn[4] parameter(1)\n"
           "  a = f32[16] convert(x)\n"
           "  b = f32[4] convert(y)\n"
           "  n = s4[16] negate(x)\n"
           "  ROOT t = (f32[16], f32[4], s4[16]) tuple(a, b, n)\n"
           "}\n")

    def test_int4_and_float8(self):
        exe = hloc.compile_hlo(self.HLO)
        values = np.arange(-8, 8)
        wrapped = (-values + 8) % 16 - 8  # negate in 4 bits: -(-8) is -8
        # e4m3fn's bytes of 0.5, -1.75, 448 (its largest) and 2^-9 (its
        # smallest subnormal)
        f8_bytes = np.array([0x30, 0xbe, 0x7e, 0x01], np.uint8)
        f8_values = np.array([0.5, -1.75, 448.0, 2.0 ** -9], np.float32)
        try:
            import ml_dtypes
        except ImportError:
            ml_dtypes = None
        if ml_dtypes is None:
            self.assertEqual([s.dtype for s in exe.inputs], [np.dtype("V1")] * 2)
            x = values.astype(np.int8).view("V1")
            y = f8_bytes.view("V1")
        else:
            self.assertEqual([s.dtype for s in exe.inputs],
                             [np.dtype(ml_dtypes.int4), np.dtype(ml_dtypes.float8_e4m3fn)])
            x = values.astype(ml_dtypes.int4)
            y = f8_bytes.view(ml_dtypes.float8_e4m3fn)
        a, b, n = exe(x, y)
        np.testing.assert_array_equal(a, values.astype(np.float32))
        np.testing.assert_array_equal(b, f8_values)
        np.testing.assert_array_equal(n.view(np.int8), wrapped)
        if ml_dtypes is not None:
            np.testing.assert_array_equal(n.astype(np.int32), wrapped)
        with self.assertRaisesRegex(hloc.Error, r"input 0 \(x\) is"):
            exe(values.astype(np.int8), y)


class PackagingTest(unittest.TestCase):
    def python(self, code, env=None):
        """Runs code in a fresh interpreter from the repository root."""
        full_env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"), **(env or {}))
        return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full_env,
                              capture_output=True, text=True, timeout=300)

    def test_doc_example(self):
        with open(os.path.join(ROOT, "docs", "api.md")) as f:
            doc = f.read()
        marker = doc.index("<!-- example.py")
        start = doc.index("```python\n", marker) + len("```python\n")
        code = doc[start:doc.index("\n```", start)]
        r = self.python(code)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("TensorSpec(name='image'", r.stdout)
        self.assertIn("input 0 (image) is float32[2,784], but the array is float64[2,784]",
                      r.stdout)

    def test_library_not_found(self):
        r = self.python("import hloc", {"HLOC_LIBRARY": "/nonexistent/libhloc.so"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cannot load libhloc.so; tried /nonexistent/libhloc.so (no such file)",
                      r.stderr)


if __name__ == "__main__":
    unittest.main()
