"""Snakemake job: results/provenance.json (config, commit, packages, data checksums, devices, time, memory)."""

from pathlib import Path

from landslides.files import write_json
from landslides.jobs import run_job
from landslides.report import collect_provenance, directory_digest


def main(snakemake):
    datasets = {path: dict(source, checksum=directory_digest(Path(path)))
                for path, source in snakemake.params.sources.items()}
    provenance = collect_provenance(dict(snakemake.params.config), datasets, list(snakemake.input.runs),
                                    Path(snakemake.params.repo))
    out = Path(snakemake.output[0])
    write_json(provenance, out, default=str)  # paths and dates as text
    print(f"{out}: {len(provenance['runs'])} runs, {len(datasets)} datasets")


run_job(snakemake, main)  # noqa: F821
