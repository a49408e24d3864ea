"""The C extension (setuptools' pyproject ``ext-modules`` is still experimental).

It links to ``native/libcexttwice.so``, which the build job compiles first (as
cibuildwheel's ``before-all`` would) and ``auditwheel repair`` copies into the wheel.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "cext_pkg._add",
            sources=["src/cext_pkg/_add.c"],
            libraries=["cexttwice"],
            library_dirs=["native"],
        )
    ]
)
