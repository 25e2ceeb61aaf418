"""Help (F30) and service information (F29): the manual's questions, offline service points."""
