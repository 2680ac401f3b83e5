"""Builds optnative._fast against libonebinmissing.so, made here and left out of the wheel, and
optnative._plain, which needs no library."""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class WithMissingLibrary(build_ext):
    def build_extensions(self):
        objects = self.compiler.compile(["missing.c"], output_dir=self.build_temp)
        self.compiler.link_shared_object(objects, "libonebinmissing.so", output_dir=self.build_temp)
        for ext in self.extensions:
            ext.library_dirs.append(self.build_temp)
        super().build_extensions()


setup(
    ext_modules=[
        Extension("optnative._fast", ["src/optnative/_fast.c"], libraries=["onebinmissing"]),
        Extension("optnative._plain", ["src/optnative/_plain.c"]),
    ],
    cmdclass={"build_ext": WithMissingLibrary},
)
