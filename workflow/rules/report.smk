# The reproduction report: each study's tables (paper-shaped and tidy) as report pages, the published-vs-
# reproduced overview, a sanity pass over every run, the provenance of every number, and the opening page.
# Figures are registered where the study rules write them (results/<study>/figures/), each once.
#
# snakemake --report results/report.html: the opening page is results/report/introduction.rst, written by
# rule report_introduction (config, data sources with checksums, code version, device, compute, flagged
# runs, the overview); before a run has written it, workflow/report/workflow.rst stands in.
from pathlib import Path

from landslides.report import data_source_line


localrules:
    study_table,
    overview_table,
    study_tables_page,
    sanity_checks,
    report_introduction,
    provenance,


wildcard_constraints:
    study="transfer|pretrain|ridgei|refine",


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
    return data_source_line(study, STUDIES[study]["datasets"])


def checked_runs():
    """Every training run the report rests on: the studies' runs and pretrain's stage-1 classifiers."""
    runs = [run for s in enabled_studies() for run in STUDIES[s]["runs"]]
    if "pretrain" in enabled_studies():
        runs += list(rules.pretrain_table.input.stage1)
    return runs


def study_markdown(study):
    """A study's tables as Markdown: its paper-shaped ones, then the tidy one."""
    return [path for path in STUDIES[study]["tables"] if path.endswith(".md")] + [f"results/tables/{study}.md"]


def study_downloads(study):
    """Every table file of a study, offered for download on its report page."""
    files = [path for path in STUDIES[study]["tables"] if not path.endswith(".md")]
    files += [STUDIES[study]["comparison"]]
    return files + [f"results/tables/{study}.{ext}" for ext in ("csv", "md", "tex")]


def report_targets():
    """Everything the report shows (replaces the first definition in common.smk): tables and pages, the sanity
    pass, the provenance, the opening page, and each study's figures (PNG and PDF) where the study writes them."""
    targets = ["results/tables/overview.md", "results/report/overview.html", "results/provenance.json",
               "results/report/checks.html", "results/report/introduction.rst"]
    for study in enabled_studies():
        targets += STUDIES[study]["tables"] + [f"results/tables/{study}.md", f"results/report/tables/{study}.html"]
        targets += [f"{stem}.{ext}" for stem in STUDIES[study]["figures"].values() for ext in ("png", "pdf")]
    return targets


rule study_table:
    input:
        runs=lambda wc: STUDIES[wc.study]["runs"],
    output:
        csv="results/tables/{study}.csv",
        md="results/tables/{study}.md",
        tex="results/tables/{study}.tex",
    params:
        source=lambda wc: study_source(wc.study),
    log:
        "logs/report/{study}_table.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/report_study_table.py"


rule study_tables_page:
    input:
        markdown=lambda wc: study_markdown(wc.study),
        downloads=lambda wc: study_downloads(wc.study),
    output:
        report(
            "results/report/tables/{study}.html",
            caption="../report/study_table.rst",
            category=REPORT_CATEGORIES["tables"],
            subcategory="{study}",
            labels={"study": "{study}", "table": "all tables"},
        ),
    log:
        "logs/report/{study}_tables_page.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/report_tables_page.py"


rule overview_table:
    input:
        comparisons=lambda wc: [STUDIES[s]["comparison"] for s in enabled_studies()],
    output:
        csv="results/tables/overview.csv",
        md="results/tables/overview.md",
        tex="results/tables/overview.tex",
        html=report("results/report/overview.html", caption="../report/overview.rst",
                    category=REPORT_CATEGORIES["overview"], labels={"table": "published vs reproduced"}),
    params:
        synthetic=lambda wc: any(source.get("source") == "synthetic"
                                 for s in enabled_studies() for source in STUDIES[s]["datasets"].values()),
    log:
        "logs/report/overview.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/report_overview.py"


rule sanity_checks:
    input:
        runs=lambda wc: checked_runs(),
        histories=lambda wc: [str(Path(run).with_name("history.csv")) for run in checked_runs()],
    output:
        csv="results/report/checks.csv",
        html=report("results/report/checks.html", caption="../report/checks.rst",
                    category=REPORT_CATEGORIES["checks"], labels={"table": "flagged runs"}),
    log:
        "logs/report/sanity_checks.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/report_checks.py"


rule provenance:
    input:
        runs=lambda wc: checked_runs(),
        datasets=lambda wc: [path for s in enabled_studies() for path in STUDIES[s]["datasets"]],
    output:
        report("results/provenance.json", caption="../report/provenance.rst",
               category=REPORT_CATEGORIES["provenance"], labels={"file": "provenance.json"}),
    params:
        config=config,
        sources=lambda wc: {path: dict(source, study=s) for s in enabled_studies()
                            for path, source in STUDIES[s]["datasets"].items()},
        repo=workflow.basedir,
    log:
        "logs/report/provenance.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/report_provenance.py"


rule report_introduction:
    input:
        provenance="results/provenance.json",
        overview="results/tables/overview.csv",
        checks="results/report/checks.csv",
    output:
        "results/report/introduction.rst",
    params:
        configfiles=[str(path) for path in workflow.configfiles],
    log:
        "logs/report/introduction.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/report_introduction.py"


# The opening page of `snakemake --report`: the run's own introduction once written, else the static one.
REPORT_INTRODUCTION = Path("results/report/introduction.rst")


report: str(REPORT_INTRODUCTION.resolve()) if REPORT_INTRODUCTION.exists() else "../report/workflow.rst"
