"""Reads the files beside it through paths built by formatting ``os.path.dirname(__file__)``."""

import os


def base():
    with open("%s/base.yml" % os.path.dirname(__file__)) as f:
        return f.read().strip()


def defaults():
    with open("{}/defaults/{}".format(os.path.dirname(__file__), "main.txt")) as f:
        return f.read().strip()
