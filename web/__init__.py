"""The SA's back office in the browser (``aap web``): pages over the same actions as the command line."""
