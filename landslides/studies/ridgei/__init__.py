"""The `ridgei` study (Kimura, Ridge-i): on one labelled optical scene split train:test 0.5:0.5, compare
a patch classifier (ResNet50), DeepLabV3+ segmentation and unsupervised denoising-U-Net anomaly detection.

The scene (or a folder of tiles) becomes three lists of areas: train, a validation strip carved from
the train half (model selection, anomaly threshold) and test. Every method cuts its own patches from
them, trains with the shared loop, and writes metrics, model, history and test-half maps.

plan.py: the grid, file names and the params each job reads (standard library only); train.py: the runs;
tables.py and figures.py: the aggregation; bench.py: the setups the benchmark measures.
"""
