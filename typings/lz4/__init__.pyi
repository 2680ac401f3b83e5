# The parts of the lz4 package (python-lz4) that onebin.packing uses.
