"""The `transfer` study (Prapas et al.): SAR vs SAR+DEM, with and without SAR augmentation,
trained and validated in one region and tested in another; pixel AUPRC.

plan.py: the grid, file names and the params each job reads (standard library only); train.py: the runs;
tables.py and figures.py: the aggregation; bench.py: the setups the benchmark measures.
"""
