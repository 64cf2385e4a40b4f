# ImageNet encoder weights for configs with `weights: imagenet`: copied once into resources/weights/ from
# where they were fetched ($LANDSLIDES_WEIGHTS_DIR or the Hugging Face cache; never downloaded here). The
# training jobs that need them take the copy as an input (workflow_layout.imagenet_weights), so a missing
# or truncated file fails this one local job, and no training job that needs the weights is submitted.

localrules:
    imagenet_weights,


rule imagenet_weights:
    output:
        "resources/weights/{encoder}.imagenet.safetensors",
    wildcard_constraints:
        encoder=r"[\w.-]+",
    log:
        "logs/weights/{encoder}.log",
    conda:
        "../../envs/train.yaml"
    script:
        "../../scripts/imagenet_weights.py"
