# The reproduction report: tidy tables of every study, the published-vs-reproduced overview, the
# figures gathered under results/figures/, and the provenance of every number.
from pathlib import Path


localrules:
    study_table,
    overview_table,
    collect_figure,
    provenance,


wildcard_constraints:
    study="transfer|pretrain|ridgei|refine",


rule study_table:
    input:
        runs=lambda wc: STUDIES[wc.study]["runs"],
    output:
        csv=report(
            "results/tables/{study}.csv",
            caption="../report/study_table.rst",
            category="Tables",
        ),
        md="results/tables/{study}.md",
        tex="results/tables/{study}.tex",
    log:
        "logs/report/{study}_table.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/report_study_table.py"


rule overview_table:
    input:
        comparisons=lambda wc: [STUDIES[s]["comparison"] for s in enabled_studies()],
    output:
        csv=report("results/tables/overview.csv", caption="../report/overview.rst", category="Tables"),
        md="results/tables/overview.md",
        tex="results/tables/overview.tex",
    log:
        "logs/report/overview.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/report_overview.py"


rule collect_figure:
    input:
        png=lambda wc: STUDIES[wc.study]["figures"][wc.figure] + ".png",
        pdf=lambda wc: STUDIES[wc.study]["figures"][wc.figure] + ".pdf",
    output:
        png=report(
            "results/figures/{study}/{figure}.png",
            caption="../report/figure.rst",
            category="Figures",
            subcategory="{study}",
        ),
        pdf="results/figures/{study}/{figure}.pdf",
    params:
        # The caption of each figure is written in workflow/report/<study>_<figure>.rst.
        caption=lambda wc: Path(workflow.basedir, "workflow", "report", f"{wc.study}_{wc.figure}.rst").read_text(),
    log:
        "logs/report/{study}_{figure}.log",
    conda:
        "../../envs/report.yaml"
    shell:
        "cp {input.png} {output.png} && cp {input.pdf} {output.pdf} 2> {log}"


rule provenance:
    input:
        runs=lambda wc: [run for s in enabled_studies() for run in STUDIES[s]["runs"]],
        datasets=lambda wc: [path for s in enabled_studies() for path in STUDIES[s]["datasets"]],
    output:
        report("results/provenance.json", caption="../report/provenance.rst", category="Provenance"),
    params:
        config=config,
        sources=lambda wc: {path: source for s in enabled_studies() for path, source in STUDIES[s]["datasets"].items()},
        repo=workflow.basedir,
    log:
        "logs/report/provenance.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/report_provenance.py"
