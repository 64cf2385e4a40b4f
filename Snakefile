# Landslide detection reproductions: four papers' experiment grids, tables and figures.
# `snakemake --cores all` runs the embedded default (config/config.yaml) on synthetic data.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/transfer.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/ridgei.smk"
include: "workflow/rules/refine.smk"
include: "workflow/rules/report.smk"


localrules:
    all,


rule all:
    input:
        all_targets(),
    default_target: True
