# Helpers of the claims table job (workflow/rules/claims.smk): its file names, the runs it reads, each study's data kind
# and the targets report_targets() adds.

CLAIMS_TABLE = "results/tables/claims"
# Beside its report page: results/figures/ is not a folder of this workflow (each study keeps its own figures).
CLAIMS_FIGURE = "results/report/claims"
CLAIMS_PAGE = "results/report/claims.html"


def claims_runs():
    """study -> the metrics.json files its claims read: its runs, and refine's round ensembles."""
    runs = {study: list(STUDY_OUTPUTS[study]["runs"]) for study in enabled_studies()}
    if "refine" in runs:
        runs["refine"] += refine_plan.round_files(REFINE, "metrics.json")
    return runs


def claims_data_kind(study):
    """synthetic, twin (the synthetic generators at the real data's scale, config/twin.yaml) or real."""
    synthetic = [source.get("source") == "synthetic" for source in STUDY_OUTPUTS[study]["datasets"].values()]
    if synthetic and all(synthetic):
        return "twin" if "twin" in str(config.get("output_dir", "")) else "synthetic"
    return "partly synthetic" if any(synthetic) else "real"


def claims_targets():
    """The claims table, its report page and its forest plot (workflow/rules/claims.smk)."""
    return [f"{CLAIMS_TABLE}.{ext}" for ext in ("csv", "md", "tex")] + [CLAIMS_PAGE, f"{CLAIMS_FIGURE}.png",
                                                                       f"{CLAIMS_FIGURE}.pdf"]
