# Landslide detection reproductions: four papers' experiment grids, tables and figures.
# `snakemake --cores all` runs the embedded default (config/config.yaml) on synthetic data.
from snakemake.utils import min_version

min_version("9.0")


# The embedded default, unless config files are given with --configfile: those then replace it instead of
# being merged into it, so that config/paper.yaml or a user's file never inherits CPU-sized settings.
if not workflow.overwrite_configfiles:

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
