# The claims table (issue #30): each paper's claims (landslides/claims.py) tested on the runs the studies already
# produced: effect, 95 % interval (paired two-way bootstrap over seeds and test chips/patches), verdict, seeds
# needed. A table job: it reads metrics.json and the predictions written beside them, and trains nothing.
# Included by report.smk after report_common.smk (REPORT_CATEGORIES, study_source) and claims_common.smk (helpers).


localrules:
    claims_table,


rule claims_table:
    input:
        runs=lambda wc: [path for paths in claims_runs().values() for path in paths],
    output:
        csv=f"{CLAIMS_TABLE}.csv",
        md=f"{CLAIMS_TABLE}.md",
        tex=f"{CLAIMS_TABLE}.tex",
        png=report(f"{CLAIMS_FIGURE}.png", caption="../report/claims_figure.rst",
                   category=REPORT_CATEGORIES["overview"], labels={"figure": "claims: forest plot"}),
        pdf=f"{CLAIMS_FIGURE}.pdf",
        html=report(CLAIMS_PAGE, caption="../report/claims.rst", category=REPORT_CATEGORIES["overview"],
                    labels={"table": "claims: verdicts"}),
    params:
        runs=lambda wc: claims_runs(),
        data_kinds=lambda wc: {study: claims_data_kind(study) for study in enabled_studies()},
        data_lines=lambda wc: {study: study_source(study) for study in enabled_studies()},
    log:
        "logs/report/claims.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/report_claims.py"
