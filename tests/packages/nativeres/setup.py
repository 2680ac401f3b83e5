from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("nativeres._handle", ["src/nativeres/_handle.c"]),
        Extension("nativeres._plain", ["src/nativeres/_plain.c"]),
    ],
)
