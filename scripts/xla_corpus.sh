#!/bin/bash
# Runs hloc over the HLO modules extracted from XLA's repository
# (../shared/xla-hlo-corpus, or $XLA_CORPUS): every module is parsed and
# verified (hloc dump --O0); a module whose entry takes only arrays of
# float, complex or integer types (narrow ones as ml_dtypes saves them) is
# also run compiled (after the pass pipeline) and by the interpreter on
# the module as written (--interpret --O0, so that the passes are checked
# too), on generated inputs, and the two results compared.  A run stops
# itself after 50 s (hloc run --timeout: an error naming the instruction
# it was at, as for a loop that never ends); a command that runs past its
# time limit anyway (60 s, 120 s for a compile and run) counts as hung,
# one that dies of a signal as crashed.  Prints the counts and
# the most frequent first error messages (numbers and names masked).
# "parses" counts the modules the parser reads (an error at FILE:LINE:COL
# is a parse error); "parses + verifies" those hlo_verify accepts too,
# whose refusals name the instruction instead ("FILE: verifier: ...").
# --results FILE keeps each module's line (OK/FAIL/RUN name message).
# $HLOC_RUN_FLAGS are added to the compiled runs ("--device cuda":
# scripts/gpu-check.sh).
# Exits 0 when the corpus is absent.
#
#   scripts/xla_corpus.sh [-j N] [--no-run] [--results FILE]
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=${XLA_CORPUS:-$root/../shared/xla-hlo-corpus}
hloc=${HLOC:-$root/build/driver/hloc}
jobs=2
run=1
results=
while [ $# -gt 0 ]; do
  case $1 in
    -j) jobs=$2; shift 2 ;;
    --no-run) run=0; shift ;;
    --results) results=$2; shift 2 ;;
    *) echo "usage: $0 [-j N] [--no-run] [--results FILE]" >&2; exit 2 ;;
  esac
done
if [ ! -d "$corpus" ]; then
  echo "xla_corpus: no corpus at $corpus: nothing to do"
  exit 0
fi
if [ ! -x "$hloc" ]; then
  echo "xla_corpus: no $hloc: build first, or set HLOC" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One module: "OK name", "FAIL name message", then for runnable modules
# "RUN name same|differs|empty|error message"; a message is "hung: ..." or
# "crashed: ..." when the command timed out or died of a signal.
one() {
  f=$1 hloc=$2 run=$3 work=$4
  name=$(basename "$f")
  d=$work/$name.d
  mkdir -p "$d"
  # The first line of what a command printed, or how it ended abnormally.
  first() {
    case $1 in
      124) echo "hung: no result after $2 s" ;;
      13[0-9]|1[4-9][0-9]) echo "crashed: signal $(($1 - 128)): $(printf '%s' "$3" | head -1)" ;;
      *) printf '%s' "$3" | head -1 ;;
    esac
  }
  msg=$(timeout 60 "$hloc" dump "$f" --O0 --stage hlo -o "$d/m.hlo" 2>&1)
  rc=$?
  if [ $rc != 0 ]; then
    echo "FAIL $name $(first $rc 60 "$msg")"
    rm -rf "$d"
    return
  fi
  echo "OK $name"
  if [ "$run" = 1 ] && python3 - "$d" <<'PY'
import re, struct, sys
d = sys.argv[1]
text = open(d + '/m.hlo').read()
m = re.search(r'^ENTRY \S+ \((.*)\) -> ', text, re.M)
if not m:
    sys.exit(1)
codes = {'f32': ('<f4', 'f'), 'f64': ('<f8', 'd'), 's32': ('<i4', 'i'), 's64': ('<i8', 'q'),
         'u32': ('<u4', 'I'), 's8': ('|i1', 'b'), 'u8': ('|u1', 'B'), 'pred': ('|b1', 'B'),
         'f16': ('<f2', 'e'), 'bf16': ('<V2', 'H'), 's16': ('<i2', 'h'), 'u16': ('<u2', 'H'),
         'u64': ('<u8', 'Q'), 'c64': ('<c8', 'f'), 'c128': ('<c16', 'd')}
# ml_dtypes' narrow types, saved by NumPy as '|V1': one byte, the value's
# bits in its low bits; f8/f4 values are bit patterns that are never inf
# or NaN (sign, then an exponent whose top bit is 0; e8m0fnu below 0xff).
narrow = {'s4': 4, 'u4': 4, 's2': 2, 'u2': 2}
small_floats = ('f8e4m3fn', 'f8e5m2', 'f8e4m3fnuz', 'f8e5m2fnuz', 'f8e4m3b11fnuz', 'f8e4m3',
                'f8e3m4', 'f8e8m0fnu', 'f4e2m1fn')
for t in list(narrow) + list(small_floats):
    codes[t] = ('|V1', 'B')
# Each parameter is "name: type[dims]{layout}"; the dims hold commas, so
# the list is read one whole parameter at a time.  A tuple or token does
# not match, and the module is not run.  A bounded dynamic dimension <=N
# gets size N - 1 (N when that is 0), so that the compiled code sees padding.
plist = m.group(1)
params = []
while plist:
    t = re.match(r'\s*[\w.-]+: (\w+)\[([\d,<=]*)\](?:\{[^{}]*\})?\s*(?:,|$)', plist)
    if not t or t.group(1) not in codes:
        sys.exit(1)
    params.append(t)
    plist = plist[t.end():]
