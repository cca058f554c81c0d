"""Latency of hloc against TensorFlow, TensorFlow with XLA and ONNX Runtime.

For every model of testdata/tf/models (or --models-dir, or those named), this compiles the
model with hloc (an object, header and executable: compile time, object size,
scratch arena, peak RSS) and then times one inference on the model's stored
input (the config's static shapes, so its batch) with each peer: hloc's
executable (its own `--bench`), hloc through its Python binding (libhloc's
JIT), TensorFlow's graph mode (a tf.compat.v1.Session over the frozen GraphDef,
one thread and default), XLA (tf.function(jit_compile=True) over the pruned
graph function, one thread) and ONNX Runtime (the GraphDef converted by
tf2onnx, one thread and default).

Each Python peer lives in a worker process of its own (this script with
--worker), so that no peer's thread pools, allocator or page cache share a
process with another's; the parent alternates them in --rounds rounds, each
peer timing its share of the --runs calls after warm-up calls (--warmup in the
first round, one in the others), numpy in, numpy out, while every other worker
is stopped (SIGSTOP: no idle peer's spinning thread pool shares the cores with
the one being timed), and checks its output
against TensorFlow's stored one.  The executable is then profiled with
`perf record` where perf works, to say which kernels the time goes to.  The
report (Markdown) replaces the output file except its "## Observations"
section, which is written by hand and kept.  See bench/README.md.
"""

import argparse
import collections
import datetime
import json
import logging
import os
import platform
import re
import shutil
import signal
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
ap.add_argument("--rounds", type=int, default=3,
                help="rounds the peers alternate in, each timing its share of the runs (default 3)")
ap.add_argument("--seconds", type=float, default=None,
                help="at most about this many seconds of timed calls per peer and model (at least "
                     "3 calls; warm-up likewise capped to a fifth of it): for the large models")
ap.add_argument("-o", "--output", default="bench/results.md", help="report (default bench/results.md)")
ap.add_argument("--worker", help=argparse.SUPPRESS)  # internal: PEER MODEL-SPEC-JSON
args = ap.parse_args()
args.rounds = max(1, args.rounds)
BUILD = (TOP / args.build).resolve()
HLOC = BUILD / "driver/hloc"
MODELS = (TOP / args.models_dir).resolve()
WORKER = args.worker and args.worker.split(" ", 1)[0]

# The binding loads this build's libhloc, and before TensorFlow could: TF's
# libraries export LLVM symbols of their own version that, loaded first, take
# the place of some of libLLVM 22's in libhloc and break its JIT ("Attribute
# 'noext' does not apply to functions!").  A worker imports only what its peer
# needs.  The parent imports neither TensorFlow nor a runtime: a "prep" worker
# reads each model's config and converts it with tf2onnx, which would
# otherwise leave the parent gigabytes larger with every model.
os.environ["HLOC_LIBRARY"] = str(BUILD / "driver/libhloc.so")
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np  # noqa: E402
if WORKER == "hloc":
    sys.path.insert(0, str(TOP / "python"))
    import hloc  # noqa: E402
if WORKER in ("prep", "tf1", "tfd", "xla"):
    import tensorflow as tf  # noqa: E402
    tf.get_logger().setLevel("ERROR")
if WORKER == "xla":  # eager, hence XLA, on one thread
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
if WORKER in ("prep", "ort1", "ortd"):
    import onnxruntime as ort  # noqa: E402
if WORKER == "prep":
    import tf2onnx  # noqa: E402
    from google.protobuf import text_format  # noqa: E402
    from tensorflow.compiler.tf2xla import tf2xla_pb2  # noqa: E402
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
    """One model: feeds and fetches as tensor names (its spec, which the prep worker
    reads from the config), inputs, TF's outputs; in a TF worker its GraphDef."""

    def __init__(self, name, spec):
        self.name, self.pb, self.config = name, MODELS / f"{name}.pb", MODELS / f"{name}.config.pbtxt"
        self.feeds, self.fetches, self.fetch_names = spec["feeds"], spec["fetches"], spec["fetch_names"]
        self.onnx_path = spec.get("onnx")
        self.inputs = [np.load(MODELS / f"{name}.in{i}.npy") for i in range(len(self.feeds))]
        self.expected = [np.load(MODELS / f"{name}.out{i}.npy") for i in range(len(self.fetches))]

    @property
    def graph(self):
        if not hasattr(self, "_graph"):
            self._graph = tf.compat.v1.GraphDef.FromString(self.pb.read_bytes())
        return self._graph

    def spec(self):
        return dict(name=self.name, feeds=self.feeds, fetches=self.fetches,
                    fetch_names=self.fetch_names, onnx=self.onnx_path)

    def matches(self, outputs):
        return all(np.allclose(np.asarray(o), e, rtol=1e-3, atol=1e-4)
                   for o, e in zip(outputs, self.expected))


