#!/usr/bin/env bash
# Rasa as a peer: train Rasa 3.6.21 on the same data/nlu as the built-in NLU, serve it on
# 127.0.0.1, and compare accuracy and latency on the held-out split (data/nlu/test).
# Writes the comparison into docs/benchmarks.md. Not part of `make test`.
#
#   scripts/rasa_compare.sh            # set up (first run: ~3 GB, a few minutes), train, compare
#   RASA_PORT=5006 scripts/rasa_compare.sh
#
# Needs Python 3.10 (Rasa 3.6 does not run on 3.11): PYTHON310, or pyenv's 3.10, or python3.10.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK="$ROOT/.rasa"
PORT="${RASA_PORT:-5005}"
VENV="$WORK/venv"

find_python310() {
  if [[ -n "${PYTHON310:-}" ]]; then echo "$PYTHON310"; return; fi
  if command -v pyenv >/dev/null 2>&1; then
    local version
    version=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.10\.' | sort -V | tail -1 || true)
    if [[ -n "$version" ]]; then echo "$(pyenv root)/versions/$version/bin/python"; return; fi
  fi
  command -v python3.10 || { echo "error: Python 3.10 not found (set PYTHON310)" >&2; exit 1; }
}

if [[ ! -x "$VENV/bin/rasa" ]]; then
  echo "== setting up Rasa 3.6.21 in $VENV (once)"
  "$(find_python310)" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q "rasa==3.6.21" jieba
fi
make -s install  # the project's own .venv, for the scoring

# Training takes about half an hour on two cores: skipped when the data and the pipeline are
# the ones the saved model was trained on.
# commands.yml is not training data: nlu.commands reads it whichever NLU runs, and its one-character
# words (要, 说, 请) would be features firing on nearly every message.
training=$(ls data/nlu/*.yml | grep -v '/commands\.yml$')
fingerprint=$(cat $training scripts/rasa/config.yml | sha256sum | cut -d' ' -f1)
if [[ -f "$WORK/models/guahao-nlu.tar.gz" && "$(cat "$WORK/models/trained-on" 2>/dev/null)" == "$fingerprint" ]]; then
  echo "== the Rasa model is up to date with data/nlu"
else
  echo "== training Rasa on data/nlu (the held-out data/nlu/test is left out)"
  rm -rf "$WORK/train" && mkdir -p "$WORK/train" "$WORK/models"
  cp $training "$WORK/train/"
  started=$(date +%s)
  "$VENV/bin/rasa" train nlu --config scripts/rasa/config.yml --nlu "$WORK/train" \
    --out "$WORK/models" --fixed-model-name guahao-nlu
  echo "$fingerprint" > "$WORK/models/trained-on"
  echo "   trained in $(( $(date +%s) - started )) s"
fi

echo "== serving it on 127.0.0.1:$PORT"
"$VENV/bin/rasa" run --enable-api -m "$WORK/models/guahao-nlu.tar.gz" -i 127.0.0.1 -p "$PORT" \
  >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 180); do
  if curl -sf "http://127.0.0.1:$PORT/status" | grep -q guahao-nlu; then break; fi
  if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "error: the Rasa server stopped; see $WORK/server.log" >&2; exit 1
  fi
  sleep 1
done

echo "== comparing on data/nlu/test"
.venv/bin/guahao nlu eval --rasa-url "http://127.0.0.1:$PORT" | head -40
.venv/bin/python bench/nlu.py --rasa-url "http://127.0.0.1:$PORT"
