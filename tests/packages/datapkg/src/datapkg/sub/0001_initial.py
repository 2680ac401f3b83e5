# A module named as django names its migrations: not an identifier, listed all the same.
OPERATIONS = []
