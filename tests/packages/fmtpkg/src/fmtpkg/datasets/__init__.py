TABLE = {"a": 1}
