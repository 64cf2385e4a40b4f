# The reproduction report: each study's tables (paper-shaped, also copied to results/tables/<study>.*, and the
# tidy per-run one, results/tables/<study>_runs.*) as report pages, the published-vs-
# reproduced overview, a sanity pass over every run, the provenance of every number, and the opening page.
# Figures are registered where the study rules write them (results/<study>/figures/), each once.
#
# snakemake --report results/report.html: the opening page is results/report/introduction.rst, written by
# rule report_introduction (config, data sources with checksums, code version, device, compute, flagged
# runs, the overview); before a run has written it, workflow/report/workflow.rst stands in.
from pathlib import Path


include: "report_common.smk"
include: "claims_common.smk"
include: "claims.smk"


localrules:
    paper_table,
    study_table,
    overview_table,
    study_tables_page,
    sanity_checks,
    report_introduction,
    provenance,


wildcard_constraints:
    study="|".join(STUDIES),


# results/tables/<study>.{csv,md}: the study's paper-shaped table, beside the overview, where a reader looks first.
rule paper_table:
    input:
        csv=lambda wc: paper_table(wc.study, "csv"),
        md=lambda wc: paper_table(wc.study, "md"),
    output:
        csv="results/tables/{study}.csv",
        md="results/tables/{study}.md",
    log:
        "logs/report/{study}_paper_table.log",
    conda:
        "../../envs/report.yaml"
    shell:
        "(cp {input.csv} {output.csv} && cp {input.md} {output.md}) > {log} 2>&1"


# results/tables/<study>_runs.*: the tidy table, one row per grid cell, split and metric.
rule study_table:
    input:
        runs=lambda wc: STUDY_OUTPUTS[wc.study]["runs"],
    output:
        csv="results/tables/{study}_runs.csv",
        md="results/tables/{study}_runs.md",
        tex="results/tables/{study}_runs.tex",
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
        comparisons=lambda wc: [STUDY_OUTPUTS[s]["comparison"] for s in enabled_studies()],
    output:
        csv="results/tables/overview.csv",
        md="results/tables/overview.md",
        tex="results/tables/overview.tex",
        html=report("results/report/overview.html", caption="../report/overview.rst",
                    category=REPORT_CATEGORIES["overview"], labels={"table": "published vs reproduced"}),
    params:
        synthetic=lambda wc: any(source.get("source") == "synthetic"
                                 for s in enabled_studies() for source in STUDY_OUTPUTS[s]["datasets"].values()),
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
        datasets=lambda wc: [path for s in enabled_studies() for path in STUDY_OUTPUTS[s]["datasets"]],
    output:
        report("results/provenance.json", caption="../report/provenance.rst",
               category=REPORT_CATEGORIES["provenance"], labels={"file": "provenance.json"}),
    params:
        config=config,
        sources=lambda wc: {path: dict(source, study=s) for s in enabled_studies()
                            for path, source in STUDY_OUTPUTS[s]["datasets"].items()},
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
        claims=f"{CLAIMS_TABLE}.csv",
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
