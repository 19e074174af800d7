"""The compiled part of CARINE: the filtering helper's fast lane (filtering/_fastpath.cpp),
linked against Debian's libmarisa (the index's tries) and PCRE2 (the lists' expressions).
Everything else about the package is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "filtering._fastpath",
    sources=["filtering/_fastpath.cpp"],
    libraries=["marisa", "pcre2-8"],
    language="c++",
    extra_compile_args=["-std=c++17", "-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
)])
