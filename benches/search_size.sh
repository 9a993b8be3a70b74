#!/bin/sh
# Search on the 10,000-directive benchmark corpus: bytes a two-word query
# downloads (page, CSS, scripts and every index part, measured by the real
# client core under node), and the share of the build spent on the index.
#
#   benches/search_size.sh [WORKDIR]      (default: a temporary folder)
#
# Needs python3 (the corpus generator in /work/shared/bench or $GEN_CORPUS),
# node, and cargo. Uses CARGO_TARGET_DIR when set.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
gen=${GEN_CORPUS:-/work/shared/bench/gen_corpus.py}
runs=${RUNS:-3}
mkdir -p "$work"
if [ ! -d "$work/corpus/content" ]; then
  python3 "$gen" --count 10000 --seed 1 --out "$work/corpus/content" >/dev/null
fi
cd "$repo"
cargo build --release -q
# Copy the binary at once: a shared target folder may be rebuilt by others.
target=${CARGO_TARGET_DIR:-$repo/target}
cp "$target/release/banhanh" "$work/banhanh"

wall() { # [VAR=value] → seconds of wall time of one build into a fresh folder
  rm -rf "$work/site"
  s=$(date +%s.%N); env "$@" "$work/banhanh" build --root "$work/corpus" --out "$work/site" -q; e=$(date +%s.%N)
  echo "$e - $s" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== build time of the 10k corpus, $runs runs each, alternating"
: > "$work/t-new"; : > "$work/t-base"
for i in $(seq 1 "$runs"); do
  # The same build without the index (benchmarks only), for its share.
  wall BANHANH_BENCH_NO_SEARCH_INDEX=1 >> "$work/t-base" 2>/dev/null
  wall >> "$work/t-new"
done
new=$(median < "$work/t-new")
base=$(median < "$work/t-base")
echo "with search index:    median $new s ($(tr '\n' ' ' < "$work/t-new"))"
echo "without:              median $base s ($(tr '\n' ' ' < "$work/t-base"))"
echo "index share: +$(echo "scale=1; ($new - $base) * 100 / $base" | bc) % of the build"
rm -rf "$work/site"
BANHANH_TIMINGS=1 "$work/banhanh" build --root "$work/corpus" --out "$work/site" 2>&1 | grep -E "search|^built"

echo "== bytes per query (10k corpus)"
node "$repo/benches/search_size.mjs" "$work/site" \
  "tham nhung" "tuyen truyen" "chuyen doi" "dai hoi" "kinh te" "xay dung" \
  "bao chi" "cai cach" "phong chong" "thi dua" "chuyển đổi" "tham nhũng" "8371 cv"
echo "== index on disk"
for d in s k b; do
  printf '%s: %s files, %s bytes\n' "$d" "$(find "$work/site/search/$d" -type f | wc -l)" \
    "$(find "$work/site/search/$d" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')"
done
ls -l "$work/site/search/meta.gz" "$work/site/search/facets.gz" | awk '{print $NF": "$5" bytes"}'
