#!/usr/bin/env bash
# GPU check on a lent machine: every path with --device cuda, in one short run.
# Carry .gpucache/ (MNIST cache: the GPU machine cannot fetch the wheel) and .gpuwheels/
# (optuna and its pure-Python dependencies for the machine's Python, if it lacks them).
set -uo pipefail
export PYTHONPATH=src NNDL_DATA=${NNDL_DATA:-.gpucache} OUT=${OUT:-/tmp/out}
if [ -d .gpuwheels ] && ! python3 -c "import optuna" 2>/dev/null; then
  python3 -m pip install -q --no-deps --target /tmp/pylib .gpuwheels/optuna-* .gpuwheels/alembic-* \
    .gpuwheels/colorlog-* .gpuwheels/mako-* .gpuwheels/sqlalchemy-* 2>&1 | tail -1
  export PYTHONPATH=src:/tmp/pylib
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
python3 -m nndl train --task mnist --arch dcnn --device cuda --epochs 3 --quiet --out "$OUT/dcnn_cuda"
python3 -m nndl classify train --arch pdcnn --device cuda --epochs 3 --quiet --out "$OUT/pdcnn_cuda"
python3 - <<'PY'
import torch
from nndl.data.tensors import TensorData
from nndl.models import FCNConfig, build_model
from nndl.training import KFoldCrossValidator, TrainConfig
from nndl.training.batched_kfold import BatchedKFoldCrossValidator
from nndl.data.perlin import PerlinNoise
g = torch.Generator().manual_seed(0)
x = torch.rand(53, 1, generator=g) * 8 - 4
data = TensorData(x, torch.sin(x))
cfg = FCNConfig(1, (16, 16), "tanh", (0.0, 0.0), 1)
tc = TrainConfig(loss="mse", lr=5e-3, batch_size=7, max_epochs=25, patience=3, seed=5, device="cuda")
b = sorted(BatchedKFoldCrossValidator(cfg, tc).run(data).folds, key=lambda f: f.fold)
s = KFoldCrossValidator(lambda: build_model(cfg), tc).run(data).folds
print("cuda batched vs sequential epochs", [f.epochs for f in b], [f.epochs for f in s])
print("max val loss diff", max(abs(p.val_loss - q.val_loss) for p, q in zip(b, s)))
noise = PerlinNoise(seed=0, device="cuda")
print("perlin cuda", noise.sample(4).device, noise.windows(23).shape, float(noise.windows(5).mean()))
PY
python3 -m nndl regression search --quick --trials 2 --device cuda --quiet --out "$OUT/rs" | cut -c1-200
python3 -m nndl classify search --device cuda --trials 3 --train-rows 6000 --max-epochs 6 --quiet --out "$OUT/cs" | cut -c1-300
python3 -m nndl reproduce --quick --device cuda --quiet --out "$OUT/repro" | cut -c1-400
ls "$OUT/repro"
