"""Optional compiled speed-ups (Cython); bpdetect runs in pure Python when they cannot be built.

Each ``bpdetect/_c*.pyx`` becomes an extension module. Build failures are not fatal (``optional=True``): the
library falls back to its Python implementations, which give the same results (tests compare the two).
"""

from __future__ import annotations

from pathlib import Path

from setuptools import Extension, setup


def _extensions() -> list[Extension]:
    try:
        import lxml
        from Cython.Build import cythonize
    except ImportError:  # no Cython or lxml in the build environment: pure Python
        return []
    sources = sorted(Path("bpdetect").glob("_c*.pyx"))
    exts = [
        Extension(
            f"bpdetect.{src.stem}",
            [str(src)],
            # lxml ships its Cython declarations and the libxml2 headers it was built with (for _cwalk).
            include_dirs=lxml.get_include(),
            extra_compile_args=["-O2"],
            optional=True,
        )
        for src in sources
    ]
    return cythonize(
        exts,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
        quiet=True,
    )


setup(ext_modules=_extensions())
