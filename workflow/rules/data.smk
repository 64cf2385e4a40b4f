# Raw SAR datacubes (synthetic, downloaded or local) and the chip stores built from them.


rule datacube:
    output:
        directory("resources/datacubes/{region}.zarr"),
    params:
        region=lambda wc: config["sar"]["regions"][wc.region],
        record=config["sar"]["zenodo_record"],
        retries=config["sar"]["download_retries"],
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
        directory("resources/chips/{region}.zarr"),
    params:
        region=lambda wc: config["sar"]["regions"][wc.region],
        chips=config["sar"]["chips"],
    log:
        "logs/chip_store/{region}.log",
    benchmark:
        "logs/chip_store/{region}.benchmark.tsv"
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/build_chip_store.py"
