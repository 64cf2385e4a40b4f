#!/usr/bin/env bash
# Issue #14's GPU measurements (docs/benchmarks.md, "For a GPU session"), one stage or several per call,
# each stage's table in OUTDIR/<stage>.md and its warnings in OUTDIR/<stage>.log:
#
#   scripts/gpu_benchmarks.sh OUTDIR STAGE...
#
#   paper     every setup of config/paper.yaml: loop/bare, TFLOP/s, peak memory, gpu_share, and the
#             projected wall time of the whole paper grid (--project)
#   compile   the same setups with training.compile: true (the first step's column is the compile time)
#   autotune  refine's setups with compile mode max-autotune-no-cudagraphs
#   pack      1, 2 and 3 processes of one setup (PACK_SETUP, default refine/resnet/x1) on the GPU at once:
#             the aggregate loop rate against one process alone, what gpu_share packing buys
#
# BENCH_ARGS is added to every benchmark call, e.g. BENCH_ARGS="--device cpu --tiny" checks the script
# on a machine without a GPU (the figures then measure nothing real).
set -euo pipefail
out=${1:?usage: scripts/gpu_benchmarks.sh OUTDIR STAGE... (paper compile autotune pack)}
shift
[ $# -gt 0 ] || { echo "no stage named: paper compile autotune pack" >&2; exit 2; }
mkdir -p "$out"
read -r -a extra <<< "${BENCH_ARGS:---device cuda}"
pack_setup=${PACK_SETUP:-refine/resnet/x1}

bench() {  # bench STAGE ARGS...: one benchmark run, its table appended to STAGE.md
    local stage=$1
    shift
    python -m landslides.benchmark --config config/paper.yaml "${extra[@]}" "$@" \
        >> "$out/$stage.md" 2>> "$out/$stage.log"
}

# The figures need their context: device, driver, torch and commit (docs/benchmarks.md asks for them).
{
    date -u +%Y-%m-%dT%H:%MZ
    git rev-parse --short HEAD 2>/dev/null || true
    python -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
} > "$out/context.txt"

for stage in "$@"; do
    echo "== $stage ($(date -u +%H:%M:%S))" >&2
    case $stage in
        paper) bench paper --project ;;
        compile) bench compile --compile true ;;
        autotune) bench autotune --compile max-autotune-no-cudagraphs --only 'refine/*' ;;
        pack)
            for n in 1 2 3; do
                echo "# $n process(es) of $pack_setup at once" >> "$out/pack.md"
                for i in $(seq "$n"); do
                    bench "pack-$n-$i" --only "$pack_setup" --repeats 3 &
                done
                wait
                for i in $(seq "$n"); do  # one file per process, then one file per stage
                    cat "$out/pack-$n-$i.md" >> "$out/pack.md" && rm "$out/pack-$n-$i.md"
                    cat "$out/pack-$n-$i.log" >> "$out/pack.log" && rm "$out/pack-$n-$i.log"
                done
                # The rows' 7th '|' field is "loop samples/s (min-max)": the sum of the medians is the GPU's.
                awk -F'|' -v n="$n" -v setup="$pack_setup" -v part="$out/pack.md" '
                    $2 ~ "^ " setup " $" && n_seen < n { split($7, f, " "); sum += f[1]; n_seen++ }
                    END { printf "aggregate loop samples/s of %d process(es) at once: %.2f\n\n", n, sum >> part }
                ' <(awk -v n="$n" '/^# [0-9]+ process/ { on = ($2 == n) } on' "$out/pack.md")
            done
            ;;
        *) echo "unknown stage $stage: paper compile autotune pack" >&2; exit 2 ;;
    esac
done
