# Landslide detection reproductions: four papers' experiment grids, tables and figures.
# `snakemake --cores all` runs the embedded default (config/config.yaml) on synthetic data.
import sys
import time
from pathlib import Path

from snakemake.utils import min_version

from landslides.config import read_config_file
from landslides.errors import InputError
from landslides.studies import STUDIES
from landslides.warnings_summary import print_summary

# Logs modified from now on belong to this run's jobs (the summary printed at the end of the run).
RUN_STARTED = time.time()

min_version("9.0")


# The embedded default, unless config files are given with --configfile: those then replace it instead of
# being merged into it, so that config/paper.yaml or a user's file never inherits CPU-sized settings.
# Found next to this Snakefile also when --directory runs the workflow elsewhere; read once here first so
# that a broken file is named with its line (Snakemake's own reader names neither).
if not workflow.overwrite_configfiles:
    DEFAULT_CONFIG = str(Path(workflow.basedir) / "config" / "config.yaml")
    try:
        read_config_file(DEFAULT_CONFIG)
    except InputError as err:
        sys.exit(f"config error: {err}")

    configfile: DEFAULT_CONFIG


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/weights.smk"


# Each registered study's rules (landslides.studies.STUDIES), in that order; the report's rules after them.
for study_name in STUDIES:

    include: f"workflow/rules/{study_name}.smk"


include: "workflow/rules/report.smk"

# Resources given on the command line that would cost the training jobs their GPU cap or request
# (common.smk::resource_problem): one line, before any job.
RESOURCE_PROBLEM = resource_problem()
if RESOURCE_PROBLEM:
    sys.exit(f"resource error: {RESOURCE_PROBLEM}")


localrules:
    all,


rule all:
    input:
        report_targets(),
    default_target: True


# Jobs write their warnings (a scene without CRS, an unsorted datacube, ...) to their logs only; at the end
# of the run every WARNING line logged by this run's jobs is printed with its log, so that the person at
# the terminal sees it (landslides/warnings_summary.py).
onsuccess:
    print_summary("logs", RUN_STARTED)


onerror:
    print_summary("logs", RUN_STARTED)