for k, t in enumerate(params):
    dims = [int(x) if x[0] != '<' else max(int(x[2:]) - 1, 0) for x in t.group(2).split(',')] \
        if t.group(2) else []
    n = 1
    for x in dims:
        n *= x
    if n > 1 << 20:
        sys.exit(1)
    descr, fmt = codes[t.group(1)]
    ty = t.group(1)
    vals = [((i * 7 + k) % 11) - 5 for i in range(n)]
    if not dims and ty in ('s32', 's64'):
        # A signed scalar is most often a size, a count or an index: 1-3,
        # not a negative size that set-dimension-size must refuse.
        vals = [k % 3 + 1]
    if ty == 'pred' or ty.startswith('u'):
        vals = [abs(v) % 2 if ty == 'pred' else abs(v) for v in vals]
    if ty in narrow:
        w = narrow[ty]
        vals = [(v if ty[0] == 's' and w == 4 else v % 4 - 2 if ty[0] == 's' else v % 4)
                & ((1 << w) - 1) for v in vals]
    elif ty == 'f4e2m1fn':
        vals = [(i * 5 + k) % 16 for i in range(n)]
    elif ty in small_floats:
        vals = [((i * 37 + k * 11) % 63 + 1) | (0x80 if i % 3 == 1 and ty != 'f8e8m0fnu' else 0)
                for i in range(n)]
    elif ty in ('c64', 'c128'):
        # (re, im) pairs, as NumPy stores them
        vals = [p for v in vals for p in (v, ((v * 3 + 2) % 7) - 3)]
    elif ty == 'bf16':
        vals = [struct.unpack('<I', struct.pack('<f', v))[0] >> 16 for v in vals]
    shape = '(%s)' % (''.join('%d,' % x for x in dims) if len(dims) == 1 else ', '.join(map(str, dims)))
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    hdr += ' ' * ((64 - (10 + len(hdr) + 1) % 64) % 64) + '\n'
    with open('%s/in%d.npy' % (d, k), 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(hdr)) + hdr.encode())
        f.write(struct.pack('<%d%s' % (len(vals), fmt), *vals))
open(d + '/args', 'w').write(' '.join('--input %s/in%d.npy' % (d, k) for k in range(len(params))))
PY
  then
    args=$(cat "$d/args")
    mkdir -p "$d/i" "$d/c"
    # shellcheck disable=SC2086
    msg=$(timeout 60 "$hloc" run "$f" $args --interpret --O0 --max-iterations 100000 \
            --timeout 50 --output-dir "$d/i" 2>&1)
    rc=$?
    if [ $rc != 0 ]; then
      echo "RUN $name error interpret: $(first $rc 60 "$msg")"
    elif ! ls "$d"/i/*.npy > /dev/null 2>&1; then
      echo "RUN $name empty"  # results of empty tuples only: nothing to compare
    else
      msg=$(timeout 120 "$hloc" run "$f" $args ${HLOC_RUN_FLAGS:-} --timeout 50 --output-dir "$d/c" \
              $(for o in $(ls -v "$d"/i/*.npy); do printf -- '--expect %s ' "$o"; done) \
              --atol 1e-4 --rtol 1e-3 2>&1)
      rc=$?
      if [ $rc = 0 ]; then
        echo "RUN $name same"
      elif [ $rc -ge 124 ]; then
        echo "RUN $name error compile: $(first $rc 120 "$msg")"
      else
        case $msg in
          *differ*|*mismatch*|*expect*) echo "RUN $name differs $(printf '%s' "$msg" | head -1)" ;;
          *) echo "RUN $name error compile: $(printf '%s' "$msg" | head -1)" ;;
        esac
      fi
    fi
  fi
  rm -rf "$d"
}
export -f one

ls "$corpus"/*.hlo | xargs -P "$jobs" -I{} bash -c 'one "$1" "$2" "$3" "$4"' _ {} "$hloc" "$run" "$work" \
  > "$work/results.txt"
r=$work/results.txt
[ -n "$results" ] && sort "$r" > "$results"
total=$(grep -c '^OK \|^FAIL ' "$r")
ok=$(grep -c '^OK ' "$r")
unverified=$(grep -c '^FAIL [^ ]* \(hloc: error: \)\?[^ :]*: verifier: ' "$r")
pct() { awk "BEGIN{printf \"%.1f\", 100*$1/($total?$total:1)}"; }
echo "parses: $((ok + unverified)) of $total modules ($(pct $((ok + unverified)))%)"
echo "parses + verifies: $ok of $total modules ($(pct "$ok")%)"
echo "hung: $(grep -c '^[A-Z]* [^ ]* \(error [a-z]*: \)\?hung: ' "$r"), crashed:" \
     "$(grep -c '^[A-Z]* [^ ]* \(error [a-z]*: \)\?crashed: ' "$r")"
if [ "$run" = 1 ]; then
  echo "run (entry of arrays): $(grep -c '^RUN ' "$r") run, $(grep -c '^RUN [^ ]* same' "$r") same," \
       "$(grep -c '^RUN [^ ]* differs' "$r") differ, $(grep -c '^RUN [^ ]* error' "$r") errors," \
       "$(grep -c '^RUN [^ ]* empty' "$r") without an array result"
fi
echo "most frequent first errors:"
grep '^FAIL ' "$r" | sed -E 's/^FAIL [^ ]+ //; s/^hloc: error: //; s/^[^ :]+:[0-9]+:[0-9]+: //;
  s/^[^ ]+\.hlo: //; s/instruction %[^ ]+ = [^%]* ([a-z-]+)\((%[^()]*)?\): ([a-z-]+: )?/instruction \1: /' |
  sed -E "s/'[^']*'/'_'/g; s/[0-9]+/N/g" | sort | uniq -c | sort -rn | head -${TOP:-20}
if [ "$run" = 1 ] && grep -q '^RUN [^ ]* \(differs\|error\)' "$r"; then
  echo "runs that failed:"
  grep '^RUN [^ ]* \(differs\|error\)' "$r" | head -${TOP:-20}
fi
exit 0
