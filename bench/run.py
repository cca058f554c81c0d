"""Latency of hloc against TensorFlow, TensorFlow with XLA and ONNX Runtime.

For every model of testdata/tf/models (or --models-dir, or those named), this compiles the
model with hloc (an object, header and executable: compile time, object size,
scratch arena, peak RSS) and then, in this one process and back to back, times
one inference on the model's stored input (the config's static shapes, so its
batch) with each peer: hloc through its Python binding (libhloc's JIT),
TensorFlow's graph mode (a tf.compat.v1.Session over the frozen GraphDef, one
thread and default), XLA (tf.function(jit_compile=True) over the pruned graph
function, one thread) and ONNX Runtime (the GraphDef converted by tf2onnx, one
thread and default).  Each peer runs --warmup times, then --runs timed calls
(numpy in, numpy out), and its output is checked against TensorFlow's stored
one.  hloc's executable times itself (`--bench`), and is profiled with
`perf record` where perf works, to say which kernels the time goes to.  The
report (Markdown) replaces the output file except its "## Observations"
section, which is written by hand and kept.  See bench/README.md.
"""

import argparse
import collections
import datetime
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
OBSERVATIONS = "\n## Observations\n"

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("models", nargs="*", help="model names (default: all of the models directory)")
ap.add_argument("--models-dir", default="testdata/tf/models",
                help="where NAME.pb, NAME.config.pbtxt, NAME.inK.npy, NAME.outK.npy are "
                     "(default testdata/tf/models; bench/gen_models.py writes build-bench/models)")
ap.add_argument("--build", default="build-bench", help="hloc build directory (default build-bench)")
ap.add_argument("--runs", type=int, default=100, help="timed runs per peer (default 100)")
ap.add_argument("--warmup", type=int, default=10, help="untimed runs first (default 10)")
ap.add_argument("--seconds", type=float, default=None,
                help="at most about this many seconds of timed calls per peer and model (at least "
                     "3 calls; warm-up likewise capped to a fifth of it): for the large models")
ap.add_argument("-o", "--output", default="bench/results.md", help="report (default bench/results.md)")
args = ap.parse_args()
BUILD = (TOP / args.build).resolve()
HLOC = BUILD / "driver/hloc"
MODELS = (TOP / args.models_dir).resolve()

# The binding loads this build's libhloc, and before TensorFlow does: TF's
# libraries export LLVM symbols of their own version that, loaded first, take
# the place of some of libLLVM 22's in libhloc and break its JIT ("Attribute
# 'noext' does not apply to functions!").  Then TF, quiet, with eager (hence
# XLA) on one thread.
os.environ["HLOC_LIBRARY"] = str(BUILD / "driver/libhloc.so")
sys.path.insert(0, str(TOP / "python"))
import hloc  # noqa: E402

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402
from google.protobuf import text_format  # noqa: E402
from tensorflow.compiler.tf2xla import tf2xla_pb2  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
tf.get_logger().setLevel("ERROR")
logging.getLogger("tf2onnx").setLevel(logging.ERROR)

NPROC = len(os.sched_getaffinity(0))
# Column key -> heading.  "hloc" is the binding; ratios are against it.
PEERS = {
    "exe": "hloc exe (AOT, 1 thr)",
    "hloc": "hloc JIT (Python, 1 thr)",
    "tf1": "TF graph, 1 thr",
    "tfd": f"TF graph, default ({NPROC} thr)",
    "xla": "TF+XLA, 1 thr",
    "ort1": "ORT, 1 thr",
    "ortd": f"ORT, default ({NPROC} thr)",
}


class Model:
    """One model: its GraphDef, feeds and fetches as tensor names, inputs, TF's outputs."""

    def __init__(self, name):
        self.name, self.pb, self.config = name, MODELS / f"{name}.pb", MODELS / f"{name}.config.pbtxt"
        self.graph = tf.compat.v1.GraphDef.FromString(self.pb.read_bytes())
        cfg = text_format.Parse(self.config.read_text(), tf2xla_pb2.Config())
        self.feeds = [f"{f.id.node_name}:{f.id.output_index}" for f in cfg.feed]
        self.fetches = [f"{f.id.node_name}:{f.id.output_index}" for f in cfg.fetch]
        self.fetch_names = [f.name for f in cfg.fetch]
        self.inputs = [np.load(MODELS / f"{name}.in{i}.npy") for i in range(len(self.feeds))]
        self.expected = [np.load(MODELS / f"{name}.out{i}.npy") for i in range(len(self.fetches))]

    def matches(self, outputs):
        return all(np.allclose(np.asarray(o), e, rtol=1e-3, atol=1e-4)
                   for o, e in zip(outputs, self.expected))


