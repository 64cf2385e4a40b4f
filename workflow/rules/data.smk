# Raw SAR datacubes (synthetic, downloaded or local) and the chip stores built from them.


rule datacube:
    output:
        directory(layout.DATACUBE),
    params:
        # Only what the job reads, keys sorted (layout): a new orbit filter or another region's settings
        # rebuild no cube, and a reordered config file reruns nothing.
        region=lambda wc: layout.datacube_region(config["sar"]["regions"][wc.region]),
        record=lambda wc: config["sar"]["zenodo_record"] if is_zenodo_region(wc.region) else None,
        retries=lambda wc: config["sar"]["download_retries"] if is_zenodo_region(wc.region) else None,
    log:
        "logs/datacube/{region}.log",
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/make_datacube.py"


rule chip_store:
    input:
        cube=lambda wc: cube_path(wc.region),
    output:
        directory(layout.CHIP_STORE),
    params:
        region=lambda wc: layout.chip_store_region(config["sar"]["regions"][wc.region]),
        chips=layout.canonical(config["sar"]["chips"]),
    log:
        "logs/chip_store/{region}.log",
    benchmark:
        "logs/chip_store/{region}.benchmark.tsv"
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/build_chip_store.py"
