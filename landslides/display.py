"""The words every table prints in a cell without a number: shared by the studies' tables, the tidy tables
and the published-vs-reproduced overview, so that one word means one thing everywhere."""

NA = "–"  # a cell with no value (en dash); the table's footer says why
# What a published cell says where the paper gives no number (studies may set their own per row).
NOT_REPORTED = "not reported"
# A published result the paper shows only in a figure: no number to compare with.
FIGURE_ONLY = "figure only"
