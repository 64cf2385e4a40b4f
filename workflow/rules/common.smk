# Config validation and the helpers the rule modules share.
import sys
from pathlib import Path

from landslides import workflow_layout as layout
from landslides.config import ConfigSources, relocate_paths, validate_config
from landslides.errors import InputError
from landslides.runlock import clear_stale_workflow_locks

try:
    # The files Snakemake merged (in order) and the --config values it applied last, so that the error
    # names the file and line, or --config, that set the bad key.
    validate_config(config, source=ConfigSources(workflow.configfiles, workflow.config_settings.config))
except InputError as err:
    # One line naming where the value came from, the key and the problem, before any job starts.
    sys.exit(f"config error: {err}")

# A config with its own output folder (paper.yaml, twin.yaml) works there: its results, resources, logs
# and Snakemake metadata never mix with the default run's. Relative data paths are rewritten first so
# that they still point at the same files. A --directory on the command line wins (Snakemake ignores the
# directive then), and paths stay as they are.
if config["output_dir"] and workflow.overwrite_workdir is None:
    relocate_paths(config, config["output_dir"])

    workdir: config["output_dir"]


# A snakemake killed by SIGKILL leaves its directory locks behind and the same command would then fail
# with a LockException until --unlock. Snakemake locks after reading this file, so locks with no live
# snakemake in this directory are cleared here (only by the main process, never by a job's).
if not (workflow.remote_exec or workflow.subprocess_exec or workflow.dryrun):
    for stale in clear_stale_workflow_locks(Path.cwd()):  # the output folder, once workdir has moved there
        print(f"cleared a stale Snakemake lock (no snakemake runs here): {stale}", file=sys.stderr)


def cube_path(region):
    """Where the region's datacube is read from: a local path as given, else resources/."""
    source = config["sar"]["regions"][region]["source"]
    if source in ("synthetic", "zenodo"):
        return layout.DATACUBE.format(region=region)
    return source


def is_zenodo_region(region):
    return config["sar"]["regions"][region]["source"] == "zenodo"


# Each study's rules register what it produces, so rule all and the report rules need no per-study code.
STUDY_OUTPUTS = {}


def register_study(name, *, runs, tables, figures, comparison, datasets):
    """runs: metrics.json files; tables: the study's own tables; figures: name -> path without suffix
    (a .png and a .pdf); comparison: tidy published-vs-reproduced CSV; datasets: inputs to checksum."""
    STUDY_OUTPUTS[name] = {"runs": runs, "tables": tables, "figures": figures, "comparison": comparison,
                     "datasets": datasets}


def region_source(region):
    """Where a SAR region's data came from, as recorded in the provenance."""
    spec = config["sar"]["regions"].get(region)
    if spec is None:  # a region of a study this config does not run
        return {"region": region, "source": None}
    described = {"region": region, "source": spec["source"]}
    if spec["source"] == "synthetic":
        described.update(seed=spec["seed"], height=spec["height"], width=spec["width"])
    if spec["source"] == "zenodo":
        described.update(record=config["sar"]["zenodo_record"], file=spec["zenodo_file"], checksum=spec["checksum"])
    return described


def enabled_studies():
    return [name for name in config["studies"] if name in STUDY_OUTPUTS]


def trains_on_gpu():
    return config["device"] == "cuda" or (config["device"] == "auto" and layout.gpu_driver_present())


def gpu_share(study):
    """Percent of a GPU a training job of `study` reserves (config gpu_share.<study>); the local profile
    allows 100 in all. 0 where no GPU is shared: device cpu, auto on a machine without a GPU driver, a
    cluster executor (one GPU per job) and inside a cluster job."""
    if not trains_on_gpu() or workflow.non_local_exec or workflow.remote_exec:
        return 0
    return config["gpu_share"][study]


def training_rules():
    """The enabled studies' training rules: those that declare `gpu_share` (rules are named <study>_...).
    Call it once every rule module is included."""
    return [rule.name for rule in workflow.rules
            if "gpu_share" in rule.resources and rule.name.split("_", 1)[0] in enabled_studies()]


def resource_problem():
    """Resource settings given on the command line replace the profile's instead of merging into it
    (Snakemake). `--resources` without gpu_share lifts the cap that keeps local training jobs from
    overfilling one GPU; `--set-resources` drops the SLURM profile's GPU request of every training rule,
    which then trains on a CPU node. Either would show only as a job out of GPU memory or a slow run.
    Called from the Snakefile once every rule is defined."""
    if workflow.remote_exec or workflow.subprocess_exec:
        return None
    if not workflow.non_local_exec:
        if trains_on_gpu() and "gpu_share" not in workflow.global_resources:
            return ("training on the GPU needs the gpu_share cap, and --resources replaced the profile's "
                    "(profiles/default/config.yaml): add gpu_share=100 to --resources")
        return None
    if config["device"] == "cpu":
        return None
    overwritten = workflow.resource_settings.overwrite_resources
    for rule_name in training_rules():
        # Snakemake wraps each setting in a Resource (.value: the number or string)
        asked = {key: getattr(value, "value", value) for key, value in overwritten.get(rule_name, {}).items()
                 if key in ("gpu", "gres")}
        if str(asked.get("gpu", 0)) in ("0", "None") and not asked.get("gres"):
            return (f"{rule_name} asks the cluster for no GPU, as set-resources has no gpu or gres for it. "
                    "--set-resources on the command line replaces the profile's whole set-resources "
                    "block; edit a copy of profiles/slurm/config.yaml instead, or set device: cpu")
    return None
