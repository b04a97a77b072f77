#!/usr/bin/env bash
# Times `ambient prepare` of the same folders with two builds, interleaved (A B A B ...), recording wall and CPU
# seconds (user + sys) of the whole process; the prepared files are left in OUT for compare_prepared.py.
#
#   bash bench/codecs/interleaved_prepare.sh OLD/ambient.dll NEW/ambient.dll /tmp/codecs-bench [ROUNDS]
set -euo pipefail
a=$1; b=$2; root=$3; rounds=${4:-4}
out="$root/out"
mkdir -p "$out"
for round in $(seq "$rounds"); do
  for kind in jpeg png; do
    for t in A B; do
      dll=$a; [[ $t == B ]] && dll=$b
      /usr/bin/time -f "%e %U %S" -o "$out/time.txt" env OPENBLAS_NUM_THREADS=1 dotnet "$dll" prepare "$root/$kind" \
        -r 64 --crop 140 -o "$out/$t-$kind.safetensors" >"$out/$t-$kind.log" 2>&1
      read -r wall user sys <"$out/time.txt"
      echo "$round $kind $t wall $wall cpu $(echo "$user + $sys" | bc) load $(cut -d' ' -f1 /proc/loadavg)"
    done
  done
done
