from pathlib import Path

# A data directory that is also a package (mimesis' datasets): its __init__ holds tables, its
# subdirectories the data files.
DATADIR = Path(__file__).parent / "datasets"
