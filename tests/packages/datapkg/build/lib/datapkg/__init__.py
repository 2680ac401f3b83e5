"""A package that reads the data files beside it through __file__."""

import json
import os

HERE = os.path.dirname(__file__)


def config():
    with open(os.path.join(HERE, "data.json")) as f:
        return json.load(f)


def templates():
    return sorted(os.listdir(os.path.join(HERE, "templates")))