def time_calls(call):
    """(median, min) in ms of --runs calls after --warmup calls; with --seconds, fewer
    of each where they would take longer (at least one warm-up call, 3 timed calls)."""
    budget = args.seconds if args.seconds else float("inf")
    t0 = time.perf_counter()
    for i in range(args.warmup):
        if i and time.perf_counter() - t0 > budget / 5:
            break
        call()
    times = []
    t0 = time.perf_counter()
    for i in range(args.runs):
        if i >= 3 and time.perf_counter() - t0 > budget:
            break
        t1 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t1)
    return statistics.median(times) * 1e3, min(times) * 1e3, len(times)


def exe_runs(m, exe, tmp):
    """--runs, or with --seconds as many of the executable's runs as fit (3 at least),
    from the time of one run."""
    if not args.seconds:
        return args.runs
    out = child(exe_cmd(m, exe, tmp / "out", 1))[0]
    one = float(re.search(r"median ([\d.]+) ms", out).group(1))
    return max(3, min(args.runs, int(args.seconds * 1e3 / max(one, 1e-3))))


def child(cmd, rss=False):
    """Runs cmd; returns (output, seconds, and with rss its peak RSS in MiB); raises on failure.

    The RSS comes from GNU time: a child of this process would inherit its
    (TensorFlow-sized) peak, which Linux keeps across exec."""
    with tempfile.NamedTemporaryFile("r") as peak:
        timed = ["/usr/bin/time", "-f", "%M", "-o", peak.name] if rss and shutil.which("/usr/bin/time") else []
        t0 = time.perf_counter()
        p = subprocess.run(timed + cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        secs = time.perf_counter() - t0
        if p.returncode:
            raise RuntimeError(f"{Path(cmd[0]).name} exited {p.returncode}: {p.stdout.strip()[-300:]}")
        return p.stdout, secs, int(peak.read()) / 1024 if timed else None


# Each peer: Model -> a function of no arguments running one inference and
# returning the outputs as numpy arrays.

def hloc_jit(m):
    exe = hloc.compile_graphdef(m.pb, m.config)
    return lambda: exe(*m.inputs)


def tf_session(threads):
    def make(m):
        g = tf.Graph()
        with g.as_default():
            tf.compat.v1.import_graph_def(m.graph, name="")
        config = tf.compat.v1.ConfigProto()
        if threads:
            config.intra_op_parallelism_threads = config.inter_op_parallelism_threads = threads
            config.use_per_session_threads = True
        sess = tf.compat.v1.Session(graph=g, config=config)
        run = sess.make_callable([g.get_tensor_by_name(t) for t in m.fetches],
                                 [g.get_tensor_by_name(t) for t in m.feeds])
        return lambda: run(*m.inputs)
    return make


def tf_xla(m):
    wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(m.graph, name=""), [])
    pruned = wrapped.prune([wrapped.graph.get_tensor_by_name(t) for t in m.feeds],
                           [wrapped.graph.get_tensor_by_name(t) for t in m.fetches])
    fn = tf.function(pruned, jit_compile=True)
    return lambda: [t.numpy() for t in fn(*m.inputs)]


def erfc_as_erf(graph):
    """The GraphDef with each Erfc(x) written 1 - Erf(x): tf2onnx has no Erfc."""
    g = tf.compat.v1.GraphDef()
    g.CopyFrom(graph)
    for n in [n for n in g.node if n.op == "Erfc"]:
        dtype = tf.dtypes.as_dtype(n.attr["T"].type)
        erf = g.node.add(name=n.name + "/erf", op="Erf", input=n.input[:1])
        erf.attr["T"].type = dtype.as_datatype_enum
        one = g.node.add(name=n.name + "/one", op="Const")
        one.attr["dtype"].type = dtype.as_datatype_enum
        one.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(1, dtype=dtype))
        n.op, n.input[:] = "Sub", [one.name, erf.name]
    return g


ONNX_NOTES = {}  # model name -> how its graph was changed for tf2onnx


def onnx_model(m):
    """tf2onnx's ONNX model of m, converted once per model."""
    if not hasattr(m, "onnx"):
        graph = m.graph
        if any(n.op == "Erfc" for n in graph.node):
            graph = erfc_as_erf(graph)
            ONNX_NOTES[m.name] = "Erfc rewritten as 1 − Erf for tf2onnx"
        m.onnx, _ = tf2onnx.convert.from_graph_def(graph, input_names=m.feeds, output_names=m.fetches)
    return m.onnx.SerializeToString()


