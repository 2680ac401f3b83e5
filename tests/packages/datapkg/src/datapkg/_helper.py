import os

print("helper ran from", os.path.basename(__file__))
