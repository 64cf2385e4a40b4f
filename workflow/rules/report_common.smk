# Helpers of the report rules (workflow/rules/report.smk, which includes this file): the report's menu, the
# data-source line of each study, the runs the sanity pass checks, each study's table files, and the targets.
from pathlib import Path

from landslides.report import data_source_line


# The report's menu, in this order (sorted by name); the study modules name "3 Figures" themselves, as they are
# parsed before this file.
REPORT_CATEGORIES = {
    "overview": "1 Overview",
    "tables": "2 Tables",
    "figures": "3 Figures",
    "checks": "4 Sanity checks",
    "provenance": "5 Provenance",
}


def study_source(study):
    """'Data: SYNTHETIC ...' or 'Data: real ...' for the tables and figures of a study (a table rule's params)."""
    return data_source_line(study, STUDY_OUTPUTS[study]["datasets"])


def checked_runs():
    """Every training run the report rests on: the studies' runs and pretrain's stage-1 classifiers."""
    runs = [run for s in enabled_studies() for run in STUDY_OUTPUTS[s]["runs"]]
    if "pretrain" in enabled_studies():
        runs += list(rules.pretrain_table.input.stage1)
    return runs


def paper_table(study, ext):
    """The study's paper-shaped table file (`ext` csv or md): the first of its registered tables."""
    return next(path for path in STUDY_OUTPUTS[study]["tables"] if path.endswith(f".{ext}"))


def runs_tables(study):
    """The tidy per-run table of a study (rule study_table) as CSV, Markdown and LaTeX."""
    return [f"results/tables/{study}_runs.{ext}" for ext in ("csv", "md", "tex")]


def study_markdown(study):
    """A study's tables as Markdown: its paper-shaped ones, then the tidy one."""
    return [path for path in STUDY_OUTPUTS[study]["tables"] if path.endswith(".md")] + [runs_tables(study)[1]]


def study_downloads(study):
    """Every table file of a study, offered for download on its report page."""
    files = [path for path in STUDY_OUTPUTS[study]["tables"] if not path.endswith(".md")]
    files += [STUDY_OUTPUTS[study]["comparison"]]
    return files + runs_tables(study)


def report_targets():
    """Everything the report shows: the targets of rule all (Snakefile). Tables and
    pages, the sanity pass, the provenance, the opening page, and each study's figures (PNG and PDF) where
    the study writes them."""
    targets = ["results/tables/overview.md", "results/report/overview.html", "results/provenance.json",
               "results/report/checks.html", "results/report/introduction.rst"]
    for study in enabled_studies():
        targets += STUDY_OUTPUTS[study]["tables"] + [f"results/tables/{study}.{ext}" for ext in ("csv", "md")]
        targets += runs_tables(study) + [f"results/report/tables/{study}.html"]
        targets += [f"{stem}.{ext}" for stem in STUDY_OUTPUTS[study]["figures"].values() for ext in ("png", "pdf")]
    return targets + claims_targets()

