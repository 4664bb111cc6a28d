#!/usr/bin/env bash
# GPU check on a lent machine: the CLI with --device cuda, the training tests, a GPU epoch.
# Needs the MNIST cache carried in .gpucache/ (the GPU machine cannot fetch the wheel).
set -uo pipefail
export PYTHONPATH=src NNDL_DATA=${NNDL_DATA:-.gpucache} OUT=${OUT:-/tmp/out}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
python3 -m nndl train --task mnist --arch dcnn --device cuda --epochs 5 --quiet --out "$OUT/dcnn_cuda" | tee "$OUT/dcnn_cuda.json"
python3 -m nndl train --task regression --device auto --epochs 50 --quiet --out "$OUT/reg_auto"
python3 -c "
from nndl.training import load_checkpoint
import json; c = json.load(open('$OUT/dcnn_cuda/config.json')); print('device used:', c['device'])
m = load_checkpoint('$OUT/dcnn_cuda/model.pt'); print('checkpoint loads on cpu:', next(m.model.parameters()).device)"
python3 -m pytest -q -p no:cacheprovider tests/test_training.py tests/test_models.py 2>&1 | tail -3
