#!/usr/bin/env python3
"""Runs the examples of README.md and docs/*.md, so that they cannot drift.

A fenced block is an example when the line before its opening fence is
`<!-- doc-test -->`.  Two kinds:

- a `sh` block is a script: it runs with bash (-e -u -o pipefail) and must
  exit 0;
- any other block is a transcript: lines starting with `$ ` are commands
  (a trailing backslash continues one), the lines after a command up to the
  next are its expected output, compared exactly (a command with no lines
  after it must only succeed).

Every example runs in a fresh temporary directory that holds `testdata` and
`build` (links to the tree's testdata and to BUILD_DIR), with BUILD_DIR's
hloc first on PATH, so examples written for the source root work unchanged
and write nowhere else.

    tests/docs_examples.py BUILD_DIR    (from the source root; ctest runs it)
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

MARK = "<!-- doc-test -->"


def examples(path):
    """(line, language, text) of each marked block of a Markdown file."""
    lines = open(path, encoding="utf-8").read().split("\n")
    found = []
    for i, line in enumerate(lines):
        if line.strip() != MARK:
            continue
        fence = lines[i + 1] if i + 1 < len(lines) else ""
        m = re.match(r"^```(\w*)\s*$", fence)
        if not m:
            raise SystemExit(f"{path}:{i + 1}: {MARK} is not followed by a fenced block")
        end = i + 2
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        if end == len(lines):
            raise SystemExit(f"{path}:{i + 2}: the block never closes")
        found.append((i + 3, m.group(1), "\n".join(lines[i + 2:end])))
    return found


def transcript(text):
    """(command, expected output) pairs of a transcript block."""
    pairs, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            raise SystemExit(f"transcript line is neither a command nor output: {lines[i]!r}")
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


def main():
    build = os.path.realpath(sys.argv[1])
    root = os.getcwd()
    env = dict(os.environ, PATH=os.path.join(build, "driver") + os.pathsep + os.environ["PATH"])
    files = ["README.md"] + sorted(glob.glob("docs/*.md"))
    failures, count = [], 0
    for path in files:
        for line, lang, text in examples(path):
            count += 1
            work = tempfile.mkdtemp(prefix="hloc-doc-")
            try:
                os.symlink(os.path.join(root, "testdata"), os.path.join(work, "testdata"))
                os.symlink(build, os.path.join(work, "build"))
                if lang == "sh":
                    r = subprocess.run(["bash", "-euo", "pipefail", "-c", text], cwd=work,
                                       env=env, capture_output=True, text=True)
                    if r.returncode:
                        failures.append(f"{path}:{line}: exit {r.returncode}\n"
                                        f"{r.stdout}{r.stderr}")
                    continue
                for cmd, want in transcript(text):
                    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=work, env=env,
                                       capture_output=True, text=True)
                    got = (r.stdout + r.stderr).rstrip("\n")
                    if r.returncode or (want and got != want.rstrip("\n")):
                        failures.append(f"{path}:{line}: $ {cmd}\n  exit {r.returncode}\n"
                                        f"  expected:\n{want}\n  got:\n{got}")
            finally:
                shutil.rmtree(work)
    for f in failures:
        print(f, file=sys.stderr)
    print(f"{count} documentation examples, {len(failures)} failed")
    return 1 if failures or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
