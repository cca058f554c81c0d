#!/usr/bin/env python3
"""Runs the examples of README.md and docs/*.md, so that they cannot drift.

Every fenced block of those files is an example, and the comment line(s)
right before its opening fence say what to do with it; a block without one
fails this test.  The markers:

- `<!-- doc-test -->`: run it here.  A `sh` block is a script: it runs with
  bash (-e -u -o pipefail) and must exit 0.  A `python` block runs with this
  Python, the build's libhloc and the tree's `python/` package.  A block whose
  first line starts with `$ ` (any language) is a transcript: lines starting
  with `$ ` are commands (a trailing backslash continues one), the lines
  after a command up to the next are its expected output, compared exactly
  (a command with no lines after it must only succeed).
- `<!-- doc-test setup: COMMAND -->`: the same, after running COMMAND
  (bash), which the reader has done in the text around the block (made the
  model the prose talks about, say).
- `<!-- doc-test fails -->`: a transcript whose commands must fail (exit
  non-zero), printing what the block shows: the error messages docs quote.
- `<!-- doc-test file: NAME -->`: the block is a file (a C program) that
  the document's other examples use: it is written to NAME before any of
  the document's examples runs.
- a comment that names an existing test under `tests/` or `python/tests/`
  (`<!-- example.c: tests/test_driver_api.c builds this block … -->`): that
  test runs the block; checked here only for the file's existence.
- `<!-- not-run: REASON -->`: an excerpt, a synopsis or a fragment, or an
  example that needs what `make test` lacks (TensorFlow); the reason is
  required.

The examples of one document run in order in one fresh temporary
directory (a later one may use what an earlier one wrote) that holds
`testdata`, `driver`, `runtime` and `python` (links to the tree's) and
`build` (a link to BUILD_DIR), with BUILD_DIR's hloc first on PATH and
HOME pointing at the directory, so examples written for the source root
work unchanged and write nowhere else (but `cmake --install build` leaves
its install_manifest.txt in BUILD_DIR).  With HLOC_DOCS_PRELOAD set (a
sanitized build: the ASan runtime), every example runs with it preloaded,
as Python and the programs the examples link against libhloc need.

    tests/docs_examples.py BUILD_DIR    (from the source root; ctest runs it)
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

MARKER = re.compile(r"^<!--\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^```([\w+-]*)\s*$")
TESTED_ELSEWHERE = re.compile(r"(?:^|\s)((?:python/)?tests/[\w./-]+\.\w+)")


class Block:
    def __init__(self, path, line, lang, text, markers):
        self.path, self.line, self.lang, self.text = path, line, lang, text
        self.markers = markers

    def where(self):
        return f"{self.path}:{self.line}"


def blocks(path):
    """Every fenced block of a Markdown file, with the markers before it."""
    lines = open(path, encoding="utf-8").read().split("\n")
    found, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        markers, j = [], i - 1
        while j >= 0 and MARKER.match(lines[j]):
            markers.insert(0, MARKER.match(lines[j]).group(1))
            j -= 1
        end = i + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        if end == len(lines):
            raise SystemExit(f"{path}:{i + 1}: the block never closes")
        found.append(Block(path, i + 2, m.group(1), "\n".join(lines[i + 1:end]), markers))
        i = end + 1
    return found


def transcript(text):
    """(command, expected output) pairs of a transcript block."""
    pairs, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            raise ValueError(f"transcript line is neither a command nor output: {lines[i]!r}")
        cmd = lines[i][2:]
        while cmd.endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd = cmd[:-1] + " " + lines[i].strip()
        i += 1
        out = []
        while i < len(lines) and not lines[i].startswith("$ "):
            out.append(lines[i])
            i += 1
        pairs.append((cmd, "\n".join(out)))
    return pairs


def plan(block, root):
    """What to do with a block: ('run', setup, fails), ('file', name),
    ('elsewhere', test) or ('skip', reason); or an error message."""
    for m in block.markers:
        if m.startswith("doc-test file:"):
            return ("file", m[len("doc-test file:"):].strip())
    for m in block.markers:
        if m == "doc-test":
            return ("run", None, False)
        if m == "doc-test fails":
            return ("run", None, True)
        if m.startswith("doc-test setup:"):
            return ("run", m[len("doc-test setup:"):].strip(), False)
        if m.startswith("not-run:"):
            reason = m[len("not-run:"):].strip()
            if not reason:
                return "not-run needs a reason"
            return ("skip", reason)
        t = TESTED_ELSEWHERE.search(m)
        if t:
            if not os.path.isfile(os.path.join(root, t.group(1))):
                return f"the test it names, {t.group(1)}, does not exist"
            return ("elsewhere", t.group(1))
        if m.startswith("doc-test"):
            return f"unknown marker <!-- {m} -->"
    return ("unmarked block: mark it <!-- doc-test -->, or name the test that runs it, "
            "or say why not (<!-- not-run: REASON -->)")


def run_block(block, setup, fails, work, env):
    """The failures of running one block, as messages."""
    failures = []
    if setup:
        r = subprocess.run(["bash", "-euo", "pipefail", "-c", setup], cwd=work, env=env,
                           capture_output=True, text=True)
        if r.returncode:
            return [f"{block.where()}: setup exit {r.returncode}\n{r.stdout}{r.stderr}"]
    if block.text.startswith("$ "):
        try:
            pairs = transcript(block.text)
        except ValueError as e:
            return [f"{block.where()}: {e}"]
        for cmd, want in pairs:
            r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=work, env=env,
                               capture_output=True, text=True)
            got = (r.stdout + r.stderr).rstrip("\n")
            bad_exit = (r.returncode == 0) if fails else (r.returncode != 0)
            if bad_exit or (want and got != want.rstrip("\n")):
                failures.append(f"{block.where()}: $ {cmd}\n  exit {r.returncode}\n"
                                f"  expected:\n{want}\n  got:\n{got}")
        return failures
    if fails:
        return [f"{block.where()}: 'doc-test fails' is for transcripts ($ lines)"]
    if block.lang == "sh":
        argv = ["bash", "-euo", "pipefail", "-c", block.text]
    elif block.lang == "python":
        argv = [sys.executable, "-c", block.text]
    else:
        return [f"{block.where()}: a {block.lang or 'plain'} block runs only as a transcript"]
    r = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True)
    if r.returncode:
        failures.append(f"{block.where()}: exit {r.returncode}\n{r.stdout}{r.stderr}")
    return failures


def main():
    build = os.path.realpath(sys.argv[1])
    root = os.getcwd()
    files = ["README.md"] + sorted(glob.glob("docs/*.md"))
    failures, counts = [], {"run": 0, "file": 0, "elsewhere": 0, "skip": 0}
    for path in files:
        planned = []
        for b in blocks(path):
            p = plan(b, root)
            if isinstance(p, str):
                failures.append(f"{b.where()}: {p}")
                continue
            counts[p[0]] += 1
            planned.append((b, p))
        if not any(p[0] in ("run", "file") for _, p in planned):
            continue
        work = tempfile.mkdtemp(prefix="hloc-doc-")
        try:
            for name in ("testdata", "driver", "runtime", "python"):
                os.symlink(os.path.join(root, name), os.path.join(work, name))
            os.symlink(build, os.path.join(work, "build"))
            env = dict(os.environ, HOME=work,
                       PATH=os.path.join(build, "driver") + os.pathsep + os.environ["PATH"],
                       HLOC_LIBRARY=os.path.join(build, "driver", "libhloc.so"),
                       PYTHONPATH=os.path.join(root, "python"))
            preload = os.environ.get("HLOC_DOCS_PRELOAD")
            if preload:  # a sanitized libhloc in Python and in the examples' programs
                env.update(LD_PRELOAD=preload, ASAN_OPTIONS="detect_leaks=0")
            for b, p in planned:
                if p[0] == "file":
                    with open(os.path.join(work, p[1]), "w", encoding="utf-8") as f:
                        f.write(b.text + "\n")
            for b, p in planned:
                if p[0] == "run":
                    failures += run_block(b, p[1], p[2], work, env)
        finally:
            shutil.rmtree(work)
    for f in failures:
        print(f, file=sys.stderr)
    print(f"documentation blocks: {counts['run']} run, {counts['file']} files for them, "
          f"{counts['elsewhere']} run by other tests, {counts['skip']} not run; "
          f"{len(failures)} failed")
    return 1 if failures or counts["run"] == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
