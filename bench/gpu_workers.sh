#!/usr/bin/env bash
# Many trials on one GPU (issue 15), for a lent GPU machine: completed MNIST search trials per
# minute with 1, 4 and 8 workers on one device, then the report's budget end to end.
#   bash bench/gpu_workers.sh                         # on the GPU machine (DEVICE=cuda)
#   PYTHON=.venv/bin/python DEVICE=cpu WORKERS="1 2" TRIALS=2 ROWS=2000 EPOCHS=1 END_TO_END=0 \
#     bash bench/gpu_workers.sh                       # a smoke run on a CPU
# Carry .gpucache/ as for bench/gpu_check.sh. Prints one line per worker count, then the
# whole study's wall seconds (timeout END_TO_END_S, default 840 s).
set -uo pipefail
export PYTHONPATH=${PYTHONPATH:-src} NNDL_DATA=${NNDL_DATA:-.gpucache} OUT=${OUT:-/tmp/out}
PY=${PYTHON:-python3} DEVICE=${DEVICE:-cuda} TRIALS=${TRIALS:-16} ROWS=${ROWS:-60000} EPOCHS=${EPOCHS:-3}
mkdir -p "$OUT"
for n in ${WORKERS:-1 4 8}; do
  rm -rf "$OUT/workers$n"  # a fresh study each time: a rerun must not resume the last one
  start=$(date +%s.%N)
  "$PY" -m nndl classify search --budget report --device "$DEVICE" --workers "$n" \
    --trials "$TRIALS" --max-trials "$TRIALS" --max-epochs "$EPOCHS" --train-rows "$ROWS" \
    --pruner none --quiet --out "$OUT/workers$n" > "$OUT/workers$n.json" || exit 1
  end=$(date +%s.%N)
  "$PY" - "$n" "$start" "$end" "$OUT/workers$n.json" <<'PY'
import json, sys
n, start, end, path = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
summary = json.loads(open(path).read())
minutes = (float(end) - float(start)) / 60
print(f"workers {n}: {summary['completed']} completed in {minutes * 60:.1f} s wall, "
      f"{summary['completed'] / minutes:.2f} completed trials/min")
PY
done
if [ "${END_TO_END:-1}" = 1 ]; then
  start=$(date +%s)
  rm -rf "$OUT/report_budget"
  timeout "${END_TO_END_S:-840}" "$PY" -m nndl reproduce --budget report --device "$DEVICE" \
    --quiet --out "$OUT/report_budget" | cut -c1-600
  rc=${PIPESTATUS[0]}
  echo "reproduce --budget report on $DEVICE: exit $rc, $(( $(date +%s) - start )) s wall"
fi