def ort_session(threads):
    def make(m):
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = opts.inter_op_num_threads = threads
        sess = ort.InferenceSession(onnx_model(m), opts, providers=["CPUExecutionProvider"])
        feed = dict(zip(m.feeds, m.inputs))
        return lambda: sess.run(m.fetches, feed)
    return make


IN_PROCESS = {"hloc": hloc_jit, "tf1": tf_session(1), "tfd": tf_session(0), "xla": tf_xla,
              "ort1": ort_session(1), "ortd": ort_session(0)}


def compile_hloc(m, tmp):
    """hloc compile: seconds, peak RSS, object and scratch bytes; then the executable's path."""
    prefix = str(tmp / m.name)
    base = [str(HLOC), "compile", str(m.pb), "--config", str(m.config), "--name", m.name, "-o", prefix]
    _, secs, rss = child(base + ["--emit", "obj,header"], rss=True)
    header = Path(prefix + ".h").read_text()
    scratch = int(re.search(rf"#define {m.name}_SCRATCH_BYTES (\d+)", header).group(1))
    child(base + ["--emit", "exe"])
    return dict(compile_s=secs, compile_rss=rss, obj=Path(prefix + ".o").stat().st_size,
                scratch=scratch), prefix


def exe_cmd(m, exe, outdir, runs):
    inputs = [a for i in range(len(m.inputs)) for a in ("--input", str(MODELS / f"{m.name}.in{i}.npy"))]
    return [exe] + inputs + ["--output-dir", str(outdir), "--bench", str(runs)]


def bench_exe(m, exe, tmp):
    """The executable's own --bench timing, its peak RSS and whether its outputs match."""
    runs = exe_runs(m, exe, tmp)
    out, _, rss = child(exe_cmd(m, exe, tmp / "out", runs), rss=True)
    med, low = map(float, re.search(r"median ([\d.]+) ms, min ([\d.]+) ms", out).groups())
    ok = m.matches([np.load(tmp / "out" / f"{n}.npy") for n in m.fetch_names])
    return (med, low, runs), ok, rss


