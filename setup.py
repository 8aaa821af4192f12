"""Declares the one C extension; all metadata lives in pyproject.toml.

``MD5STEG_NO_EXTENSIONS=1`` at build time skips it (pure-Python install), and
a missing compiler degrades to the pure engine instead of failing the install.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Build the core if possible; without a compiler the pure engine still works."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure falls back to pure Python
            if os.environ.get("MD5STEG_REQUIRE_EXTENSIONS"):
                raise
            print(f"md5steg: building the C core failed ({exc}); installing the pure engine", file=sys.stderr)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            if os.environ.get("MD5STEG_REQUIRE_EXTENSIONS"):
                raise
            print(f"md5steg: building {ext.name} failed ({exc}); installing the pure engine", file=sys.stderr)


def extensions():
    if os.environ.get("MD5STEG_NO_EXTENSIONS", "").strip() not in ("", "0"):
        return []
    if sys.implementation.name != "cpython":
        return []
    from Cython.Build import cythonize

    if sys.platform == "win32":
        compile_args = ["/O2"]
    else:
        # -g0: debug info for the fully unrolled kernels doubles build time and the .so's size.
        compile_args = ["-O3", "-fno-strict-aliasing", "-g0"]
    core = Extension(
        "md5steg._core",
        sources=["src/md5steg/_core.pyx"],
        include_dirs=["src/md5steg"],
        depends=["src/md5steg/md5steg_core.h", "src/md5steg/md5steg_simd.h"],
        extra_compile_args=compile_args,
    )
    return cythonize([core], language_level=3, annotate=bool(os.environ.get("MD5STEG_ANNOTATE")))


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
