"""The `refine` study (Zhao et al.): progressive label refinement on Landslide4Sense.

Round 0 is the ablation ladder, each entry one source-only training run (baseline with joint
normalization and cross-entropy; +separated normalization; +SLO loss; scale promotion; other networks).
The round-0 ensemble averages the probabilities of the configured ensemble members. Round r >= 1
retrains those members on the train patches plus the target (val/test) images, labelled with round
r-1's ensemble pseudo-labels; target labels are never used for training, only to score every run, and
with `training.selection: best` (the CPU default; paper.yaml keeps the last epoch, as the paper's fixed
schedule does) to select each run's epoch on val. Metrics: precision, recall, F1 and IoU of the landslide class from
pixel counts summed over a whole split.

plan.py: the grid, file names and the params each job reads (standard library only); train.py: the runs;
tables.py and figures.py: the aggregation; bench.py: the setups the benchmark measures.
"""
