"""scripts/gpu-check.sh's check of the Python binding's device="cuda", for the
models named on the command line (of testdata/tf/models):

    python3 scripts/gpu_check_python.py DIR NAME:NIN:NOUT...

compiles each with hloc.compile(..., device="cuda"), runs it on its stored
inputs and prints "PASS|FAIL python NAME.CHECK [message]" for
  run      the outputs match NAME.outK.npy (atol 1e-4, rtol 1e-3 for floats,
           as the script's models group; other types exactly);
  profile  set_profiling(True): one call profiles every kernel once (one in a
           while loop as often as it iterates), with time; cancel() with no
           call running returns 0.
The binding is python/hloc, with the library $HLOC_LIBRARY names.  With
$GPU_CHECK_FAKE set (the fake driver, tests/fake_cuda.c, runs no kernel) the
outputs are not compared.  Exits 1 when a check failed.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import numpy as np  # noqa: E402
import hloc  # noqa: E402

fake = "GPU_CHECK_FAKE" in os.environ
failed = False


def report(name, check, why=None):
    global failed
    failed = failed or why is not None
    print(f"{'FAIL' if why else 'PASS'} python {name}.{check}{' ' + why if why else ''}",
          flush=True)


def mismatch(got, want):
    for i, (g, w) in enumerate(zip(got, want)):
        if g.shape != w.shape or g.dtype != w.dtype:
            return f"output {i}: {g.dtype}{list(g.shape)}, not {w.dtype}{list(w.shape)}"
        ok = (np.allclose(g, w, atol=1e-4, rtol=1e-3, equal_nan=True)
              if g.dtype.kind == "f" else np.array_equal(g, w))
        if not ok:
            return f"output {i} differs (max |diff| {np.max(np.abs(g - w.astype(g.dtype)))})"
    return None


def check(d, name, nin, nout):
    try:
        exe = hloc.compile(f"{d}/{name}.pb", config=f"{d}/{name}.config.pbtxt", device="cuda")
        ins = [np.load(f"{d}/{name}.in{k}.npy") for k in range(nin)]
        want = [np.load(f"{d}/{name}.out{k}.npy") for k in range(nout)]
        got = exe(*ins)
    except Exception as e:  # noqa: BLE001: every failure is a FAIL line
        report(name, "run", str(e).splitlines()[0] if str(e) else type(e).__name__)
        return
    report(name, "run", None if fake else mismatch(got, want))
    try:
        if exe.cancel() != 0:
            raise RuntimeError("cancel() stopped a call when none ran")
        exe.set_profiling(True)
        got = exe(*ins)
        p = exe.profile()
        # A kernel in a while loop runs as often as the loop iterates.
        bad = [k for k in p["kernels"]
               if (k["calls"] != 1 and not k["loop"]) or
               not (k["seconds"] > 0 or (k["loop"] and k["calls"] == 0))]
        if p["runs"] != 1 or not p["kernels"] or bad:
            raise RuntimeError(f"{p['runs']} runs, {len(p['kernels'])} kernels, "
                               f"{len(bad)} without one timed call")
        report(name, "profile", None if fake else mismatch(got, want))
    except Exception as e:  # noqa: BLE001
        report(name, "profile", str(e).splitlines()[0])


def main():
    d = sys.argv[1]
    for arg in sys.argv[2:]:
        name, nin, nout = arg.split(":")
        check(d, name, int(nin), int(nout))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
