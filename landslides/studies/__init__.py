"""The studies, one package each: landslides/studies/<study>/

- plan.py: the grid, the file names and the params each job reads (standard library only: Snakemake imports
  it to build the DAG, and a dry run must not import torch);
- train.py: the run functions the training jobs call (they call landslides.train.fit);
- tables.py and figures.py: the study's tables and figures from the runs' files;
- bench.py: the training setups landslides.benchmark measures, built with train.py's own functions.

Its rules are workflow/rules/<study>.smk (file names from plan.py), its config schema
workflow/schemas/studies/<study>.schema.yaml. STUDIES registers it: the Snakefile includes each study's
rules from it, and the report, the config checks and the benchmark iterate over it.
"""

import importlib

STUDIES = ("transfer", "pretrain", "ridgei", "refine")


def study_module(study: str, part: str):
    """landslides.studies.<study>.<part>: its plan, train, tables, figures or bench module."""
    return importlib.import_module(f"landslides.studies.{study}.{part}")