def per_round(total):
    """A round's share of `total` calls: at least one, and 3 over all rounds."""
    return max(-(-total // args.rounds), -(-3 // args.rounds))


def time_calls(call, warmup, runs, budget):
    """(wall, CPU) seconds of each of `runs` timed calls after `warmup` untimed ones, CPU
    being the process's (all its threads); past `budget` seconds fewer of each (one
    warm-up call, per_round(3) timed calls at least)."""
    t0 = time.perf_counter()
    for i in range(warmup):
        if i and time.perf_counter() - t0 > budget / 5:
            break
        call()
    times = []
    t0 = time.perf_counter()
    for i in range(runs):
        if i >= per_round(3) and time.perf_counter() - t0 > budget:
            break
        t1, c1 = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - t1, time.process_time() - c1))
    return times


def prep(name, onnx_path):
    """The prep worker's answer for model `name`: its spec, with the ONNX model written
    to onnx_path where tf2onnx converts it (else why not), and the peers' versions."""
    cfg = text_format.Parse((MODELS / f"{name}.config.pbtxt").read_text(), tf2xla_pb2.Config())
    spec = dict(name=name, feeds=[f"{f.id.node_name}:{f.id.output_index}" for f in cfg.feed],
                fetches=[f"{f.id.node_name}:{f.id.output_index}" for f in cfg.fetch],
                fetch_names=[f.name for f in cfg.fetch])
    m = Model(name, spec)
    r = dict(spec=spec, versions=f"TensorFlow {tf.__version__}, onnxruntime {ort.__version__}, "
                                 f"tf2onnx {tf2onnx.__version__}")
    try:
        r["onnx_note"] = convert_onnx(m, onnx_path)
        spec["onnx"] = str(onnx_path)
    except Exception as e:
        r["onnx_error"] = " ".join(str(e).split())[:200] or type(e).__name__
    return r


def worker_main():
    """A worker: builds its peer's call, answers one JSON line {ok, setup_s} (or {error}),
    then for each line "WARMUP RUNS BUDGET" of stdin times calls and answers {times}.
    Libraries that print to stdout are sent to stderr: the protocol has fd 1 alone."""
    proto = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    key, spec = args.worker.split(" ", 1)
    spec = json.loads(spec)

    def answer(**kw):
        proto.write(json.dumps(kw) + "\n")
        proto.flush()
    if key == "prep":
        return answer(**prep(spec["name"], spec["onnx"]))
    try:
        m = Model(spec["name"], spec)
        t0 = time.perf_counter()
        call = MAKERS[key](m)
        setup = time.perf_counter() - t0
        answer(ok=bool(m.matches(call())), setup_s=setup)
    except Exception as e:
        answer(error=" ".join(str(e).split())[:200] or type(e).__name__)
        return
    for line in sys.stdin:
        warmup, runs, budget = line.split()
        answer(times=time_calls(call, int(warmup), int(runs), float(budget)))


class Worker:
    """The parent's end of a worker process: peer `key` (or "prep") for the model of spec."""

    def __init__(self, key, spec, log):
        self.key, self.log = key, log
        cmd = [sys.executable, str(Path(__file__).resolve()), "--models-dir", str(MODELS),
               "--build", str(BUILD), "--worker", f"{key} {json.dumps(spec)}"]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=open(log, "w"), text=True)

    def reply(self):
        line = self.p.stdout.readline()
        if not line:
            tail = " ".join(Path(self.log).read_text().split()[-40:])
            raise RuntimeError(f"worker exited {self.p.wait()}: {tail[-200:]}")
        r = json.loads(line)
        if "error" in r:
            raise RuntimeError(r["error"])
        return r

    def time(self, warmup, runs, budget):
        self.p.stdin.write(f"{warmup} {runs} {budget}\n")
        self.p.stdin.flush()
        return self.reply()["times"]

    def pause(self, stop):
        """Stops (SIGSTOP) or resumes (SIGCONT) the worker while another peer is timed."""
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGSTOP if stop else signal.SIGCONT)

    def close(self):
        self.pause(False)
        if self.p.stdin:
            self.p.stdin.close()
        try:
            self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def exe_runs(m, exe, tmp):
    """--runs, or with --seconds as many of the executable's runs as fit (3 at least),
    from the time of one run; split into the rounds' shares."""
    if not args.seconds:
        return per_round(args.runs)
    out = child(exe_cmd(m, exe, tmp / "out", 1))[0]
    one = float(re.search(r"median ([\d.]+) ms", out).group(1))
    return per_round(max(3, min(args.runs, int(args.seconds * 1e3 / max(one, 1e-3)))))


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
VERSIONS = []  # the peers' versions, from the first prep worker


