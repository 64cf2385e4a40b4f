"""Published numbers of the four papers, printed beside the reproduced ones (see shared REFERENCE)."""

# Prapas et al., Table 1: AUPRC on the Hokkaido validation set and the Mt Talakmau test set.
TRANSFER_AUPRC = {
    ("sar", "off"): {"val": 0.618, "test": 0.421},
    ("sar_dem", "off"): {"val": 0.639, "test": 0.388},
    ("sar", "on"): {"val": 0.612, "test": 0.456},
    ("sar_dem", "on"): {"val": 0.636, "test": 0.402},
    ("no_skill", None): {"val": 0.092, "test": 0.062},
}
