"""Values that several modules must agree on."""

# Target value of pixels that no loss or metric counts: outside a datacube's extraction mask, or
# pseudo-labels too uncertain to teach the next refinement round.
IGNORE_INDEX = 255

# Probability at or above which a pixel, chip or patch counts as a landslide when a hard decision is
# needed (precision, recall, F1, IoU, detection maps). AUPRC does not depend on it.
DECISION_THRESHOLD = 0.5
