"""Declares the one C extension; all metadata lives in pyproject.toml.

``MD5STEG_NO_EXTENSIONS=1`` (or an interpreter other than CPython) skips it, and a
failed build installs the pure engine instead, unless ``MD5STEG_REQUIRE_EXTENSIONS=1``.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def flag(name):
    return os.environ.get(name, "").strip() not in ("", "0")


class OptionalBuildExt(build_ext):
    def run(self):  # a missing compiler fails here or in build_extension: both end up here
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure falls back to pure Python
            if flag("MD5STEG_REQUIRE_EXTENSIONS"):
                raise
            print(f"md5steg: building the C core failed ({exc}); installing the pure engine", file=sys.stderr)


def extensions():
    if flag("MD5STEG_NO_EXTENSIONS") or sys.implementation.name != "cpython":
        return []
    from Cython.Build import cythonize

    # -g0: debug info for the fully unrolled kernels doubles build time and the .so's size.
    compile_args = ["/O2"] if sys.platform == "win32" else ["-O3", "-fno-strict-aliasing", "-g0"]
    headers = ["md5_schedule.h", "md5_collide.h", "md5steg_core.h", "md5steg_simd.h", "md5steg_kernel.inc"]
    core = Extension(
        "md5steg._core",
        sources=["src/md5steg/_core.pyx"],
        include_dirs=["src/md5steg"],
        depends=[f"src/md5steg/{name}" for name in headers],
        extra_compile_args=compile_args,
    )
    return cythonize([core], language_level=3, annotate=flag("MD5STEG_ANNOTATE"))


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
