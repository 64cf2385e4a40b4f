"""Errors the workflow reports to users as one line naming the input and the problem."""


class InputError(Exception):
    """Bad user input (config, datacube, archive, raster): the message names the file and the problem."""
