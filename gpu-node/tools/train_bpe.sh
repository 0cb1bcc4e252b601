#!/usr/bin/env bash
# Train the SentencePiece BPE model that the random-weight model directories ship as bpe.model.
#
# The corpus is preprocessed the way IndexTTS2's TextTokenizer prepares text before encoding
# (indextts/utils/front.py + indextts/utils/common.py: tokenize_by_CJK_char): everything is
# upper-cased and every CJK character is surrounded by spaces, so Chinese costs about one token per
# character and the learned merges are (mostly) Latin-script. The node must apply the same
# preprocessing before calling the tokenizer.
#
# Ids: IndexTTS2 uses start_text_token = 0 and stop_text_token = 1, so <s> = 0, </s> = 1, <unk> = 2
# and no <pad>. Normalisation stays SentencePiece's default (nmt_nfkc).
#
# vocab_size 2000 rather than 1000: with ~800 distinct CJK characters in the corpus as required pieces, 1000
# leaves almost no merges (Chinese ~1.6 tokens per character, English ~2.7 per word); 2000 gives ~1.1 per
# character and ~1.6 per word, close to the real 12k-piece model, which keeps random-weight durations
# (manifest.semantic_tokens_per_text_token) realistic.
#
# Usage: gpu-node/tools/train_bpe.sh [OUT_PREFIX]   (default gpu-node/tools/corpus/bpe -> bpe.model, bpe.vocab)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
corpus="$here/corpus/bpe-corpus.txt"
prefix="${1:-$here/corpus/bpe}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

/usr/bin/python3 - "$corpus" "$tmp/prepared.txt" <<'PY'
import re, sys
# Same character class as IndexTTS's tokenize_by_CJK_char.
CJK = re.compile(r"([\u1100-\u11ff\u2e80-\ua4cf\ua840-\uD7AF\uF900-\uFAFF\uFE30-\uFE4F\uFF65-\uFFDC\U00020000-\U0002FFFF])")
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w", encoding="utf-8") as dst:
    for line in src:
        parts = [p.strip().upper() for p in CJK.split(line.strip()) if p.strip()]
        if parts:
            dst.write(" ".join(parts) + "\n")
PY

# num_threads=1, no sentence sampling and relative paths (the trainer spec, paths included, is stored
# inside bpe.model) keep the result byte-for-byte reproducible.
(cd "$tmp" && /usr/bin/spm_train \
  --input=prepared.txt \
  --model_prefix=bpe \
  --model_type=bpe \
  --vocab_size=2000 \
  --hard_vocab_limit=false \
  --character_coverage=0.9995 \
  --bos_id=0 --eos_id=1 --unk_id=2 --pad_id=-1 \
  --num_threads=1 \
  --minloglevel=1)

cp "$tmp/bpe.model" "$prefix.model"
cp "$tmp/bpe.vocab" "$prefix.vocab"
echo "wrote $prefix.model ($(wc -l < "$prefix.vocab") pieces)"