def convert_onnx(m, path):
    """Writes tf2onnx's ONNX model of m to path; returns how the graph was changed
    for it, or None."""
    graph, note = m.graph, None
    if any(n.op == "Erfc" for n in graph.node):
        graph, note = erfc_as_erf(graph), "Erfc rewritten as 1 − Erf for tf2onnx"
    onnx, _ = tf2onnx.convert.from_graph_def(graph, input_names=m.feeds, output_names=m.fetches)
    Path(path).write_bytes(onnx.SerializeToString())
    return note


def ort_session(threads):
    def make(m):
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = opts.inter_op_num_threads = threads
        if not m.onnx_path:
            raise RuntimeError("no ONNX model (tf2onnx failed)")
        sess = ort.InferenceSession(m.onnx_path, opts, providers=["CPUExecutionProvider"])
        feed = dict(zip(m.feeds, m.inputs))
        return lambda: sess.run(m.fetches, feed)
    return make


MAKERS = {"hloc": hloc_jit, "tf1": tf_session(1), "tfd": tf_session(0), "xla": tf_xla,
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


def bench_exe(m, exe, tmp, runs):
    """One round of the executable's own --bench timing (after its one warm-up run),
    its peak RSS and whether its outputs match."""
    out, _, rss = child(exe_cmd(m, exe, tmp / "out", runs), rss=True)
    med, low, cpu = map(float, re.search(
        r"median ([\d.]+) ms, min ([\d.]+) ms; CPU time median ([\d.]+) ms", out).groups())
    ok = m.matches([np.load(tmp / "out" / f"{n}.npy") for n in m.fetch_names])
    return (med, low, runs, cpu), ok, rss


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
            + (VERSIONS[0] if VERSIONS else "the peers' versions unknown"))


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
         f"- Method: per model, each Python peer in a worker process of its own, the peers "
         f"alternated in {args.rounds} rounds; over the rounds each makes {runs} timed calls "
         f"(numpy in, numpy out, Python's `perf_counter`) after {warmup} warm-up calls in the "
         "first round and one in each later one. The executable times its share of the calls "
         "each round with its own `--bench` (after one warm-up run): its median is the median of "
         "the rounds' medians. Inputs are "
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
    one = [k for k in PEERS if k not in ("tfd", "ortd")]
    L += ["", "## CPU time per call, one-thread peers: ms, median (ratio as above: peer / hloc "
          "JIT, >1: hloc is faster; the executable's hloc JIT / executable)", "",
          "The process's CPU time over each call (the executable's over each of its runs): on "
          "this shared machine the latency above also holds the time a call waited for a CPU, "
          "which lands on whichever peer was running; CPU time leaves it out (not the caches "
          "other processes take). The default-thread peers are left out: their CPU time adds "
          "up their threads'.", "",
          "| model | " + " | ".join(PEERS[k] for k in one) + " |",
          "|---|" + "---:|" * len(one)]
    clogs = collections.defaultdict(list)
    for r in rows:
        cpu = r.get("cpu", {})
        base = cpu.get("hloc") if "hloc" in r["lat"] else None
        cells = []
        for k in one:
            if k not in cpu or k not in r["lat"]:
                cells.append("—")
            elif base and k != "hloc":
                ratio = base / cpu[k] if k == "exe" else cpu[k] / base
                clogs[k].append(np.log(ratio))
                cells.append(f"{ms(cpu[k])} ({ratio:.2f})")
            else:
                cells.append(ms(cpu[k]))
        L.append(f"| {r['name']} | " + " | ".join(cells) + " |")
    L.append("| *geometric mean of the ratios* | " + " | ".join(
        f"*{np.exp(np.mean(clogs[k])):.2f}*" if clogs[k] else "—" for k in one) + " |")
    if ONNX_NOTES:
        L += ["", "ONNX Runtime ran a changed graph for: " +
              "; ".join(f"{k} ({v})" for k, v in ONNX_NOTES.items()) + "."]

    L += ["", "## hloc compile and memory", "",
          "`hloc compile --emit obj,header` (wall time and peak RSS of the compiler); the object's "
          "size (weights included); the scratch arena (`SCRATCH_BYTES` of the header); peak RSS of "
          f"the executable over one round of its runs (and one warm-up); JIT compile through the binding.", "",
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


def bench_model(name, tdir):
    """The model's report row: hloc's compile, then the peers alternated in --rounds rounds."""
    w = Worker("prep", dict(name=name, onnx=str(tdir / f"{name}.onnx")), tdir / "prep.log")
    try:
        r = w.reply()
    except Exception as e:  # no spec: nothing can run
        print(f"  prep: {e}", file=sys.stderr)
        return dict(name=name, lat={}, err={k: f"reading the model: {e}" for k in PEERS}, input="?")
    finally:
        w.close()
    VERSIONS.append(r["versions"])
    if "onnx_note" in r and r["onnx_note"]:
        ONNX_NOTES[name] = r["onnx_note"]
    if "onnx_error" in r:
        print(f"  tf2onnx: {r['onnx_error']}", file=sys.stderr)
    m = Model(name, r["spec"])
    row = dict(name=m.name, lat={}, err={},
               input=", ".join(f"{x.dtype}[{','.join(map(str, x.shape))}]" for x in m.inputs))
    exe = None
    try:
        row["compile"], exe = compile_hloc(m, tdir)
        exe_round = exe_runs(m, exe, tdir)
    except Exception as e:
        row["err"]["exe"] = str(e).splitlines()[0]
    # hloc's worker first and alone, for its JIT compile time; then the others together.
    workers, ok = {}, {}
    for batch in (["hloc"], [k for k in MAKERS if k != "hloc"]):
        for key in batch:
            workers[key] = Worker(key, m.spec(), tdir / f"{key}.log")
        for key in batch:
            try:
                r = workers[key].reply()
                ok[key] = r["ok"]
                if key == "hloc":
                    row["jit_s"] = r["setup_s"]
            except Exception as e:
                row["err"][key] = str(e)
                workers.pop(key).close()
    # peer -> (wall, CPU) seconds of each call (exe: (median, min, CPU median) ms a round)
    times = collections.defaultdict(list)
    budget = args.seconds / args.rounds if args.seconds else float("inf")
    for rnd in range(args.rounds):
        for key in PEERS:
            for other, w in workers.items():
                w.pause(other != key)
            try:
                if key == "exe" and "exe" not in row["err"]:
                    (med, low, _, cpu), ok["exe"], rss = bench_exe(m, exe, tdir, exe_round)
                    times["exe"].append((med, low, cpu))
                    row["exe_rss"] = max(row.get("exe_rss") or 0, rss or 0) or None
                elif key in workers:
                    warmup = args.warmup if rnd == 0 else 1
                    times[key] += workers[key].time(warmup, per_round(args.runs), budget)
            except Exception as e:
                row["err"][key] = " ".join(str(e).split())[:200]
                if key in workers:
                    workers.pop(key).close()
    for w in workers.values():
        w.close()  # resumes it first
    for key in PEERS:
        if key in row["err"] or not times[key]:
            continue
        if key == "exe":  # the median of the rounds' medians, the least minimum
            lat = (statistics.median(t[0] for t in times[key]), min(t[1] for t in times[key]),
                   exe_round * len(times[key]))
            row.setdefault("cpu", {})[key] = statistics.median(t[2] for t in times[key])
        else:
            ms_ = [t[0] * 1e3 for t in times[key]]
            lat = statistics.median(ms_), min(ms_), len(ms_)
            row.setdefault("cpu", {})[key] = statistics.median(t[1] * 1e3 for t in times[key])
        row["lat"][key] = lat, ok[key]
        print(f"  {PEERS[key]}: {lat[0]:.3g} ms" + ("" if ok[key] else " (outputs differ)"),
              file=sys.stderr, flush=True)
    if exe and "exe" in row["lat"] and shutil.which("perf"):
        try:
            row["profile"] = profile_exe(m, exe, tdir, row["lat"]["exe"][0][0])
        except Exception as e:
            print(f"  perf: {e}", file=sys.stderr)
    for key, err in row["err"].items():
        print(f"  {PEERS[key]}: failed: {err}", file=sys.stderr, flush=True)
    return row


def main():
    if args.worker:
        return worker_main()
    manifest = MODELS / "MANIFEST"
    names = args.models or ([l.split()[0] for l in manifest.read_text().splitlines()
                             if l and not l.startswith("#")] if manifest.exists() else
                            sorted(p.name[:-len(".config.pbtxt")] for p in MODELS.glob("*.config.pbtxt")))
    missing = [n for n in names if not (MODELS / f"{n}.config.pbtxt").exists()]
    if missing:
        sys.exit(f"run.py: no model {', '.join(missing)} in {MODELS} (NAME.pb and NAME.config.pbtxt)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            print(f"{name}:", file=sys.stderr, flush=True)
            tdir = Path(tmp) / name
            tdir.mkdir()
            rows.append(bench_model(name, tdir))

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