def optimized_hlo(m):
    """`hloc dump` of the model, constants' literals elided as they stream in: a
    large model's weights print as gigabytes of text."""
    p = subprocess.Popen([str(HLOC), "dump", str(m.pb), "--config", str(m.config)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = []
    for line in p.stdout:
        i = line.find(b" constant({")
        lines.append((line[:i] + b" constant({...})\n" if i >= 0 else line).decode())
    if p.wait():
        raise RuntimeError(f"hloc dump exited {p.returncode}: {p.stderr.read().decode().strip()[-300:]}")
    return "".join(lines)


SHARES = ("convolution", "dot", "other kernels", "libm", "rest")


def profile_exe(m, exe, tmp, median_ms):
    """Share of cpu-clock samples per kind of kernel, and the hottest kernels, over
    enough runs of the executable (about 0.3 s) that its start-up does not count.

    A kernel is a function NAME_kI_KIND_ID (and NAME_kI_KIND_ID_task for its
    parallel loop) of the object, for the instruction
    KIND.ID (or KIND) of hloc's optimized HLO; a fusion counts as a
    convolution or dot when it holds one.  "libm" is the transcendentals
    kernels call there, "rest" the entry function, runtime, libc and OS."""
    hlo = optimized_hlo(m)
    bodies = dict(re.findall(r"^(%\S+) \(.*?\{\n(.*?)^\}", hlo, re.M | re.S))
    data = tmp / "perf.data"
    runs = min(max(args.runs if not args.seconds else 1, int(300 / median_ms)), 100000)
    child(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4999", "-o", str(data), "--"]
          + exe_cmd(m, exe, tmp / "out", runs))
    report = child(["perf", "report", "-i", str(data), "--stdio", "--sort", "dso,symbol", "-q"])[0]
    shares, kernels = collections.Counter(), []
    for pct, dso, sym in re.findall(r"([\d.]+)%\s+(\S+)\s+\[.\]\s+(\S+)", report):
        # A parallel kernel's loop runs in NAME_kI_KIND_ID_task (codegen/kernel.c).
        k = re.fullmatch(rf"{m.name}_k\d+_(\w+?)(?:_(\d+))?(?:_task)?", sym)
        if not k:
            shares["libm" if dso.startswith("libm.") else "rest"] += float(pct)
            continue
        instr = k.group(1) + (f".{k.group(2)}" if k.group(2) else "")
        line = re.search(rf"^\s*%{re.escape(instr).replace('_', '[_-]')} = (\(.*?\)|\S+) .*$", hlo, re.M)
        body = line and re.search(r"calls=(%[\w.-]+)", line.group(0))
        text = (line.group(0) if line else "") + (bodies.get(body.group(1), "") if body else "")
        kind = next((c for c in ("convolution", "dot") if f" {c}(" in text), "other kernels")
        shares[kind] += float(pct)
        hero = re.search(rf"^.* {kind}\(.*$", text, re.M) if kind != "other kernels" else line
        op = hero and re.search(r'op_name="([^"]*)"', hero.group(0))
        shape = re.sub(r"\{[\d,]*\}", "", line.group(1)) if line else ""
        kernels.append((float(pct), instr, f"{shape} `{op.group(1).split('/', 1)[-1]}`" if op else shape))
    return shares, sorted(kernels, reverse=True)[:2]


def mib(v):
    return "—" if v is None else f"{v:.1f}"


def ms(v):
    return f"{v:.3g}" if v >= 0.01 else f"{v:.2g}"


def machine():
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.*)", cpuinfo).group(1)
    flags = set(re.search(r"flags\s*:\s*(.*)", cpuinfo).group(1).split())
    isa = ", ".join(f for f in ("avx2", "fma", "avx512f") if f in flags)
    return f"`nproc` {subprocess.check_output(['nproc'], text=True).strip()}, {model} ({isa}), " \
           f"Linux {platform.release()}"


def versions():
    git = lambda *a: subprocess.run(["git", "-C", str(TOP), *a], capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if git("status", "--porcelain", "-uno") else "")
    hv = subprocess.check_output([str(HLOC), "version"], text=True).strip()
    return (f"{hv}, git {commit}; Python {platform.python_version()}, numpy {np.__version__}, "
            f"TensorFlow {tf.__version__}, onnxruntime {ort.__version__}, tf2onnx {tf2onnx.__version__}")


def report(rows, command):
    runs = str(args.runs) if not args.seconds else \
        f"up to {args.runs} (fewer past {args.seconds:g} s, 3 at least)"
    warmup = str(args.warmup) if not args.seconds else \
        f"up to {args.warmup} (fewer past {args.seconds / 5:g} s)"
    L = ["# hloc against TensorFlow, XLA and ONNX Runtime",
         "",
         f"Written by `bench/run.py` on {datetime.date.today()}; everything but the "
         "Observations section is regenerated by it (see bench/README.md).",
         "",
         f"- Machine: {machine()}.",
         f"- Versions: {versions()}.",
         f"- Command: `{command}`",
         f"- Method: per model, one process times each peer back to back: {warmup} warm-up calls, "
         f"then {runs} timed calls (numpy in, numpy out, Python's `perf_counter`); the "
         f"executable times {runs} calls after one warm-up with its own `--bench`. Inputs are "
         "the models' stored inputs (the config's static shapes, batch included). hloc's code runs "
         "on the calling thread (no thread pool); \"default\" threads are each runtime's own default "
         f"(the {NPROC} cores here). Outputs are checked against TensorFlow's stored outputs "
         "(rtol 1e-3, atol 1e-4); a mismatch would be marked ≠.",
         "",
         "## Latency, ms: median / min",
         "",
         "| model | input | " + " | ".join(PEERS.values()) + " |",
         "|---|---|" + "---:|" * len(PEERS)]
    notes = []
    for r in rows:
        cells = []
        for k in PEERS:
            if k in r["lat"]:
                (med, low, _), ok = r["lat"][k]
                cells.append(f"{ms(med)} / {ms(low)}" + ("" if ok else " ≠"))
            else:
                notes.append(f"{r['name']}, {PEERS[k]}: {r['err'][k]}")
                cells.append(f"failed[^{len(notes)}]")
        L.append(f"| {r['name']} | {r['input']} | " + " | ".join(cells) + " |")
    L += [f"[^{i}]: {n}" for i, n in enumerate(notes, 1)]

    others = [k for k in PEERS if k not in ("exe", "hloc")]
    L += ["", "## hloc against each peer: peer median / hloc JIT median (>1: hloc is faster)", "",
          "Both sides are called from Python the same way; the executable's column shows hloc "
          "without the binding's per-call cost (hloc JIT / hloc exe).", "",
          "| model | hloc exe | " + " | ".join(PEERS[k] for k in others) + " |",
          "|---|" + "---:|" * (len(others) + 1)]
    logs = collections.defaultdict(list)
    for r in rows:
        lat = r["lat"]
        base = lat.get("hloc", ((None,),))[0][0]
        cells = []
        for k in ["exe"] + others:
            if base and k in lat:
                ratio = base / lat[k][0][0] if k == "exe" else lat[k][0][0] / base
                logs[k].append(np.log(ratio))
                cells.append(f"{ratio:.2f}")
            else:
                cells.append("—")
        L.append(f"| {r['name']} | " + " | ".join(cells) + " |")
    L.append("| *geometric mean* | " + " | ".join(
        f"*{np.exp(np.mean(logs[k])):.2f}*" if logs[k] else "—" for k in ["exe"] + others) + " |")
    if ONNX_NOTES:
        L += ["", "ONNX Runtime ran a changed graph for: " +
              "; ".join(f"{k} ({v})" for k, v in ONNX_NOTES.items()) + "."]

    L += ["", "## hloc compile and memory", "",
          "`hloc compile --emit obj,header` (wall time and peak RSS of the compiler); the object's "
          "size (weights included); the scratch arena (`SCRATCH_BYTES` of the header); peak RSS of "
          f"the executable over its {runs} runs and one warm-up; JIT compile through the binding.", "",
          "| model | compile, s | compile peak RSS, MiB | object, KiB | scratch, KiB | exe peak RSS, MiB | JIT compile, s |",
          "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        c = r.get("compile")
        L.append(f"| {r['name']} | " + (" | ".join([
            f"{c['compile_s']:.2f}", mib(c["compile_rss"]), f"{c['obj'] / 1024:.0f}",
            f"{c['scratch'] / 1024:.1f}", mib(r.get("exe_rss")), f"{r['jit_s']:.2f}" if "jit_s" in r else "—"])
            if c else "failed | | | | |") + " |")

    if any("profile" in r for r in rows):
        L += ["", "## Where hloc's time goes", "",
              "Share of `perf record -e cpu-clock` samples of the executable running about 0.3 s, "
              "by kernel: a kernel is a function `NAME_kI_KIND_ID` of the object, made for the "
              "instruction `KIND.ID` of hloc's optimized HLO (`hloc dump`); a fusion counts as a "
              "convolution or dot when it holds one; *libm* is the transcendental functions kernels "
              "call there, *rest* the entry function (control flow), the runtime, libc and the OS. The two hottest kernels are given with their result "
              "shape and the TF op they come from (for a fusion, its convolution's or dot's).", "",
              "| model | " + " | ".join(SHARES) + " | hottest kernels |",
              "|---|" + "---:|" * len(SHARES) + "---|"]
        for r in rows:
            if "profile" not in r:
                continue
            shares, top = r["profile"]
            hot = "; ".join(f"{name} {pct:.0f}%: {what}" for pct, name, what in top)
            L.append(f"| {r['name']} | " + " | ".join(f"{shares[k]:.0f}%" for k in SHARES) + f" | {hot} |")
    return "\n".join(L) + "\n"


def main():
    manifest = MODELS / "MANIFEST"
    names = args.models or ([l.split()[0] for l in manifest.read_text().splitlines()
                             if l and not l.startswith("#")] if manifest.exists() else
                            sorted(p.name[:-len(".config.pbtxt")] for p in MODELS.glob("*.config.pbtxt")))
    perf = shutil.which("perf")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            m = Model(name)
            tdir = Path(tmp) / name
            tdir.mkdir()
            row = dict(name=name, lat={}, err={},
                       input=", ".join(f"{x.dtype}[{','.join(map(str, x.shape))}]" for x in m.inputs))
            print(f"{name}:", file=sys.stderr, flush=True)
            try:
                row["compile"], exe = compile_hloc(m, tdir)
                lat, ok, row["exe_rss"] = bench_exe(m, exe, tdir)
                row["lat"]["exe"] = lat, ok
                if perf:
                    row["profile"] = profile_exe(m, exe, tdir, lat[0])
            except Exception as e:
                row["err"]["exe"] = str(e).splitlines()[0]
            for key, make in IN_PROCESS.items():
                try:
                    t0 = time.perf_counter()
                    call = make(m)
                    if key == "hloc":
                        row["jit_s"] = time.perf_counter() - t0
                    ok = m.matches(call())
                    row["lat"][key] = time_calls(call), ok
                except Exception as e:
                    row["err"][key] = " ".join(str(e).split())[:200]
                print(f"  {PEERS[key]}: {row['lat'].get(key, row['err'].get(key))}", file=sys.stderr, flush=True)
            rows.append(row)

    out = TOP / args.output
    kept = ""
    if out.exists() and OBSERVATIONS in out.read_text():
        kept = OBSERVATIONS + out.read_text().split(OBSERVATIONS, 1)[1]
    command = " ".join([os.path.relpath(sys.executable, TOP) if sys.executable.startswith(str(TOP))
                        else sys.executable, "bench/run.py"] + sys.argv[1:])
    out.write_text(report(rows, command) + kept)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
