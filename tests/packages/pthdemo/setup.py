"""Puts pthdemo.pth and the directory extra/ at the top of site-packages, as distutils-precedence.pth is."""

import os

from setuptools import setup
from setuptools.command.build_py import build_py


class WithPth(build_py):
    def run(self):
        super().run()
        self.copy_file("pthdemo.pth", os.path.join(self.build_lib, "pthdemo.pth"))
        self.mkpath(os.path.join(self.build_lib, "extra"))
        self.copy_file(os.path.join("extra", "extramod.py"), os.path.join(self.build_lib, "extra", "extramod.py"))


setup(cmdclass={"build_py": WithPth})
