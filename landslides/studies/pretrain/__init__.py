"""The `pretrain` study (Boehm et al.): stage-1 "any landslide in this chip?" pretraining, then stage-2
segmentation from sparse labels with and without the frozen stage-1 embeddings.

Stage 1 and stage 2 both respect the chip partition of `landslides.sar.selection.chip_partition`, so a
stage-2 test chip is never seen in stage 1 either.

plan.py: the grid, file names and the params each job reads (standard library only); train.py: the runs;
tables.py and figures.py: the aggregation; bench.py: the setups the benchmark measures.
"""
